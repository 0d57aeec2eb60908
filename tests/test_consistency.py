"""RULES §8's single-row checks are decided once (`exports._inconsistencies`), column by column
for a chunk of rows and for the one row the careful path explains: both must agree, row by row,
with RULES §8 as written."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from uwvcli.inputs import exports

DATES = ("first_sick_day", "recovery_date", "partial_recovery_date", "recovery_reported_date")
_day = st.one_of(st.none(), st.integers(0, 6).map(lambda n: date(2026, 3, 2) + timedelta(days=n)))
_row = st.fixed_dictionaries(
    {
        "dossier_type": st.sampled_from(["ziekte", "zwangerschap"]),
        "expected_delivery_date": _day,
        **dict.fromkeys(DATES, _day),
    }
)


def _inconsistent_by_rules(row: dict) -> bool:
    """RULES §8 as written, for one row."""
    first, recovery = row["first_sick_day"], row["recovery_date"]
    partial, reported = row["partial_recovery_date"], row["recovery_reported_date"]
    if row["dossier_type"] == "zwangerschap":
        return row["expected_delivery_date"] is None
    if first is None:
        return True
    return (
        (recovery is not None and recovery <= first)
        or (partial is not None and (partial < first or (recovery is not None and partial >= recovery)))
        or (reported is not None and reported < first)
    )


@given(rows=st.lists(_row, min_size=1, max_size=40))
def test_a_chunk_and_its_rows_one_by_one_find_the_same_inconsistent_rows(rows: list[dict]) -> None:
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    found = exports._inconsistencies(columns.__getitem__, len(rows))
    in_chunk = {index for _, _, failing in found for index in failing}
    one_by_one = {
        index
        for index, row in enumerate(rows)
        if exports._inconsistencies(lambda name, row=row: (row[name],), 1)  # type: ignore[misc]
    }
    assert in_chunk == one_by_one == {i for i, row in enumerate(rows) if _inconsistent_by_rules(row)}

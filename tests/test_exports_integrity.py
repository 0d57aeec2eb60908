"""CSV exports that are hostile or broken: one bad row never stops the others, line numbers stay
exact, and no message repeats a value that may be personal data (a file without its header,
swapped columns, an unbalanced quote)."""

from __future__ import annotations

import pytest

from tests.test_exports import HEADER, SECRET_BSN, SECRET_NAME, csv_file, load, row
from uwvcli.errors import InputFileError


def _secrets_in(text: str) -> list[str]:
    return [s for s in (SECRET_BSN, SECRET_NAME, "1990-02-03", "Geh") if s in text]


def test_a_field_over_the_csv_limit_is_an_error_of_its_row_and_the_others_are_read(tmp_path) -> None:
    path = csv_file(tmp_path, row("Z-1"), row("Z-2", last_name="x" * 200_000), row("Z-3"))
    dossiers, errors = load(path)
    assert [d.dossier_id for d in dossiers] == ["Z-1", "Z-3"]
    assert [(e.line, e.field) for e in errors] == [(3, None)]
    assert "longer than 131,072 characters" in errors[0].message


@pytest.mark.parametrize("break_", ["\r", "\n", "\r\n"])
def test_line_numbers_stay_exact_after_a_line_break_in_a_quoted_field_past_the_first_chunk(
    tmp_path, break_
) -> None:
    rows = [row(f"Z-{i}", employee_id=str(1000 + i)) for i in range(1500)]
    rows[1200] = row("Z-1200", employee_id="2200", last_name=f'"Test{break_}Persoon"')
    rows[1300] = row("Z-1300", employee_id="2300", first_sick_day="x")
    path = csv_file(tmp_path, *rows)
    dossiers, errors = load(path)
    assert len(dossiers) == 1499
    # header = line 1, rows[i] starts on line i + 2, and the break adds one line from row 1201 on
    assert [(e.line, e.field) for e in errors] == [(1300 + 3, "first_sick_day")]


def test_a_file_without_its_header_line_names_no_value_of_its_first_row(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(row("Z-1") + "\n" + row("Z-2") + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        load(path, base=tmp_path)
    assert "the first line is not a header" in str(caught.value)
    assert _secrets_in(str(caught.value)) == []


def test_an_unknown_column_unlike_any_known_one_shows_a_few_characters_only(tmp_path) -> None:
    path = csv_file(tmp_path, row("Z-1") + ",x", header=HEADER + f",{SECRET_NAME}")
    with pytest.raises(InputFileError) as caught:
        load(path, base=tmp_path)
    assert "'geh…'" in str(caught.value) and SECRET_NAME not in str(caught.value)


def test_swapped_header_names_never_quote_a_bsn_or_name_as_an_id(tmp_path) -> None:
    swapped = HEADER.replace("employer_id", "TMP").replace("bsn", "employer_id").replace("TMP", "bsn")
    swapped = (
        swapped.replace("dossier_id", "TMP").replace("last_name", "dossier_id").replace("TMP", "last_name")
    )
    path = csv_file(tmp_path, row("Z-1"), row("Z-2"), header=swapped)
    dossiers, errors = load(path)
    assert dossiers == [] and errors
    assert {e.field for e in errors} >= {"employer_id"}
    for error in errors:
        assert _secrets_in(error.message) == [], error.message
        assert "value not shown" in error.message or error.field != "employer_id"


def test_an_unbalanced_quote_does_not_echo_the_rows_after_it(tmp_path) -> None:
    # the last field opens a quote that never closes: it runs on over the rows below
    path = csv_file(tmp_path, row("Z-1", first_sick_day='"2026-03-02'), row("Z-2"), row("Z-3"))
    _, errors = load(path)
    assert errors
    for error in errors:
        assert _secrets_in(error.message) == [], error.message
        assert "Z-2" not in error.message and "Z-3" not in error.message

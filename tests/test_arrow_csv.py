"""The plain CSV reader (pyarrow, `inputs/arrowcsv.py` and `exports._PlainFile`) gives exactly what
the ordinary reader gives: the same table (rows, values, order), the same input errors (file,
line, field, message), the same warnings; and every file it cannot take exactly is read the
ordinary way, with the ordinary result."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_builders import employer, legal_entity
from typer.testing import CliRunner

from uwvcli.cli import app
from uwvcli.domain import prefilter
from uwvcli.domain.models import OrgUnit
from uwvcli.errors import InputFileError
from uwvcli.inputs import arrowcsv, exports
from uwvcli.inputs.exports import FIELDS, load_dossiers, load_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench_due  # the benchmark's generator of realistic exports

EMPLOYERS = {
    "WG001": employer("WG001"),
    "WG002": employer("WG002", units=(legal_entity("OE7"), OrgUnit(id="OE8", name="Winkel", parent="OE7"))),
}

# Spellings per field, right and wrong: what an export holds, and every kind of error.
DATES = ["", "", "", "2026-01-05", "05-01-2026", " 2026-02-01 ", "2026-03-01", "2025-12-31", "2026-02-30"]
DATES += ["x", " "]
SPELLINGS: dict[str, list[str]] = {
    "employer_id": ["WG001", "WG001", "WG002", " WG002 ", "WG009", "", " "],
    "org_unit_id": ["OE1", "OE2", "OE7", "OE8", "OE9", "", " OE1"],
    "employee_id": ["1", "2", "3", " 4 ", "5", "", "123456789"],
    "dossier_id": ["D-1", "D-2", "D-3", "D-4", " D-5", "", "D\t6", "D-" + "9" * 80],
    "dossier_type": ["ziekte", "ziekte", "zwangerschap", " ziekte", "Ziekte", ""],
    "bsn": ["111222333", "", " 111222333 "],
    "initials": ["A.", "", " B. "],
    "first_name": ["Anna", ""],
    "last_name": ["Jansen", " de Vries ", ""],
    "employee_email": ["", "a@example.nl", "no-address", " b@example.nl "],
    "gender": ["", "M", "V", "m", " X "],
    "direct_payment": ["", "true", "JA", "nee", "0", "yes", " 1 "],
    "multiple_birth": ["", "False", "maybe"],
    "vangnet_status": ["", "none", "sfb", "SFB", " no_risk "],
    "sick_reason": ["", "overig", "zwangerschap", "x"],
    "partial_daily_wage": ["", "84.50", "84,5", "0", "-1", "12.345", " 10 "],
    "iban": ["", "NL91ABNA0417164300"],
    **{name: DATES for name in exports.DATES},
}


@st.composite
def plain_exports(draw: st.DrawFn) -> tuple[list[str], list[list[list[str]]], str]:
    """Up to three files of one header (a random choice and order of the columns, the required
    ones always), rows drawn from the spellings above: every kind of input error, duplicates
    within and across files, employee ids at two employers."""
    optional = [name for name in FIELDS if name not in exports.REQUIRED]
    columns = list(exports.REQUIRED) + draw(st.lists(st.sampled_from(optional), unique=True, max_size=12))
    columns = draw(st.permutations(columns))
    delimiter = draw(st.sampled_from([",", ";"]))
    cell = {
        name: st.sampled_from([s for s in SPELLINGS.get(name, ["", "x", "Y1"]) if delimiter not in s])
        for name in columns
    }
    row = st.fixed_dictionaries(cell).map(lambda found: [found[name] for name in columns])
    files = draw(st.lists(st.lists(row, min_size=1, max_size=70), min_size=1, max_size=3))
    for rows in files:  # a blank row would make the file not plain; keep at least one cell filled
        for found in rows:
            if not any(found):
                found[columns.index("dossier_type")] = "ziekte"
    return columns, files, delimiter


def write(path: Path, header: list[str], rows: list[list[str]], delimiter: str, end: str = "\n") -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(end.join(delimiter.join(row) for row in [header, *rows]) + end)


def everything(table: exports.DossierTable) -> tuple:
    """All a caller can see of a table: its dossiers, each column, the positions, the warnings."""
    return (
        len(table),
        table.dossiers(),
        [table.column(name) for name in (*FIELDS, "source", "line")],
        table.positions(),
        table.ignored_fields(),
        table.invalid_emails(),
        table.dossiers([n % 3 == 1 for n in range(len(table))]),
        [table.dossier(n) for n in range(0, len(table), 7)],
    )


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch):
    """Batches of a few rows and groups of 16 lines, so that a file of tens of rows crosses both
    boundaries in every way (the ordinary reader groups by `exports._CHUNK` too); and a record
    of which files the plain reader took."""
    monkeypatch.setattr(arrowcsv, "_BLOCK", 1000)  # must hold the longest line
    monkeypatch.setattr(exports, "_CHUNK", 16)
    taken: list[bool] = []
    read_plain = exports._read_plain

    def recording(*args, **kwargs) -> bool:
        taken.append(read_plain(*args, **kwargs))
        return taken[-1]

    monkeypatch.setattr(exports, "_read_plain", recording)
    return taken


def both_ways(paths: list[Path], base: Path, names: bool = True) -> tuple:
    fast, fast_errors = load_table(paths, EMPLOYERS, display_base=base, names=names, plain=True)
    slow, slow_errors = load_table(paths, EMPLOYERS, display_base=base, names=names, plain=False)
    return (everything(fast), fast_errors), (everything(slow), slow_errors)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(export=plain_exports(), names=st.booleans())
def test_the_plain_reader_gives_the_ordinary_table_errors_and_warnings(
    tmp_path_factory: pytest.TempPathFactory, small_batches: list[bool], export, names: bool
) -> None:
    header, files, delimiter = export
    folder = tmp_path_factory.mktemp("plain")
    paths = []
    for number, rows in enumerate(files):
        paths.append(folder / f"export-{number}.csv")
        write(paths[-1], header, rows, delimiter, end=("\n", "\r\n", "\r")[number])
    small_batches.clear()
    fast, slow = both_ways(paths, folder, names)
    assert small_batches == [True] * len(files)  # every file went the plain way
    assert fast == slow
    dossiers, errors = load_dossiers(paths, EMPLOYERS, display_base=folder)
    assert slow[1] == errors
    if names:
        assert fast[0][1] == dossiers


def generated(folder: Path, rows: int) -> list[list[str]]:
    config = bench_due.write_config(folder)
    bench_due.write_rows(folder / "dossiers.csv", rows, seed=3)
    with (folder / "dossiers.csv").open(encoding="utf-8", newline="") as handle:
        found = list(csv.reader(handle))
    assert config.exists()
    return found


def test_a_benchmark_export_with_errors_reads_alike_in_batches_of_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of the benchmark's rows with errors sprinkled in (careful rows that pass too: a
    date of only spaces), with the real group of 1,024 lines and batches cutting through them."""
    rows = generated(tmp_path, 5000)
    header = rows[0]
    at = {name: index for index, name in enumerate(header)}
    for n in range(1, len(rows), 37):
        row = rows[n]
        match n % 5:
            case 0:
                row[at["partial_recovery_date"]] = " "  # unreadable but empty: the row is used
            case 1:
                row[at["org_unit_id"]] = "OE99"
            case 2:
                row[at["dossier_id"]] = rows[n + 1 if n + 1 < len(rows) else 1][at["dossier_id"]]
            case 3:
                row[at["recovery_date"]] = "2000-01-01"
            case _:
                row[at["first_sick_day"]] = "31-02-2026"
    write(tmp_path / "dossiers.csv", header, rows[1:], ",")
    paths = [tmp_path / "dossiers.csv"]
    employers = bench_due_employers(tmp_path)
    for block in (3000, 50_000, 1 << 20):  # the last: one batch, columns of few distinct values
        monkeypatch.setattr(arrowcsv, "_BLOCK", block)
        fast, fast_errors = load_table(paths, employers, display_base=tmp_path, names=False, plain=True)
        slow, slow_errors = load_table(paths, employers, display_base=tmp_path, names=False, plain=False)
        assert fast_errors == slow_errors
        assert everything(fast) == everything(slow)
        # The pre-filter decides per distinct value of a coded column: the same as per row.
        for run_date in (date(2026, 12, 1), date(2026, 3, 1)):
            as_lists = prefilter.relevant(employers, partial(listed, slow), run_date)
            assert prefilter.relevant(employers, fast.column, run_date) == as_lists
    assert isinstance(fast.column("first_sick_day"), exports.Coded)
    assert isinstance(fast.column("employer_id"), exports.Coded)
    assert any(e.field == "org_unit_id" for e in fast_errors)


def listed(table: exports.DossierTable, name: str) -> list:
    return list(table.column(name))


def bench_due_employers(folder: Path):
    from uwvcli.inputs.config import load_config

    return load_config(folder / "uwvcli.yaml").employers


HEADER = ["employer_id", "org_unit_id", "employee_id", "dossier_id", "dossier_type", "first_sick_day"]
GOOD = ["WG001", "OE1", "1", "D-1", "ziekte", "2026-01-05"]


def other(n: int) -> list[str]:
    return ["WG001", "OE1", str(n), f"D-{n}", "ziekte", "2026-02-02"]


# What pyarrow would read differently from the csv module, or not at all: each such file is read
# the ordinary way, wherever in the file it appears (the first batch, or after many). (Bare
# carriage returns end a line for both, and may be read either way.)
NOT_PLAIN = {
    "a quoted field": b'WG001,OE1,7,"D-7",ziekte,2026-01-05\n',
    "a quote in a field": b'WG001,OE1,7,D"7,ziekte,2026-01-05\n',
    "a quoted line break": b'WG001,OE1,7,"D\n7",ziekte,2026-01-05\n',
    "a bare carriage return": b"WG001,OE1,7,D-7,ziekte,2026-01-05\rWG001,OE1,8,D-8,ziekte,2026-01-05\n",
    "a carriage return in a field": b"WG001,OE1,7,D-7\r,ziekte,2026-01-05\n",
    "two carriage returns": b"WG001,OE1,7,D-7,ziekte,2026-01-05\r\r\n",
    "a line too long for a batch": b"WG001,OE1,7,D-7,ziekte,2026-01-05" + b" " * 2000 + b"\n",
    "a blank line": b"\n",
    "only separators": b",,,,,\n",
    "a short row": b"WG001,OE1,7,D-7,ziekte\n",
    "a long row": b"WG001,OE1,7,D-7,ziekte,2026-01-05,x\n",
    "a NUL": b"WG001,OE1,7,D-7\0,ziekte,2026-01-05\n",
    "bad UTF-8": b"WG001,OE1,7,D-7\xff,ziekte,2026-01-05\n",
    "a field over the csv module's limit": b"WG001,OE1,7,D-7,ziekte," + b"x" * csv.field_size_limit() + b"\n",
}


@pytest.mark.parametrize("where", [1, 60])
@pytest.mark.parametrize("what", sorted(NOT_PLAIN))
def test_a_file_that_is_not_plain_is_read_the_ordinary_way(
    tmp_path: Path, small_batches: list[bool], what: str, where: int
) -> None:
    lines = [",".join(other(n)).encode() + b"\n" for n in range(100, 180)]
    lines.insert(where, NOT_PLAIN[what])
    (tmp_path / "x.csv").write_bytes(",".join(HEADER).encode() + b"\n" + b"".join(lines))
    paths = [tmp_path / "x.csv"]
    outcomes = []
    for plain in (True, False):
        try:
            table, errors = load_table(paths, EMPLOYERS, display_base=tmp_path, plain=plain)
            outcomes.append((everything(table), errors))
        except InputFileError as error:
            outcomes.append(str(error))
    if "carriage" not in what:
        assert True not in small_batches  # the plain reader declined (or never began: bad UTF-8 early)
    assert outcomes[0] == outcomes[1]


def test_a_file_given_up_halfway_leaves_nothing_of_its_plain_part(tmp_path: Path, small_batches) -> None:
    """Rows, errors and dossier ids of the batches before the quote are not kept twice."""
    rows = [other(n) for n in range(200, 300)] + [["WG001", "OE9", "1", "D-1", "ziekte", "x"]] * 2
    write(tmp_path / "a.csv", HEADER, rows, ",")
    lines = [",".join(row) for row in [HEADER, *rows]]
    (tmp_path / "b.csv").write_text("\n".join(lines) + '\n"q"\n')  # a quote at the very end
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    fast, slow = both_ways(paths, tmp_path)
    assert small_batches == [True, False]
    assert fast == slow
    assert sum("also occurs" in e.message for e in fast[1]) == 2 * 100 + 4


def test_the_plain_reader_is_used_for_big_files_only_unless_asked(tmp_path: Path, small_batches) -> None:
    write(tmp_path / "a.csv", HEADER, [GOOD], ",")
    load_table([tmp_path / "a.csv"], EMPLOYERS)
    assert small_batches == []  # a small file: importing pyarrow would cost more than it saves
    load_table([tmp_path / "a.csv"], EMPLOYERS, plain=True)
    load_dossiers([tmp_path / "a.csv"], EMPLOYERS)  # dossier objects: always the ordinary way
    assert small_batches == [True]


def test_a_coded_column_behaves_as_a_list() -> None:
    column = exports.Coded(["a", None, date(2026, 1, 1)], np.array([2, 0, 0, 1], np.int32))
    assert list(column) == [date(2026, 1, 1), "a", "a", None]
    assert len(column) == 4 and column[1] == "a" and column[-1] is None
    assert None in column and "b" not in column and column.count("a") == 2
    assert list(column[1:3]) == ["a", "a"] and list(column.take(np.array([3, 0]))) == [None, date(2026, 1, 1)]
    assert list(exports.Coded.constant("x", 3)) == ["x"] * 3


def test_due_reads_a_big_export_the_plain_way_with_the_same_json(
    tmp_path: Path, monkeypatch, small_batches: list[bool]
) -> None:
    """End to end: `due --format json` over the benchmark's export plus errors, the plain reader
    against the ordinary one, on dates before and after go-live and with a horizon."""
    rows = generated(tmp_path, 6000)
    at = {name: index for index, name in enumerate(rows[0])}
    for n in range(2, len(rows), 53):
        if n % 2:
            rows[n][at["dossier_id"]] = rows[1][at["dossier_id"]]  # a duplicate
        else:
            rows[n][at["first_sick_day"]] = "2026-13-01"
    write(tmp_path / "dossiers.csv", rows[0], rows[1:], ",")
    runner = CliRunner()
    listed = 0
    for run_date, horizon in ((date(2026, 12, 1), 0), (date(2026, 12, 1), 40), (date(2026, 6, 1), 30)):
        documents = []
        for plain_from in (0, 1 << 40):
            monkeypatch.setattr(exports, "_PLAIN_FROM", plain_from)
            arguments = ["due", "-c", str(tmp_path / "uwvcli.yaml"), "--date", run_date.isoformat()]
            result = runner.invoke(app, [*arguments, "--horizon", str(horizon), "--format", "json"])
            assert result.exit_code == 1, result.output
            documents.append(json.loads(result.stdout))
        assert documents[0] == documents[1]
        assert documents[0]["input_errors"]
        listed += len(documents[0]["notifications"])
    assert listed
    assert small_batches == [True, True, True]  # with _PLAIN_FROM 0, the plain way


def test_the_tests_notice_a_broken_plain_reader(tmp_path: Path, monkeypatch) -> None:
    """A check left out of the plain reader (unknown org units) shows as a difference."""
    write(tmp_path / "a.csv", HEADER, [GOOD, ["WG001", "OE9", "2", "D-2", "ziekte", "2026-01-05"]], ",")
    monkeypatch.setattr(exports._Loader, "unknown_units", lambda self, e, u: np.zeros(len(e), bool))
    fast, slow = both_ways([tmp_path / "a.csv"], tmp_path)
    assert fast != slow

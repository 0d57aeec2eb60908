"""`uwvcli status`: the UWV interface overzicht, read from a real journal, in every format."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from delivery_support import lifecycle, record_placeholder
from helpers import PERSON, employer, write_setup
from typer.testing import CliRunner

from uwvcli.app.status import FIELDS
from uwvcli.cli import app
from uwvcli.inputs.config import load_config
from uwvcli.state.journal import Journal

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
#: Findings of the rejected message; they quote the person's BSN and birth date, as UWV may.
REJECTION_DETAILS = (
    f"Burgerservicenr {PERSON['bsn']} wijkt af.\nGeboortedat {PERSON['birth_date']} wijkt af.\n"
    "DatEersteAoDag ontbreekt."
)
FINDINGS = ["Burgerservicenr […] wijkt af.", "Geboortedat […] wijkt af.", "DatEersteAoDag ontbreekt."]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A configuration and a journal with one notification in each interesting state."""
    path = write_setup(tmp_path, rows=[], employers=[employer("WG001"), employer("WG002")])
    config = load_config(path)
    with Journal.open(config.paths.state) as journal:
        record_placeholder(journal, "WG001/D1/zw-ziekmelding", employee_id="1001")
        attempt = journal.begin_attempt("WG001/D1/zw-ziekmelding")
        journal.record_accepted(attempt, "KEN-0001", T0)
        journal.add_statuses("KEN-0001", lifecycle(T0, ("400", None), ("500", None))[::-1])
        journal.set_outcome("WG001/D1/zw-ziekmelding", "accepted")

        record_placeholder(journal, "WG001/D2/wazo", employee_id="1002")
        journal.record_fault(journal.begin_attempt("WG001/D2/wazo"), "ALS100", "Bericht voldoet niet.")

        record_placeholder(journal, "WG001/D3/werkhervatting/full", employee_id="1003")
        attempt = journal.begin_attempt("WG001/D3/werkhervatting/full")
        journal.record_accepted(attempt, "KEN-0003", T0)
        *started, rejected = lifecycle(T0, ("311", "VAS500"))
        journal.add_statuses("KEN-0003", [*started, replace(rejected, details=REJECTION_DETAILS)])
        journal.set_outcome("WG001/D3/werkhervatting/full", "rejected")

        record_placeholder(journal, "WG002/D4/42e-weeksmelding", employee_id="2001")
    return path


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_json_lists_every_notification_with_its_last_status_and_meaning(config_path: Path) -> None:
    result = _run("status", "--config", str(config_path), "--format", "json")
    assert result.exit_code == 1, result.output  # a rejected one needs a person
    document = json.loads(result.stdout)
    rows = {row["key"]: row for row in document["notifications"]}
    assert list(document) == ["notifications"]
    assert all(tuple(row) == FIELDS for row in rows.values())

    accepted = rows["WG001/D1/zw-ziekmelding"]
    assert (accepted["state"], accepted["kenmerk"], accepted["status_code"]) == (
        "accepted",
        "KEN-0001",
        "500",
    )
    assert accepted["status_meaning"].startswith("500 ")
    assert accepted["status_at"] == (T0 + timedelta(seconds=6)).isoformat()  # last by time, not by insert
    assert accepted["aanleverkenmerk"] == "WG001-D1-ZM"
    assert (accepted["employer_id"], accepted["employee_id"], accepted["kind"]) == (
        "WG001",
        "1001",
        "zw-ziekmelding",
    )

    fault = rows["WG001/D2/wazo"]
    assert fault["state"] == "rejected" and fault["kenmerk"] is None
    assert "ALS100" in fault["reason"] and "Bericht voldoet niet." in fault["reason"]

    invalid = rows["WG001/D3/werkhervatting/full"]
    assert (invalid["status_code"], invalid["foutcode"]) == ("311", "VAS500")
    assert invalid["foutbeschrijving"] == "Digipoort zegt: VAS500"  # verbatim
    assert "VAS500" in invalid["status_meaning"]
    assert invalid["findings"] == FINDINGS  # of the last status, redacted
    assert accepted["findings"] == [] and fault["findings"] == []

    waiting = rows["WG002/D4/42e-weeksmelding"]
    assert waiting["state"] == "written" and waiting["status_code"] is None


def test_no_personal_data_in_any_format(config_path: Path) -> None:
    for output in ("json", "csv", "table"):
        result = _run("status", "--config", str(config_path), "--format", output)
        text = result.stdout + result.stderr
        for value in (PERSON["bsn"], PERSON["last_name"], PERSON["first_name"], PERSON["birth_date"]):
            assert value not in text


def test_filters_narrow_the_list(config_path: Path) -> None:
    def keys(*options: str) -> list[str]:
        result = _run("status", "--config", str(config_path), "--format", "json", *options)
        return [row["key"] for row in json.loads(result.stdout)["notifications"]]

    assert keys("--employer", "WG002") == ["WG002/D4/42e-weeksmelding"]
    assert keys("--state", "rejected") == ["WG001/D2/wazo", "WG001/D3/werkhervatting/full"]
    assert keys("--kind", "wazo") == ["WG001/D2/wazo"]
    assert keys("--since", "2999-01-01") == []
    assert len(keys("--since", "2000-01-01")) == 4


def test_only_written_and_accepted_exits_zero(config_path: Path) -> None:
    result = _run("status", "--config", str(config_path), "--state", "accepted", "--format", "json")
    assert result.exit_code == 0


def test_csv_has_the_documented_header_and_one_row_per_notification(config_path: Path) -> None:
    result = _run("status", "--config", str(config_path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == FIELDS
    assert len(rows) == 4
    assert {r["state"] for r in rows} == {"accepted", "rejected", "written"}
    assert {r["findings"] for r in rows} == {"", " | ".join(FINDINGS)}


def test_plain_lines_when_not_a_terminal(config_path: Path) -> None:
    result = _run("status", "--config", str(config_path))
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert lines[0].split("\t")[:4] == ["WG001/D1/zw-ziekmelding", "accepted", "WG001-D1-ZM", "KEN-0001"]


def test_a_bad_since_is_a_usage_error_naming_the_option(config_path: Path) -> None:
    result = _run("status", "--config", str(config_path), "--since", "gisteren")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_an_unknown_state_is_refused_with_the_choices(config_path: Path) -> None:
    result = _run("status", "--config", str(config_path), "--state", "sent")
    assert result.exit_code == 2 and "parked" in result.stderr


def test_without_a_journal_nothing_is_listed_and_nothing_is_created(tmp_path: Path) -> None:
    path = write_setup(tmp_path, rows=[])
    result = _run("status", "--config", str(path), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"notifications": []}
    assert not (tmp_path / "var").exists()


def test_an_unknown_employer_is_named_on_stderr(config_path: Path) -> None:
    result = _run("status", "--config", str(config_path), "--employer", "WG999", "--format", "json")
    assert json.loads(result.stdout) == {"notifications": []}
    assert "WG999" in result.stderr and "no such employer" in result.stderr


def test_a_terminal_gets_the_overzicht_table_with_employer_names(config_path: Path) -> None:
    from rich.console import Console

    from uwvcli.app.status import overview
    from uwvcli.cli.console import Terminal
    from uwvcli.cli.status import render

    config = load_config(config_path)
    terminal = Terminal()
    terminal.out = Console(file=io.StringIO(), force_terminal=True, width=250, no_color=True, highlight=False)
    render(terminal, config, overview(config))
    text = terminal.out.file.getvalue()
    assert "UWV interface overzicht" in text
    assert "Testbedrijf WG001 BV" in text and "Werkhervatting (volledig)" in text
    assert "KEN-0003" in text and "VAS500" in text
    assert "finding: Burgerservicenr […] wijkt af. (+2 more)" in " ".join(text.split())

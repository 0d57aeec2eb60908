"""`uwvcli due`: the preview, end to end through the CLI (config + CSV export on disk)."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from tests.helpers import PERSON, employer, write_setup
from uwvcli.cli import app

runner = CliRunner()

# RULES §10 worked examples (employer start 2024-01-01).
MLA_ROW = {
    "employee_id": "1001",
    "dossier_id": "Z-1",
    "dossier_type": "ziekte",
    "first_sick_day": "2025-01-06",
}
ZW_ROW = {
    "employee_id": "1002",
    "dossier_id": "Z-2",
    "dossier_type": "ziekte",
    "first_sick_day": "02-04-2026",
    "sick_reason": "zwangerschap",
}
WAZO_ROW = {
    "employee_id": "1003",
    "dossier_id": "P-3",
    "dossier_type": "zwangerschap",
    "expected_delivery_date": "2026-07-01",
}


def due_json(config, *args: str):
    result = runner.invoke(app, ["due", "--config", str(config), "--format", "json", *args])
    return result, json.loads(result.stdout)


def test_worked_examples_in_contract_json(tmp_path):
    config = write_setup(tmp_path, [MLA_ROW, ZW_ROW, WAZO_ROW])
    result, doc = due_json(config, "--date", "2026-05-01")
    assert set(doc) == {"date", "notifications", "input_errors"}
    assert doc["date"] == "2026-05-01"
    by_key = {n["key"]: n for n in doc["notifications"]}
    assert by_key["WG001/Z-1/42e-weeksmelding"] | {} == {
        "key": "WG001/Z-1/42e-weeksmelding",
        "kind": "42e-weeksmelding",
        "employer_id": "WG001",
        "employee_id": "1001",
        "dossier_id": "Z-1",
        "due_date": "2025-10-20",
        "deadline": "2025-10-27",
        "state": "late",
        "problems": [],
        "action": "send",  # a withdrawal says "withdraw" and what it withdraws (CONTRACT §4)
    }
    assert by_key["WG001/Z-2/zw-ziekmelding"]["deadline"] == "2026-05-15"  # shifted past Ascension Day
    assert by_key["WG001/Z-2/zw-ziekmelding"]["state"] == "due"
    assert (by_key["WG001/P-3/wazo"]["due_date"], by_key["WG001/P-3/wazo"]["deadline"]) == (
        "2026-04-22",
        "2026-05-07",
    )
    assert result.exit_code == 1  # a late notification needs attention


def test_order_is_due_date_then_employer_then_dossier(tmp_path):
    config = write_setup(tmp_path, [WAZO_ROW, ZW_ROW, MLA_ROW])
    _, doc = due_json(config, "--date", "2026-05-01")
    keys = [(n["due_date"], n["employer_id"], n["dossier_id"], n["kind"]) for n in doc["notifications"]]
    assert keys == sorted(keys)
    assert len(keys) == 3


def test_horizon_lists_upcoming_only_within_it(tmp_path):
    config = write_setup(tmp_path, [WAZO_ROW])
    _, without = due_json(config, "--date", "2026-04-10")
    assert without["notifications"] == []
    _, short = due_json(config, "--date", "2026-04-10", "--horizon", "11")
    assert short["notifications"] == []
    result, within = due_json(config, "--date", "2026-04-10", "--horizon", "12")
    assert [(n["key"], n["state"]) for n in within["notifications"]] == [("WG001/P-3/wazo", "upcoming")]
    assert result.exit_code == 0


def test_blocked_notification_names_the_problem_without_personal_data(tmp_path):
    row = {**ZW_ROW, "bsn": "123456789"}  # fails the 11-check
    config = write_setup(tmp_path, [row])
    result, doc = due_json(config, "--date", "2026-04-02")
    [notification] = doc["notifications"]
    assert notification["state"] == "blocked"
    assert any("BSN" in problem for problem in notification["problems"])
    for personal in ("123456789", PERSON["last_name"], PERSON["first_name"], "1990"):
        assert personal not in result.stdout
        assert personal not in result.stderr
    assert result.exit_code == 1


def test_bad_row_is_reported_and_the_others_still_processed(tmp_path):
    bad = {**MLA_ROW, "dossier_id": "Z-9", "employee_id": "1009", "first_sick_day": "31-02-2025"}
    config = write_setup(tmp_path, [ZW_ROW, bad])
    result, doc = due_json(config, "--date", "2026-04-02")
    assert [n["key"] for n in doc["notifications"]] == ["WG001/Z-2/zw-ziekmelding"]
    [error] = doc["input_errors"]
    assert error["source"] == "dossiers.csv"
    assert error["line"] == 3  # header is line 1
    assert "first_sick_day" in error["message"]
    assert "dossiers.csv:3" in result.stderr
    assert result.exit_code == 1


def test_csv_output_has_a_header_and_one_row_per_notification(tmp_path):
    config = write_setup(tmp_path, [ZW_ROW, WAZO_ROW])
    result = runner.invoke(app, ["due", "-c", str(config), "--date", "2026-05-01", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["key"] for r in rows] == ["WG001/Z-2/zw-ziekmelding", "WG001/P-3/wazo"]  # by due date
    assert rows[1]["state"] == "due" and rows[1]["deadline"] == "2026-05-07"


def test_table_on_a_terminal_names_the_employer_and_the_notification_in_words(tmp_path, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # Rich: behave as on a terminal (NO_COLOR keeps it plain)
    config = write_setup(tmp_path, [ZW_ROW])
    result = runner.invoke(app, ["due", "-c", str(config), "--date", "2026-04-03"])
    assert "┃" in result.stdout  # a table, not lines
    assert "Testbedrijf WG001 BV" in result.stdout
    assert "ZW-ziekmelding" in result.stdout
    assert "42 days" in result.stdout  # deadline 2026-05-15
    assert PERSON["last_name"] not in result.stdout
    assert "\x1b[32m" not in result.stdout  # NO_COLOR honoured: the state is not green


def test_not_on_a_terminal_one_plain_line_per_notification(tmp_path):
    config = write_setup(tmp_path, [ZW_ROW, {**WAZO_ROW, "bsn": ""}])
    result = runner.invoke(app, ["due", "-c", str(config), "--date", "2026-05-01"])
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:5] for line in lines] == [
        ["2026-04-02", "due", "WG001", "1002", "ZW-ziekmelding"],
        ["2026-04-22", "blocked", "WG001", "1003", "WAZO-aanvraag"],
    ]
    assert "BSN" in lines[1].split("\t")[7]
    assert "\x1b[" not in result.stdout and "┃" not in result.stdout


def test_inactive_employer_and_disabled_kind_produce_nothing(tmp_path):
    employers = [employer("WG001", active=False), employer("WG002")]
    employers[1]["notifications"] = {"wazo": False}
    rows = [ZW_ROW, {**WAZO_ROW, "employer_id": "WG002", "org_unit_id": "OE1"}]
    config = write_setup(tmp_path, rows, employers=employers)
    result, doc = due_json(config, "--date", "2026-05-01")
    assert doc["notifications"] == []
    assert result.exit_code == 0


def test_unusable_date_and_missing_config_exit_2(tmp_path):
    config = write_setup(tmp_path, [ZW_ROW])
    result = runner.invoke(app, ["due", "-c", str(config), "--date", "1 april"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
    missing = runner.invoke(app, ["due", "-c", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    assert "nope.yaml" in missing.output
    assert "Traceback" not in missing.output


def test_due_changes_nothing(tmp_path):
    config = write_setup(tmp_path, [ZW_ROW, WAZO_ROW])
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    runner.invoke(app, ["due", "-c", str(config), "--date", "2026-05-01"])
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_planned_return_is_previewed_as_upcoming_and_not_due_before_its_date(tmp_path):
    """RULES §1 through the CLI: sick from 2025-01-06 (AO day 288 = 2025-10-20), return planned
    for 2025-11-03. `due --date 2025-10-20 --horizon 14` (through 2025-11-03) lists the herstel as
    upcoming on 2025-11-03, next to the MLA due today; without the horizon it is not listed."""
    row = MLA_ROW | {"recovery_date": "03-11-2025"}
    config = write_setup(tmp_path, [row])
    _, preview = due_json(config, "--date", "2025-10-20", "--horizon", "14")
    assert [(n["kind"], n["due_date"], n["state"]) for n in preview["notifications"]] == [
        ("42e-weeksmelding", "2025-10-20", "due"),
        ("herstel-42e-weeksmelding", "2025-11-03", "upcoming"),
    ]
    _, today = due_json(config, "--date", "2025-10-20")
    assert [n["kind"] for n in today["notifications"]] == ["42e-weeksmelding"]


def test_a_boolean_in_capitals_is_read(tmp_path):
    """CONTRACT §3: `multiple_birth` TRUE (as a spreadsheet writes it) is a boolean, not an input
    error: E = 2026-07-01, multiple: L = Lmin = 2026-07-02 − 70 = 2026-04-23, WAZO due
    min(2026-04-22, 2026-03-26) = 2026-03-26, deadline 2026-04-09."""
    config = write_setup(tmp_path, [WAZO_ROW | {"multiple_birth": "TRUE"}])
    _, doc = due_json(config, "--date", "2026-03-26")
    assert doc["input_errors"] == []
    [wazo] = doc["notifications"]
    assert (wazo["due_date"], wazo["deadline"]) == ("2026-03-26", "2026-04-09")

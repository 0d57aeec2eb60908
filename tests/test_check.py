"""`uwvcli check` end to end, and the samples: every kind and state on the README date."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import PERSON, employer, write_setup
from uwvcli.app import planning
from uwvcli.cli import app
from uwvcli.domain.models import Kind, State, ZwReason
from uwvcli.inputs.config import load_config

runner = CliRunner()
PROJECT = Path(__file__).resolve().parent.parent
SAMPLES = PROJECT / "samples"

ZIEKTE = {
    "employee_id": "1001",
    "dossier_id": "Z-1",
    "dossier_type": "ziekte",
    "first_sick_day": "2026-11-02",
}


def check(config: Path, *args: str):
    return runner.invoke(app, ["check", "--config", str(config), "--date", "2026-12-01", *args])


def check_json(config: Path, *args: str) -> tuple[int, dict]:
    result = check(config, "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_a_clean_setup_exits_0_and_says_so(tmp_path):
    config = write_setup(tmp_path, [ZIEKTE])
    result = check(config)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "configuration and 1 dossier(s) OK" in result.stderr


def test_row_errors_and_cross_row_overlaps_are_listed_with_file_and_line_exit_1(tmp_path):
    rows = [
        ZIEKTE,
        {**ZIEKTE, "dossier_id": "Z-2", "first_sick_day": "2026-11-10"},  # overlaps the open Z-1 (rules)
        {**ZIEKTE, "employee_id": "1002", "dossier_id": "Z-3", "first_sick_day": "31-11-2026"},
    ]
    config = write_setup(tmp_path, rows)
    code, document = check_json(config)
    assert code == 1
    located = {(p["source"], p["line"], p["field"]) for p in document["problems"]}
    assert ("dossiers.csv", 4, "first_sick_day") in located
    assert any(p["line"] in (2, 3) and "overlaps" in p["message"] for p in document["problems"])
    assert document["usable"] is True and document["errors"] == 2


def test_plain_output_names_file_line_and_field_and_never_personal_data(tmp_path):
    config = write_setup(tmp_path, [{**ZIEKTE, "birth_date": "1990-02-30"}])
    result = check(config)
    assert result.exit_code == 1
    assert "ERROR dossiers.csv:2: birth_date is not a date that exists" in result.stdout
    for value in PERSON.values():
        assert value not in result.stdout and value not in result.stderr


def test_configuration_errors_are_all_listed_and_exit_2(tmp_path):
    bad = employer()
    bad["org_units"][0]["uwv_sector"] = 13  # as YAML would read an unquoted 013... minus the zero
    bad["org_units"][1]["parent"] = "OE7"
    config = write_setup(tmp_path, [ZIEKTE], employers=[bad], unknown_section={"x": 1})
    code, document = check_json(config)
    assert code == 2
    assert document["usable"] is False
    fields = {p["field"] for p in document["problems"]}
    assert fields == {
        "unknown_section",
        "employers[0].org_units[0].uwv_sector",
        "employers[0].org_units[1].parent",
    }
    assert all(p["severity"] == "error" for p in document["problems"])


def test_a_missing_configuration_file_exits_2_with_a_message(tmp_path):
    result = check(tmp_path / "absent.yaml")
    assert result.exit_code == 2
    assert "file not found" in result.stdout


def test_every_unreadable_export_is_listed_exit_2(tmp_path):
    config = write_setup(tmp_path, [ZIEKTE])
    text = config.read_text().replace("- dossiers.csv", "- dossiers.csv\n  - missing.csv\n  - broken.json")
    config.write_text(text)
    (tmp_path / "broken.json").write_text("{")
    code, document = check_json(config)
    assert code == 2
    assert {p["source"] for p in document["problems"]} == {"missing.csv", "broken.json"}
    messages = {p["source"]: p["message"] for p in document["problems"]}
    assert messages["broken.json"] == (
        "not valid JSON (item 0, line 1, column 2: parse error: premature EOF)"
    )
    assert messages["missing.csv"].startswith("file not found")


def test_values_that_will_block_are_warnings_exit_1(tmp_path):
    odd = employer()
    odd["org_units"][0]["uwv_sector"] = "999"
    odd["org_units"].append({"id": "LOS", "name": "Los"})
    config = write_setup(tmp_path, [ZIEKTE], employers=[odd])
    code, document = check_json(config)
    assert code == 1
    warnings = {p["field"]: p["message"] for p in document["problems"] if p["severity"] == "warning"}
    assert set(warnings) == {"employers[0].org_units[0].uwv_sector", "employers[0].org_units[2]"}
    assert "no legal entity" in warnings["employers[0].org_units[2]"]


def test_sickness_fields_on_a_zwangerschap_row_are_ignored_with_a_warning_exit_1(tmp_path):
    """RULES §8: the row is used (its WAZO application stays), the fields are named, not echoed."""
    pregnant = {
        "employee_id": "1002",
        "dossier_id": "P-1",
        "dossier_type": "zwangerschap",
        "expected_delivery_date": "2027-03-01",
        "first_sick_day": "2026-11-02",
        "partial_daily_wage": "84,50",
    }
    config = write_setup(tmp_path, [ZIEKTE, pregnant])
    code, document = check_json(config)
    assert code == 1
    assert document["errors"] == 0 and document["dossiers"] == 2
    warnings = {(p["source"], p["line"], p["field"]): p["message"] for p in document["problems"]}
    assert set(warnings) == {("dossiers.csv", 3, "first_sick_day"), ("dossiers.csv", 3, "partial_daily_wage")}
    assert all("is ignored" in m and "2026" not in m and "84" not in m for m in warnings.values())
    (tmp_path / "clean").mkdir()
    cleared = {**pregnant, "first_sick_day": "", "partial_daily_wage": ""}
    assert check_json(write_setup(tmp_path / "clean", [ZIEKTE, cleared]))[0] == 0


def test_missing_certificate_files_make_the_setup_unusable_exit_2(tmp_path):
    config = write_setup(
        tmp_path,
        [ZIEKTE],
        sender={"name": "X", "role": "Bedrijf", "certificate": "c.pem", "private_key": "c.key"},
    )
    code, document = check_json(config)
    assert code == 2
    assert {p["field"] for p in document["problems"]} == {"sender.certificate", "sender.private_key"}
    assert document["dossiers"] == 1  # the exports were still checked


def test_the_handover_list_is_information_exit_0(tmp_path):
    row = {**ZIEKTE, "sick_reason": "bevalling", "first_sick_day": "2026-11-12"}  # deadline 2026-11-16
    config = write_setup(tmp_path, [row], employers=[employer(start_date="2026-11-16")])
    result = check(config)
    assert result.exit_code == 0, result.output
    assert "hand-over: confirm the previous system sent these" in result.stdout
    assert "WG001/Z-1/zw-ziekmelding due 2026-11-12 deadline 2026-11-16" in result.stdout
    code, document = check_json(config)
    assert code == 0 and [n["key"] for n in document["handover"]] == ["WG001/Z-1/zw-ziekmelding"]


def test_check_changes_nothing_on_disk(tmp_path):
    config = write_setup(tmp_path, [ZIEKTE])
    before = sorted(p.name for p in tmp_path.rglob("*"))
    check(config)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


# ---------------------------------------------------------------- the samples


@pytest.fixture
def samples(tmp_path) -> Path:
    """A copy of samples/ so nothing is ever written into the project tree."""
    shutil.copytree(SAMPLES, tmp_path / "samples", ignore=shutil.ignore_patterns("var"))
    return tmp_path / "samples" / "uwvcli.yaml"


def test_samples_show_every_kind_reason_and_state_on_the_readme_date(samples):
    plan = planning.plan(load_config(samples), date(2026, 12, 1), horizon=14)
    notifications = plan.notifications
    assert {n.kind for n in notifications} == set(Kind)
    assert {n.state for n in notifications} == set(State)
    assert {n.zw_reason for n in notifications if n.kind is Kind.ZW_ZIEKMELDING} == set(ZwReason)
    assert {n.variant for n in notifications if n.kind is Kind.WERKHERVATTING} == {"partial", "full"}
    assert any(n.waits_for for n in notifications), "no notification waits for a blocked predecessor"
    assert not any(n.employer_id == "WG004" for n in notifications)  # active: false
    assert [(e.source, e.line, e.field) for e in plan.input_errors] == [
        ("exports/other-dossiers.csv", 4, "first_sick_day")
    ]
    assert [str(n.key) for n in plan.handover] == ["WG002/Z-203/zw-ziekmelding"]


def test_check_on_the_samples_lists_the_bad_row_warnings_and_handover(samples):
    code, document = check_json(samples)
    assert code == 1
    assert document["errors"] == 1 and document["warnings"] == 4
    assert document["handover"]

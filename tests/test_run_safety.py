"""Run dates and exports that must not pass quietly (CONTRACT §1, issue 13): a future date never
submits, a date before the last run's never discards its work unless forced, a catch-up says so,
and an export without (usable) rows, or one that shrank to less than half, needs a person.

The configuration and export are on disk, signing and the journal are real, the CLI runs
in-process; `UWVCLI_TODAY` (honoured with the simulator only) stands in for the clock."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import write_setup
from tests.test_run_no_send import P1, RUN_DATE, Z1
from uwvcli.app.run import today
from uwvcli.cli import app
from uwvcli.inputs.config import load_config
from uwvcli.simulator.pki import simulator_pki_folder
from uwvcli.state.journal import Journal

runner = CliRunner()
#: Two more dossiers like Z1 and P1: four rows, so that one row is less than half.
Z2 = {**Z1, "employee_id": "1004", "dossier_id": "Z-2"}
P2 = {**P1, "employee_id": "1005", "dossier_id": "P-2"}


@pytest.fixture(autouse=True)
def today_is_the_run_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UWVCLI_TODAY", RUN_DATE)


def setup(folder: Path, pki: Path, rows: list[dict]) -> Path:
    config = write_setup(folder, rows)
    shutil.copytree(pki, simulator_pki_folder(folder / "var"))
    return config


def run(config: Path, *args: str, date: str = RUN_DATE):
    return runner.invoke(app, ["run", "--config", str(config), "--date", date, *args])


def outbox(config: Path) -> dict[str, bytes]:
    folder = config.parent / "var" / "outbox"
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} if folder.exists() else {}


def runs(config: Path) -> list[tuple]:
    state = config.parent / "var" / "uwvcli.sqlite"
    if not state.exists():
        return []
    with sqlite3.connect(state) as db:
        return db.execute("SELECT run_date, exit_code FROM runs ORDER BY id").fetchall()


# ---------------------------------------------------------------- run dates


def test_a_future_run_date_submits_nothing_and_says_why(tmp_path: Path, test_pki: Path) -> None:
    config = setup(tmp_path, test_pki, [Z1, P1])

    result = run(config, date="2026-11-27")

    assert result.exit_code == 2, result.output
    assert "after today (2026-11-26)" in result.output and "--no-send" in result.output
    assert outbox(config) == {} and runs(config) == []  # nothing prepared, nothing sent


def test_a_future_run_date_with_no_send_only_previews(tmp_path: Path, test_pki: Path) -> None:
    config = setup(tmp_path, test_pki, [Z1, P1])

    result = run(config, "--no-send", date="2026-11-27")

    assert result.exit_code == 0, result.output
    assert outbox(config)  # the preview's files, in the outbox for a later run or send
    assert not (config.parent / "var" / "simulator").exists()  # no Digipoort was contacted


def test_send_does_not_submit_what_a_future_preview_wrote_before_its_day(
    tmp_path: Path, test_pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Z-4 falls sick tomorrow: a preview of next Monday writes its ziekmelding into the outbox,
    and `send` today must leave it there (it used to submit every written message)."""
    z4 = {
        "employee_id": "1006",
        "dossier_id": "Z-4",
        "dossier_type": "ziekte",
        "first_sick_day": "2026-11-27",
        "sick_reason": "zwangerschap",
    }
    config = setup(tmp_path, test_pki, [P1, z4])
    assert run(config, "--no-send", date="2026-11-30").exit_code == 0
    assert "WG001-Z-4-ZM.xml" in outbox(config)

    sent = runner.invoke(app, ["send", "--config", str(config), "--poll-seconds", "0"])

    assert sent.exit_code == 0, sent.output
    assert "due on 2026-11-27: not sent before that day" in sent.output
    with Journal.open(config.parent / "var" / "uwvcli.sqlite") as journal:
        states = {str(e.key): str(e.state) for e in journal.entries()}
    assert states.pop("WG001/Z-4/zw-ziekmelding") == "written"
    assert set(states.values()) == {"accepted"}, states

    monkeypatch.setenv("UWVCLI_TODAY", "2026-11-27")  # its day has come
    assert runner.invoke(app, ["send", "--config", str(config), "--poll-seconds", "0"]).exit_code == 0
    with Journal.open(config.parent / "var" / "uwvcli.sqlite") as journal:
        assert str(journal.entry("WG001/Z-4/zw-ziekmelding").state) != "written"


def test_an_earlier_date_than_the_last_run_is_refused_and_discards_nothing(
    tmp_path: Path, test_pki: Path
) -> None:
    config = setup(tmp_path, test_pki, [Z1, P1])
    assert run(config, "--no-send").exit_code == 0
    prepared = outbox(config)

    refused = run(config, "--no-send", date="2020-01-01")

    assert refused.exit_code == 2, refused.output
    assert "before the date of the last run (2026-11-26)" in refused.output
    assert "--force" in refused.output
    assert outbox(config) == prepared
    assert runs(config) == [(RUN_DATE, 0)]


def test_force_goes_back_to_an_earlier_date(tmp_path: Path, test_pki: Path) -> None:
    config = setup(tmp_path, test_pki, [Z1, P1])
    assert run(config, "--no-send").exit_code == 0

    forced = run(config, "--no-send", "--force", date="2020-01-01")

    assert forced.exit_code == 0, forced.output
    assert "cancelled" in forced.output and outbox(config) == {}


def test_a_refused_or_future_preview_run_does_not_count_as_the_last_run(
    tmp_path: Path, test_pki: Path
) -> None:
    """A preview of next week must not stop tomorrow's cron run (its date is after today)."""
    config = setup(tmp_path, test_pki, [Z1, P1])
    assert run(config, "--no-send", date="2026-12-03").exit_code in (0, 1)

    assert run(config, "--no-send").exit_code == 0


def test_a_run_date_more_than_a_week_back_is_a_catch_up(
    tmp_path: Path, test_pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = setup(tmp_path, test_pki, [Z1, P1])
    monkeypatch.setenv("UWVCLI_TODAY", "2026-12-07")

    result = run(config, "--no-send", "--format", "json")

    assert "catch-up run: the run date 2026-11-26 is 11 days ago" in result.output
    assert '"catch_up": true' in result.output


def test_the_clock_stand_in_is_ignored_outside_the_simulator(tmp_path: Path, test_pki: Path) -> None:
    config = load_config(setup(tmp_path, test_pki, [Z1]))
    custom = replace(config, digipoort=replace(config.digipoort, environment="custom"))
    real = date(2030, 1, 2)

    assert today(config, lambda: real) == date.fromisoformat(RUN_DATE)
    assert today(custom, lambda: real) == real


# ---------------------------------------------------------------- exports that look broken


def test_an_export_with_a_header_and_no_rows_needs_attention(tmp_path: Path, test_pki: Path) -> None:
    config = setup(tmp_path, test_pki, [])

    result = run(config, "--no-send")

    assert result.exit_code == 1, result.output  # was 0: "nothing due"
    assert "dossiers.csv: the export has no rows" in result.output


def test_an_export_whose_rows_all_fail_is_named_as_such(tmp_path: Path, test_pki: Path) -> None:
    config = setup(tmp_path, test_pki, [{**Z1, "org_unit_id": "OE9"}, {**P1, "org_unit_id": "OE9"}])

    result = run(config, "--no-send")

    assert result.exit_code == 1, result.output
    assert "dossiers.csv: none of its 2 row(s) could be used" in result.output


def test_an_export_with_less_than_half_the_rows_of_the_previous_run_needs_attention(
    tmp_path: Path, test_pki: Path
) -> None:
    config = setup(tmp_path, test_pki, [Z1, P1, Z2, P2])
    assert run(config, "--no-send").exit_code == 0
    write_setup(tmp_path, [Z1])

    result = run(config, "--no-send")

    assert result.exit_code == 1, result.output
    assert "dossiers.csv: 1 row(s), fewer than half of the 4 of the previous run" in result.output
    write_setup(tmp_path, [Z1, P1])
    assert run(config, "--no-send").exit_code == 0  # 2 of 1: growing is fine


def test_check_reports_an_empty_export(tmp_path: Path, test_pki: Path) -> None:
    config = setup(tmp_path, test_pki, [])

    result = runner.invoke(app, ["check", "--config", str(config), "--date", RUN_DATE])

    assert result.exit_code == 1, result.output
    assert "the export has no rows" in result.output

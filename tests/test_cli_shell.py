"""The command-line shell itself: `python -m uwvcli`, and the last-resort report of an exception
nobody foresaw (a bug): one line and exit 70 (EX_SOFTWARE), never a traceback, which CONTRACT's
exit 1 ("needs attention") and the privacy rules forbid."""

from __future__ import annotations

import gc
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import write_setup
from uwvcli.app import planning
from uwvcli.cli import app
from uwvcli.errors import EXIT_SOFTWARE
from uwvcli.inputs.config import load_config

ROOT = Path(__file__).resolve().parents[1]
ZIEKTE = {
    "employee_id": "1001",
    "dossier_id": "Z-1",
    "dossier_type": "ziekte",
    "first_sick_day": "2026-03-02",
}


def test_python_dash_m_uwvcli_is_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "uwvcli", "--version"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("uwvcli ")


@pytest.fixture
def broken_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug deep inside: the rules raise an exception no command foresaw, quoting a BSN."""

    bsn = "111222333"

    def fault(*args: object, **kwargs: object) -> None:
        raise KeyError(bsn)

    monkeypatch.setattr("uwvcli.domain.rules.evaluate", fault)


def test_an_unforeseen_exception_is_one_line_and_exit_70(tmp_path: Path, broken_rules: None) -> None:
    config = write_setup(tmp_path, [ZIEKTE])
    result = CliRunner().invoke(app, ["due", "--config", str(config)])
    assert result.exit_code == EXIT_SOFTWARE
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "internal error (KeyError in " in lines[0] and "-vv" in lines[0]
    assert "Traceback" not in result.output and "111222333" not in result.output


def test_the_traceback_goes_to_the_log_file_and_with_vv_to_stderr(tmp_path: Path, broken_rules: None) -> None:
    config, log = (
        write_setup(tmp_path, [ZIEKTE]),
        tmp_path / "uwvcli.log",
    )
    result = CliRunner().invoke(app, ["--log-file", str(log), "due", "--config", str(config)])
    assert result.exit_code == EXIT_SOFTWARE
    assert f"the traceback is in {log}" in result.stderr and "Traceback" not in result.stderr
    logged = log.read_text()
    assert "Traceback (most recent call last)" in logged and "planning.py" in logged
    assert "111222333" not in logged  # the exception's message may quote personal data

    result = CliRunner().invoke(app, ["-vv", "due", "--config", str(config)])
    assert result.exit_code == EXIT_SOFTWARE
    assert "Traceback (most recent call last)" in result.stderr and "111222333" not in result.stderr


def test_the_library_leaves_the_garbage_collector_to_the_command_line(tmp_path: Path) -> None:
    """Only `uwvcli.cli.main` switches the cyclic collector (for the whole process, once):
    planning a run in a library caller changes nothing about it, and freezes nothing."""
    config = load_config(write_setup(tmp_path, [ZIEKTE]))
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    plan = planning.plan(config, date(2026, 3, 2), horizon=400)
    assert plan.notifications
    assert gc.isenabled() and gc.get_freeze_count() == frozen

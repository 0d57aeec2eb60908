"""`uwvcli report` over a long history: the page lists the recent past and everything still
open, however old, and counts the settled notifications it leaves out, so that neither the page
nor the time to make it grows with years of accepted notifications."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from delivery_support import lifecycle, record_placeholder
from helpers import write_setup
from typer.testing import CliRunner

from uwvcli.app.report import default_since, gather
from uwvcli.cli import app
from uwvcli.domain.keys import parse_key
from uwvcli.inputs.config import load_config
from uwvcli.report.html import render
from uwvcli.state.journal import Journal

DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
OLD_ACCEPTED = "WG001/D1/zw-ziekmelding"
OLD_REJECTED = "WG001/D2/wazo"
RECENT_ACCEPTED = "WG001/D3/zw-ziekmelding"
LONG_AGO = "2025-03-01T10:00:00.000000+00:00"


def _sent(journal: Journal, key: str, kenmerk: str, final: str, outcome: str) -> None:
    record_placeholder(journal, key)
    journal.record_accepted(journal.begin_attempt(parse_key(key)), kenmerk, NOW)
    journal.add_statuses(kenmerk, lifecycle(NOW, (final, "VAS500" if final == "311" else None)))
    journal.set_outcome(parse_key(key), outcome)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """Two notifications last changed long ago (one accepted, one rejected) and a recent one."""
    path = write_setup(tmp_path, rows=[])
    state = load_config(path).paths.state
    with Journal.open(state) as journal:
        _sent(journal, OLD_ACCEPTED, "KEN-1", "500", "accepted")
        _sent(journal, OLD_REJECTED, "KEN-2", "311", "rejected")
        _sent(journal, RECENT_ACCEPTED, "KEN-3", "500", "accepted")
    with sqlite3.connect(state) as db:
        db.execute(
            "UPDATE notifications SET updated = ? WHERE key IN (?, ?)", (LONG_AGO, OLD_ACCEPTED, OLD_REJECTED)
        )
    return path


def test_the_page_lists_the_recent_past_and_what_is_open_and_counts_the_settled_rest(
    config_path: Path,
) -> None:
    overview = gather(load_config(config_path), DAY, now=NOW)
    assert {row.key for row in overview.rows} == {RECENT_ACCEPTED, OLD_REJECTED}  # a rejection stays
    assert overview.older == 1 and overview.since == default_since(DAY)
    assert "1 afgeronde melding van vóór" in render(overview)


def test_an_earlier_since_lists_the_older_settled_ones_too(config_path: Path) -> None:
    overview = gather(load_config(config_path), DAY, since=date(2025, 1, 1), now=NOW)
    assert {row.key for row in overview.rows} == {OLD_ACCEPTED, OLD_REJECTED, RECENT_ACCEPTED}
    assert overview.older == 0
    assert "afgeronde" not in render(overview)


def test_report_since_on_the_command_line(config_path: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    arguments = ["report", "--config", str(config_path), "--date", DAY.isoformat(), "-o", str(page)]
    assert CliRunner().invoke(app, arguments).exit_code == 0
    assert "KEN-1" not in page.read_text(encoding="utf-8")
    assert CliRunner().invoke(app, [*arguments, "--since", "2025-01-01"]).exit_code == 0
    assert "KEN-1" in page.read_text(encoding="utf-8")
    wrong = CliRunner().invoke(app, [*arguments, "--since", "last spring"])
    assert wrong.exit_code == 2 and "is not a date" in wrong.output

"""A damaged or full journal and state folders made by hand: clear messages and exit 2, never a
traceback, nothing half-done; `uwvcli check` runs SQLite's integrity check; folders and files
that hold personal data are tightened to owner-only or reported."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from tests.helpers import write_setup
from tests.run_support import setup_samples, uwvcli
from uwvcli.domain.keys import parse_key
from uwvcli.domain.models import Kind, Notification, State
from uwvcli.domain.problems import legacy
from uwvcli.state.journal import Journal, JournalError
from uwvcli.state.outbox import Outbox


def _damage(journal: Path) -> None:
    """Overwrite the middle of the file (table pages, not the header) with garbage."""
    size = journal.stat().st_size
    assert size >= 4 * 4096, "too small a journal to damage a page of"
    with journal.open("r+b") as file:
        file.seek(2 * 4096)
        file.write(os.urandom(4096) * ((size - 3 * 4096) // 4096))


def test_a_damaged_journal_stops_send_run_and_check_with_a_message(tmp_path: Path, test_pki: Path) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=None)
    state = config.parent / "var" / "uwvcli.sqlite"
    first = uwvcli("run", "--config", str(config), "--date", "2026-12-01", "--no-send", cwd=config.parent)
    assert first.returncode in (0, 1), first.stderr
    _damage(state)
    for command in (
        ("send", "--config", str(config), "--poll-seconds", "0"),
        ("run", "--config", str(config), "--date", "2026-12-01", "--no-send"),
    ):
        done = uwvcli(*command, cwd=config.parent)  # asserts: no traceback
        assert done.returncode == 2, (command, done.stderr)
        assert "damaged" in done.stderr or "cannot be used" in done.stderr
        assert "backup" in done.stderr
    checked = uwvcli(
        "check", "--config", str(config), "--date", "2026-12-01", "--format", "json", cwd=config.parent
    )
    assert checked.returncode == 2
    findings = json.loads(checked.stdout)["problems"]
    assert any(f["field"] == "paths.state" and "damaged" in f["message"] for f in findings)


def test_a_full_disk_under_the_journal_is_a_message_and_the_change_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "uwvcli.sqlite"
    with Journal.open(path) as journal:
        count = journal._db.execute("PRAGMA page_count").fetchone()[0]
        journal._db.execute(f"PRAGMA max_page_count = {count}")  # SQLite's own "disk is full"
        n = Notification(
            key=parse_key("WG1/D1/zw-ziekmelding"),
            kind=Kind.ZW_ZIEKMELDING,
            employer_id="WG1",
            employee_id="1001",
            dossier_id="D1",
            due_date=date(2026, 12, 1),
            deadline=None,
            state=State.BLOCKED,
            problems=(legacy("x" * 20_000),),
        )
        with pytest.raises(JournalError, match="Free space") as caught:
            journal.record_blocked(n)
        assert "rolled back" in str(caught.value)
        assert journal.entry(n.key) is None


def test_check_finds_a_sound_journal_sound(tmp_path: Path) -> None:
    from uwvcli.state.integrity import journal_problems

    path = tmp_path / "uwvcli.sqlite"
    Journal.open(path).close()
    assert journal_problems(path) == []
    assert journal_problems(tmp_path / "not-there.sqlite") == []


def test_an_outbox_made_by_hand_with_mode_0755_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    Outbox(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_existing_log_file_with_mode_0644_is_tightened_and_a_wide_state_folder_reported(
    tmp_path: Path,
) -> None:
    config = write_setup(tmp_path, [])
    log = tmp_path / "uwvcli.log"
    log.write_text("")
    os.chmod(log, 0o644)
    state = tmp_path / "var"
    state.mkdir(exist_ok=True)
    os.chmod(state, 0o755)
    done = uwvcli("--log-file", str(log), "check", "--config", str(config), "--format", "json", cwd=tmp_path)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    warnings = [f["message"] for f in json.loads(done.stdout)["problems"] if f["severity"] == "warning"]
    assert any(str(state) in m and "0755" in m for m in warnings), warnings

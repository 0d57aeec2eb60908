"""Crash safety, tested rather than assumed: `uwvcli run --no-send` is killed with SIGKILL at
random moments (while the journal is created, while files are written, while they are rewritten
after a correction), then run to completion. Whatever the timing, the outbox and the journal
must agree: one verifying file and one `written` row per due notification, a `blocked` row and no
file for a blocked one, no orphans, no temporaries, a healthy database."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.helpers import write_setup
from uwvcli.domain.keys import aanleverkenmerk, parse_key
from uwvcli.messages.build import check_message
from uwvcli.messages.signing import verify_document
from uwvcli.simulator.pki import simulator_pki_folder
from uwvcli.state.journal import Journal, JournalState
from uwvcli.state.outbox import sha256_hex

RUN_DATE = "2026-11-26"
DOSSIERS = 60
UWVCLI = Path(sys.executable).with_name("uwvcli")


def rows(version: int) -> list[dict]:
    """DOSSIERS sick employees (zw-ziekmelding + partial werkhervatting each) and every seventh
    without a BSN (blocked). The two versions differ in sick_reported_date, so switching between
    them makes a run rewrite every unsent file."""
    result = []
    for i in range(DOSSIERS):
        first = date(2026, 11, 2) + timedelta(days=i % 10)
        row = {
            "employee_id": f"{1000 + i}",
            "dossier_id": f"Z-{i}",
            "dossier_type": "ziekte",
            "first_sick_day": first.isoformat(),
            "sick_reported_date": (first + timedelta(days=version)).isoformat(),
            "sick_reason": "zwangerschap",
            "partial_recovery_date": "2026-11-25",
            "partial_daily_wage": "61.25",
        }
        if i % 7 == 3:
            row["bsn"] = ""
        result.append(row)
    return result


def expected_keys() -> tuple[set[str], set[str]]:
    due, blocked = set(), set()
    for i in range(DOSSIERS):
        keys = {f"WG001/Z-{i}/zw-ziekmelding", f"WG001/Z-{i}/werkhervatting/partial"}
        (blocked if i % 7 == 3 else due).update(keys)
    return due, blocked


def prepare_folder(folder: Path, pki: Path) -> Path:
    config = write_setup(folder, rows(0))
    shutil.copytree(pki, simulator_pki_folder(folder / "var"))
    (folder / "var").chmod(0o700)
    return config


def run(config: Path, workers: str = "1") -> subprocess.Popen:
    return subprocess.Popen(
        [str(UWVCLI), "run", "--no-send", "--config", str(config), "--date", RUN_DATE],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "UWVCLI_WORKERS": workers, "UWVCLI_CRASH_TEST": str(config)},
    )


def run_to_completion(config: Path, workers: str = "1") -> int:
    process = run(config, workers)
    _, stderr = process.communicate(timeout=120)
    assert b"Traceback" not in stderr, stderr.decode()
    return process.returncode


def assert_consistent(folder: Path) -> None:
    state, outbox = folder / "var" / "uwvcli.sqlite", folder / "var" / "outbox"
    due, blocked = expected_keys()
    assert sqlite3.connect(state).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Journal.open(state) as journal:
        entries = {str(e.key): e for e in journal.entries()}
    assert set(entries) == due | blocked
    files = {p.name for p in outbox.iterdir()}
    assert files == {f"{aanleverkenmerk(parse_key(key))}.xml" for key in due}, (
        "orphans, temporaries or missing files"
    )
    for key in due:
        entry = entries[key]
        assert entry.state == JournalState.WRITTEN
        signed = entry.file.read_bytes()
        assert entry.file.parent == outbox
        assert sha256_hex(signed) == entry.sha256
        assert check_message(verify_document(signed)) == []  # whole, and signed by us
    for key in blocked:
        assert entries[key].state == JournalState.BLOCKED and entries[key].file is None


def assert_no_leftover_processes(config: Path, grace: float = 3.0) -> None:
    """No process of a killed run (a signing worker) lives on: found by the marker in the
    environment every process of this test inherits."""
    marker = f"UWVCLI_CRASH_TEST={config}".encode()
    deadline = time.monotonic() + grace
    while True:
        alive = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if marker in environ.read_bytes().split(b"\0"):
                    alive.append(environ.parent.name)
            except OSError:
                continue
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert alive == [], f"processes of killed runs still running: {alive}"


def kill_repeatedly(folder: Path, config: Path, iterations: int, seed: int, workers: str = "1") -> None:
    """Kill runs at random moments; every other one starts from a corrected export, so kills also
    land in the middle of rewriting existing files."""
    chance = random.Random(seed)
    start = time.monotonic()
    assert run_to_completion(config, workers) == 1  # blocked ones need attention
    full = time.monotonic() - start
    shutil.rmtree(folder / "var" / "outbox")
    for path in (folder / "var").glob("uwvcli.sqlite*"):
        path.unlink()
    for iteration in range(iterations):
        write_setup(folder, rows(iteration % 2))
        process = run(config, workers)
        time.sleep(chance.uniform(0.0, full * 1.1))
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert run_to_completion(config, workers) == 1
    assert_consistent(folder)
    # and the state the crashes left is an ordinary one: a further run changes nothing
    before = {p.name: p.read_bytes() for p in (folder / "var" / "outbox").iterdir()}
    assert run_to_completion(config, workers) == 1
    assert {p.name: p.read_bytes() for p in (folder / "var" / "outbox").iterdir()} == before
    assert_no_leftover_processes(config)


def test_killed_runs_leave_a_consistent_outbox_and_journal(tmp_path: Path, test_pki: Path) -> None:
    config = prepare_folder(tmp_path, test_pki)
    kill_repeatedly(tmp_path, config, iterations=6, seed=20261126)


def test_killed_runs_with_signing_workers_too(tmp_path: Path, test_pki: Path) -> None:
    """With UWVCLI_WORKERS=2 the messages are signed in worker processes; killing the run must
    leave no more behind than in one process (the workers die with their parent's pipes)."""
    config = prepare_folder(tmp_path, test_pki)
    kill_repeatedly(tmp_path, config, iterations=4, seed=75, workers="2")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_killed_runs_soak(tmp_path: Path, test_pki: Path, seed: int) -> None:
    config = prepare_folder(tmp_path, test_pki)
    kill_repeatedly(tmp_path, config, iterations=40, seed=seed, workers="2" if seed % 2 else "1")

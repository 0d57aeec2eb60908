"""A lost journal end to end, against the simulator over mutual TLS: every command that could
send refuses it (exit 2) and creates nothing, every time; `uwvcli recover` adopts what Digipoort
already has; the runs after it send nothing twice (the simulator's own counts)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.run_support import (
    journal_status,
    run_day,
    setup_samples,
    simulator_received,
    uwvcli,
)


def _sending_commands(config: Path) -> list[tuple[str, ...]]:
    base = ("--config", str(config))
    return [
        ("run", *base, "--date", "2026-12-01", "--poll-seconds", "0"),
        ("run", *base, "--date", "2026-12-01", "--no-send"),
        ("send", *base, "--poll-seconds", "0"),
        ("resolve", "WG001/Z-1/zw-ziekmelding", "--not-received", *base),
    ]


def _state_files(state: Path) -> list[str]:
    """The journal and its WAL files (not the lock file, which is not state)."""
    return sorted(p.name for p in state.glob("uwvcli.sqlite*") if p.suffix != ".lock")


@pytest.mark.parametrize(  # the other two losses take the same path: in the slow loops
    "loss",
    [
        "deleted",
        pytest.param("emptied", marks=pytest.mark.slow),
        pytest.param("deleted with the receipts", marks=pytest.mark.slow),
    ],
)
def test_a_lost_journal_stays_refused_until_recover_adopts_what_digipoort_has(
    tmp_path: Path, test_pki: Path, loss: str
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=None)
    state = config.parent / "var"
    first = run_day(config)
    assert first.returncode in (0, 1), first.stderr
    received = simulator_received(state / "simulator")
    assert received and set(received.values()) == {1}
    sent_before = {k: n for k, n in journal_status(config).items() if n["kenmerk"]}

    for name in _state_files(state):
        (state / name).unlink()
    if loss == "emptied":
        (state / "uwvcli.sqlite").write_bytes(b"")
    if loss == "deleted with the receipts":
        shutil.rmtree(config.parent / "var" / "outbox" / "receipts")
    left = _state_files(state)

    for _ in range(2):  # refusing once must not disarm the guard for the next command
        for command in _sending_commands(config):
            done = uwvcli(*command, cwd=config.parent)
            assert done.returncode == 2, (command, done.stdout, done.stderr)
            assert "uwvcli recover" in done.stderr and "missing or empty" in done.stderr
            assert _state_files(state) == left, f"{command[0]} created a journal"
    assert simulator_received(state / "simulator") == received

    recovered = uwvcli("recover", "--config", str(config), "--date", "2026-12-01", cwd=config.parent)
    status = journal_status(config)
    if loss == "deleted with the receipts":
        # which process is which message only a person can tell: parked, never resent
        assert recovered.returncode == 1, recovered.stderr
        assert "parked" in recovered.stdout and "adopted" not in recovered.stdout
        assert {status[key]["state"] for key in sent_before} == {"parked"}
    else:
        assert recovered.returncode in (0, 1), recovered.stderr
        assert "adopted" in recovered.stdout
        for key, before in sent_before.items():
            assert status[key]["kenmerk"] == before["kenmerk"], key  # the very process it had
            assert status[key]["state"] in ("submitted", "delivered", "accepted")

    again = run_day(config)
    assert again.returncode in (0, 1), again.stderr
    later = run_day(config, "2026-12-02", today="2026-12-02")
    assert later.returncode in (0, 1), later.stderr
    after = simulator_received(state / "simulator")
    assert {k: v for k, v in after.items() if k in received} == received, "nothing was sent twice"
    assert set(after.values()) == {1}


def test_a_restored_old_backup_stops_its_senders_until_recover_adopts_what_was_sent_since(
    tmp_path: Path, test_pki: Path
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=None)
    state = config.parent / "var"
    assert run_day(config, "2026-11-20").returncode in (0, 1)
    backup = tmp_path / "backup.sqlite"
    shutil.copyfile(state / "uwvcli.sqlite", backup)  # after the run: the WAL was checkpointed on close
    before = simulator_received(state / "simulator")
    assert run_day(config, "2026-12-01").returncode in (0, 1)
    sent_since = set(simulator_received(state / "simulator")) - set(before)
    assert sent_since, "the samples send nothing new on the second day: this test would prove nothing"
    received = simulator_received(state / "simulator")

    for name in _state_files(state):
        (state / name).unlink()
    shutil.copyfile(backup, state / "uwvcli.sqlite")
    stopped = run_day(config, "2026-12-01")
    assert stopped.returncode == 1, stopped.stderr
    assert "the journal is older than what Digipoort has" in stopped.stdout + stopped.stderr
    assert simulator_received(state / "simulator") == received, "nothing was sent again"

    recovered = uwvcli("recover", "--config", str(config), "--date", "2026-12-01", cwd=config.parent)
    assert recovered.returncode in (0, 1), recovered.stderr
    assert "adopted" in recovered.stdout
    assert run_day(config, "2026-12-01").returncode in (0, 1)
    assert run_day(config, "2026-12-02", today="2026-12-02").returncode in (0, 1)
    after = simulator_received(state / "simulator")
    assert {k: v for k, v in after.items() if k in received} == received
    assert set(after.values()) == {1}, "nothing was sent twice"

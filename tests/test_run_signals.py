"""Ctrl-C and SIGTERM (issue 13): `uwvcli run` stops after the current step — the message in
flight is finished and recorded —, says what the next run picks up, and exits 130 (SIGINT) or
143 (SIGTERM); the rerun sends the rest, and Digipoort (the simulator, which answers each
message after a delay: the SLOW marker) holds every due notification exactly once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.run_support import (
    SmtpServer,
    due_keys,
    journal_status,
    received_by_key,
    run_day,
    setup_samples,
)
from tests.test_run_kill import KillableRun


@pytest.mark.parametrize(
    ("signum", "code"),
    [
        (signal.SIGTERM, 143),
        pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow),
    ],  # same path, other code
)
def test_a_signal_stops_after_the_message_in_flight_and_the_rerun_sends_the_rest_once(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path, signum: signal.Signals, code: int
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    export = config.parent / "exports" / "testbrood-dossiers.csv"
    text = export.read_text(encoding="utf-8-sig")
    for number in range(101, 112):
        text = text.replace(f";Z-{number};", f";Z-{number}.SLOW-1;")
    export.write_text(text, encoding="utf-8")
    sendable, _ = due_keys(config)
    slow = {key for key in sendable if ".SLOW-" in key}
    assert len(slow) >= 3, "the samples changed: too few messages to stop between"

    run = KillableRun.start(config, "--parallelism", "1")
    assert run.wait_for("aanleveren "), "".join(run.lines)  # the first message is at Digipoort
    run.process.send_signal(signum)
    returncode = run.finish()

    output = "".join(run.lines)
    assert returncode == code, output
    assert f"stopped by {signum.name}: " in output and "the next run sends them" in output
    states = {key: n["state"] for key, n in journal_status(config).items() if key in sendable}
    assert not {"submitting", "in_doubt", "parked"} & set(states.values()), states
    went = {key for key, state in states.items() if state not in ("written",)}
    assert went and went != sendable, states  # stopped after some, not all
    assert "done, exit code" in run.lines[-1] and f"exit code {code}" in run.lines[-1]

    rerun = run_day(config)

    assert rerun.returncode == 1, rerun.stderr  # the samples' blocked notifications
    assert received_by_key(config, config.parent / "var" / "simulator") == dict.fromkeys(sendable, 1)

"""Progress and stopping, in-process: without a terminal a long step writes a plain line at most
every 10 seconds (never a 5-minute silence, never an animation); a SIGTERM while the outbox is
being prepared stops the run with exit 143, records it, leaves no half-written file and the next
run prepares everything."""

from __future__ import annotations

import os
import shutil
import signal
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from tests.helpers import write_setup
from tests.test_run_no_send import P1, RUN_DATE, Z1
from uwvcli.app import run as use_case
from uwvcli.cli.run import PLAIN_EVERY, ProgressBar
from uwvcli.inputs.config import load_config
from uwvcli.simulator.pki import ensure_test_pki, simulator_pki_folder
from uwvcli.state.journal import Journal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class PlainTerminal:
    interactive = False

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, text: str) -> None:
        self.lines.append(text)


def test_without_a_terminal_a_long_step_says_how_far_it_is_at_most_every_ten_seconds() -> None:
    terminal, clock = PlainTerminal(), Clock()
    bar = ProgressBar(terminal, "Sending", clock=clock)  # type: ignore[arg-type]
    with bar:
        for done in range(1, 601):  # one message a second, 600 of them
            clock.now += 1
            bar(done, 600)
    assert bar.progress is None  # no animation
    assert len(terminal.lines) == 600 // PLAIN_EVERY - 1  # the last one is the step's end
    assert terminal.lines[0] == "Sending: 10 of 600, about 10 min left"
    assert terminal.lines[-1] == "Sending: 590 of 600, about 10 s left"


def test_a_short_step_stays_quiet() -> None:
    terminal, clock = PlainTerminal(), Clock()
    with ProgressBar(terminal, "Preparing", clock=clock) as bar:  # type: ignore[arg-type]
        for done in range(1, 4):
            clock.now += 1
            bar(done, 3)
    assert terminal.lines == []


@pytest.fixture
def config(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory):
    pki = tmp_path_factory.mktemp("pki") / "test-pki"
    ensure_test_pki(pki)
    path = write_setup(tmp_path, [Z1, P1])
    shutil.copytree(pki, simulator_pki_folder(tmp_path / "var"))
    return load_config(path)


class SignalWhilePreparing:
    """RunEvents that send this process a SIGTERM as the first notification is prepared."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def warning(self, text: str) -> None:
        self.said.append(text)

    def note(self, text: str) -> None:
        self.said.append(text)

    @contextmanager
    def progress(self, step: str):
        def progress(done: int, total: int) -> None:
            if step == "preparing" and done == 1:
                os.kill(os.getpid(), signal.SIGTERM)

        yield progress

    def stopping(self, signal_name: str) -> None:
        self.said.append(f"stopping on {signal_name}")

    def sending(self, report: object) -> None:
        raise AssertionError("a stopped run must not send")


def test_sigterm_while_preparing_stops_with_143_and_leaves_no_half_written_file(config) -> None:
    day = date.fromisoformat(RUN_DATE)
    events = SignalWhilePreparing()

    with pytest.raises(use_case.Stopped) as stopped:
        use_case.run(config, day, today=day, no_send=True, sending=use_case.Sending(), events=events)

    assert stopped.value.exit_code == 143
    assert "stopped by SIGTERM while preparing" in str(stopped.value) and "nothing was sent" in str(
        stopped.value
    )
    assert events.said == ["stopping on SIGTERM"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the run's handler is gone again
    outbox = config.paths.outbox
    assert not list(outbox.glob("*.xml")) if outbox.exists() else True  # only temporaries, if anything
    with Journal.open(config.paths.state) as journal:
        assert [(r.run_date, r.exit_code) for r in journal.runs()] == [(day, 143)]
        assert journal.entries() == []

    class Quiet(SignalWhilePreparing):
        @contextmanager
        def progress(self, step: str):
            yield lambda done, total: None

    again = use_case.run(config, day, today=day, no_send=True, sending=use_case.Sending(), events=Quiet())
    assert again.exit_code == 0 and len(again.report.written) == 3
    assert not [p for p in outbox.iterdir() if p.name.endswith(".tmp")]

"""One run at a time: a second process is told to try again later (exit 75), and a killed
holder never leaves a stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from uwvcli.errors import EXIT_LOCKED, LockedError
from uwvcli.state.locking import lock_path, run_lock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from uwvcli.state.locking import run_lock
    with run_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(60)
    """
)


@pytest.fixture
def holder(tmp_path: Path):
    """Another process holding the lock on tmp_path/state/uwvcli.sqlite."""
    state = tmp_path / "state" / "uwvcli.sqlite"
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(state)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    yield state, process
    process.kill()
    process.wait()


def test_a_second_holder_is_refused_with_the_pid_and_exit_75(holder) -> None:
    state, process = holder
    with pytest.raises(LockedError) as caught, run_lock(state):
        pass
    assert caught.value.exit_code == EXIT_LOCKED == 75
    assert str(caught.value) == (
        f"another uwvcli run is working on {state} (pid {process.pid}); try again later"
    )


def test_a_killed_holder_leaves_no_stale_lock(holder) -> None:
    state, process = holder
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with run_lock(state):
        assert lock_path(state).read_text().strip() == str(os.getpid())


def test_the_lock_is_released_after_the_block_and_owner_only(tmp_path: Path) -> None:
    state = tmp_path / "new" / "uwvcli.sqlite"
    with run_lock(state):
        pass
    with run_lock(state):
        pass
    assert lock_path(state) == tmp_path / "new" / "uwvcli.sqlite.lock"
    assert lock_path(state).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700


def test_the_lock_holds_within_one_process_too(tmp_path: Path) -> None:
    """flock locks belong to the open file, so even a second attempt inside the same process
    (say, a command calling another) is refused rather than silently sharing."""
    state = tmp_path / "uwvcli.sqlite"
    with run_lock(state), pytest.raises(LockedError), run_lock(state):
        pass

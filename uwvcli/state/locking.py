"""One run at a time per state database.

`fcntl.flock` on `<state>.lock`: the kernel releases the lock when the process dies, so a
`kill -9` or a power cut never leaves a stale lock behind for the next cron run to trip over.
The file holds the owner's pid only to make the message useful; the lock is the flock itself."""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from uwvcli.errors import LockedError, UwvcliError


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


def _holder(descriptor: int) -> str:
    try:
        text = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


@contextmanager
def run_lock(state_path: Path) -> Iterator[None]:
    """Hold the run lock of `state_path` for the duration of the block; raise `LockedError`
    (exit 75: try again later) at once when another process holds it."""
    path = lock_path(Path(state_path))
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, parents=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise UwvcliError(f"{path}: cannot create the lock file ({error.strerror})") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UwvcliError(f"{path}: cannot lock ({error.strerror})") from None
            raise LockedError(
                f"another uwvcli run is working on {state_path}{_holder(descriptor)}; try again later"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)

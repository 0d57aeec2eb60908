"""The outbox: one signed message file per notification, written so that a crash or a power
cut leaves either the old file or the new one, never half of one.

Files are named by their `aanleverkenmerk` (employer id, dossier id, kind, revision: no personal
data) and are owner-only. Until a message is submitted a run may replace its file with a
rebuilt one under the same name; once submitted the file is never touched again (audit).
Which of those applies is the journal's knowledge, not the outbox's (see prepare.py)."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from uwvcli.errors import UwvcliError

TEMP_SUFFIX = ".tmp"
#: `<outbox>/receipts/<aanleverkenmerk>.kenmerk`: which Digipoort process a sent message became.
RECEIPTS = "receipts"


class OutboxError(UwvcliError):
    """The outbox folder or one of its files cannot be used."""


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _syncfs(folder: Path) -> None:
    """Flush everything written to `folder`'s file system in one go: one journal commit of the
    file system for a whole batch instead of two fsyncs per file (10 ms a message on a disk)."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _LIBC is None or _LIBC.syncfs(descriptor) != 0:
            os.sync()
    finally:
        os.close(descriptor)


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "syncfs") else None


_LIBC = _libc()


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` (mode 0600) all-or-nothing: a temporary file in the same folder,
    fsync, rename over `path`, fsync the folder so the rename itself survives a power cut.

    `durable=False` skips both fsyncs (the rename stays atomic: a killed process leaves the old
    file or the new one); the caller then makes a whole batch durable at once with
    `Outbox.sync()` before it records the files anywhere."""
    temporary = _write_temporary(path, data, durable=durable)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_folder(path.parent)


def _write_temporary(path: Path, data: bytes, *, durable: bool) -> Path:
    """A new owner-only file next to `path` holding `data` (named so `remove_temporaries` finds
    it); it is removed again when writing fails."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            if durable:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Staged:
    """A message file written under a temporary name, not yet in place (see `Outbox.stage`).
    Paths as strings: a staged file is handed from a signing worker to the run, and a string
    crosses that border far more cheaply than a `Path`."""

    path: str  # where `commit` puts it
    temporary: str
    sha256: str  # of its bytes


def owner_only_folder(folder: Path) -> None:
    """The outbox holds personal data: a folder that already existed with a wider mode (0755 from a
    `mkdir` by hand) is tightened to 0700, as uwvcli would have created it."""
    mode = folder.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(folder, mode & 0o700 | 0o700)


class Outbox:
    """The folder of signed messages (`paths.outbox`), created owner-only on first use."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        try:
            if not self.folder.is_dir():
                self.folder.mkdir(mode=0o700, parents=True)
            owner_only_folder(self.folder)
        except OSError as error:
            raise OutboxError(f"{self.folder}: cannot create the outbox folder ({error.strerror})") from None

    def path_for(self, aanleverkenmerk: str) -> Path:
        return self.folder / f"{aanleverkenmerk}.xml"

    def write(self, aanleverkenmerk: str, signed: bytes, *, durable: bool = True) -> tuple[Path, str]:
        """Write (or replace) the message file; returns its path and the sha256 of its bytes.
        With `durable=False`, call `sync()` before recording the file in the journal."""
        path = self.path_for(aanleverkenmerk)
        try:
            write_atomic(path, signed, durable=durable)
        except OSError as error:
            raise OutboxError(f"{path}: cannot write the message ({error.strerror})") from None
        return path, sha256_hex(signed)

    def stage(self, aanleverkenmerk: str, signed: bytes) -> Staged:
        """The first half of `write(..., durable=False)`, for a file that may still be dropped:
        the bytes in a temporary next to their final name. Any process may stage (the signing
        workers do, so that the run itself only renames); `commit` or `discard` it afterwards."""
        path = self.path_for(aanleverkenmerk)
        try:
            temporary = _write_temporary(path, signed, durable=False)
        except OSError as error:
            raise OutboxError(f"{path}: cannot write the message ({error.strerror})") from None
        return Staged(str(path), str(temporary), sha256_hex(signed))

    def commit(self, staged: Staged) -> Path:
        """Put a staged file in place (atomically replacing an older one of the same name); like
        `write(..., durable=False)`, it is durable after the next `sync()`."""
        try:
            os.replace(staged.temporary, staged.path)
        except OSError as error:
            self.discard(staged)
            raise OutboxError(f"{staged.path}: cannot write the message ({error.strerror})") from None
        return Path(staged.path)

    def discard(self, staged: Staged) -> None:
        """Drop a staged file that is not going to be used (its notification turned out blocked)."""
        Path(staged.temporary).unlink(missing_ok=True)

    def sync(self) -> None:
        """Make every write and rename so far durable (after writes with `durable=False`)."""
        try:
            _syncfs(self.folder)
        except OSError as error:
            raise OutboxError(f"{self.folder}: cannot make the outbox durable ({error.strerror})") from None

    def read(self, path: Path) -> bytes:
        try:
            return Path(path).read_bytes()
        except FileNotFoundError:
            raise OutboxError(f"{path}: the message file is missing from the outbox") from None
        except OSError as error:
            raise OutboxError(f"{path}: cannot read the message ({error.strerror})") from None

    def digest(self, path: Path) -> str | None:
        """sha256 of the file's bytes, or None when it is not there."""
        try:
            return sha256_hex(Path(path).read_bytes())
        except FileNotFoundError:
            return None

    def messages(self) -> list[Path]:
        """The message files (not temporaries), by name."""
        try:
            with os.scandir(self.folder) as entries:  # no stat per file: this runs over every message
                return sorted(Path(e.path) for e in entries if e.name.endswith(".xml") and e.is_file())
        except OSError as error:
            raise OutboxError(f"{self.folder}: cannot list the outbox ({error.strerror})") from None

    def remove_temporaries(self) -> int:
        """Delete the temporaries an interrupted write left behind (call under the run lock:
        nobody else is writing then). Returns how many there were."""
        try:
            stale = list(self.folder.glob(f".*{TEMP_SUFFIX}"))
            for path in stale:
                path.unlink(missing_ok=True)
        except OSError as error:
            raise OutboxError(f"{self.folder}: cannot clean up the outbox ({error.strerror})") from None
        return len(stale)

    def set_aside(self, path: Path, folder: str) -> Path | None:
        """Move a file out of the way of `send` into `<outbox>/<folder>/` (owner-only), keeping it
        for a person to look at; the name gets a UTC timestamp so nothing is overwritten.
        Returns the new path, or None when there was no such file."""
        aside = self.folder / folder
        try:
            if not aside.is_dir():
                aside.mkdir(mode=0o700)
            owner_only_folder(aside)
        except OSError as error:
            raise OutboxError(f"{aside}: cannot create the folder ({error.strerror})") from None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = aside / f"{Path(path).stem}.{stamp}{Path(path).suffix}"
        try:
            os.rename(path, target)
            _fsync_folder(self.folder)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise OutboxError(f"{path}: cannot move it to {aside} ({error.strerror})") from None
        return target

    def remove(self, path: Path) -> None:
        """Delete a message that was never submitted (cancelled, or now blocked)."""
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as error:
            raise OutboxError(f"{path}: cannot remove the unsent message ({error.strerror})") from None


def receipt_path(message: Path) -> Path:
    return Path(message).parent / RECEIPTS / f"{Path(message).stem}.kenmerk"


def write_receipt(message: Path, kenmerk: str) -> None:
    """Note next to a sent message which Digipoort process it became. The journal is the truth;
    this is the one clue that survives losing it, so that `uwvcli recover` can match a message to
    its process (Digipoort's process list names no aanleverkenmerk). Best effort: a receipt that
    could not be written only leaves recover a person's question (parked), never a resend."""
    path = receipt_path(message)
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        write_atomic(path, kenmerk.encode("ascii", "replace"), durable=False)
    except OSError:
        pass


def read_receipt(message: Path) -> str | None:
    """The kenmerk `write_receipt` noted for this message, if any (at most 40 characters)."""
    try:
        text = receipt_path(message).read_bytes()[:64].decode("ascii", "replace").strip()
    except OSError:
        return None
    return text or None

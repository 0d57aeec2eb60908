"""Outbox files: all-or-nothing, owner-only, named without personal data."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from uwvcli.state import outbox as outbox_module
from uwvcli.state.outbox import Outbox, OutboxError, sha256_hex, write_atomic


def test_write_creates_an_owner_only_folder_and_file_named_by_aanleverkenmerk(tmp_path: Path) -> None:
    previous = os.umask(0o000)
    try:
        box = Outbox(tmp_path / "var" / "outbox")
        path, digest = box.write("WG001-Z-17-WH-P", b"<signed/>")
    finally:
        os.umask(previous)
    assert path == tmp_path / "var" / "outbox" / "WG001-Z-17-WH-P.xml"
    assert path.read_bytes() == b"<signed/>"
    assert digest == sha256_hex(b"<signed/>")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(box.folder.stat().st_mode) == 0o700
    assert box.messages() == [path]


def test_replacing_a_file_leaves_no_temporary(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.write("K", b"first")
    path, _ = box.write("K", b"second, corrected before sending")
    assert path.read_bytes() == b"second, corrected before sending"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["K.xml"]


def test_a_write_that_fails_midway_keeps_the_old_file_whole(tmp_path: Path, monkeypatch) -> None:
    """Simulate a crash between writing the temporary and renaming it: the old message stays
    intact and no temporary is left behind."""
    box = Outbox(tmp_path)
    box.write("K", b"the old, complete message")

    def crash(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox_module.os, "replace", crash)
    with pytest.raises(OutboxError, match="No space left on device"):
        box.write("K", b"the new message that never lands")
    assert (tmp_path / "K.xml").read_bytes() == b"the old, complete message"
    assert [p.name for p in tmp_path.iterdir()] == ["K.xml"]


def test_stale_temporaries_of_a_killed_run_are_cleaned(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.write("K", b"ok")
    (tmp_path / ".K.xml.0123456789ab.tmp").write_bytes(b"<half")
    (tmp_path / ".L.xml.ba9876543210.tmp").write_bytes(b"")
    assert box.messages() == [tmp_path / "K.xml"]
    assert box.remove_temporaries() == 2
    assert [p.name for p in tmp_path.iterdir()] == ["K.xml"]


def test_write_atomic_is_the_same_guarantee_for_any_file(tmp_path: Path) -> None:
    target = tmp_path / "recap.eml"
    write_atomic(target, b"mail")
    write_atomic(target, b"mail 2", durable=False)
    assert target.read_bytes() == b"mail 2"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_reading_a_missing_file_says_which(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    with pytest.raises(OutboxError, match=r"WG001-Z-1-ZM\.xml: the message file is missing"):
        box.read(box.path_for("WG001-Z-1-ZM"))
    assert box.digest(box.path_for("WG001-Z-1-ZM")) is None


def test_an_outbox_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OutboxError, match="cannot create the outbox folder"):
        Outbox(tmp_path / "file" / "outbox")

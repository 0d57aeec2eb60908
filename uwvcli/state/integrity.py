"""What `uwvcli check` says about the state: whether the journal is sound (`PRAGMA
integrity_check`, read-only: a check changes nothing) and whether the folders and files that hold
personal data are owner-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

#: At most this many of SQLite's own findings are shown; the first ones say enough.
_SHOWN = 5


def journal_problems(path: Path) -> list[str]:
    """SQLite's integrity check of the journal at `path`, opened read-only; [] when it is sound
    or not there yet (a first run creates it)."""
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            rows = [str(row[0]) for row in db.execute("PRAGMA integrity_check").fetchmany(_SHOWN + 1)]
    except sqlite3.Error as error:
        rows = [str(error)]
    if rows == ["ok"]:
        return []
    shown = "; ".join(rows[:_SHOWN]) + ("; …" if len(rows) > _SHOWN else "")
    return [
        f"the state database is damaged (SQLite: {shown}): restore the newest backup of it (docs/state.md) "
        "before the next run"
    ]


def permission_problems(folders: list[Path], files: list[Path]) -> list[str]:
    """Folders and files others may read (uwvcli tightens its own when it uses them; these were
    made otherwise, or are not uwvcli's to change)."""
    found = []
    for path in [*folders, *files]:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue
        if mode & 0o077:
            wanted = "0700" if path.is_dir() else "0600"
            found.append(f"{path} has mode {mode:04o}: others may read personal data; make it {wanted}")
    return found

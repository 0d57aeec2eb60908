"""What uwvcli never repeats from outside text: runs of 8 or more digits (a BSN, a date written
YYYYMMDD) and dates (`YYYY-MM-DD`, `DD-MM-YYYY`, with `-`, `/` or `.`). UWV's findings, Digipoort's
fault texts and messages about input rows go through here (digipoort/findings.py, inputs/exports.py)."""

from __future__ import annotations

import re

REDACTED = "[…]"

#: A maximal run of digit groups joined by date separators: `12`, `84.50`, `1990-02-03`. A run is
#: redacted as a whole, so that no fragment of a date or a number survives next to the marker.
_NUMBER_RUN = re.compile(r"\d+(?:[-/.]\d+)*")
_PERSONAL = re.compile(r"\d{8,}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def looks_personal(text: str) -> bool:
    """True when `text` holds what `redact` hides."""
    return _PERSONAL.search(text) is not None


def redact(text: str) -> str:
    """`text` with every personal-looking run of digits replaced by `REDACTED`."""
    return _NUMBER_RUN.sub(_redact, text)


def _redact(run: re.Match[str]) -> str:
    return REDACTED if _PERSONAL.search(run.group()) else run.group()


#: Digipoort's foutbeschrijving and statusomschrijving are kept and shown at most this long.
FAULT_CHARS = 500


def fault_text(text: str | None) -> str | None:
    """Digipoort's own words (a foutbeschrijving, a statusomschrijving) as uwvcli stores and shows
    them: as sent, except that personal-looking numbers and dates are redacted like UWV's findings
    (a kenmerk, a UUID, stays), control characters other than line breaks and tabs are masked and
    the text is cut at `FAULT_CHARS` characters. Digipoort may quote a BSN from the message in
    them, and a megabyte of text is no explanation."""
    if text is None:
        return None
    cut = text[: FAULT_CHARS * 2]  # bounds the work; redacted before the final cut, so no fragment stays
    cut = "".join(c if c.isprintable() or c in "\n\r\t" else " " for c in cut)
    parts = _UUID.split(cut)
    kept = _UUID.findall(cut)
    line = "".join(redact(part) + (kept[i] if i < len(kept) else "") for i, part in enumerate(parts))
    return line if len(line) <= FAULT_CHARS else line[: FAULT_CHARS - 1].rstrip() + "…"


#: Digipoort's kenmerken are UUIDs: 8-4-4-4-12 hexadecimal digits, never a BSN or a date.
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")

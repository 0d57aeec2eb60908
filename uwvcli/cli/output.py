"""JSON on stdout, laid out the way CONTRACT §4 shows it."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TextIO

# Without `indent` the json module encodes in C; an indented dump runs in Python, which on the
# thousands of notifications of a big export was a fifth of a second of `due`.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def write_json(document: Mapping[str, object] | list, out: TextIO | None = None) -> None:
    """One JSON document and a newline: a key per line, and each object in a list on a line of
    its own, compact (as CONTRACT §4 shows a notification). Easy to read and to grep, and
    `json.loads` gives exactly `document` back."""
    if isinstance(document, list):
        text = _lines(document, "")
    else:
        members = (f"  {_encode(key)}: {_value(value)}" for key, value in document.items())
        text = "{\n" + ",\n".join(members) + "\n}" if document else "{}"
    (out or sys.stdout).write(text + "\n")


def _value(value: object) -> str:
    return _lines(value, "  ") if isinstance(value, list) else _encode(value)


def _lines(items: list, indent: str) -> str:
    if not any(isinstance(item, dict | list) for item in items):
        return _encode(items)  # [], or a few codes or names: one line
    inner = f",\n{indent}  ".join(map(_encode, items))
    return f"[\n{indent}  {inner}\n{indent}]"

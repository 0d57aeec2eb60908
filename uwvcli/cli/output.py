"""JSON on stdout, laid out the way CONTRACT §4 shows it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import TextIO

# Without `indent` the json module encodes in C; an indented dump runs in Python, which on the
# thousands of notifications of a big export was a fifth of a second of `due`.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def write_json(document: Mapping[str, object] | list, out: TextIO | None = None) -> None:
    """One JSON document and a newline: a key per line, and each object in a list on a line of
    its own, compact (as CONTRACT §4 shows a notification). Easy to read and to grep, and
    `json.loads` gives exactly `document` back.

    A member's value may also be an iterator of objects (`Streamed`): it is written as a list,
    one object at a time, so that the hundreds of thousands of notifications of a big export
    are never all held as dictionaries and text at once."""
    stream = out or sys.stdout
    if isinstance(document, list):
        stream.write(_lines(document, "") + "\n")
        return
    if not document:
        stream.write("{}\n")
        return
    separator = "{\n"
    for key, value in document.items():
        stream.write(f"{separator}  {_encode(key)}: ")
        if isinstance(value, Streamed):
            _write_streamed(stream, value)
        else:
            stream.write(_value(value))
        separator = ",\n"
    stream.write("\n}\n")


class Streamed:
    """A list of objects for `write_json` produced while it is written."""

    def __init__(self, items: Iterable[object]):
        self.items = items


def _write_streamed(stream: TextIO, value: Streamed) -> None:
    """As `_value` lays out a list of objects (`[]` when there is none), item by item."""
    separator = "[\n    "
    for item in value.items:
        stream.write(separator + _encode(item))
        separator = ",\n    "
    stream.write("[]" if separator == "[\n    " else "\n  ]")


def _value(value: object) -> str:
    return _lines(value, "  ") if isinstance(value, list) else _encode(value)


def _lines(items: list, indent: str) -> str:
    if not any(isinstance(item, dict | list) for item in items):
        return _encode(items)  # [], or a few codes or names: one line
    inner = f",\n{indent}  ".join(map(_encode, items))
    return f"[\n{indent}  {inner}\n{indent}]"

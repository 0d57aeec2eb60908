"""The items of a big JSON list, one at a time, read with the standard library's own decoder.

`json.load` builds the whole document first: a JSON export of a million dossiers would be a
million dicts in memory at once. `items` walks the list instead and decodes one item at a time
with the json module's C scanner (`raw_decode`), through a window of text that is refilled as
it is used up; whatever else the document holds is decoded whole and let go. The documents it
accepts, the values it gives and its errors (message, line and column) are those of `json.load`:
tests/test_jsonstream.py holds it to that on arbitrary text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TextIO

_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module skips it
_WINDOW = 1 << 20  # characters kept ahead: far more than one dossier needs
# Whether a number ends where it seems to can take the three characters after it ("1" of
# "1e+5", "0" of "0.5"): a value this close to the end of the text read is decided on more.
_NUMBER_LOOKAHEAD = 3
_decoder = json.JSONDecoder()


class NotAList(ValueError):
    """Valid JSON, but neither a list nor an object with the list under the expected name."""


def items(handle: TextIO, member: str, *, window: int = _WINDOW) -> Iterator[object]:
    """The items of the document when it is a list, or of its `member` when it is an object
    with that list. Raises `json.JSONDecodeError` (line and column in the whole document) where
    `json.load` would, and `NotAList`, after the whole document, when it is valid JSON of
    another shape. Items already given stay given: a caller that must not use part of a broken
    document keeps them aside until the end. `window`: characters kept ahead (tests make it
    small, so that values cross refills)."""
    text = _Window(handle, window)
    opening = text.peek()
    shape_problem: str | None = None
    if opening == "[":
        yield from _list(text)
    elif opening == "{":
        named = lists = 0
        for name in _members(text):
            if name == member:
                named += 1
                if text.peek() == "[":
                    lists += 1
                    yield from _list(text)
                    continue
            text.value()
        if named != 1 or lists != 1:
            shape_problem = (
                f"has no {member!r}"
                if not named
                else f"has {member!r} {named} times"
                if named > 1
                else f"its {member!r} is not a list"
            )
    else:
        text.value()
        shape_problem = "is a single value"
    if text.peek():
        raise text.error("Extra data", text.pos)
    if shape_problem:
        raise NotAList(shape_problem)


def _list(text: _Window) -> Iterator[object]:
    text.pos += 1  # [
    if text.peek() == "]":
        text.pos += 1
        return
    while True:
        yield text.value()
        following = text.peek()
        text.pos += 1
        if following == "]":
            return
        if following != ",":
            raise text.error("Expecting ',' delimiter", text.pos - 1)


def _members(text: _Window) -> Iterator[str]:
    """The names of an object's members; the caller reads each value after its name."""
    text.pos += 1  # {
    following = text.peek()
    if following == "}":
        text.pos += 1
        return
    while True:
        if following != '"':
            raise text.error("Expecting property name enclosed in double quotes", text.pos)
        name = text.value()
        if text.peek() != ":":
            raise text.error("Expecting ':' delimiter", text.pos)
        text.pos += 1
        yield str(name)
        following = text.peek()
        text.pos += 1
        if following == "}":
            return
        if following != ",":
            raise text.error("Expecting ',' delimiter", text.pos - 1)
        following = text.peek()


class _Window:
    """The part of a text stream not read yet: `text[pos:]`, at least `size` characters of it
    while the stream lasts. Remembers the lines and columns of the text let go, so that an error
    names its place in the whole document."""

    def __init__(self, handle: TextIO, size: int):
        self.handle = handle
        self.size = size
        self.text = ""
        self.pos = 0
        self.ended = False
        self.chars_before = 0  # characters let go
        self.lines_before = 0  # line breaks in them
        self.column_before = 0  # characters let go since the last of those line breaks

    def peek(self) -> str:
        """The next character after whitespace ("" at the end of the document)."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text) or self.ended:
                return self.text[self.pos : self.pos + 1]
            self._fill()

    def value(self) -> object:
        """Decode the JSON value at `pos` (after whitespace) and move past it."""
        self.peek()
        if len(self.text) - self.pos < self.size:
            self._fill()
        try:
            value, end = _decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as error:
            if self.ended:
                raise self.error(error.msg, error.pos) from None
            # A value longer than the window, or the error is real: decide on the whole rest.
            self._fill(everything=True)
            return self.value()
        if end > len(self.text) - _NUMBER_LOOKAHEAD and not self.ended:  # a number may go on
            self._fill(everything=True)
            return self.value()
        self.pos = end
        return value

    def error(self, message: str, pos: int) -> json.JSONDecodeError:
        """`message` at `pos` of the window, placed in the whole document: the error `json.load`
        raises there (its `doc` is the window, the only part of the document kept)."""
        placed = json.JSONDecodeError(message, self.text, pos)
        if placed.lineno == 1:
            placed.colno += self.column_before
        placed.lineno += self.lines_before
        placed.pos += self.chars_before
        placed.args = (f"{message}: line {placed.lineno} column {placed.colno} (char {placed.pos})",)
        return placed

    def _fill(self, *, everything: bool = False) -> None:
        """Let go of the text read, then read on: a window's worth, or to the end."""
        done = self.text[: self.pos]
        self.chars_before += len(done)
        breaks = done.count("\n")
        if breaks:
            self.lines_before += breaks
            self.column_before = len(done) - done.rfind("\n") - 1
        else:
            self.column_before += len(done)
        self.text, self.pos = self.text[self.pos :], 0
        while not self.ended and (everything or len(self.text) < 2 * self.size):
            more = self.handle.read(self.size)
            self.ended = not more
            self.text += more

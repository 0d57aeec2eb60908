"""The items of a JSON export, streamed one object at a time by ijson's C parser (yajl2_c).

A JSON export of a million dossiers must not become a million dicts at once, so the items of
the list (or of the object's `"dossiers"` list) are built one by one. yajl2_c is fast, but
mishandles some hostile input, which the bytes it reads are guarded against first:

- nesting costs it memory quadratic in the depth (100,000 `[` exhaust any machine): a list or
  object deeper than `MAX_DEPTH` levels is not given to it;
- a lone UTF-16 surrogate escape (`"\\ud800"`) silently becomes "?": not given to it;
- an integer beyond 4,300 digits crashes the interpreter unless numbers are read as floats
  (`use_float`, which also gives what the json module gave: 84.5 stays the float 84.5); an
  integer beyond 64 bits or a float out of range it refuses: not given to it either;
- an object's repeated key silently keeps the last value: objects are built as `Members`,
  which keeps the first and notes the repetition under the key `REPEATED` instead.

Such a hostile value is one item's problem, not the file's (issue 15): the guard gives the parser
a marked string in its place and notes why and where; `items` gives the item holding the mark as
a `Refused`, and the other items go on. Only a document that is not JSON is refused whole.

The guard follows the document's strings and brackets with a few C-level operations per chunk
(split at quotes, translate, accumulate); only a chunk that holds something hostile is walked
token by token. It also counts lines, so that an error names one.
"""

from __future__ import annotations

import math
import re
import secrets
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import BinaryIO

import ijson

#: Dossiers nest three levels ({"dossiers": [{...}]}); anything much deeper is not an export.
MAX_DEPTH = 64
#: The key under which `Members` lists the keys an object repeats (not a string: no JSON key).
REPEATED = ("repeated",)

_CHUNK = 1 << 16
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
_SURROGATE_PAIR = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_ESCAPE_TAIL = 12  # the longest escape (a surrogate pair) a chunk boundary may cut
#: A number longer than this is no export's (and is held back whole when a chunk's end cuts it).
MAX_NUMBER = 400
_NUMBER_BYTES = b"-+0123456789.eE"
_BEFORE_NUMBER = b"[,: \t\r\n"
#: Outside strings, a number that may be out of yajl's range shows as 19 digits or an exponent
#: of three (signs count as digits here: a false alarm only costs the slower walk).
_NUMBER_CLASS = bytes(
    ord("0") if byte in b"-+0123456789" else ord("e") if byte in b"eE" else ord(" ") for byte in range(256)
)
_EXPONENT = re.compile(rb"[eE][-+]?[0-9]{3}")
_NOT_NUMBER = re.compile(rb"[^-+0-9.eE]")
_STRING_STOP = re.compile(rb'["\\]')
_TOKEN = re.compile(rb'["\[\]{}]|[-0-9][-+0-9.eE]*')
_DO = "correct it in the HR system and export again"
_LONE_SURROGATE = (
    f"holds a lone UTF-16 surrogate escape (\\uD800–\\uDFFF): such a string is not Unicode text; {_DO}"
)
_BAD_NUMBER = f"holds a number out of range (an integer beyond 64 bits, a float beyond 1e308): {_DO}"
_TOO_DEEP = f"nests lists or objects deeper than {MAX_DEPTH} levels: a dossier is a flat object; {_DO}"


@dataclass(frozen=True)
class Refused:
    """An item that holds something hostile, in place of the item: what (`reason`, which says
    what to do) and the line where it was found. Never the value."""

    reason: str
    line: int


class JsonExportError(ValueError):
    """The document cannot be used as an export; `str()` says why and where (never quoting it)."""


class NotAList(JsonExportError):
    """Valid JSON, but neither a list nor an object with the list under the expected name."""


class Members(dict):
    """A JSON object as ijson builds it: a repeated key keeps its first value and is listed
    under `REPEATED`, so the caller can refuse the item instead of silently using one value."""

    __slots__ = ()

    def __setitem__(self, key: object, value: object) -> None:
        if key in self:
            self.setdefault(REPEATED, []).append(key)
        else:
            dict.__setitem__(self, key, value)


def items(handle: BinaryIO, member: str) -> Iterator[object]:
    """The items of the document when it is a list, or of its `member` when it is an object
    with exactly one such member, a list; an item that holds a hostile value is a `Refused`.
    Raises `JsonExportError` (`NotAList` for valid JSON of another shape, found after the
    items); items already given stay given: the caller that gets an error drops the whole file.
    `handle` is a binary file (read twice for an object)."""
    guard = _Guard(handle)
    opening = guard.opening()
    if opening not in (b"[", b"{"):
        deque(_parse(ijson.items(guard, "", use_float=True, map_type=Members), guard), maxlen=0)
        raise NotAList("is a single value")
    prefix = f"{member}.item" if opening == b"{" else "item"
    mark = "\x00" + guard.nonce.decode() + ":"
    for item in _parse(ijson.items(guard, prefix, use_float=True, map_type=Members), guard, counted=True):
        found = _marked(item, mark) if guard.marked else None
        yield item if found is None else Refused(*guard.marked[found])
    if opening == b"{":
        handle.seek(guard.bom)
        _check_shape(_Guard(handle), member)


def _marked(value: object, mark: str) -> int | None:
    """The record number of the first mark in `value` (its keys and strings, at any depth)."""
    if isinstance(value, str):
        return int(value.split(mark, 1)[1].split(";", 1)[0]) if mark in value else None
    if isinstance(value, dict | list):
        for part in (*value.keys(), *value.values()) if isinstance(value, dict) else value:
            found = _marked(part, mark)
            if found is not None:
                return found
    return None


def _check_shape(guard: _Guard, member: str) -> None:
    """An object: exactly one `member`, a list. ijson streams the items of every list whose
    path reads `member.item`, so the object's members are read once more on their own (each
    dossier built as one shared, discarded object: nothing of size is kept)."""
    guard.opening()
    discard: dict = {}
    members = _parse(ijson.kvitems(guard, "", use_float=True, map_type=lambda: discard), guard)
    values = [value for key, value in members if key == member]
    if not values:
        raise NotAList(f"has no {member!r}")
    if len(values) > 1:
        raise NotAList(f"has {member!r} {len(values)} times")
    if not isinstance(values[0], list):
        raise NotAList(f"its {member!r} is not a list")


def _parse(events: Iterator, guard: _Guard, *, counted: bool = False) -> Iterator:
    """`events` with ijson's errors turned into `JsonExportError` that names the place (and,
    for `counted` items, the index of the item being read)."""
    index = 0
    try:
        for value in events:
            yield value
            index += 1
    except ijson.JSONError as error:
        lines = str(error).splitlines() or ["it ends too early"]
        if lines[0].startswith(("b'", 'b"')):  # yajl's message around undecodable bytes: no place
            lines = ["it is not UTF-8 text"]
        else:
            guard.locate(lines[1] if len(lines) > 1 else "")
        raise JsonExportError(f"not valid JSON ({_where(guard, index, counted)}: {lines[0]})") from None
    except UnicodeDecodeError:
        raise JsonExportError(f"not UTF-8 text ({_where(guard, index, counted)})") from None


def _where(guard: _Guard, index: int, counted: bool) -> str:
    return f"item {index}, {guard.place()}" if counted else guard.place()


class _Guard:
    """The export's bytes as the parser reads them, checked on the way (see the module's doc)."""

    def __init__(self, handle: BinaryIO):
        self.handle = handle
        self.bom = 0
        self.head = b""  # read by `opening`, not yet given to the parser
        self.pending = b""  # held back: a chunk's end that may cut an escape or a number
        self.inside = False  # the scanned text ends inside a string
        self.depth = 0
        self.line = 1  # the line where the scanned text ends
        self.last_line = 1  # the line where the chunk given last begins
        self.last_chunk = b""
        self.found: tuple[int, int | None] | None = None  # (line, column) of a parse error
        self.skipping: int | None = None  # inside a too deep list or object: the depth it began at
        self.in_number = False  # inside a hostile number the last chunk cut
        self.nonce = secrets.token_hex(8).encode()  # no document can predict the mark
        self.marked: list[tuple[str, int]] = []  # per mark given: (reason, line)
        self.counted = (0, 1)  # in the text `_replace` walks: (offset, its line)

    def opening(self) -> bytes:
        """The document's first character that is not whitespace (b"" when there is none)."""
        self.head = self.handle.read(_CHUNK)
        if self.head.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark, as Windows writes
            self.head, self.bom = self.head[3:], 3
        stripped = self.head.lstrip(b" \t\r\n")
        while not stripped and self.head:
            more = self.handle.read(_CHUNK)
            if not more:
                break
            self.head += more
            stripped = self.head.lstrip(b" \t\r\n")
        return stripped[:1]

    def place(self) -> str:
        if self.found is not None:
            line, column = self.found
            return f"line {line}" if column is None else f"line {line}, column {column}"
        first, last = self.last_line, self.line
        return f"line {first}" if first == last else f"lines {first}–{last}"

    def locate(self, context: str) -> None:
        """Find the place of a parse error in the chunk given last, from yajl's message: its
        second line shows the text around the error (line breaks as spaces), padded so that the
        error stands in column 40; the text starts at the error when it is the chunk's first 30
        bytes, else 30 bytes before it. Found only where that text occurs once in the chunk."""
        chunk = self.last_chunk
        text = context.lstrip(" ").encode("utf-8", "surrogateescape")
        padding = len(context) - len(context.lstrip(" "))
        offset: int | None
        flat = chunk.replace(b"\n", b" ").replace(b"\r", b" ")
        if not context.strip():
            offset = len(chunk)  # the end: yajl shows nothing there
        elif padding > 10 and flat.startswith(text):
            offset = 40 - padding - 1  # yajl points just past the character it could not use
        else:
            at = flat.find(text)
            offset = at + 30 - 1 if padding == 10 and at != -1 and flat.find(text, at + 1) == -1 else None
        if offset is None or offset > len(chunk):
            return
        line_start = chunk.rfind(b"\n", 0, offset) + 1
        same_line = line_start > 0 or self.last_line == 1  # else the line began in an earlier chunk
        column = 1 + len(chunk[line_start:offset].decode("utf-8", "replace")) if same_line else None
        self.found = (self.last_line + chunk.count(b"\n", 0, offset), column)

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for nothing to learn whether the file gives bytes or text
            return b""
        while True:
            data, self.head = (self.head, b"") if self.head else (self.handle.read(_CHUNK), b"")
            first = self.line
            given = self._scan(data, final=not data)
            if given or not data:  # b"" only at the end: ijson takes it for the end
                break
        if given:  # at the end, the chunk before is where the document ended too early
            self.last_line, self.last_chunk = first, given
        return given

    def _scan(self, data: bytes, *, final: bool) -> bytes:
        """The bytes to give the parser: `data` after what was held back, up to a possible cut
        escape or number at its end; through `_replace` where it holds something hostile."""
        text = self.pending + data
        self.pending = b""
        if not final:
            cut = text.find(b"\\", max(0, len(text) - _ESCAPE_TAIL))
            if cut != -1:
                if cut >= 6 and _HIGH_SURROGATE.fullmatch(text, cut - 6, cut):
                    cut -= 6  # never part a surrogate pair
                while cut and text[cut - 1] == 0x5C:  # the whole run of backslashes goes on
                    cut -= 1
            else:
                cut = len(text)
            start = len(text[:cut].rstrip(_NUMBER_BYTES))
            # a number the chunk's end may cut (a longer one is hostile); not an escape's digits
            if cut - start <= MAX_NUMBER and (start == 0 or text[start - 1] in _BEFORE_NUMBER):
                cut = start
            text, self.pending = text[:cut], text[cut:]
        scanned = text.replace(b"\\\\", b"__").replace(b'\\"', b"__") if b"\\" in text else text
        parts = scanned.split(b'"')
        outside = b"".join(parts[1 if self.inside else 0 :: 2])
        brackets = outside.translate(None, _NOT_BRACKETS)
        levels = list(accumulate(map(_STEP.__getitem__, brackets), initial=self.depth))
        if (
            self.skipping is not None
            or self.in_number
            or max(levels) > MAX_DEPTH
            or _suspect_number(outside.translate(_NUMBER_CLASS))
            or (_SURROGATE.search(scanned) and _SURROGATE.search(_SURROGATE_PAIR.sub(b"", scanned)))
        ):
            text = self._replace(text, final=final)
        else:
            if len(parts) % 2 == 0:
                self.inside = not self.inside
            self.depth = levels[-1]
            self.line += text.count(b"\n")
        if final and self.inside:  # yajl lets an unclosed string after the document pass
            raise JsonExportError(f"not valid JSON ({self.place()}: a string is not closed)")
        return text

    def _replace(self, text: bytes, *, final: bool) -> bytes:
        """`text` with each hostile value (a lone surrogate escape, a number yajl cannot take,
        a list or object nested deeper than `MAX_DEPTH`) replaced by a marked string, which
        `items` recognises in the item that holds it. Token by token in Python: only for chunks
        that hold something hostile, so an ordinary export keeps the fast path."""
        given = bytearray()
        at, end = 0, len(text)
        self.counted = (0, self.line)
        while at < end:
            if self.in_number:  # the rest of a hostile number: dropped
                stop = _NOT_NUMBER.search(text, at)
                at = end if stop is None else stop.start()
                self.in_number = stop is None
                continue
            if self.inside:
                stop = _STRING_STOP.search(text, at)
                upto = end if stop is None else stop.start()
                if self.skipping is None:
                    given += text[at:upto]
                if stop is None:
                    break
                if text[upto] == 0x22:  # the closing quote
                    self.inside, size = False, 1
                elif _SURROGATE_PAIR.match(text, upto):
                    size = 12
                elif _SURROGATE.match(text, upto):  # the string goes on: the mark without quotes
                    if self.skipping is None:
                        given += self._mark(_LONE_SURROGATE, text, upto)
                    at = upto + 6
                    continue
                else:
                    size = 6 if text[upto + 1 : upto + 2] == b"u" else 2
                if self.skipping is None:
                    given += text[upto : upto + size]
                at = upto + size
                continue
            stop = _TOKEN.search(text, at)
            upto = end if stop is None else stop.start()
            if self.skipping is None:
                given += text[at:upto]
            if stop is None:
                break
            token = stop.group()
            at = stop.end()
            if token == b'"':
                self.inside = True
            elif token in (b"[", b"{"):
                self.depth += 1
                if self.depth > MAX_DEPTH and self.skipping is None:
                    self.skipping = self.depth - 1
                    given += b'"' + self._mark(_TOO_DEEP, text, upto) + b'"'
                    continue
            elif token in (b"]", b"}"):
                self.depth -= 1
                if self.skipping is not None and self.depth == self.skipping:
                    self.skipping = None
                    continue
            elif self.skipping is None and _hostile_number(token):
                given += b'"' + self._mark(_BAD_NUMBER, text, upto) + b'"'
                self.in_number = at == end and not final
                continue
            if self.skipping is None:
                given += token
        self.line += text.count(b"\n")
        return bytes(given)

    def _mark(self, reason: str, text: bytes, at: int) -> bytes:
        """What stands for a hostile value inside a JSON string: the guard's mark and the number
        of the record (reason, line) that `items` reports for the item holding it."""
        since, line = self.counted
        self.counted = (at, line + text.count(b"\n", since, at))  # each byte counted once
        record = (reason, self.counted[1])
        if not self.marked or self.marked[-1] != record:  # one record per reason and line: bounded
            self.marked.append(record)
        return b"\\u0000" + self.nonce + b":" + str(len(self.marked) - 1).encode() + b";"


def _suspect_number(classes: bytes) -> bool:
    return b"0" * 19 in classes or b"e000" in classes


def _hostile_number(token: bytes) -> bool:
    """A number yajl refuses (an integer beyond 64 bits, a float beyond its range), or one
    longer than any export holds: the interpreter would crash on some, yajl refuse the file."""
    if len(token) > MAX_NUMBER:
        return True
    if len(token) < 19 and not _EXPONENT.search(token):
        return False
    try:
        if token.translate(None, b"-+0123456789") == b"":
            return abs(int(token)) >= 2**63
        return math.isinf(float(token))
    except ValueError:  # not a number at all: the parser says so
        return False

"""JSON exports are streamed (`uwvcli.inputs.jsonstream`): the same items, and the same errors with the
same line and column, as `json.load` gives on the whole document, on any text, whatever the size
of the window through which the text is read."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uwvcli.inputs import jsonstream
from uwvcli.inputs.jsonstream import NotAList, items

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
DOSSIER = st.dictionaries(st.sampled_from(["dossier_id", "bsn", "first_sick_day", "x"]), VALUES, max_size=4)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """An export as a list or as an object holding it among other members, written compactly,
    indented, or with odd whitespace; now and then of another shape."""
    dossiers = draw(st.lists(DOSSIER | VALUES, max_size=6))
    shape = draw(st.sampled_from(["list", "object", "object", "no member", "twice", "not a list", "scalar"]))
    if shape == "list":
        document: object = dossiers
    elif shape == "scalar":
        document = draw(SCALARS)
    else:
        others = draw(st.dictionaries(st.sampled_from(["meta", "version", "dossier"]), VALUES, max_size=2))
        members = list(others.items())
        if shape in ("object", "twice"):
            members.insert(draw(st.integers(0, len(members))), ("dossiers", dossiers))
        if shape == "twice":
            members.append(("dossiers", draw(st.lists(DOSSIER, max_size=2))))
        if shape == "not a list":
            members.append(("dossiers", draw(SCALARS | DOSSIER)))
        return _object(members, draw(st.sampled_from([None, 0, 2, "\t"])))
    return json.dumps(
        document, indent=draw(st.sampled_from([None, 0, 2, "\t"])), ensure_ascii=draw(st.booleans())
    )


def _object(members: list[tuple[str, object]], indent: int | str | None) -> str:
    """An object with these members in this order, duplicates included (a dict cannot hold them)."""
    inner = ",\n".join(f"{json.dumps(name)}: {json.dumps(value, indent=indent)}" for name, value in members)
    return "{" + inner + "}"


def reference(text: str) -> list:
    """What the loader did before streaming: `json.loads`, then the list or its "dossiers"."""
    names: list[list[str]] = []

    def remember(pairs: list[tuple[str, object]]) -> dict:
        names.append([name for name, _ in pairs])
        return dict(pairs)

    document = json.loads(text, object_pairs_hook=remember)
    if isinstance(document, list):
        return document
    outer = names[-1] if names else []  # the outer object is the last one finished
    if isinstance(document, dict) and outer.count("dossiers") == 1 and isinstance(document["dossiers"], list):
        return document["dossiers"]
    raise NotAList(text)


def streamer(window: int):
    return lambda text: list(items(io.StringIO(text), "dossiers", window=window))


def outcome(read, text: str) -> tuple:
    try:
        return ("items", read(text))
    except json.JSONDecodeError as error:
        return ("error", error.msg, error.lineno, error.colno)
    except NotAList:
        return ("not a list",)


# Small windows make every value cross a refill; the real one holds whole documents.
WINDOWS = pytest.mark.parametrize("window", [1, 3, 17, jsonstream._WINDOW], ids=lambda n: f"window {n}")


@WINDOWS
@settings(max_examples=150, deadline=None)
@given(text=documents())
def test_valid_documents_give_what_json_load_gives(window, text) -> None:
    assert outcome(streamer(window), text) == outcome(reference, text)


@WINDOWS
@settings(max_examples=300, deadline=None)
@given(
    text=documents(),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1), st.sampled_from(["delete", "insert"]), st.sampled_from(list('[]{},:" 1e.-tn\n'))
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_broken_documents_fail_where_json_load_fails(window, text, edits) -> None:
    """Characters deleted or inserted anywhere: the same error at the same line and column (or,
    when the text is still JSON, the same items)."""
    for where, how, char in edits:
        at = int(where * len(text))
        text = text[:at] + text[at + 1 :] if how == "delete" else text[:at] + char + text[at:]
    assert outcome(streamer(window), text) == outcome(reference, text)


@WINDOWS
def test_an_error_far_into_a_big_export_names_its_line_and_column(window) -> None:
    text = "[\n" + ",\n".join(json.dumps({"dossier_id": f"Z-{n}"}) for n in range(3000)) + ",\n  {oops}\n]"
    expected = outcome(reference, text)
    assert expected == ("error", "Expecting property name enclosed in double quotes", 3002, 4)
    assert outcome(streamer(window), text) == expected


class CountingReader(io.StringIO):
    def __init__(self, text: str):
        super().__init__(text)
        self.given = 0

    def read(self, size: int | None = -1) -> str:
        chunk = super().read(size)
        self.given += len(chunk)
        return chunk


def test_the_export_is_read_as_the_items_are_used_not_all_at_once() -> None:
    """The point of streaming: the first dossiers are there before most of the file was read,
    and what was used is let go (the window stays near its size)."""
    text = json.dumps({"dossiers": [{"dossier_id": f"Z-{n}", "pad": "x" * 100} for n in range(60_000)]})
    handle = CountingReader(text)
    stream = items(handle, "dossiers", window=10_000)
    assert next(stream) == {"dossier_id": "Z-0", "pad": "x" * 100}
    assert handle.given < len(text) / 2
    count = 1 + sum(1 for _ in stream)
    assert count == 60_000 and handle.given == len(text)

"""JSON exports are streamed by ijson's C parser (`uwvcli.inputs.jsonitems`): the items `json.load`
gives, on any document; an error (naming item and line) where it fails; and hostile documents
(issue 15) are input errors of their file or item, never a traceback, a crash or a silent change."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.helpers import write_setup
from tests.test_exports import load
from uwvcli.cli import app
from uwvcli.errors import EXIT_UNUSABLE, InputFileError
from uwvcli.inputs.jsonitems import MAX_DEPTH, REPEATED, JsonExportError, NotAList, items

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63) + 1, 2**63 - 1)  # yajl refuses -2**63 itself
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
        indent = draw(st.sampled_from([None, 0, 2, "\t"]))
        inner = ",\n".join(
            f"{json.dumps(name)}: {json.dumps(value, indent=indent)}" for name, value in members
        )
        return "{" + inner + "}"  # members in this order, duplicates included (a dict holds none)
    return json.dumps(
        document, indent=draw(st.sampled_from([None, 0, 2, "\t"])), ensure_ascii=draw(st.booleans())
    )


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


def streamed(text: str) -> list:
    return list(items(io.BytesIO(text.encode("utf-8")), "dossiers"))


def outcome(read, text: str) -> tuple:
    try:
        return ("items", read(text))
    except NotAList:
        return ("not a list",)
    except JsonExportError as error:
        return ("lone surrogate",) if "surrogate" in str(error) else ("error",)
    except json.JSONDecodeError:
        return ("error",)


@settings(max_examples=300, deadline=None)
@given(text=documents())
def test_valid_documents_give_what_json_load_gives(text: str) -> None:
    assert outcome(streamed, text) == outcome(reference, text)


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
def test_broken_documents_fail_where_json_load_fails(text: str, edits) -> None:
    """Characters deleted or inserted anywhere: an error where `json.load` has one, else the same
    items. Except where the stream is stricter on purpose: an object with a repeated key (json
    keeps the last value) and a lone surrogate escape (json gives a str that is no text)."""
    for where, how, char in edits:
        at = int(where * len(text))
        text = text[:at] + text[at + 1 :] if how == "delete" else text[:at] + char + text[at:]
    expected = outcome(reference, text)
    got = outcome(streamed, text)
    if got[0] == "items" and any(isinstance(i, dict) and REPEATED in i for i in got[1]):
        return
    if got == ("lone surrogate",):  # json.load gives a str that is not Unicode text
        assert "\\ud" in text.lower()
        return
    assert got == expected


def test_an_error_far_into_a_big_export_names_its_item_line_and_column() -> None:
    text = "[\n" + ",\n".join(json.dumps({"dossier_id": f"Z-{n}"}) for n in range(30_000)) + ",\n  {oops}\n]"
    with pytest.raises(JsonExportError, match=r"item 30000, line 30002, column 4: lexical error"):
        streamed(text)


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.given = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.given += len(chunk)
        return chunk


def test_the_export_is_read_as_the_items_are_used_not_all_at_once() -> None:
    data = json.dumps([{"dossier_id": f"Z-{n}", "pad": "x" * 100} for n in range(60_000)]).encode()
    handle = CountingReader(data)
    stream = items(handle, "dossiers")
    assert next(stream) == {"dossier_id": "Z-0", "pad": "x" * 100}
    assert handle.given < len(data) / 2
    assert 1 + sum(1 for _ in stream) == 60_000 and handle.given == len(data)


def test_bytes_that_are_not_utf8_are_named_so() -> None:
    data = b'[{"dossier_id": "Z-1"},\n{"last_name": "\xff"}]'
    expected = r"^not valid JSON \(item 1, lines 1–2: it is not UTF-8 text\)$"
    with pytest.raises(JsonExportError, match=expected):
        list(items(io.BytesIO(data), "dossiers"))


def test_a_byte_order_mark_and_surrogate_pairs_are_fine() -> None:
    data = b"\xef\xbb\xbf" + json.dumps([{"last_name": "Smile \U0001f600"}]).encode()
    assert list(items(io.BytesIO(data), "dossiers")) == [{"last_name": "Smile \U0001f600"}]


# ---------------------------------------------------------------- hostile exports (issue 15)

ITEM = {
    "employer_id": "WG001",
    "org_unit_id": "OE1",
    "employee_id": "1",
    "dossier_id": "Z-1",
    "dossier_type": "ziekte",
    "first_sick_day": "2026-03-02",
}


def export(folder: Path, text: str) -> Path:
    path = folder / "d.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[" * 100_000, f"deeper than {MAX_DEPTH} levels near line 1", id="deep-nesting"),
        pytest.param(
            json.dumps([ITEM])[:-2] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}]",
            f"deeper than {MAX_DEPTH} levels",
            id="deep-nesting-in-an-item",
        ),
        pytest.param(
            json.dumps([ITEM])[:-2] + ', "employee_id": ' + "9" * 5000 + "}]",
            "(item 0, line 1",
            id="5000-digit-integer",
        ),
        pytest.param(
            json.dumps([ITEM, {**ITEM, "dossier_id": "Z-\\ud800"}]).replace("\\\\", "\\"),
            "lone UTF-16 surrogate escape",
            id="lone-surrogate",
        ),
    ],
)
def test_hostile_json_is_an_input_error_of_its_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputFileError) as raised:
        load(export(tmp_path, text), base=tmp_path)
    assert str(raised.value).startswith("d.json: ")
    assert message in str(raised.value)


def test_hostile_json_fails_check_and_due_with_one_clean_message(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text(json.dumps([ITEM])[:-2] + ', "bsn": ' + "1" * 5000 + "}]")
    config = write_setup(
        tmp_path,
        [],
        paths={"dossiers": ["d.json"], "outbox": "var/outbox", "state": "var/uwvcli.sqlite"},
    )
    for command in ("due", "check"):
        result = CliRunner().invoke(app, [command, "--config", str(config)])
        assert result.exit_code == EXIT_UNUSABLE, result.output
        assert "integer overflow" in result.output and "Traceback" not in result.output


def test_a_repeated_key_is_an_error_of_its_item_and_the_others_go_on(tmp_path: Path) -> None:
    """Before, the last value silently won: the recovery date of the first spelling vanished."""
    first = json.dumps(ITEM)[:-1] + ', "recovery_date": "2026-04-01", "recovery_date": null}'
    text = "[" + first + ", " + json.dumps({**ITEM, "dossier_id": "Z-2"}) + "]"
    dossiers, errors = load(export(tmp_path, text), base=tmp_path)
    assert [d.dossier_id for d in dossiers] == ["Z-2"]
    assert [(e.line, e.field) for e in errors] == [(0, "recovery_date")]
    assert "appears more than once" in errors[0].message


def test_dossiers_twice_is_refused_even_with_items_in_both(tmp_path: Path) -> None:
    text = '{"dossiers": [' + json.dumps(ITEM) + '], "dossiers": [' + json.dumps(ITEM) + "]}"
    with pytest.raises(InputFileError, match="'dossiers' 2 times"):
        load(export(tmp_path, text), base=tmp_path)
    nested = '{"dossiers": {"item": ' + json.dumps(ITEM) + "}}"  # the path ijson reads as dossiers.item
    with pytest.raises(InputFileError, match="'dossiers' is not a list"):
        load(export(tmp_path, nested), base=tmp_path)

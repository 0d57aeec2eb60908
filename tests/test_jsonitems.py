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
from tests.run_support import due_keys, received_by_key, run_day, setup_samples
from tests.test_exports import load
from uwvcli.cli import app
from uwvcli.errors import EXIT_UNUSABLE, InputFileError
from uwvcli.inputs.jsonitems import MAX_DEPTH, REPEATED, JsonExportError, NotAList, Refused, items

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
    except (JsonExportError, json.JSONDecodeError):
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
    keeps the last value), and an item with a lone surrogate escape (json gives a str that is no
    text) or a number out of yajl's range, which is `Refused` (the others are what json gives)."""
    for where, how, char in edits:
        at = int(where * len(text))
        text = text[:at] + text[at + 1 :] if how == "delete" else text[:at] + char + text[at:]
    expected = outcome(reference, text)
    got = outcome(streamed, text)
    if got[0] == "items" and any(isinstance(i, dict) and REPEATED in i for i in got[1]):
        return
    if got[0] == "items" and any(isinstance(i, Refused) for i in got[1]):
        assert expected[0] == "items" and len(expected[1]) == len(got[1])
        got = (
            "items",
            [e if isinstance(g, Refused) else g for g, e in zip(got[1], expected[1], strict=True)],
        )
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


#: Hostile values (as JSON text) that used to crash or refuse the whole file, and what names them.
HOSTILE = {
    "deep-nesting": ("[" * 100_000 + "]" * 100_000, f"deeper than {MAX_DEPTH} levels"),
    "5000-digit-integer": ("9" * 5000, "number out of range"),
    "integer-beyond-64-bits": (str(2**64), "number out of range"),
    "float-out-of-range": ("1e999", "number out of range"),
    "lone-surrogate": ('"Z-\\ud800"', "lone UTF-16 surrogate escape"),
    "lone-surrogate-as-key": ('{"\\udc00": 1}', "lone UTF-16 surrogate escape"),
}


def three_dossiers(hostile: str) -> str:
    """Three dossiers, one field per line; the middle one's `last_name` (line 19) is `hostile`."""
    dossiers = [
        {**ITEM, "org_unit_id": "OE2", "employee_id": f"{n}", "dossier_id": f"Z-{n}", "last_name": f"@{n}"}
        for n in range(3)
    ]
    return json.dumps({"dossiers": dossiers}, indent=1).replace('"@1"', hostile)


@pytest.mark.parametrize(("hostile", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_value_is_an_input_error_of_its_item_and_the_others_go_on(
    tmp_path: Path, hostile: str, message: str
) -> None:
    """Issue 15: before, the file was refused whole (and before that, uwvcli crashed)."""
    dossiers, errors = load(export(tmp_path, three_dossiers(hostile)), base=tmp_path)
    assert [d.dossier_id for d in dossiers] == ["Z-0", "Z-2"]
    assert [(e.source, e.line) for e in errors] == [("d.json", 1)]
    assert errors[0].message.startswith("line 19: ") and message in errors[0].message
    assert "export again" in errors[0].message
    assert hostile[:8].strip('"') not in errors[0].message.replace(f"{MAX_DEPTH} levels", "")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="deep-nesting-never-closed"),
        pytest.param(three_dossiers("9" * 5000)[:-40], id="truncated"),
        pytest.param(three_dossiers('"\\ud800" oops'), id="garbage-after-a-hostile-value"),
    ],
)
def test_a_document_that_is_not_json_stays_an_error_of_its_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputFileError, match=r"^d\.json: not valid JSON \("):
        load(export(tmp_path, text), base=tmp_path)


def test_due_and_check_evaluate_the_other_dossiers_of_a_file_with_a_hostile_item(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text(three_dossiers("1" * 5000), encoding="utf-8")
    config = write_setup(
        tmp_path,
        [],
        paths={"dossiers": ["d.json"], "outbox": "var/outbox", "state": "var/uwvcli.sqlite"},
    )
    due = ["due", "--config", str(config), "--date", "2026-03-10", "--horizon", "366", "--format", "json"]
    result = CliRunner().invoke(app, due)
    assert result.exit_code == 1, result.output
    shown = json.loads(result.stdout)
    assert {n["dossier_id"] for n in shown["notifications"]} == {"Z-0", "Z-2"}
    assert [(e["source"], e["line"]) for e in shown["input_errors"]] == [("d.json", 1)]
    assert "number out of range" in shown["input_errors"][0]["message"]
    checked = CliRunner().invoke(app, ["check", "--config", str(config), "--date", "2026-03-10"])
    assert checked.exit_code != EXIT_UNUSABLE and "Traceback" not in checked.output
    assert "d.json item 1: line 19" in checked.output and "1" * 20 not in checked.output


@st.composite
def documents_with_a_hostile_item(draw: st.DrawFn) -> tuple[str, int, list]:
    """A well-formed export (a list, or an object's "dossiers") with one hostile item inserted at
    a random place: (the text, the hostile item's index, the other items as json.loads reads them)."""
    dossiers = draw(st.lists(DOSSIER | VALUES, max_size=5))
    at = draw(st.integers(0, len(dossiers)))
    hostile = draw(st.sampled_from(list(HOSTILE.values())))[0]
    field = draw(st.sampled_from(["x", "\\u00e9", "dossier_id"]))
    item = draw(st.sampled_from([hostile, "{" + f'"{field}": {hostile}' + "}", "[1, " + hostile + "]"]))
    indent = draw(st.sampled_from([None, 0, 2]))
    parts = [json.dumps(d, indent=indent) for d in dossiers]
    parts.insert(at, item)
    listed = "[" + ",\n".join(parts) + "]"
    text = listed if draw(st.booleans()) else '{"meta": {"v": [1]},\n"dossiers": ' + listed + "}"
    return text, at, json.loads(json.dumps(dossiers))


@settings(max_examples=50, deadline=None)
@given(case=documents_with_a_hostile_item())
def test_exactly_the_hostile_item_is_refused_and_the_others_read_as_json_load_reads_them(case) -> None:
    text, at, others = case
    got = streamed(text)
    assert [n for n, item in enumerate(got) if isinstance(item, Refused)] == [at]
    assert got[:at] + got[at + 1 :] == others


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


def test_run_sends_the_other_employers_notifications_past_a_hostile_item(
    tmp_path: Path, test_pki: Path
) -> None:
    """Issue 15: before, `run` sent nothing for any employer when one export held a hostile value."""
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=None)
    sendable, _ = due_keys(config)
    assert sendable, "the samples send nothing on RUN_DATE: this test would prove nothing"
    export_path = config.parent / "exports" / "pregnancies.json"
    text = export_path.read_text(encoding="utf-8")
    first_item_end = text.index("\n    },\n") + len("\n    },\n")
    hostile = '    {"dossier_id": "P-999", "employee_id": ' + "7" * 5000 + ', "x": "\\ud800"},\n'
    export_path.write_text(text[:first_item_end] + hostile + text[first_item_end:], encoding="utf-8")

    done = run_day(config)

    assert done.returncode == 1, done.stderr
    assert "exports/pregnancies.json:1: line " in done.stderr and "7" * 20 not in done.stderr
    assert received_by_key(config, config.parent / "var" / "simulator") == dict.fromkeys(sendable, 1)

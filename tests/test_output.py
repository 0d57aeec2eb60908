"""The JSON every command prints: what `json.loads` reads back is the document, laid out as
CONTRACT §4 shows it (a notification per line, so that `grep` finds one whole)."""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st

from uwvcli.cli.output import Streamed, write_json

SCALARS = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
)


def written(document) -> str:
    out = io.StringIO()
    write_json(document, out)
    return out.getvalue()


@given(st.dictionaries(st.text(), VALUES, max_size=5) | st.lists(VALUES, max_size=5))
def test_what_is_written_reads_back_as_the_document(document) -> None:
    text = written(document)
    assert text.endswith("\n")
    assert json.loads(text) == document


def test_a_notification_per_line_and_no_escaped_dutch() -> None:
    notifications = [
        {"key": f"WG001/Z-{n}/zw-ziekmelding", "state": "due", "problems": ["BSN ontbreekt – één"]}
        for n in range(3)
    ]
    text = written({"date": "2026-12-01", "notifications": notifications, "input_errors": []})
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert lines[1] == '  "date": "2026-12-01",'
    assert [json.loads(line.strip().rstrip(",")) for line in lines[3:6]] == notifications
    assert lines[-2] == '  "input_errors": []'
    assert "één" in text


@given(
    st.lists(
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3), max_size=4
    ),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
def test_a_streamed_list_of_objects_is_written_byte_for_byte_as_the_list(items, others) -> None:
    """`due --format json` streams its notifications: the same bytes as the list written whole."""
    document = {"notifications": items, **{k: v for k, v in others.items() if k != "notifications"}}
    streamed = {k: Streamed(iter(v)) if k == "notifications" else v for k, v in document.items()}
    assert written(streamed) == written(document)

"""What programs read: JSON laid out the way CONTRACT §4 shows it, and CSV (plain, or for a
Dutch Excel: `;` and a BOM), on stdout or into a file given with `--output`."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, TextIO

import typer

ExcelOption = Annotated[
    bool,
    typer.Option(
        "--excel",
        help="CSV as a Dutch Excel opens it: ';' between fields and a UTF-8 BOM (implies --format csv).",
    ),
]
OutputFileOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the json or csv to this file (atomically, readable by the owner only) instead of stdout.",
        show_default=False,
    ),
]

#: A cell starting with one of these is a formula to a spreadsheet: an export value such as
#: `=HYPERLINK(...)` must stay text (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

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


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]], *, excel: bool) -> str:
    """The CSV text. `excel`: `;`-separated with CRLF line ends and a BOM (so that Excel with Dutch
    settings splits the columns and reads UTF-8), and no cell that Excel would run as a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_excel_safe(cell) for cell in row] if excel else row)
    return ("\ufeff" if excel else "") + buffer.getvalue()


def _excel_safe(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def json_document(document: Mapping[str, object] | list) -> str:
    buffer = io.StringIO()
    write_json(document, buffer)
    return buffer.getvalue()


def deliver(text: str, output: Path | None) -> None:
    """`text` on stdout (as UTF-8 bytes: a BOM must not depend on the locale), or into `output`,
    all or nothing and owner-only: no half-written export on a share, no personnel numbers for
    every user of the machine."""
    if output is not None:
        from uwvcli.state.outbox import write_atomic  # only for --output: `explain` starts without it

        write_atomic(output, text.encode("utf-8"))
        return
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    stream.write(text.encode("utf-8"))
    stream.flush()


def deliver_json(document: Mapping[str, object] | list, output: Path | None) -> None:
    """`write_json` of `document`, as `deliver` delivers text: into `output` all or nothing, or
    on stdout as UTF-8 while it is produced, so that the hundreds of thousands of notifications
    of a big export (`Streamed`) are never all held as text, nor as its bytes."""
    stream = getattr(sys.stdout, "buffer", None)
    if output is not None or stream is None:
        deliver(json_document(document), output)
        return
    sys.stdout.flush()
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")  # newline="": bytes as written
    try:
        write_json(document, text)
        text.flush()
    finally:
        text.detach()  # stdout's own buffer stays open for what comes after


def csv_or_json(output_format: str, excel: bool, output: Path | None) -> str:
    """The format `--format`, `--excel` and `--output` together mean: `--excel` is CSV; a file
    gets json or csv, never a table (exit 2 for what cannot be meant)."""
    if excel:
        if output_format == "json":
            raise typer.BadParameter(
                "--excel is a CSV layout: use it with --format csv", param_hint="--excel"
            )
        return "csv"
    if output is not None and output_format == "table":
        raise typer.BadParameter("a file gets --format csv or json, not the table", param_hint="--output")
    return output_format

"""Tables that fit the terminal: a code, a date or a kenmerk is never wrapped (it must stay
copyable), only free text wraps; and when the columns do not fit, the least needed ones are left
out (`--wide` shows them all, at their full width, and lets the terminal wrap the lines)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Free text gets at least this many cells before a column is left out for it; a longer word
#: counts up to `FREE_TEXT_WORD` cells (beyond that it is folded anyway).
FREE_TEXT_MIN = 24
FREE_TEXT_WORD = 40
#: Per column: a separator and a space on each side (rich's default box and padding), less the
#: one separator of a table without its outer border (`show_edge=False`).
_COLUMN_CHROME = 3
_EDGE = -1


@dataclass(frozen=True, slots=True)
class Column:
    """`drop`: the order in which the column is left out on a narrow terminal (1 first); None
    for a column that is always shown. `free_text` wraps (folding words longer than the column);
    every other column is kept on one line."""

    header: str
    drop: int | None = None
    free_text: bool = False


Cell = str | Text


def fitted_table(
    console: Console, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *, wide: bool
) -> tuple[Table, int | None, set[str]]:
    """The table with the columns that fit `console`'s width, the width to print it at (None:
    the console's) and the headers of the columns shown."""
    shown = list(range(len(columns)))
    needs = [_needed(columns[i], [row[i] for row in rows]) for i in shown]
    if not wide:
        droppable = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop is not None)
        while droppable and _width([needs[i] for i in shown]) > console.width:
            shown.remove(droppable.pop(0)[1])
    table = Table(title=title, title_justify="left", box=box.HEAVY_HEAD, show_edge=False)
    for i in shown:
        column = columns[i]
        if column.free_text:
            table.add_column(column.header, overflow="fold", min_width=min(FREE_TEXT_MIN, needs[i]))
        else:
            table.add_column(column.header, no_wrap=True, min_width=needs[i])
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    width = _width([needs[i] for i in shown])
    return table, (width if wide and width > console.width else None), {columns[i].header for i in shown}


def print_fitted(
    console: Console, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *, wide: bool
) -> set[str]:
    """Print `fitted_table`, with `--wide` wider than the terminal when the columns need it;
    returns the headers shown, so that the caller can list what a left-out column would have said."""
    table, width, shown = fitted_table(console, title, columns, rows, wide=wide)
    if width is None:
        console.print(table)
        return shown
    narrow = console.width
    console.width = width
    try:
        console.print(table)
    finally:
        console.width = narrow
    return shown


def print_left_out(console: Console, key: str, details: Sequence[str]) -> None:
    """What left-out columns would have said of one notification, under the table: its key, then
    each detail indented on a line of its own (a kenmerk starts its line: copyable)."""
    details = [detail for detail in details if detail]
    if details:
        console.print(key, markup=False)
        for detail in details:
            console.print(f"  {detail}", markup=False)


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _needed(column: Column, cells: Sequence[Cell]) -> int:
    """Cells the column needs: its longest line for a one-line column; for free text its longest
    word, at least `FREE_TEXT_MIN` (when the text is that long)."""
    texts = [_plain(cell) for cell in cells]
    header = cell_len(column.header)
    if not column.free_text:
        return max([header, *(cell_len(line) for text in texts for line in text.splitlines() or [""])])
    longest = max([cell_len(text) for text in texts] or [0])
    words = max([cell_len(word) for text in texts for word in text.split()] or [0])
    return max(header, min(longest, max(FREE_TEXT_MIN, min(words, FREE_TEXT_WORD))))


def _width(needs: Sequence[int]) -> int:
    return sum(needs) + _COLUMN_CHROME * len(needs) + _EDGE

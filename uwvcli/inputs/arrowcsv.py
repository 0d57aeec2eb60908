"""Plain CSV exports read by pyarrow's C++ reader: the cells of a million rows without a Python
object per cell.

The csv module (`exports._CsvChunks`) makes a string of every cell, ~27 million for a million
rows, before the loader even looks at them. Most columns of an export hold few distinct values
per thousand rows (dates, org units, types, empty optional fields), so here a column of a batch
comes as its distinct spellings once plus a NumPy number per row (`codes`); the loader converts
the spellings and checks the numbers. Only what pyarrow reads exactly as the csv module would is
taken ("plain"): no quote character, no NUL, no row that is blank or only separators, every row
as wide as the header, valid UTF-8, no field as long as the csv module's limit, no line longer
than a batch. Then row i of the batches is on line i + 2 of the file. Anything else
raises `NotPlain`, at whatever batch it is noticed, and the caller reads the file the ordinary
way: pyarrow's own errors never reach the user.
"""

from __future__ import annotations

import csv
import ctypes
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

#: How a column comes: `coded` as (distinct spellings, per row the index of its spelling);
#: `plain` as one string per row (columns that hardly repeat within a batch: ids, BSNs);
#: `lazy` as a sequence that makes a cell's string only when asked (columns not read at all).
Kind = Literal["coded", "plain", "lazy"]
Codes = npt.NDArray[np.integer]
_BLOCK = 1 << 20  # bytes per batch: ~8,000 rows of a typical export
_SCAN = 1 << 22  # bytes per block of the first look at the file
_SMALLEST = {(True, True): np.uint8, (False, True): np.uint16, (False, False): np.int32}


class NotPlain(Exception):
    """The file holds something this reader does not take exactly as the csv module does."""


def _plain_bytes(path: Path) -> bool:
    """Whether the file's bytes hold no quote (quoted fields: pyarrow would be told to read none)
    and no NUL (the csv module's error). Line ends need no look: pyarrow splits lines at CR, LF
    and CRLF, as the text file the csv module reads (newline="") does. Read in Python before
    pyarrow opens the file itself, so that pyarrow never calls back into Python from its threads
    (a Python file object there could hang the interpreter's exit)."""
    with path.open("rb") as handle:
        while block := handle.read(_SCAN):
            if b'"' in block or b"\0" in block:
                return False
    return True


class Lazy(Sequence[str]):
    """A column's cells as strings, made only when asked: a cell for the rare row that the loader
    reads the careful way, all of them (`tolist`) for a column nothing checks until a caller
    wants its values. Until then a cell costs its bytes and an offset, not a Python string."""

    __slots__ = ("array",)

    def __init__(self, array: Any):
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self.array))
            assert step == 1
            return Lazy(self.array.slice(start, max(stop - start, 0)))
        return self.array[int(index)].as_py()

    def take(self, rows: npt.NDArray[np.bool_] | npt.NDArray[np.integer]) -> Lazy:
        """The rows of a mask or of positions."""
        if rows.dtype == np.bool_:
            return Lazy(self.array.filter(rows))
        return Lazy(self.array.take(rows))

    def tolist(self) -> list[str]:
        found: list[str] = self.array.to_pylist()
        return found


def _lengths(array: Any) -> npt.NDArray[np.int32]:
    """The byte length of each cell of a string array, from its offsets."""
    offsets = np.frombuffer(array.buffers()[1], np.int32)[array.offset : array.offset + len(array) + 1]
    lengths: npt.NDArray[np.int32] = np.diff(offsets)
    return lengths


def batches(
    path: Path, delimiter: str, kinds: Sequence[Kind]
) -> Iterator[list[tuple[Sequence[str], Codes | None]]]:
    """The rows after the header line, batch by batch: per column (values, codes) — for a coded
    column its distinct spellings and per row the index of its spelling, otherwise one cell per
    row and None. Raises `NotPlain` (also for a file that cannot be opened or decoded)."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        raise NotPlain from None
    names = [f"c{index}" for index in range(len(kinds))]  # the header was read already
    coded = pa.dictionary(pa.int32(), pa.string())
    types = {name: coded if kind == "coded" else pa.string() for name, kind in zip(names, kinds, strict=True)}
    limit = csv.field_size_limit()
    try:
        if not _plain_bytes(path):
            raise NotPlain
        pool = pa.system_memory_pool()  # gives freed batches back, as Python's memory does
        source = pa.OSFile(str(path), memory_pool=pool)
    except OSError:
        raise NotPlain from None
    with source:
        try:
            reader = pcsv.open_csv(
                source,
                memory_pool=pool,
                read_options=pcsv.ReadOptions(
                    use_threads=False, block_size=_BLOCK, skip_rows=1, column_names=names
                ),
                parse_options=pcsv.ParseOptions(
                    delimiter=delimiter, quote_char=False, escape_char=False, ignore_empty_lines=False
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types=types, strings_can_be_null=False, check_utf8=True
                ),
            )
        except Exception:  # pyarrow's errors (ArrowInvalid, …)
            raise NotPlain from None
        try:
            yield from _batches(reader, kinds, limit)
        finally:
            reader.close()


def _batches(
    reader: Any, kinds: Sequence[Kind], limit: int
) -> Iterator[list[tuple[Sequence[str], Codes | None]]]:
    """The batches of an open reader, per column (values, codes); `NotPlain` as `batches`."""
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except Exception:
            raise NotPlain from None
        columns: list[tuple[Sequence[str], Codes | None]] = []
        empty = np.ones(batch.num_rows, bool)  # rows whose every cell so far is empty
        for kind, array in zip(kinds, batch.columns, strict=True):
            if kind == "coded":
                values = array.dictionary.to_pylist()
                # A copy in the fewest bytes: the table keeps it, and pyarrow's buffers go.
                smallest = _SMALLEST[len(values) <= 255, len(values) <= 65535]
                codes = array.indices.to_numpy().astype(smallest)
                longest = max(map(len, values), default=0)
                empty &= codes == values.index("") if "" in values else False
                columns.append((values, codes))
            else:
                lengths = _lengths(array)  # in bytes: at least the characters the limit counts
                longest = int(lengths.max(initial=0))
                empty &= lengths == 0
                columns.append((array.to_pylist() if kind == "plain" else Lazy(array), None))
            if longest >= limit:
                raise NotPlain
        if empty.any():  # a blank line or only separators: the csv module's rows differ
            raise NotPlain
        yield columns


def give_back_memory() -> None:
    """Return the free pages of the C heap to the system. Reading in batches leaves tens of
    megabytes of freed pyarrow buffers and per-batch temporaries behind the few small arrays each
    batch keeps (the codes), and glibc hands them back only when asked; without this, `due`'s peak
    (later, when the pre-filter makes its columns) was 60 MiB higher on a million rows. Elsewhere
    than glibc: nothing."""
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library (no search for it)
    except (OSError, AttributeError):
        return
    trim(0)

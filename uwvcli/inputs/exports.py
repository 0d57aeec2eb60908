"""Reading the HR system's dossier exports (CONTRACT §3) into `models.Dossier` records.

A row that cannot be used becomes an `InputError` (file, line, field, what to do) and the other rows
go on; a whole file that cannot be used (missing, not UTF-8, no header, an unknown column, not JSON)
raises `InputFileError`, because guessing there could silently change what is sent.

Built for a million rows: CSV is streamed with `csv.reader` in chunks, each chunk is converted and
checked column by column, each field through a cache of already-parsed spellings (an export has
few distinct dates, booleans and enum values). `load_dossiers` builds a `Dossier` per row;
`load_table` keeps the columns (`DossierTable`), so that a caller who needs few of a million
dossiers as objects (`planning`, with `prefilter.relevant`) builds only those. Messages never contain
the value of a personal field (BSN, names, birth date, gender, IBAN).

A big CSV file without quotes and the like (`arrowcsv`) is read by pyarrow instead: no Python
string per cell, each column of a batch converted once per distinct spelling and checked with
NumPy on the codes (`_PlainFile`), the rows that fail a check read the careful way as always, so
that both ways give the same table, errors and order (tests/test_arrow_csv.py).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import MISSING, fields
from datetime import date
from decimal import Decimal
from functools import lru_cache, partial
from itertools import chain, compress, count, islice, repeat
from operator import and_, eq, ge, gt, is_, is_not, itemgetter, lt, not_
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from uwvcli.common.privacy import looks_personal
from uwvcli.domain import keys
from uwvcli.domain.identifiers import is_email_address
from uwvcli.domain.models import Dossier, Employer, InputError
from uwvcli.errors import InputFileError
from uwvcli.inputs import arrowcsv, jsonitems

REQUIRED = ("employer_id", "org_unit_id", "employee_id", "dossier_id", "dossier_type")
PERSONAL = frozenset(
    (
        "bsn",
        "initials",
        "first_name",
        "name_prefix",
        "last_name",
        "birth_date",
        "gender",
        "iban",
        "employee_email",
    )
)
TEXT = (
    "employee_id",
    "bsn",
    "initials",
    "first_name",
    "name_prefix",
    "last_name",
    "loonheffingennummer",
    "iban",
    "employee_email",
)
DATES = (
    "birth_date",
    "employment_end_date",
    "first_sick_day",
    "sick_reported_date",
    "recovery_date",
    "recovery_reported_date",
    "partial_recovery_date",
    "expected_delivery_date",
    "leave_start_date",
)
BOOLEANS = ("direct_payment", "multiple_birth")
CHOICES = {
    "dossier_type": ("ziekte", "zwangerschap"),
    "gender": ("M", "V", "X"),
    "vangnet_status": ("none", "no_risk", "sfb"),
    "sick_reason": ("overig", "zwangerschap", "bevalling", "orgaandonatie"),
}
AMOUNTS = ("partial_daily_wage",)
# Free text without a domain: there is nothing to check in them, and only the UWV message uses
# them, so a preview (`due`, `check`) need not read them at all (`load_table(names=False)`).
NAMES = ("initials", "first_name", "name_prefix", "last_name", "employee_email")
IDS = ("employer_id", "org_unit_id", "dossier_id")
FIELDS = (*IDS, *TEXT, *DATES, *BOOLEANS, *CHOICES, *AMOUNTS)

_BOOLEAN_SPELLINGS = {"true": True, "false": False, "ja": True, "nee": False, "1": True, "0": False}
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DUTCH_DATE = re.compile(r"([0-9]{2})-([0-9]{2})-([0-9]{4})")
_AMOUNT = re.compile(r"[0-9]+(?:[.,][0-9]{1,2})?")

_POSITION = {f.name: index for index, f in enumerate(fields(Dossier))}
_NO_UNITS: frozenset[str] = frozenset()
_DEFAULTS = [None if f.default is MISSING else f.default for f in fields(Dossier)]


class _Invalid(ValueError):
    """A value outside its field's domain; the text says how to write it."""


# ---------------------------------------------------------------- one value


def _parse_date(text: str) -> date:
    text = text.strip()
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
    elif match := _DUTCH_DATE.fullmatch(text):
        day, month, year = match.groups()
    else:
        raise _Invalid("is not a date: write YYYY-MM-DD or DD-MM-YYYY")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise _Invalid("is not a date that exists: check day and month") from None


def _parse_amount(text: str) -> Decimal:
    text = text.strip()
    if not _AMOUNT.fullmatch(text):
        raise _Invalid("is not an amount: write digits with at most two decimals, e.g. 84.50 or 84,50")
    amount = Decimal(text.replace(",", "."))
    if amount <= 0:
        raise _Invalid("must be above zero")
    return amount


def _parse_boolean(text: str) -> bool:
    """CONTRACT §3: the six spellings in any case (spreadsheets write `TRUE`, `Ja`). CSV cells and
    JSON strings both come here; the column's cache keeps each spelling seen, so case folding
    costs nothing per row."""
    try:
        return _BOOLEAN_SPELLINGS[text.strip().casefold()]
    except KeyError:
        raise _Invalid("is not a yes/no value: write true, false, ja, nee, 1 or 0 (in any case)") from None


def _choice_parser(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip() in options:
            return text.strip()
        raise _Invalid(f"must be one of {', '.join(options)} (exactly so, case matters)")

    return parse


class _Column:
    """How one field is read: where it goes in `Dossier`, its parser, and a cache from each spelling
    already seen to its value (shared by every row, so most rows never reach a parser). A column
    that is `ignored` (a name in a preview) stays absent: its cells are never looked at. Text
    without a parser that repeats across rows (`shared`) is kept once per distinct value."""

    __slots__ = ("cache", "ignored", "name", "parse", "position", "shared")

    def __init__(
        self,
        name: str,
        parse: Callable[[str], object] | None,
        cache: dict[str, object] | None = None,
        *,
        ignored: bool = False,
        shared: bool = False,
    ):
        self.name = name
        self.position = _POSITION[name]
        self.parse = parse
        self.cache = {} if cache is None else cache
        self.cache[""] = _DEFAULTS[self.position]  # empty = absent
        self.ignored = ignored
        self.shared = shared


def _identifier(text: str) -> str:
    if not text.strip():
        raise _Invalid("is empty")
    return text.strip()


def _shared_text(text: str) -> str | None:
    return text.strip() or None


def _columns(names: bool) -> dict[str, _Column]:
    """The readers of every field. Employer and org unit ids are cached like dates and enums: few
    distinct values, one shared string each; so are names and initials, which repeat a lot (a
    million rows hold a million copies of a few thousand names otherwise), unless `names` is
    false: then they are not read at all. The other text of a person or employment (employee_id,
    BSN, loonheffingennummer, IBAN), which every dossier of one employee repeats, is kept once
    per distinct value too, without a parser to ask. All date columns share one cache."""
    columns = {name: _Column(name, None, shared=True) for name in TEXT}
    columns["dossier_id"] = _Column("dossier_id", None)
    for name in ("employer_id", "org_unit_id"):
        columns[name] = _Column(name, _identifier)
    for name in NAMES:
        columns[name] = _Column(name, _shared_text, ignored=not names)
    dates: dict[str, object] = {}
    for name in DATES:
        columns[name] = _Column(name, _parse_date, dates)
    for name in BOOLEANS:
        columns[name] = _Column(name, _parse_boolean)
    for name, options in CHOICES.items():
        columns[name] = _Column(name, _choice_parser(options))
    for name in AMOUNTS:
        columns[name] = _Column(name, _parse_amount)
    return columns


class _Layout:
    """One file's columns and how to put them (plus the absent fields' defaults) in `Dossier` order."""

    def __init__(self, columns: Sequence[_Column]):
        self.columns = columns
        self.width = len(columns)
        present = {column.name for column in columns}
        absent = [name for name in _POSITION if name not in present and name not in ("source", "line")]
        self.absent = [_DEFAULTS[_POSITION[name]] for name in absent]
        combined = ["source", "line", *(column.name for column in columns), *absent]
        self.order = itemgetter(*(combined.index(name) for name in _POSITION))


# ---------------------------------------------------------------- one row

_EMPLOYER, _UNIT, _EMPLOYEE, _DOSSIER = (
    _POSITION[n] for n in ("employer_id", "org_unit_id", "employee_id", "dossier_id")
)
_REQUIRED_INDICES = tuple(_POSITION[name] for name in REQUIRED)
_TYPE = _POSITION["dossier_type"]
# The fields of a ziekte dossier only (CONTRACT §3): on a zwangerschap row they are ignored.
SICKNESS = (
    "first_sick_day",
    "sick_reported_date",
    "sick_reason",
    "recovery_date",
    "recovery_reported_date",
    "partial_recovery_date",
    "partial_daily_wage",
)
_SICKNESS = tuple((name, _POSITION[name], _DEFAULTS[_POSITION[name]]) for name in SICKNESS)
_BAD_EMAIL = (
    "employee_email is not an e-mail address (value not shown: it is personal data): the employee "
    "gets no copy of the notification until the HR system export has a valid one"
)
_IGNORED = (
    "{name} is ignored: it belongs to a ziekte dossier, and this is a zwangerschap dossier "
    "(sickness during the pregnancy is a ziekte dossier of its own, sick_reason zwangerschap); "
    "clear it in the HR system export"
)


@lru_cache(maxsize=None, typed=True)
def _constant(value: object, count: int) -> tuple:
    """A column holding one value in every row, shared by every chunk that has it: a table keeps
    about a third of its columns this way (empty optional fields, the file name), which would
    otherwise cost a list of a thousand pointers per chunk each, 80 MiB per million rows."""
    return (value,) * count


_ABSENT_IF_EMPTY: dict[str, None] = {"": None}  # .get(text, text): "" -> None, else the text itself
# Rows converted together: enough to amortise the per-chunk work, few enough that a chunk's cells
# stay in the CPU cache (on the 2-core VM, 4,096 rows loaded a million rows 50% slower than 1,024).
_CHUNK = 1024


class _Loader:
    """State shared by every file of one export set: caches, known org units, the dossier ids seen.

    The usable rows go to `self.dossiers` as `Dossier` objects or, for `load_table`, into a
    `DossierTable`. Duplicate dossier ids are looked for once, after the last file (`finish`):
    one set of every id tells whether there is any, which a correct export never has."""

    def __init__(
        self,
        employers: Mapping[str, Employer],
        *,
        table: DossierTable | None = None,
        names: bool = True,
        plain: bool | None = False,
    ):
        self.employers = employers
        self.plain = plain  # read plain CSV files with pyarrow: always, never, or when big (None)
        self.read_plain = False  # whether it did
        self.columns = _columns(names)
        self.units = {(employer.id, unit) for employer in employers.values() for unit in employer.org_units}
        self.units_of: dict[str | None, frozenset[str]] = {
            employer.id: frozenset(employer.org_units) for employer in employers.values()
        }
        self.table = table
        self.dossiers: list[Dossier] = []
        self.errors: list[InputError] = []
        # Per chunk: its file, the line of each row, each row's dossier_id (usable or not); and
        # every dossier_id once, collected while the chunk's strings are still in the CPU cache.
        self.dossier_ids: list[tuple[str, Sequence[int], Sequence[str | None]]] = []
        self.distinct_ids: set[str | None] = set()

    def rows(
        self,
        layout: _Layout,
        source: str,
        lines: Sequence[int],
        rows: list[list[str]] | None,
        cells: Sequence[Sequence[str]] | None = None,
    ) -> None:
        """Keep a chunk of rows, column by column: each column is converted with one C-level `map`
        over its cache and each check runs over whole columns, so a typical row costs only the
        quick consistency check in Python. Rows that fail any check go the careful way, row by
        row, which explains each problem; both ways give the same result. `cells`: the rows
        column by column, when the caller has them already (then `rows` may be None)."""
        count = len(lines)
        suspect: set[int] = set()
        if cells is None:
            assert rows is not None
            cells = list(zip(*rows, strict=True))
        converted = [
            self.convert(column, values, suspect)
            for column, values in zip(layout.columns, cells, strict=True)
        ]
        combined = [
            _constant(source, count),
            lines,
            *converted,
            *(_constant(value, count) for value in layout.absent),
        ]
        by_field = layout.order(combined)
        ok = self.known_units(by_field[_EMPLOYER], by_field[_UNIT])
        for index in _REQUIRED_INDICES:
            if None in by_field[index]:
                ok = list(map(and_, ok, map(is_not, by_field[index], repeat(None))))
        for _, _, inconsistent in _inconsistencies(_fields_of(by_field), count):
            suspect.update(inconsistent)
        dossier_ids = by_field[_DOSSIER]
        if not keys.usable_dossier_ids(dossier_ids):
            usable = list(map(_usable_dossier_id, dossier_ids))
            ok = list(map(and_, ok, usable))
            dossier_ids = [d if fine else None for d, fine in zip(dossier_ids, usable, strict=True)]
        self.dossier_ids.append((source, lines, dossier_ids))  # an unusable id is never a duplicate
        self.distinct_ids.update(dossier_ids)
        suspect.update(compress(range(count), map(not_, ok)))
        for index in sorted(suspect):
            row = rows[index] if rows is not None else [column[index] for column in cells]
            self.careful_row(layout, source, lines[index], row)
        keep = None if not suspect else [index not in suspect for index in range(count)]
        if self.table is not None:
            self.table.add(by_field, count, keep)
        elif keep is None:
            self.dossiers.extend(_build_dossiers(by_field, count))
        else:
            self.dossiers.extend(compress(_build_dossiers(by_field, count), keep))

    def unknown_units(self, employer_ids: Sequence[str | None], unit_ids: Sequence[str | None]) -> _Flags:
        """`known_units` negated, per distinct (employer, org unit) pair of coded columns."""
        employers, employer_codes = _coded(employer_ids)
        units, unit_codes = _coded(unit_ids)
        present = set(units)
        if all(present <= self.units_of.get(employer, _NO_UNITS) for employer in set(employers)):
            return np.zeros(len(employer_codes), bool)
        pairs = employer_codes.astype(np.int64) * len(units) + unit_codes
        unknown = [
            pair
            for pair in np.unique(pairs).tolist()
            if (employers[pair // len(units)], units[pair % len(units)]) not in self.units
        ]
        flags: _Flags = np.isin(pairs, unknown)
        return flags

    def known_units(self, employer_ids: Sequence[str | None], unit_ids: Sequence[str | None]) -> list[bool]:
        """Per row: is its org unit one of its employer's? When every employer of the chunk has
        every org unit of the chunk (a few distinct values), all are, without a test per row."""
        present = set(unit_ids)
        if all(present <= self.units_of.get(employer, _NO_UNITS) for employer in set(employer_ids)):
            return [True] * len(employer_ids)
        return list(map(self.units.__contains__, zip(employer_ids, unit_ids, strict=True)))

    @staticmethod
    def convert(column: _Column, cells: Sequence[str], suspect: set[int]) -> Sequence:
        """One column of a chunk as field values; rows whose cell cannot be read join `suspect`."""
        if column.ignored or not any(cells):  # many optional columns are empty in almost every row
            return _constant(_DEFAULTS[column.position], len(cells))
        if column.parse is None:
            stripped = list(map(str.strip, cells))
            if column.shared:  # one string per distinct value; "" is the cache's absent value
                return list(map(column.cache.setdefault, stripped, stripped))
            return list(map(_ABSENT_IF_EMPTY.get, stripped, stripped)) if "" in stripped else stripped
        cache = column.cache
        try:
            return list(map(cache.__getitem__, cells))
        except KeyError:  # spellings not seen before (or not valid): parse each once, remember it
            invalid = set()
            for text in set(cells).difference(cache):
                try:
                    cache[text] = column.parse(text)
                except _Invalid:
                    invalid.add(text)
            if invalid:
                suspect.update(compress(range(len(cells)), map(invalid.__contains__, cells)))
            return list(map(cache.get, cells, repeat(_DEFAULTS[column.position])))

    def careful_row(self, layout: _Layout, source: str, line: int, values: Sequence[str]) -> None:
        args = _DEFAULTS.copy()
        args[0] = source
        args[1] = line
        problems: list[tuple[str | None, str]] = []
        for column, text in zip(layout.columns, values, strict=True):
            if column.ignored:
                continue
            if column.parse is None:
                args[column.position] = text.strip() or None
                continue
            try:
                value = column.cache[text]
            except KeyError:
                try:
                    value = column.parse(text)
                except _Invalid as error:
                    if text.strip():
                        problems.append((column.name, _field_message(column.name, text, str(error))))
                    continue
                column.cache[text] = value
            args[column.position] = value
        self.check(source, line, args, problems)

    def check(self, source: str, line: int, args: list, problems: list[tuple[str | None, str]]) -> None:
        pos = _POSITION
        for name in REQUIRED:
            if args[pos[name]] is None and not any(field == name for field, _ in problems):
                problems.append((name, f"{name} is missing: every row needs it"))
        dossier_id = args[pos["dossier_id"]]
        if dossier_id is not None and (unusable := keys.dossier_id_problem(dossier_id)) is not None:
            problems.append(("dossier_id", unusable))
        employer_id, unit_id = args[pos["employer_id"]], args[pos["org_unit_id"]]
        employer = self.employers.get(employer_id) if employer_id else None
        if employer_id and employer is None:
            problems.append(
                (
                    "employer_id",
                    f"employer {shown_identifier(employer_id)} is not in the configuration: "
                    "add it under `employers:` or correct the export",
                )
            )
        elif employer is not None and unit_id and unit_id not in employer.org_units:
            problems.append(
                (
                    "org_unit_id",
                    f"org unit {shown_identifier(unit_id)} is not one of employer {employer_id}'s "
                    "org_units in the configuration: add it or correct the export",
                )
            )
        problems.extend(_consistency(args, {field for field, _ in problems}))
        if problems:
            self.errors.extend(InputError(source, line, message, field) for field, message in problems)
        elif self.table is not None:
            self.table.add([[value] for value in args], 1, None)
        else:
            self.dossiers.append(Dossier(*args))

    def finish(self) -> None:
        """After the last file: the checks across all rows."""
        if self.has_duplicates():
            self.drop_duplicates()

    def has_duplicates(self) -> bool:
        """Whether any dossier_id occurs twice: a correct export has none, and telling so takes
        one set of every id, not a dictionary of where each was seen. Lets go of that set."""
        distinct, self.distinct_ids = self.distinct_ids, set()
        rows = sum(len(ids) for _, _, ids in self.dossier_ids)
        if None in distinct:  # rows without a dossier_id: reported as such, not as duplicates
            distinct.discard(None)
            rows -= sum(ids.count(None) for _, _, ids in self.dossier_ids)
        return len(distinct) != rows

    def drop_duplicates(self) -> None:
        """Report every occurrence of a duplicated dossier_id and drop them all (uwvcli does not
        guess which is right): each later occurrence names the first, the first names the second."""
        counted = Counter(chain.from_iterable(ids for _, _, ids in self.dossier_ids))
        repeated = {
            dossier_id for dossier_id, times in counted.items() if times > 1 and dossier_id is not None
        }
        first: dict[str, tuple[str, int]] = {}
        second: dict[str, tuple[str, int]] = {}
        for source, lines, ids in self.dossier_ids:
            for line, dossier_id in compress(zip(lines, ids, strict=True), map(repeated.__contains__, ids)):
                assert dossier_id is not None  # `repeated` holds no None
                if dossier_id not in first:
                    first[dossier_id] = (source, line)
                    continue
                second.setdefault(dossier_id, (source, line))
                message = _duplicate_message(dossier_id, first[dossier_id])
                self.errors.append(InputError(source, line, message, "dossier_id"))
        for dossier_id, (source, line) in first.items():
            self.errors.append(
                InputError(source, line, _duplicate_message(dossier_id, second[dossier_id]), "dossier_id")
            )
        if self.table is not None:
            self.table.drop(repeated)
        else:
            self.dossiers = [d for d in self.dossiers if d.dossier_id not in repeated]


class DossierTable:
    """Every usable dossier of an export set, column by column: per chunk of rows one list per
    `Dossier` field, in field order. A million dossiers without a million objects; `dossiers`
    builds the objects of the rows asked for, `column` gives one field of every row."""

    def __init__(self) -> None:
        self._chunks: list[list[Sequence]] = []
        self._counts: list[int] = []
        self._starts: list[int] = []  # the position of each chunk's first row
        self.read_plain = False  # whether chunks came from `arrowcsv` (Coded, Deferred)

    def add(self, columns: Sequence[Sequence], size: int, keep: Sequence[bool] | _Flags | None) -> None:
        """A chunk of `size` rows, given as its columns; `keep`: only the rows where it is true."""
        if keep is not None:
            mask = np.asarray(keep, bool)
            flags = mask.tolist()
            columns = [
                column.take(mask) if isinstance(column, Coded | Deferred) else list(compress(column, flags))
                for column in columns
            ]
            size = len(columns[0])
        if size:
            self._starts.append(len(self))
            self._chunks.append(list(columns))
            self._counts.append(size)

    def drop(self, dossier_ids: Container[str]) -> None:
        """Leave out the rows of these dossier ids."""
        chunks, counts = self._chunks, self._counts
        self._chunks, self._counts, self._starts = [], [], []
        for columns, size in zip(chunks, counts, strict=True):
            keep = [dossier_id not in dossier_ids for dossier_id in columns[_DOSSIER]]
            self.add(columns, size, None if all(keep) else keep)

    def __len__(self) -> int:
        return self._starts[-1] + self._counts[-1] if self._chunks else 0

    def mark(self) -> int:
        """Where the table ends now, for `rewind`."""
        return len(self._chunks)

    def rewind(self, mark: int) -> None:
        """Forget the chunks added since `mark` (a file the plain reader gave up on halfway)."""
        del self._chunks[mark:], self._counts[mark:], self._starts[mark:]

    def column(self, name: str) -> Sequence:
        """Field `name` of every row, in the table's order: a list, or a `Coded` (values once per
        chunk, a number per row) when the chunks hold few distinct values, so that a caller
        deciding something per value (`prefilter`) need not look at a million rows."""
        position = _POSITION[name]
        parts = [columns[position] for columns in self._chunks]
        # The chunks of one batch share its values: each list once (`parts` keeps them alive).
        coded = {id(part.values): part.values for part in parts if isinstance(part, Coded)}
        rest = sum(len(part) for part in parts if not isinstance(part, Coded))
        if coded and (sum(map(len, coded.values())) + rest) * 4 < len(self):
            values: list = []
            codes = np.empty(len(self), np.int32)
            starts: dict[int, int] = {}
            for part, first, size in zip(parts, self._starts, self._counts, strict=True):
                if not isinstance(part, Coded):  # a row that went the careful way, or a list
                    codes[first : first + size] = np.arange(len(values), len(values) + size)
                    values.extend(part)
                    continue
                if id(part.values) not in starts:
                    starts[id(part.values)] = len(values)
                    values.extend(part.values)
                codes[first : first + size] = part.codes
                codes[first : first + size] += starts[id(part.values)]
            return Coded(values, codes)
        return list(chain.from_iterable(parts))

    def dossiers(self, keep: Iterable[bool] | None = None) -> list[Dossier]:
        """The rows (those where `keep` is true, in the table's order) as `Dossier` objects."""
        wanted = iter(keep) if keep is not None else repeat(True)
        found: list[Dossier] = []
        for columns, size in zip(self._chunks, self._counts, strict=True):
            rows = list(compress(range(size), islice(wanted, size)))
            if len(rows) == size:
                found.extend(_build_dossiers(columns, size))
            elif len(rows) > 1:
                pick = itemgetter(*rows)  # touches only the rows asked for
                picked = np.array(rows)
                found.extend(
                    _build_dossiers(
                        [c.take(picked) if isinstance(c, Coded | Deferred) else pick(c) for c in columns],
                        len(rows),
                    )
                )
            elif rows:
                found.append(self._row(columns, rows[0]))
        if self.read_plain:  # the chunks' temporaries leave free pages behind, as loading does
            arrowcsv.give_back_memory()
        return found

    def ignored_fields(self) -> list[InputError]:
        """RULES §8: the sickness fields of a zwangerschap row are ignored, which `check` warns
        about (a warning, not an input error: the row is used). Pregnancy rows are few; a chunk
        without one costs one pass over its dossier types."""
        found: list[InputError] = []
        for columns, size in zip(self._chunks, self._counts, strict=True):
            types = columns[_TYPE]
            if "zwangerschap" not in types:
                continue
            for row in compress(range(size), map(eq, types, repeat("zwangerschap"))):
                found.extend(
                    InputError(columns[0][row], columns[1][row], _IGNORED.format(name=name), name)
                    for name, position, default in _SICKNESS
                    if columns[position][row] != default
                )
        return found

    def invalid_emails(self) -> list[InputError]:
        """An `employee_email` that is not an e-mail address: a warning (the row is used; the
        employee's copy cannot go). The value is personal data and never quoted."""
        position = _POSITION["employee_email"]
        found: list[InputError] = []
        for columns, size in zip(self._chunks, self._counts, strict=True):
            emails = columns[position]
            if isinstance(emails, Coded | Deferred):
                emails = emails.tolist()
            if not any(emails):
                continue
            for row in range(size):
                if emails[row] is not None and not is_email_address(emails[row]):
                    found.append(InputError(columns[0][row], columns[1][row], _BAD_EMAIL, "employee_email"))
        return found

    def positions(self) -> dict[str, int]:
        """Each dossier_id's row (for `dossier`); dossier ids are unique in a table."""
        return dict(zip(self.column("dossier_id"), count(), strict=False))

    def dossier(self, position: int) -> Dossier:
        """The row at `position` (see `positions`) as a `Dossier`."""
        if not 0 <= position < len(self):
            raise IndexError(position)
        chunk = bisect_right(self._starts, position) - 1
        return self._row(self._chunks[chunk], position - self._starts[chunk])

    @staticmethod
    def _row(columns: Sequence[Sequence], index: int) -> Dossier:
        return Dossier(*(column[index] for column in columns))


_Flags = npt.NDArray[np.bool_]


class Coded(Sequence):
    """One column of a chunk as its distinct values and, per row, the index of its value (NumPy,
    4 bytes a row): what the plain CSV reader (`arrowcsv`) gives, kept so in the table instead of a
    list of a pointer per row. A column with one value in every row needs no array at all."""

    __slots__ = ("codes", "values")

    def __init__(self, values: Sequence, codes: arrowcsv.Codes):
        self.values = values
        self.codes = codes

    @classmethod
    def constant(cls, value: object, count: int) -> Coded:
        return cls((value,), np.broadcast_to(np.int32(0), count))

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self.take(index)
        return self.values[self.codes[index]]

    def take(self, rows: Any) -> Coded:
        """The rows selected by a slice, a mask or positions."""
        codes = self.codes[rows]
        if len(self.values) == 1:
            return Coded.constant(self.values[0], len(codes))
        return Coded(self.values, codes)

    def tolist(self) -> list:
        if len(self.values) == 1:
            return [self.values[0]] * len(self.codes)
        objects = np.empty(len(self.values), object)
        objects[:] = self.values
        found: list = objects[self.codes].tolist()
        return found

    def __iter__(self) -> Iterator:
        return iter(self.tolist())

    def __contains__(self, value: object) -> bool:
        return bool(self.count(value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and self.tolist() == list(other)

    __hash__ = None  # type: ignore[assignment]

    def count(self, value: object) -> int:
        numbers = [number for number, found in enumerate(self.values) if found is value or found == value]
        return int(np.isin(self.codes, numbers).sum()) if numbers else 0


class Deferred(Sequence):
    """A column of text that nothing checks (`_DEFERRED`), as pyarrow's cells of a chunk: made
    into the values `_Loader.convert` gives only when asked for, so a million BSNs that a preview
    never shows cost no million strings."""

    __slots__ = ("cells", "column")

    def __init__(self, column: _Column, cells: arrowcsv.Lazy):
        self.column = column
        self.cells = cells

    def __len__(self) -> int:
        return len(self.cells)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return Deferred(self.column, self.cells[index])
        return self.tolist_of([self.cells[index]])[0]

    def take(self, rows: Any) -> Deferred:
        return Deferred(self.column, self.cells.take(np.asarray(rows)))

    def tolist_of(self, cells: list[str]) -> list:
        """What `_Loader.convert` gives these cells (text stripped, empty = the default), without
        its cache: strings made now, for the dossiers a caller builds, die with those dossiers
        instead of staying in a cache among them (which kept the memory of a million-row `due`
        from going back after the rules)."""
        absent = {"": _DEFAULTS[self.column.position]}
        stripped = list(map(str.strip, cells))
        return list(map(absent.get, stripped, stripped))

    def tolist(self) -> list:
        return self.tolist_of(self.cells.tolist())

    def __iter__(self) -> Iterator:
        return iter(self.tolist())


def _coded(column: Sequence) -> tuple[Sequence, npt.NDArray[np.integer]]:
    """A column as (values, per row the index of its value), coded or not."""
    if isinstance(column, Coded):
        return column.values, column.codes
    return column, np.arange(len(column))


def _rows_where(column: Sequence, holds: Callable[[Any], bool]) -> _Flags:
    """Per row: whether its value passes `holds` (asked once per distinct value of a coded column)."""
    values, codes = _coded(column)
    flags: _Flags = np.fromiter(map(holds, values), bool, len(values))[codes]
    return flags


def _ordinal(day: date | None) -> int:
    return 0 if day is None else day.toordinal()  # 0: absent (date.min is 1)


def _inconsistent_rows(column: Callable[[str], Sequence], count: int) -> _Flags:
    """The rows that `_inconsistencies` finds, decided on coded columns with NumPy: the same
    checks (`_NEEDS`, `_DATE_ORDER`) on day numbers, once per distinct value."""
    types = column("dossier_type")
    flagged = np.zeros(count, bool)
    of_type = {}
    for dossier_type, name, _ in _NEEDS:
        of_type[dossier_type] = is_type = _rows_where(types, partial(eq, dossier_type))
        flagged |= is_type & _rows_where(column(name), is_none)
    days: dict[str, npt.NDArray[np.int64]] = {}
    for name, holds, other, _ in _DATE_ORDER:
        for wanted in (name, other):
            if wanted not in days:
                dates, codes = _coded(column(wanted))
                days[wanted] = np.fromiter(map(_ordinal, dates), np.int64, len(dates))[codes]
        these, others = days[name], days[other]
        holding: _Flags = holds(these, others)  # type: ignore[arg-type,assignment]  # elementwise
        flagged |= of_type["ziekte"] & (these > 0) & (others > 0) & ~holding
    return flagged


def is_none(value: object) -> bool:
    return value is None


class _PlainFile:
    """One plain CSV file through `arrowcsv`, batch by batch: each coded column converted once per
    distinct spelling (the same `_Column` parsers and caches), the checks of `_Loader.rows` on the
    codes with NumPy, the rows that fail any go `careful_row` with their cells, as they would.

    The table gets the rows in the order the ordinary way gives them, which reads 1,024 lines at a
    time and adds a chunk's rows that pass the careful way before its other rows: so the rows of a
    batch wait (`pending`) until a careful row of a later group of 1,024 lines, or the file's end,
    says they come first."""

    def __init__(self, loader: _Loader, layout: _Layout, source: str):
        self.loader = loader
        self.layout = layout
        self.source = source
        self.rows = 0  # rows before the next batch; row r is on line r + 2
        self.group = -1  # the group of _CHUNK lines of the last careful row
        self.pending: list[tuple[list[Sequence], int, int, int, _Flags]] = []
        self.distinct: set[str | None] = set()

    def batch(self, cells: Sequence[tuple[Sequence[str], arrowcsv.Codes | None]]) -> None:
        loader, layout, source = self.loader, self.layout, self.source
        values, codes = cells[0]
        count = len(codes) if codes is not None else len(values)
        start = self.rows
        lines = range(start + 2, start + 2 + count)
        flagged = np.zeros(count, bool)
        converted = [
            self.convert(column, values, codes, count, flagged)
            for column, (values, codes) in zip(layout.columns, cells, strict=True)
        ]
        combined = [
            Coded.constant(source, count),
            lines,
            *converted,
            *(Coded.constant(value, count) for value in layout.absent),
        ]
        by_field = layout.order(combined)
        flagged |= loader.unknown_units(by_field[_EMPLOYER], by_field[_UNIT])
        for index in _REQUIRED_INDICES:
            if None in by_field[index]:
                flagged |= _rows_where(by_field[index], is_none)
        flagged |= _inconsistent_rows(_fields_of(by_field), count)
        dossier_ids = by_field[_DOSSIER]  # a list (_PER_ROW), shared with the table as the ordinary way does
        if not keys.usable_dossier_ids(dossier_ids):
            usable = list(map(_usable_dossier_id, dossier_ids))
            flagged |= ~np.array(usable, bool)
            dossier_ids = [d if fine else None for d, fine in zip(dossier_ids, usable, strict=True)]
        loader.dossier_ids.append((source, lines, dossier_ids))
        self.distinct.update(dossier_ids)
        self.pending.append((list(by_field), start, start, start + count, ~flagged))
        for index in np.flatnonzero(flagged).tolist():
            row = start + index
            if row // _CHUNK != self.group:
                self.group = row // _CHUNK
                self.flush(self.group * _CHUNK)
            cells_of_row = [values[index if codes is None else codes[index]] for values, codes in cells]
            loader.careful_row(layout, source, row + 2, cells_of_row)
        self.rows += count

    @staticmethod
    def convert(
        column: _Column,
        values: Sequence[str],
        codes: arrowcsv.Codes | None,
        count: int,
        flagged: _Flags,
    ) -> Sequence:
        if column.ignored:
            return Coded.constant(_DEFAULTS[column.position], count)
        if isinstance(values, arrowcsv.Lazy):
            return Deferred(column, values)
        if codes is None and not any(values):
            return Coded.constant(_DEFAULTS[column.position], count)
        suspect: set[int] = set()
        converted = _Loader.convert(column, values, suspect)
        if codes is None:
            if suspect:
                flagged[list(suspect)] = True
            return converted
        if suspect:
            flagged |= np.isin(codes, list(suspect))
        if len(converted) == 1:
            return Coded.constant(converted[0], count)
        return Coded(converted, codes)

    def flush(self, until: float) -> None:
        """Add the pending rows before row `until` to the table."""
        table = self.loader.table
        assert table is not None
        while self.pending:
            columns, offset, first, end, keep = self.pending[0]
            cut = int(min(end, until))
            if cut <= first:
                return
            a, b = first - offset, cut - offset
            part = [column[a:b] for column in columns] if (a, b) != (0, len(keep)) else columns
            kept = keep[a:b]
            table.add(part, b - a, None if kept.all() else kept)
            if cut < end:
                self.pending[0] = (columns, offset, cut, end, keep)
                return
            self.pending.pop(0)

    def finish(self) -> None:
        self.flush(float("inf"))
        loader = self.loader
        if len(loader.distinct_ids) < len(self.distinct):  # add the smaller set to the larger
            loader.distinct_ids, self.distinct = self.distinct, loader.distinct_ids
        loader.distinct_ids.update(self.distinct)


#: Files from this size on are worth importing pyarrow for (≈0.2 s), when `load_table` decides.
_PLAIN_FROM = 8 << 20
#: Columns that hardly repeat within a batch: read one string per row (no distinct values).
_PER_ROW = frozenset(("dossier_id", "employee_id"))
#: Columns that no check reads and that cannot be invalid (text without a domain): kept as
#: pyarrow's cells, converted when a caller asks for them (`Deferred`).
_DEFERRED = frozenset(("bsn", "loonheffingennummer", "iban", *NAMES))


def _worth_reading_plain(loader: _Loader, path: Path) -> bool:
    if loader.table is None or loader.plain is False:
        return False
    return bool(loader.plain) or path.stat().st_size >= _PLAIN_FROM


def _read_plain(loader: _Loader, layout: _Layout, path: Path, source: str, delimiter: str) -> bool:
    """Read a plain CSV file (`arrowcsv`) as the ordinary way would; False (and nothing kept)
    when the file turns out not to be plain."""
    table = loader.table
    assert table is not None
    kinds: list[arrowcsv.Kind] = [
        "lazy"
        if column.ignored or column.name in _DEFERRED
        else "plain"
        if column.name in _PER_ROW
        else "coded"
        for column in layout.columns
    ]
    marks = (len(loader.errors), len(loader.dossier_ids), table.mark())
    plain = _PlainFile(loader, layout, source)
    try:
        for cells in arrowcsv.batches(path, delimiter, kinds):
            plain.batch(cells)
    except arrowcsv.NotPlain:
        del loader.errors[marks[0] :], loader.dossier_ids[marks[1] :]
        table.rewind(marks[2])
        return False
    plain.finish()
    loader.read_plain = table.read_plain = True
    return True


def _build_dossiers(columns: Sequence[Iterable], count: int) -> list[Dossier]:
    """`[Dossier(*row) for row in rows]`, one C-level `map` over the columns of a chunk."""
    return list(map(Dossier, *columns))


def _usable_dossier_id(dossier_id: str | None) -> bool:
    return dossier_id is None or keys.dossier_id_problem(dossier_id) is None


#: An identifier uwvcli may quote: short, one word, with a digit (a name has none) and nothing a
#: BSN or a date could be (`findings.looks_personal`).
_QUOTABLE = re.compile(r"[A-Za-z0-9._/-]{1,20}")
_ELSEWHERE = "(value not shown: it may be personal data)"


def shown_identifier(text: str) -> str:
    """An employer, org unit or dossier id for a message: quoted when it cannot be personal data,
    otherwise a placeholder. With swapped or missing headers such a column may hold BSNs or
    names, and a message must never repeat them."""
    value = text.strip()
    if _QUOTABLE.fullmatch(value) and any(c.isdigit() for c in value) and not looks_personal(value):
        return repr(value)
    return _ELSEWHERE


def _field_message(name: str, text: str, problem: str) -> str:
    """`<field> <problem>`: never the value, which with a shifted or swapped column can be anyone's
    BSN, name or birth date; the row's file and line say where to look."""
    return f"{name} {problem}"


def _duplicate_message(dossier_id: str, other: tuple[str, int]) -> str:
    return (
        f"dossier_id {shown_identifier(dossier_id)} also occurs in {other[0]} line {other[1]}: dossier ids "
        "must be unique across all exports; uwvcli skips every copy until the export is corrected"
    )


# RULES §8, the checks that need only the row itself (overlaps between rows are the rules' job):
# the date each dossier type needs, and for a ziekte row with its first_sick_day, the order of
# its dates: (field, how it must compare with the other field, the other field, the message).
_NEEDS = (
    ("ziekte", "first_sick_day", "first_sick_day is missing: a ziekte dossier needs its AO day 1"),
    (
        "zwangerschap",
        "expected_delivery_date",
        "expected_delivery_date is missing: a zwangerschap dossier needs the expected delivery date",
    ),
)
_DATE_ORDER: tuple[tuple[str, Callable[[date, date], bool], str, str], ...] = (
    (
        "recovery_date",
        gt,
        "first_sick_day",
        "recovery_date must be after first_sick_day (the first day fit again)",
    ),
    ("partial_recovery_date", ge, "first_sick_day", "partial_recovery_date is before first_sick_day"),
    (
        "partial_recovery_date",
        lt,
        "recovery_date",
        "partial_recovery_date must be before recovery_date "
        "(a partial return after full recovery is no return)",
    ),
    ("recovery_reported_date", ge, "first_sick_day", "recovery_reported_date is before first_sick_day"),
)


def _fields_of(by_field: Sequence[Sequence]) -> Callable[[str], Sequence]:
    return lambda name: by_field[_POSITION[name]]


def _inconsistencies(column: Callable[[str], Sequence], count: int) -> list[tuple[str, str, list[int]]]:
    """The §8 checks over `count` rows given as columns (`column(name)`): (field, message, the
    rows that fail it) for each check some row fails, in the order above. Decided column by
    column, in C, so a chunk of a thousand correct rows costs a few passes; the careful path of a
    single row (`_consistency`) asks the same question of a one-row "chunk"."""
    found: list[tuple[str, str, list[int]]] = []
    types = column("dossier_type")
    of_type: dict[str, list[bool]] = {}
    for dossier_type, name, message in _NEEDS:
        if dossier_type not in types:
            continue
        values = column(name)
        of_type[dossier_type] = is_type = list(map(eq, types, repeat(dossier_type)))
        if None in compress(values, is_type):
            missing = list(compress(range(count), map(and_, is_type, map(is_, values, repeat(None)))))
            found.append((name, message, missing))
    if "ziekte" not in of_type:
        return found
    checked = of_type["ziekte"]
    if any(name == "first_sick_day" for name, _, _ in found):  # the order is of dates from it on
        checked = list(map(and_, checked, map(is_not, column("first_sick_day"), repeat(None))))
    picked: dict[str, list] = {}  # the columns of the checked rows only
    for name, holds, other, message in _DATE_ORDER:
        if not any(column(name)):  # an optional date empty in every row (most of them, in most exports)
            continue
        for wanted in (name, other):
            if wanted not in picked:
                picked[wanted] = list(compress(column(wanted), checked))
        values, others = picked[name], picked[other]
        both = list(map(and_, map(is_not, values, repeat(None)), map(is_not, others, repeat(None))))
        if all(map(holds, compress(values, both), compress(others, both))):
            continue
        rows = compress(compress(range(count), checked), both)
        passes = map(holds, compress(values, both), compress(others, both))
        found.append((name, message, list(compress(rows, map(not_, passes)))))
    return found


def _consistency(args: list, unreadable: set[str | None]) -> list[tuple[str | None, str]]:
    """The §8 problems of one row, as messages: each field once (one already reported, e.g. as
    unreadable, is not reported again as missing; a date out of order once, for its first check)."""
    reported = set(unreadable)
    problems: list[tuple[str | None, str]] = []
    for name, message, _ in _inconsistencies(lambda name: (args[_POSITION[name]],), 1):
        if name not in reported:
            reported.add(name)
            problems.append((name, message))
    return problems


# ---------------------------------------------------------------- files


def _column_name(cell: str) -> str:
    """A header cell as a field name: spreadsheets and people write `Employer_ID ` or
    `Employer ID` for `employer_id`."""
    return _NAME_GAPS.sub("_", cell.strip()).lower()


_NAME_GAPS = re.compile(r"[\s-]+")
#: Separators people export with that are not CSV's: named in the message (never the cells).
_OTHER_SEPARATORS = {"\t": "a tab", "|": "'|'", ":": "':'"}


def _header(source: str, names: list[str], line_hint: str) -> list[str]:
    """Validate a CSV header: every column known, none twice, the required ones present."""
    cells, names = names, [_column_name(name) for name in names]
    if len(names) == 1 and names[0] not in FIELDS:
        used = next((what for char, what in _OTHER_SEPARATORS.items() if char in cells[0]), None)
        seems = f" (it seems to use {used})" if used else ""
        raise InputFileError(
            f"{source}: the header has one column{line_hint}: the separator must be ',' or ';'{seems}; "
            "export the file as CSV with commas or semicolons"
        )
    unknown = [name for name in names if name not in FIELDS]
    if unknown and len(unknown) * 2 > len(names):
        raise InputFileError(
            f"{source}: the first line is not a header ({len(unknown)} of its {len(names)} fields name no "
            f"column){line_hint}: the first line must name the columns (docs/export-format.md); nothing "
            "was read"
        )
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, FIELDS, n=1, cutoff=0.6)
            hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else _glimpse(name))
        raise InputFileError(
            f"{source}: unknown column(s) {', '.join(hints)} in the header{line_hint}: rename or remove them "
            "(docs/export-format.md lists the columns); nothing was read, so that no data is silently dropped"
        )
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise InputFileError(f"{source}: column(s) {', '.join(doubled)} appear twice in the header: keep one")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InputFileError(f"{source}: the header lacks the required column(s) {', '.join(missing)}")
    return names


def _glimpse(name: str) -> str:
    """An unknown column name that is like no known one: its first characters only (it may be a
    value: a BSN or a name on a first line that is not a header)."""
    return repr(name) if len(name) <= 3 and not name.isdigit() else repr(name[:3] + "…")


def _read_csv(loader: _Loader, path: Path, source: str) -> None:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InputFileError(f"{source}: file not found: check paths.dossiers in the configuration") from None
    except OSError as error:
        raise InputFileError(f"{source}: cannot be read ({error.strerror})") from None
    with handle:
        chunks = None
        try:
            first = handle.readline()
            if not first.strip():
                raise InputFileError(f"{source}: no header row: the first line must name the columns")
            delimiter = ";" if first.count(";") > first.count(",") else ","
            header = _header(source, next(csv.reader([first], delimiter=delimiter)), " (line 1)")
            layout = _Layout([loader.columns[name] for name in header])
            if _worth_reading_plain(loader, path) and _read_plain(loader, layout, path, source, delimiter):
                return
            chunks = _CsvChunks(handle, delimiter, layout.width)
            for lines, cells, chunk in chunks:
                if cells is None and chunk is not None:
                    cells = _transposed(chunk, layout.width)
                if cells is not None:
                    loader.rows(layout, source, lines, chunk, cells)
                else:
                    assert chunk is not None
                    _irregular_chunk(loader, layout, source, lines, chunk, delimiter)
                loader.errors.extend(InputError(source, line, _TOO_LONG) for line in chunks.too_long)
                chunks.too_long.clear()
        except UnicodeDecodeError:
            raise InputFileError(
                f"{source}: not UTF-8 text (near line {_undecodable_line(path)}): export or save it as UTF-8"
            ) from None
        except csv.Error as error:
            line = chunks.error_line() if chunks else 1
            raise InputFileError(f"{source}: line {line} cannot be read as CSV ({error})") from None


_TOO_LONG = (
    f"has a field longer than {csv.field_size_limit():,} characters: this row is skipped; check the "
    "quotes on this line (an unclosed quote makes the rest of the file one field)"
)


class _CsvChunks:
    """A CSV file's rows after the header, in chunks of `_CHUNK` lines: for each chunk the line
    on which each row starts, and its cells column by column, or its rows, or both.

    Most export lines hold no quote character, and of such a line the csv module's row is the
    line split at the delimiter. When moreover every line of a chunk has the header's width, the
    chunk is joined and split once and cut into columns by slicing, all in C: together with the
    transposition this saves it, a third of the time the csv module would take (the floor the
    benchmark measures against). Other chunks without quotes are split line by line. A chunk with
    a quote, a NUL or a line longer than the csv module's field limit goes through `csv.reader`,
    which reads on past the chunk's end when a quoted field spans lines. So every way gives the
    csv module's rows and errors (tests/test_due_equivalence.py holds that on arbitrary text)."""

    def __init__(self, handle: Iterable[str], delimiter: str, width: int):
        self.handle = handle
        self.delimiter = delimiter
        self.width = width
        self.consumed = 1  # physical lines read before the current chunk: the header
        self.too_long: list[int] = []  # lines of rows skipped for a field over the csv module's limit
        self.reader: Any = None  # the csv module's reader of the chunk it parses

    def __iter__(
        self,
    ) -> Iterator[tuple[Sequence[int], Sequence[Sequence[str]] | None, list[list[str]] | None]]:
        """(lines, columns, rows) per chunk; columns or rows may be None, never both."""
        limit = csv.field_size_limit()
        while lines := list(islice(self.handle, _CHUNK)):
            start = self.consumed + 1
            text = "".join(lines)
            if '"' in text or "\0" in text or max(map(len, lines)) > limit:
                rows, starts, spanned = self.parsed(lines, start)
                self.consumed += spanned
                yield starts, None, rows
                continue
            self.consumed += len(lines)
            ends = list(map(str.rstrip, lines, repeat("\r\n")))
            columns = self.columns(ends)
            if columns is not None:
                yield range(start, start + len(lines)), columns, None
                continue
            rows = list(map(str.split, ends, repeat(self.delimiter)))
            if "" in ends:  # of a blank line the csv module gives no fields at all
                rows = [row if end else [] for row, end in zip(rows, ends, strict=True)]
            yield range(start, start + len(lines)), None, rows

    def columns(self, ends: list[str]) -> list[list[str]] | None:
        """Quote-free lines column by column, when each has the header's width and none is blank
        (only separators: `_irregular_chunk` skips those)."""
        separators = self.width - 1
        if list(map(str.count, ends, repeat(self.delimiter))).count(separators) != len(ends):
            return None
        cells = self.delimiter.join(ends).split(self.delimiter)
        columns = [cells[index :: self.width] for index in range(self.width)]
        if "" in columns[0] and not all(map(str.strip, ends, repeat(self.delimiter))):
            return None
        return columns

    def parsed(self, lines: list[str], start: int) -> tuple[list[list[str]], list[int], int]:
        """The rows that start on these lines, by the csv module, the physical line each starts
        on (counted as the file is read: a bare CR ends a line too) and the lines they span. A
        field longer than the csv module's limit is an error of its row (in `too_long`), which is
        skipped; the rows after it are read on."""
        reader = self.reader = csv.reader(chain(lines, self.handle), delimiter=self.delimiter)
        rows, starts = [], []
        while reader.line_num < len(lines):
            before = reader.line_num
            try:
                row = next(reader)
            except csv.Error as error:
                if "field limit" not in str(error):
                    raise
                self.too_long.append(start + before)
                continue
            rows.append(row)
            starts.append(start + before)
        self.reader = None
        return rows, starts, reader.line_num

    def error_line(self) -> int:
        """The line the csv module stopped at (for its errors)."""
        return self.consumed + (self.reader.line_num if self.reader is not None else 1)


def _undecodable_line(path: Path) -> int:
    """The line of the first byte that is not UTF-8; the file is only read again to say where."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    line = 1
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                return line + block.count(b"\n", 0, max(error.start, 0))
            line += block.count(b"\n")
    return line


def _transposed(chunk: list[list[str]], width: int) -> list[tuple[str, ...]] | None:
    """The chunk column by column, or None when a row is blank or not as wide as the header. A
    strict `zip` notices a wrong width as it goes; a blank row has an empty first cell, so the
    whole-row test only runs when one is empty."""
    try:
        columns = list(zip(*chunk, strict=True))
    except ValueError:
        return None
    if len(columns) != width or ("" in columns[0] and not all(map(any, chunk))):
        return None
    return columns


def _irregular_chunk(
    loader: _Loader,
    layout: _Layout,
    source: str,
    lines: Sequence[int],
    chunk: list[list[str]],
    delimiter: str,
) -> None:
    """A chunk with blank lines or rows of the wrong width: skip the blanks, report the others."""
    kept_lines, kept = [], []
    for line, values in zip(lines, chunk, strict=True):
        if not any(values):
            continue  # a blank line, or only separators (spreadsheet leftovers)
        if len(values) == layout.width:
            kept_lines.append(line)
            kept.append(values)
        else:
            loader.errors.append(
                InputError(
                    source,
                    line,
                    f"has {len(values)} fields where the header has "
                    f"{layout.width}: check the '{delimiter}' separators and quotes on this line",
                )
            )
    if kept:
        loader.rows(layout, source, kept_lines, kept)


def _json_text(value: object) -> str | None:
    """JSON's native values as the CSV spelling (true → "true", 84.5 → "84.5", null → empty)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _read_json(loader: _Loader, path: Path, source: str) -> None:
    """A JSON export, streamed: one dossier object at a time (`jsonitems`), converted and checked
    in chunks like CSV rows, so a million dossiers are never a million dicts at once."""
    try:
        with path.open("rb") as handle:
            _read_json_items(loader, jsonitems.items(handle, "dossiers"), source)
    except FileNotFoundError:
        raise InputFileError(f"{source}: file not found: check paths.dossiers in the configuration") from None
    except jsonitems.NotAList as error:
        raise InputFileError(
            f'{source}: must hold a list of dossiers, or an object {{"dossiers": [...]}} ({error})'
        ) from None
    except jsonitems.JsonExportError as error:
        raise InputFileError(f"{source}: {error}") from None
    except OSError as error:
        raise InputFileError(f"{source}: cannot be read ({error.strerror})") from None


def _read_json_items(loader: _Loader, items: Iterable[object], source: str) -> None:
    layout = _Layout([loader.columns[name] for name in FIELDS])
    indices: list[int] = []
    rows: list[list[str]] = []
    objects = 0
    lacking = dict.fromkeys(REQUIRED, 0)  # per required field: the objects without it
    for index, item in enumerate(items):
        if isinstance(item, jsonitems.Refused):
            loader.errors.append(InputError(source, index, f"line {item.line}: {item.reason}"))
            continue
        if not isinstance(item, dict):
            loader.errors.append(InputError(source, index, "is not an object of field: value pairs"))
            continue
        objects += 1
        for name in REQUIRED:
            lacking[name] += name not in item
        problems: list[tuple[str | None, str]] = []
        for key in dict.fromkeys(item.pop(jsonitems.REPEATED, ())):  # each repeated key once
            problems.append((str(key), f"{key} appears more than once in this object: keep one"))
        for key in item:
            if key not in loader.columns:
                close = difflib.get_close_matches(str(key), FIELDS, n=1, cutoff=0.6)
                hint = (
                    f": did you mean {close[0]!r}?" if close else ": docs/export-format.md lists the fields"
                )
                problems.append((str(key), f"unknown field {key!r}{hint}"))
        values = []
        for name in FIELDS:
            text = _json_text(item.get(name))
            if text is None:
                problems.append((name, f"{name} must be a single value, not a list or object"))
                text = ""
            values.append(text)
        if problems:
            loader.errors.extend(InputError(source, index, message, field) for field, message in problems)
            continue
        indices.append(index)
        rows.append(values)
        if len(rows) == _CHUNK:
            loader.rows(layout, source, indices, rows)
            indices, rows = [], []
    if rows:
        loader.rows(layout, source, indices, rows)
    _no_object_lacks_all(source, objects, lacking)


def _no_object_lacks_all(source: str, objects: int, lacking: Mapping[str, int]) -> None:
    """A required field that no object of a JSON export has is the file's problem, as a CSV
    header without the column is: one message, not one per object."""
    absent = [name for name, count in lacking.items() if objects and count == objects]
    if absent:
        raise InputFileError(
            f"{source}: no dossier has the required field(s) {', '.join(absent)}: add them to the export "
            "(docs/export-format.md lists the fields)"
        )


def display_name(path: Path, base: Path | None) -> str:
    """The path as the user wrote it in the configuration: relative to its folder where possible."""
    if base is not None and path.is_relative_to(base):
        return str(path.relative_to(base))
    return str(path)


def load_dossiers(
    paths: Sequence[Path], employers: Mapping[str, Employer], *, display_base: Path | None = None
) -> tuple[list[Dossier], list[InputError]]:
    """Read every export into dossiers plus the rows that could not be used (CONTRACT §3, RULES §8
    single-row checks). Raises `InputFileError` when a whole file is unusable."""
    loader = _Loader(employers)
    _load(loader, paths, display_base)
    return loader.dossiers, loader.errors


def load_table(
    paths: Sequence[Path],
    employers: Mapping[str, Employer],
    *,
    display_base: Path | None = None,
    names: bool = True,
    plain: bool | None = None,
) -> tuple[DossierTable, list[InputError]]:
    """`load_dossiers` as a `DossierTable`: the same checks, errors, dossiers and order, without an
    object per row. On a million rows most dossiers can yield nothing on the run date
    (`prefilter.relevant`), so only the few that can need to become objects. `names=False` leaves
    the NAMES fields absent (None) in every row: what a preview does not show, it does not hold.
    CSV files without quotes and the like are read by pyarrow (`arrowcsv`, `_PlainFile`), with the
    same result; `plain`: always when they are plain (True), never (False), or when they are big
    enough to be worth it (None)."""
    loader = _Loader(employers, table=DossierTable(), names=names, plain=plain)
    _load(loader, paths, display_base)
    assert loader.table is not None
    return loader.table, loader.errors


def _load(loader: _Loader, paths: Sequence[Path], display_base: Path | None) -> None:
    for path in paths:
        source = display_name(Path(path), display_base)
        if Path(path).suffix.lower() == ".json":
            _read_json(loader, Path(path), source)
        else:
            _read_csv(loader, Path(path), source)
    loader.finish()
    if loader.read_plain:
        arrowcsv.give_back_memory()

"""Which employees can matter on a run date: the pre-filter that lets `due` over a million
rows build `Dossier` objects, and run the rules, only for the few that can yield anything.

Deciding it takes a few NumPy passes over the export's columns (`exports.DossierTable`): whole
columns at a time, grouped by employee with a sort, where the rules spend microseconds per
employee and Python per row would cost more than reading the export. It is an optimisation
only: for the dossiers it keeps, `rules.evaluate` gives exactly what it gives on all of them
(tests/test_due_equivalence.py holds that claim with hypothesis, and the plain path is
`evaluate` on everything). Every term it uses comes from the rules themselves
(`rules.SIX_WEEKS`, `rules.MLA_AO_DAY`, …) or the ATW calendar (`workdays.LONGEST_SHIFT`): a
change there moves the pre-filter with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import partial
from itertools import count
from operator import eq
from typing import Any

import numpy as np
import numpy.typing as npt

from uwvcli.domain.models import Employer
from uwvcli.domain.rules import (
    CHANGE_TERM,
    FOURTH_DAY,
    MLA_AO_DAY,
    MLA_TERM,
    NEXT_DAY,
    SIX_WEEKS,
    is_ordinary_sickness,
)
from uwvcli.domain.workdays import LONGEST_SHIFT

# How far after an employee's dossier dates the rules can place a due date or deadline, when
# every ziekte dossier is closed (an MLA then falls before the recovery, and so does a report
# due on Lmin or on the last day of employment): the ziekmelding's six weeks after
# first_sick_day; after any other date the longest of the other terms (the MLA's week, the 2-
# and 4-day terms, the next day); each plus the longest shift past weekends and holidays.
QUIET_MARGIN = (max(MLA_TERM, FOURTH_DAY, CHANGE_TERM, NEXT_DAY) + LONGEST_SHIFT).days
_AFTER_FIRST_SICK_DAY = (SIX_WEEKS + LONGEST_SHIFT).days - QUIET_MARGIN  # on top of QUIET_MARGIN
# Ordinals beyond any real date: a dossier still open on the run date (a planned return is not
# yet a return); an employer whose link is off (only overlaps count); a date so close to either end
# of the calendar that a term might not be computable (`evaluate` then reports the employee's
# rows). "Close" is far more than all the rules' terms together.
_OPEN = date.max.toordinal() + 1
_LINK_OFF = _OPEN + 1
_EDGE = _OPEN + 2
_DAY_BITS = 22  # every day number above fits in this many bits, so (employee, day) fits one int64
assert _EDGE < 1 << _DAY_BITS
# The other dates whose terms can place a due date or deadline after them.
_LATER_DATES = (
    "recovery_reported_date",
    "partial_recovery_date",
    "expected_delivery_date",
    "leave_start_date",
)
_SAFE = range(date.min.toordinal() + 1000, date.max.toordinal() - 1000)


def relevant(
    employers: Mapping[str, Employer],
    column: Callable[[str], Sequence],
    run_date: date,
    *,
    horizon: int = 0,
) -> list[bool]:
    """Which dossiers can matter on `run_date`: those of every employee who can yield anything
    then or within `horizon` days. `column(name)` gives field `name` of every dossier, always in
    the same order (as `exports.DossierTable.column` does); the answer is in that order. With
    that horizon and whatever the sent keys, `evaluate` gives the same result for the dossiers
    kept as for all of them.

    An employee (an employee_id at one employer, as the rules group them) is left out only when
    it is certain that the rules find nothing for them, and no two of their ziekte dossiers
    overlap (an overlap is an input error), because either
    - every ziekte dossier closed on or before the run date, and every date of every dossier
      more than QUIET_MARGIN days (for first_sick_day: the ziekmelding's six weeks plus the
      longest shift) before the start date of the employer's link (or the link off): whatever
      there was, it was the previous system's; or
    - they have only ordinary sickness (`_uneventful`), which is reported only in its 42nd week.
    tests/test_due_equivalence.py holds the claim against `evaluate` on all dossiers."""
    employer_ids = column("employer_id")
    size = len(employer_ids)
    if not size:
        return []
    owners, employees = _owners(employer_ids, column("employee_id"))
    is_ziekte = _per_value(column("dossier_type"), partial(eq, "ziekte"), np.bool_)
    first_sick = _ordinals(column("first_sick_day"), run_date, absent=0)
    recovered = _ordinals(column("recovery_date"), run_date, absent=_OPEN, open_after=True)
    # _EDGE stays beyond every cutoff; a zwangerschap dossier has no recovery that counts.
    latest = np.maximum(first_sick + _AFTER_FIRST_SICK_DAY, recovered * is_ziekte)
    for name in _LATER_DATES:
        dates = column(name)
        if any(dates):  # a column empty in every row (most exports fill few) adds nothing
            np.maximum(latest, _ordinals(dates, run_date, absent=0), out=latest)
    # The first day of each employer's link (RULES §5.1; an employer without one: link off).
    starts = {
        e.id: e.start_date.toordinal() for e in employers.values() if e.active and e.start_date is not None
    }
    cutoffs = {employer_id: start - QUIET_MARGIN for employer_id, start in starts.items()}
    quiet = latest < _per_row(cutoffs, employer_ids, _LINK_OFF)
    # The last day on which an MLA can matter: the end of the horizon, or, before a go-live
    # later than that, the day before the start date (an MLA due in the week before is hand-over).
    last_day = run_date.toordinal() + max(horizon, 0)
    last_days = {employer_id: start - 1 for employer_id, start in starts.items() if start - 1 > last_day}
    if last_days:
        last = _per_row(last_days, employer_ids, last_day)
    else:
        last = np.broadcast_to(np.int32(last_day), size)  # one value, no copy per row
    hot = np.zeros(employees, bool)
    hot[owners[~quiet]] = True
    overlapping = _overlapping(owners, employees, is_ziekte, first_sick, recovered)
    candidates = hot & ~overlapping
    uneventful = _uneventful(candidates, owners, column, is_ziekte, first_sick, recovered, last)
    kept: list[bool] = ((hot & ~uneventful) | overlapping)[owners].tolist()
    return kept


_Ints = npt.NDArray[np.int64]
_Days = npt.NDArray[np.int32]  # day numbers (ordinals, _OPEN, _EDGE, _LINK_OFF): half the memory
_Bools = npt.NDArray[np.bool_]


def _owners(employer_ids: Sequence[str], employee_ids: Sequence[str]) -> tuple[_Ints, int]:
    """Each row's employee as a number (one per employee_id at one employer: the rules'
    grouping), and a bound on the numbers. Numbering the employee_ids alone is enough while no
    employee_id is found at two employers, as in most exports; otherwise the pairs are numbered."""
    size = len(employer_ids)
    employee = _numbered(employee_ids)
    employer = _numbered(employer_ids)
    seen_at = np.empty(size, np.int64)
    seen_at[employee] = employer  # one of each employee_id's employers
    if (seen_at[employee] == employer).all():
        return employee, size
    distinct, owners = np.unique(employer * size + employee, return_inverse=True)
    return owners.reshape(size), len(distinct)


def _per_value(values: Sequence, convert: Callable[[Any], Any], dtype: type) -> npt.NDArray[Any]:
    """`np.fromiter(map(convert, values))`, asked once per distinct value when the column comes
    coded: with its `values` once and a number per row in `codes`, as `DossierTable.column`
    gives a column of few distinct values."""
    codes = getattr(values, "codes", None)
    if codes is None:
        return np.fromiter(map(convert, values), dtype, len(values))
    distinct = values.values  # type: ignore[attr-defined]
    found: npt.NDArray[Any] = np.fromiter(map(convert, distinct), dtype, len(distinct))[codes]
    return found


def _numbered(values: Sequence) -> _Ints:
    """A number per distinct value, for every row: where the value first occurs (not dense:
    setdefault counts every row), among the distinct values of a coded column."""
    numbers: dict[Any, int] = {}
    codes = getattr(values, "codes", None)
    distinct = values if codes is None else values.values  # type: ignore[attr-defined]
    found: _Ints = np.fromiter(map(numbers.setdefault, distinct, count()), np.int64, len(distinct))
    return found if codes is None else found[codes]


def _distinct(values: Sequence) -> set:
    """The values of a column, each once (of a coded column: its values, perhaps a few more)."""
    return set(getattr(values, "values", values))


def _per_row(values: Mapping[str, int], employer_ids: Sequence[str], default: int) -> _Days:
    """A day number per employer, for every row."""
    return _per_value(employer_ids, lambda employer: values.get(employer, default), np.int32)


def _ordinals(values: Sequence, run_date: date, *, absent: int, open_after: bool = False) -> _Days:
    """Dates as day numbers through a table of the few distinct dates: `absent` for None, _EDGE
    near the ends of the calendar, and (`open_after`, for recovery dates) _OPEN after the run
    date, because a planned return is not yet a return."""
    table: dict[date | None, int] = {None: absent}
    last = run_date.toordinal() if open_after else _OPEN
    for day in _distinct(values):
        if day is not None:
            number = day.toordinal()
            table[day] = _EDGE if number not in _SAFE else _OPEN if number > last else number
    return _per_value(values, table.__getitem__, np.int32)


def _overlapping(
    owners: _Ints, employees: int, is_ziekte: _Bools, first_sick: _Days, recovered: _Days
) -> _Bools:
    """Per employee: whether their ziekte dossiers might overlap (RULES §8: `evaluate` reports
    it). In order of first_sick_day, each must recover after it starts and before the next one
    starts."""
    rows = np.flatnonzero(is_ziekte)
    # By employee, then first_sick_day. Among dossiers of one employee that start on one day,
    # the order does not matter: they overlap.
    rows = rows[np.argsort(owners[rows] << _DAY_BITS | first_sick[rows])]
    owner, start, end = owners[rows], first_sick[rows], recovered[rows]
    found = np.zeros(employees, bool)
    found[owner[start >= end]] = True
    clash = (owner[1:] == owner[:-1]) & (end[:-1] > start[1:])
    found[owner[1:][clash]] = True
    return found


def _uneventful(
    candidates: _Bools,
    owners: _Ints,
    column: Callable[[str], Sequence],
    is_ziekte: _Bools,
    first_sick: _Days,
    recovered: _Days,
    last: _Days,
) -> _Bools:
    """Per employee: whether they are among the `candidates` and have only ordinary sickness
    whose 42nd week lies beyond `last` (per row: the last day that matters, an ordinal).
    Ordinary: ziekte dossiers that `rules.is_ordinary_sickness` keeps outside the ZW safety
    net, and no pregnancy. Such sickness gives no ziekmelding and no werkhervatting, only an
    MLA on AO day `rules.MLA_AO_DAY` (§4.3) and its herstel after it (a planned one included,
    §1), so with fewer sick days than that up to the last day in all the dossiers of an
    employee together (each dossier counted from first_sick_day up to its recovery or through
    the last day), no chain reaches the 42nd week by then and the rules find nothing."""
    rows = np.flatnonzero(candidates[owners])
    if not len(rows):
        return np.zeros(len(candidates), bool)
    start, end = first_sick[rows], recovered[rows]
    ordinary = _ordinary(column, len(owners))[rows]
    # Dates at the calendar's ends (_EDGE) are left to the rules, which report them.
    ordinary &= is_ziekte[rows] & (start < _OPEN) & (end < _EDGE)
    sick_days = np.maximum(np.minimum(end, last[rows] + 1) - start, 0)
    weights = np.where(ordinary, sick_days, MLA_AO_DAY)
    totals = np.bincount(owners[rows], weights, minlength=len(candidates))
    uneventful: _Bools = candidates & (totals < MLA_AO_DAY)
    return uneventful


def _ordinary(column: Callable[[str], Sequence], size: int) -> _Bools:
    """Per row: `rules.is_ordinary_sickness`, the rules' own test, asked once per distinct
    (sick_reason, vangnet_status, employment_end_date): each field numbered by its few distinct
    values, the rows by their combination."""
    combined = np.zeros(size, np.int64)
    distinct: list[list] = []
    for name in ("sick_reason", "vangnet_status", "employment_end_date"):
        values = column(name)
        found = list(_distinct(values))
        numbers = {value: number for number, value in enumerate(found)}
        combined *= len(found)
        combined += _per_value(values, numbers.__getitem__, np.int64)
        distinct.append(found)
    combinations, rows = np.unique(combined, return_inverse=True)
    answers = []
    for code in combinations.tolist():
        triple = []
        for found in reversed(distinct):
            code, number = divmod(code, len(found))
            triple.append(found[number])
        answers.append(is_ordinary_sickness(*reversed(triple)))
    ordinary: _Bools = np.array(answers, bool)[rows.reshape(size)]
    return ordinary

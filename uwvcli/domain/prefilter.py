"""Which employees can matter on a run date: the pre-filter that lets `due` over a million
rows build `Dossier` objects, and run the rules, only for the few that can yield anything.

Deciding it takes a few C-level passes over the export's columns (`exports.DossierTable`), where
the rules spend microseconds per employee. It is an optimisation only: for the dossiers it keeps,
`rules.evaluate` gives exactly what it gives on all of them (tests/test_due_equivalence.py holds
that claim with hypothesis, and the plain path is `evaluate` on everything). Every term it uses
comes from the rules themselves (`rules.SIX_WEEKS`, `rules.MLA_AO_DAY`, …) or the ATW calendar
(`workdays.LONGEST_SHIFT`): a change there moves the pre-filter with it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import date
from itertools import accumulate, compress, count, islice, pairwise, repeat
from operator import add, and_, eq, le, lt, mul, ne, not_, or_, sub

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
_SAFE = range(date.min.toordinal() + 1000, date.max.toordinal() - 1000)


def relevant(
    employers: Mapping[str, Employer],
    column: Callable[[str], Sequence],
    run_date: date,
    *,
    horizon: int = 0,
    runs: Sequence[int] | None = None,
) -> list[bool]:
    """Which dossiers can matter on `run_date`: those of every employee who can yield anything
    then or within `horizon` days. `column(name)` gives field `name` of every dossier, always in
    the same order (as `exports.DossierTable.column` does); the answer is in that order. With
    that horizon and whatever the sent keys, `evaluate` gives the same result for the dossiers
    kept as for all of them.

    An employee is left out only when it is certain that the rules find nothing for them, and
    no two of their ziekte dossiers overlap (an overlap is an input error), because either
    - every ziekte dossier closed on or before the run date, and every date of every dossier
      more than QUIET_MARGIN days (for first_sick_day: the ziekmelding's six weeks plus the
      longest shift) before the start date of the employer's link (or the link off): whatever
      there was, it was the previous system's; or
    - they have only ordinary sickness (`_uneventful`), which is reported only in its 42nd week.
    On a big export that is most employees; deciding it takes a few C-level passes over
    columns, where the rules spend microseconds per employee. tests/test_due_equivalence.py
    holds the claim against `evaluate` on all dossiers.

    `runs`, when the caller knows it (`exports.DossierTable.employee_runs`): each row's run
    number, where a run is a stretch of rows with one employee_id and no employee_id has two.
    Then grouping by employee is comparing neighbours instead of hashing half a million ids."""
    employer_ids = column("employer_id")
    if not employer_ids:
        return []
    is_ziekte = list(map(eq, column("dossier_type"), repeat("ziekte")))
    first_sick = _ordinals(column("first_sick_day"), run_date, absent=0)
    recovered = _ordinals(column("recovery_date"), run_date, absent=_OPEN, open_after=True)
    later_dates = (
        column(name)
        for name in (
            "recovery_reported_date",
            "partial_recovery_date",
            "expected_delivery_date",
            "leave_start_date",
        )
    )
    latest = map(
        max,
        map(add, first_sick, repeat(_AFTER_FIRST_SICK_DAY)),  # _EDGE stays beyond every cutoff
        map(mul, recovered, is_ziekte),  # a zwangerschap dossier has no recovery that counts
        # A column empty in every row (most exports fill few of these) adds nothing to the maximum.
        *(_ordinals(dates, run_date, absent=0) for dates in later_dates if any(dates)),
    )
    # The first day of each employer's link (RULES §5.1; an employer without one: link off).
    starts = {
        e.id: e.start_date.toordinal() for e in employers.values() if e.active and e.start_date is not None
    }
    cutoffs = {employer_id: start - QUIET_MARGIN for employer_id, start in starts.items()}
    quiet = list(map(lt, latest, map(cutoffs.get, employer_ids, repeat(_LINK_OFF))))
    # The last day on which an MLA can matter: the end of the horizon, or, before a go-live
    # later than that, the day before the start date (an MLA due in the week before is hand-over).
    last_day = run_date.toordinal() + max(horizon, 0)
    last_days = {employer_id: start - 1 for employer_id, start in starts.items() if start - 1 > last_day}
    if runs is not None:
        owners: Sequence[Hashable] = runs
        overlapping, crowded = _overlapping_runs(runs, is_ziekte, first_sick, recovered)
    else:
        # The employee_id alone usually names one person; if it names more (the same number at
        # two employers), they are simply kept or left out together, which is safe. Only where
        # two of them have ziekte dossiers does the overlap check need the (employer, employee)
        # pair.
        owners = column("employee_id")
        found = _overlapping(owners, employer_ids, is_ziekte, first_sick, recovered)
        if found is None:
            numbers: dict[tuple[str, Hashable], int] = {}
            owners = list(map(numbers.setdefault, zip(employer_ids, owners, strict=True), count()))
            found = _overlapping(owners, employer_ids, is_ziekte, first_sick, recovered)
            assert found is not None  # one employer per key now
        overlapping, crowded = found
    # Kept: the employees with something the cheap test cannot rule out, unless their sickness
    # is uneventful, and every employee whose dossiers overlap (whatever the dates: an input error).
    hot = set(compress(owners, map(not_, quiet)))
    hot.difference_update(overlapping)
    hot.difference_update(
        _uneventful(
            hot,
            owners,
            column,
            is_ziekte,
            first_sick,
            recovered,
            last_days,
            last_day,
            grouped=runs is not None,
        )
    )
    hot.update(overlapping)
    hot.update(_overlaps_among(crowded - hot, owners, is_ziekte, first_sick, recovered))
    return list(map(hot.__contains__, owners))


def _uneventful(
    candidates: set[Hashable],
    owners: Sequence[Hashable],
    column: Callable[[str], Sequence],
    is_ziekte: list[bool],
    first_sick: list[int],
    recovered: list[int],
    last_days: Mapping[str, int],
    last_day: int,
    *,
    grouped: bool,
) -> set[Hashable]:
    """Which `candidates` (values of `owners`, one per row: employees or runs; `grouped` when
    each owner's rows follow each other) have only ordinary sickness whose 42nd week lies
    beyond the last day that matters: `last_day` (an ordinal), or the row's employer's in
    `last_days` where it goes live later. Ordinary: ziekte dossiers that
    `rules.is_ordinary_sickness` keeps outside the ZW safety net, and no pregnancy. Such
    sickness gives no ziekmelding and no werkhervatting, only an MLA on AO day
    `rules.MLA_AO_DAY` (§4.3) and its herstel after it (a planned one included, §1), so with
    fewer sick days than that up to the last day in all the dossiers of an employee together
    (each dossier counted from first_sick_day up to its recovery or through the last day), no
    chain reaches the 42nd week by then and the rules find nothing. Only the rows of the
    candidates are looked at: the cheap test of `relevant` leaves few."""
    if not candidates:
        return set()
    rows = list(map(candidates.__contains__, owners))
    # The rules' own test, asked once per distinct (sick_reason, vangnet_status, end) triple.
    names = ("sick_reason", "vangnet_status", "employment_end_date")
    fields = list(zip(*(compress(column(name), rows) for name in names), strict=True))
    answers = {triple: is_ordinary_sickness(*triple) for triple in set(fields)}
    ordinary = list(map(and_, compress(is_ziekte, rows), map(answers.__getitem__, fields)))
    starts = list(compress(first_sick, rows))
    ends = list(compress(recovered, rows))
    # Dates at the calendar's ends (_EDGE) are left to the rules, which report them.
    ordinary = list(map(and_, ordinary, map(lt, starts, repeat(_OPEN))))
    ordinary = list(map(and_, ordinary, map(lt, ends, repeat(_EDGE))))
    last: Iterable[int] = repeat(last_day)
    if last_days:  # an employer goes live after last_day
        last = map(last_days.get, compress(column("employer_id"), rows), last)
    sick_days = map(max, map(sub, map(min, ends, map(add, last, repeat(1))), starts), repeat(0))
    weights = map(add, map(mul, sick_days, ordinary), map(mul, map(not_, ordinary), repeat(MLA_AO_DAY)))
    owners = list(compress(owners, rows))
    if grouped:  # each owner's rows are one stretch: the running total at its end, minus the last
        ends_here = [*map(ne, islice(owners, 1, None), owners), True]
        running = list(compress(accumulate(weights), ends_here))
        totals = map(sub, running, [0, *islice(running, len(running) - 1)])
        return set(compress(compress(owners, ends_here), map(lt, totals, repeat(MLA_AO_DAY))))
    sums = dict.fromkeys(candidates, 0)
    for owner, days in zip(owners, weights, strict=True):
        sums[owner] += days
    return {owner for owner, days in sums.items() if days < MLA_AO_DAY}


def _overlapping_runs(
    runs: Sequence[int], is_ziekte: list[bool], first_sick: list[int], recovered: list[int]
) -> tuple[set[Hashable], set[Hashable]]:
    """`_overlapping` for rows grouped in runs of one employee_id: the runs with two ziekte
    dossiers that might overlap, and the runs with three or more (`crowded`). A run's ziekte
    dossiers follow each other among the ziekte rows, so a run with two has them as neighbours.
    A run may hold two people (one employee_id at two employers, side by side): two dossiers of
    different people compared here can only make the run kept, which is safe."""
    owners: list[Hashable] = list(compress(runs, is_ziekte))
    pairs = list(map(eq, islice(owners, 1, None), owners))  # ziekte dossiers j and j+1: one run
    if not any(pairs):
        return set(), set()
    starts = list(compress(first_sick, is_ziekte))
    ends = list(compress(recovered, is_ziekte))
    first_a, end_a = list(compress(starts, pairs)), list(compress(ends, pairs))
    first_b, end_b = (
        list(compress(islice(starts, 1, None), pairs)),
        list(compress(islice(ends, 1, None), pairs)),
    )
    owners = list(compress(owners, pairs))
    crowded = set(compress(islice(owners, 1, None), map(eq, islice(owners, 1, None), owners)))
    apart = map(or_, map(le, end_a, first_b), map(le, end_b, first_a))
    sound = map(and_, map(lt, first_a, end_a), map(lt, first_b, end_b))
    return set(compress(owners, map(not_, map(and_, apart, sound)))) - crowded, crowded


def _ordinals(values: Sequence, run_date: date, *, absent: int, open_after: bool = False) -> list[int]:
    """Dates as day numbers through a table of the few distinct dates: `absent` for None, _EDGE
    near the ends of the calendar, and (`open_after`, for recovery dates) _OPEN after the run
    date, because a planned return is not yet a return."""
    table: dict[date | None, int] = {None: absent}
    last = run_date.toordinal() if open_after else _OPEN
    for day in set(values):
        if day is not None:
            number = day.toordinal()
            table[day] = _EDGE if number not in _SAFE else _OPEN if number > last else number
    return list(map(table.__getitem__, values))


def _overlapping(
    employee: Sequence[Hashable],
    employer_ids: Sequence[str],
    is_ziekte: list[bool],
    first_sick: list[int],
    recovered: list[int],
) -> tuple[set[Hashable], set[Hashable]] | None:
    """The employees whose ziekte dossiers might overlap (RULES §8: `evaluate` reports it), and
    the employees with three or more ziekte dossiers (`crowded`), whose dossiers are only
    compared with their first here. Two dossiers are apart when each recovers after it starts
    and before the other starts. None when two ziekte dossiers of one `employee` key are at
    different employers: then a key is no person."""
    rows = list(compress(range(len(employee)), is_ziekte))
    owners = list(map(employee.__getitem__, rows))
    seen: dict[Hashable, int] = {}
    earlier = list(map(seen.setdefault, owners, rows))
    repeated = list(map(ne, earlier, rows))
    later = list(compress(rows, repeated))
    if not later:
        return set(), set()
    earlier = list(compress(earlier, repeated))
    if not all(map(eq, map(employer_ids.__getitem__, earlier), map(employer_ids.__getitem__, later))):
        return None
    owners = list(compress(owners, repeated))
    seen.clear()
    crowded = set(compress(owners, map(ne, map(seen.setdefault, owners, later), later)))
    first_a, end_a, first_b, end_b = (
        list(map(column.__getitem__, which))
        for column, which in (
            (first_sick, earlier),
            (recovered, earlier),
            (first_sick, later),
            (recovered, later),
        )
    )
    apart = map(or_, map(le, end_a, first_b), map(le, end_b, first_a))
    sound = map(and_, map(lt, first_a, end_a), map(lt, first_b, end_b))
    return set(compress(owners, map(not_, map(and_, apart, sound)))), crowded


def _overlaps_among(
    candidates: set[Hashable],
    owners: Sequence[Hashable],
    is_ziekte: list[bool],
    first_sick: list[int],
    recovered: list[int],
) -> set[Hashable]:
    """Which of `candidates` (values of `owners`, one per row: employees or runs) have two
    ziekte dossiers that might overlap: in order of first_sick_day, each must recover after it
    starts and before the next one starts. Python per dossier, so only for the few employees
    with three or more ziekte dossiers that nothing else keeps."""
    if not candidates:
        return set()
    periods: dict[Hashable, list[tuple[int, int]]] = {owner: [] for owner in candidates}
    wanted = map(and_, is_ziekte, map(candidates.__contains__, owners))
    for owner, first, end in compress(zip(owners, first_sick, recovered, strict=True), wanted):
        periods[owner].append((first, end))
    return {owner for owner, found in periods.items() if not _apart(sorted(found))}


def _apart(periods: list[tuple[int, int]]) -> bool:
    """Whether sorted (start, end) periods each end after they start and before the next starts."""
    if not all(start < end for start, end in periods):
        return False
    return all(end <= start for (_, end), (start, _) in pairwise(periods))

"""When is a UWV notification due? The rules of RULES.md as pure functions: dossiers and a run
date in, notifications out. No I/O and no clock, so `due`, `check` and `run` agree on any date,
and a test can ask about any date.

One pass per employee: the ziekte dossiers in (first_sick_day, dossier_id) order give the
ziekmeldingen and werkhervattingen, and, walked as 42-week chains, the MLAs and their herstel;
the zwangerschap dossiers give the WAZO applications and the pregnancy window and leave that the
other rules consult. Candidates are cheap dates; a `Notification` (and its blocking problems) is
only built for what the caller gets back, because `evaluate` runs over a million dossiers.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate, compress, count, islice, pairwise, repeat
from operator import add, and_, attrgetter, eq, le, lt, mul, ne, not_, or_, sub

from uwvcli.domain.identifiers import (
    default_risicocode,
    is_valid_aansluitnummer,
    is_valid_bsn,
    is_valid_iban,
    is_valid_loonheffingennummer,
    is_valid_risicocode,
    is_valid_sector,
)
from uwvcli.domain.models import (
    Dossier,
    Employer,
    InputError,
    Kind,
    Notification,
    State,
    ZwReason,
    notification_key,
)
from uwvcli.domain.workdays import shift

MLA_AO_DAY = 288  # the first day of the 42nd week of incapacity (ZW 38(1))
NEW_CHAIN_GAP = 28  # a gap of four weeks or more ends a chain (ZW 29(10))

_DAY = timedelta(days=1)
_DAYS = [timedelta(days=n) for n in range(MLA_AO_DAY)]  # the offsets the MLA count asks for
_MLA_TERM = timedelta(days=7)  # due on AO day 288, statutory deadline AO day 295
_FOURTH_DAY = timedelta(days=3)  # ZW 38a: report on the 4th day (window, bevalling, after leave)
_SIX_WEEKS = timedelta(days=42)  # ZW 38a(3): report by the first day after six weeks
_CHANGE_TERM = timedelta(days=2)  # werkhervatting: UWV asks for changes within two days
_WAZO_DUE_BEFORE_DELIVERY = timedelta(days=70)  # week 30 of the pregnancy (product manual)
_WAZO_DUE_BEFORE_LEAVE = timedelta(days=28)  # keeps two weeks between sending and the deadline
_WAZO_TERM = timedelta(days=14)  # WAZO 3:11: at least two weeks before the leave

_ZW_BY_REASON = {
    "zwangerschap": ZwReason.ZWANGERSCHAP,
    "bevalling": ZwReason.BEVALLING,
    "orgaandonatie": ZwReason.ORGAANDONATIE,
}
_VANGNET = frozenset({"no_risk", "sfb"})
_CARRIES_IBAN = frozenset({Kind.ZW_ZIEKMELDING, Kind.WERKHERVATTING, Kind.WAZO})
# CONTRACT §4 order: due_date, employer_id, dossier_id, kind (the kind's public name, as text).
# The one tie left (a partial and a full werkhervatting on one day) keeps the order in which the
# evaluator emits them: partial before full. The *sending* order of RULES §6 is not this order;
# the journal and the delivery loop apply it (journal.sending_order). A stable sort on these
# fields (in C) is what makes a million cheap to sort.
_ORDER = attrgetter("due_date", "employer_id", "dossier_id", "kind")

PARTIAL = "partial"
FULL = "full"

# How far after an employee's dossier dates the rules can place a due date or deadline, when
# every ziekte dossier is closed (an MLA then falls before the recovery): six weeks after
# first_sick_day (ZW 38a(3)); at most a week after any other date (the MLA's week, the 2 and 4
# day terms); plus the shift past weekends and holidays (at most 5 days; 7 to be safe).
_AFTER_FIRST_SICK_DAY = 42 - 7
QUIET_MARGIN = 7 + 7
# Ordinals of the pre-filter (`relevant`) beyond any real date: a dossier still open on the run
# date; an employer whose link is off (only overlaps count); a date so close to either end of the
# calendar that a term might not be computable (`evaluate` then reports the employee's rows).
_OPEN = date.max.toordinal() + 1
_LINK_OFF = _OPEN + 1
_EDGE = _OPEN + 2
_SAFE = range(date.min.toordinal() + 1000, date.max.toordinal() - 1000)


@dataclass(frozen=True)
class Evaluation:
    notifications: list[Notification]  # not yet sent: due/late/blocked (due_date <= D) and
    #                                    upcoming (D < due_date <= D + horizon); CONTRACT §4 order
    already_sent: list[Notification]  # in-scope keys found in sent_keys, due_date <= D
    handover: list[Notification]  # due before the employer's start_date, deadline on or after it
    input_errors: list[InputError]  # cross-row problems found by the rules (overlaps)


def evaluate(
    employers: Mapping[str, Employer],
    dossiers: Iterable[Dossier],
    run_date: date,
    *,
    horizon: int = 0,
    sent_keys: Container[str] = frozenset(),
) -> Evaluation:
    """Every notification the dossiers call for on `run_date`, sorted as CONTRACT §4 says.

    `sent_keys` are the keys sent successfully (or in flight): they are never returned as to
    send, and a predecessor among them never makes its successor wait."""
    # Grouped per employer, then per employee: a lone dossier (most employees) is stored as
    # itself, so that a million rows do not cost a million lists and key tuples.
    by_employer: dict[str, dict[str, Dossier | list[Dossier]]] = {}
    for dossier in dossiers:
        employees = by_employer.get(dossier.employer_id)
        if employees is None:
            employees = by_employer[dossier.employer_id] = {}
        found = employees.get(dossier.employee_id)
        if found is None:
            employees[dossier.employee_id] = dossier
        elif type(found) is list:
            found.append(dossier)
        else:
            employees[dossier.employee_id] = [found, dossier]

    evaluator = _Evaluator(run_date, max(horizon, 0), sent_keys)
    for employer_id, employees in by_employer.items():
        employer = employers.get(employer_id)
        if employer is None:
            continue  # an unknown employer is the export's input error
        live = evaluator.start_employer(employer)
        for found in employees.values():
            try:
                if type(found) is list:
                    evaluator.employee(found, live)
                elif live:
                    evaluator.lone_dossier(found)
            except OverflowError:  # a date near 9999-12-31: its terms lie beyond the calendar
                evaluator.discard_employee(found if type(found) is list else [found])
    return evaluator.result()


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
      more than QUIET_MARGIN days (six weeks for first_sick_day) before the start date of the
      employer's link (or the link off): whatever there was, it was the previous system's; or
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
    cutoffs = {
        employer.id: employer.start_date.toordinal() - QUIET_MARGIN
        if employer.active and employer.start_date is not None
        else _LINK_OFF
        for employer in employers.values()
    }
    quiet = list(map(lt, latest, map(cutoffs.get, employer_ids, repeat(_LINK_OFF))))
    last_day = run_date.toordinal() + max(horizon, 0)
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
            numbers: dict[tuple[str, str], int] = {}
            owners = list(map(numbers.setdefault, zip(employer_ids, owners, strict=True), count()))
            found = _overlapping(owners, employer_ids, is_ziekte, first_sick, recovered)
            assert found is not None  # one employer per key now
        overlapping, crowded = found
    # Kept: the employees with something the cheap test cannot rule out, unless their sickness
    # is uneventful, and every employee whose dossiers overlap (whatever the dates: an input error).
    hot = set(compress(owners, map(not_, quiet)))
    hot.difference_update(overlapping)
    hot.difference_update(
        _uneventful(hot, owners, column, is_ziekte, first_sick, recovered, last_day, grouped=runs is not None)
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
    last_day: int,
    *,
    grouped: bool,
) -> set[Hashable]:
    """Which `candidates` (values of `owners`, one per row: employees or runs; `grouped` when
    each owner's rows follow each other) have only ordinary sickness whose 42nd week lies
    beyond `last_day` (an ordinal). Ordinary: ziekte dossiers outside the ZW safety net
    (sick_reason overig, vangnet_status none, RULES §3) with no employment_end_date (no ziek
    uit dienst, §4.1), and no pregnancy. Such sickness gives no ziekmelding and no
    werkhervatting, only an MLA on AO day 288 (§4.3) and its herstel after it, so with fewer
    than 288 sick days up to `last_day` in all the dossiers of an employee together (each
    dossier counted from first_sick_day up to its recovery or through `last_day`), no chain
    reaches the 42nd week by then and the rules find nothing. Only the rows of the candidates
    are looked at: the cheap test of `relevant` leaves few."""
    if not candidates:
        return set()
    rows = list(map(candidates.__contains__, owners))
    ordinary = list(compress(is_ziekte, rows))
    for name, value in (("sick_reason", "overig"), ("vangnet_status", "none"), ("employment_end_date", None)):
        ordinary = list(map(and_, ordinary, map(eq, compress(column(name), rows), repeat(value))))
    starts = list(compress(first_sick, rows))
    ends = list(compress(recovered, rows))
    # Dates at the calendar's ends (_EDGE) are left to the rules, which report them.
    ordinary = list(map(and_, ordinary, map(lt, starts, repeat(_OPEN))))
    ordinary = list(map(and_, ordinary, map(lt, ends, repeat(_EDGE))))
    sick_days = map(max, map(sub, map(min, ends, repeat(last_day + 1)), starts), repeat(0))
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
) -> tuple[set[int], set[int]]:
    """`_overlapping` for rows grouped in runs of one employee_id: the runs with two ziekte
    dossiers that might overlap, and the runs with three or more (`crowded`). A run's ziekte
    dossiers follow each other among the ziekte rows, so a run with two has them as neighbours.
    A run may hold two people (one employee_id at two employers, side by side): two dossiers of
    different people compared here can only make the run kept, which is safe."""
    owners = list(compress(runs, is_ziekte))
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


def _ordinals(values: list, run_date: date, *, absent: int, open_after: bool = False) -> list[int]:
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


# ---------------------------------------------------------------- pregnancy dates (RULES §2)


@dataclass(frozen=True, slots=True)
class Pregnancy:
    """The dates of one zwangerschap dossier that every rule uses (WAZO 3:1(2))."""

    dossier: Dossier
    expected_delivery: date  # E
    earliest_leave: date  # Lmin
    latest_leave: date  # Lmax
    window_end: date  # Lw: the window (flexibiliseringsperiode) is [Lmin, Lw)
    leave_start: date  # Ls: the leave is [Ls, Le)
    leave_end: date  # Le

    @classmethod
    def of(cls, dossier: Dossier, expected_delivery: date) -> Pregnancy:
        multiple = dossier.multiple_birth
        after_delivery = expected_delivery + _DAY
        earliest = after_delivery - timedelta(days=70 if multiple else 42)
        latest = after_delivery - timedelta(days=56 if multiple else 28)
        leave_days = timedelta(days=140 if multiple else 112)
        chosen = dossier.leave_start_date
        if chosen is not None:
            return cls(dossier, expected_delivery, earliest, latest, chosen, chosen, chosen + leave_days)
        # Without a chosen start, only the days that are leave whatever she chooses.
        return cls(dossier, expected_delivery, earliest, latest, latest, latest, earliest + leave_days)

    def in_window(self, day: date) -> bool:
        return self.earliest_leave <= day < self.window_end

    def in_leave(self, day: date) -> bool:
        return self.leave_start <= day < self.leave_end


def _in_any_leave(day: date, pregnancies: list[Pregnancy]) -> bool:
    return any(p.in_leave(day) for p in pregnancies)


def _ao_days(start: date, end: date, leaves: list[tuple[date, date]] | None) -> int:
    """The days of [start, end) that are not leave: AO days of a period, or gap days between
    two periods (leave days count as neither, RULES §4.3)."""
    days = (end - start).days
    for leave_start, leave_end in leaves or ():
        overlap = (min(end, leave_end) - max(start, leave_start)).days
        if overlap > 0:
            days -= overlap
    return days


def _nth_ao_day(start: date, n: int, leaves: list[tuple[date, date]] | None) -> date:
    """The date of the n-th (1-based) day from `start` on that is not leave."""
    if not leaves:
        return start + _DAYS[n - 1] if n <= MLA_AO_DAY else start + timedelta(days=n - 1)
    day = start
    for leave_start, leave_end in leaves:  # sorted, disjoint in practice
        if leave_end <= day:
            continue
        if leave_start <= day:
            day = leave_end
            continue
        before_leave = (leave_start - day).days
        if n <= before_leave:
            break
        n -= before_leave
        day = leave_end
    return day + timedelta(days=n - 1)


# ---------------------------------------------------------------- blocking problems (RULES §7)


@dataclass(frozen=True, slots=True)
class _EntityCheck:
    """What the legal entity above one org unit contributes to every notification: computed
    once per org unit, not once per notification."""

    problems: tuple[str, ...]
    loonheffingennummer_problem: str | None  # used only when the employment has none of its own
    iban_problem: str | None  # the entity's IBAN is set but invalid
    notes: tuple[str, ...]


def _check_entity(employer: Employer, org_unit_id: str) -> _EntityCheck:
    entity = employer.legal_entity_for(org_unit_id)
    if entity is None:
        return _EntityCheck(
            problems=(
                f"org unit {org_unit_id} of employer {employer.id} has no legal entity at or above it: "
                "set `legal_entity: true` (with the UWV data) on it or on a parent org unit in the "
                "configuration",
            ),
            loonheffingennummer_problem=None,  # same cause; one problem is enough
            iban_problem=None,
            notes=(),
        )
    where = f"org unit {entity.id} of employer {employer.id} in the configuration"
    problems: list[str] = []
    notes: tuple[str, ...] = ()
    if not entity.uwv_aansluitnummer:
        problems.append(f"the legal entity has no uwv_aansluitnummer: add it to {where}")
    elif not is_valid_aansluitnummer(entity.uwv_aansluitnummer):
        problems.append(
            f"the legal entity's uwv_aansluitnummer is not 15 digits starting with 0: correct it in {where}"
        )
    if not entity.uwv_sector:
        problems.append(f"the legal entity has no uwv_sector: add it to {where}")
    elif not is_valid_sector(entity.uwv_sector):
        problems.append(
            "the legal entity's uwv_sector is not a UWV sector code (001–069 except 036 and 037, "
            f"or 998): correct it in {where}"
        )
    if entity.uwv_risicocode is None:
        if is_valid_sector(entity.uwv_sector):
            code = default_risicocode(entity.uwv_sector)
            notes = (f"risicocode {code} used (UWV's default for sector {entity.uwv_sector})",)
    elif not is_valid_risicocode(entity.uwv_risicocode):
        problems.append(
            f"the legal entity's uwv_risicocode is not two digits: correct it in {where}, or remove it "
            "to use UWV's default"
        )
    if not entity.loonheffingennummer:
        lhn_problem = (
            f"no loonheffingennummer applies: add one to {where}, or to the employment in the HR "
            "system (export field loonheffingennummer)"
        )
    elif not is_valid_loonheffingennummer(entity.loonheffingennummer):
        lhn_problem = (
            "the legal entity's loonheffingennummer is not 9 digits, L, 2 digits with a valid "
            f"11-check on the 9 digits: correct it in {where}"
        )
    else:
        lhn_problem = None
    iban_problem = None
    if entity.iban and not is_valid_iban(entity.iban):
        iban_problem = f"the legal entity's IBAN fails its check (ISO 13616): correct it in {where}"
    return _EntityCheck(tuple(problems), lhn_problem, iban_problem, notes)


def _dossier_problems(dossier: Dossier, carries_iban: bool, entity: _EntityCheck) -> tuple[str, ...]:
    """The problems of §7 that come from the employee's own data, in the order a clerk fixes
    them; each says which export field to correct in the HR system."""
    problems: list[str] = []
    if not dossier.bsn:
        problems.append("BSN is missing: add it to the employee in the HR system (export field bsn)")
    elif not is_valid_bsn(dossier.bsn):
        problems.append("BSN fails the 11-check: correct it in the HR system (export field bsn)")
    if dossier.birth_date is None:
        problems.append(
            "birth date is missing: add it to the employee in the HR system (export field birth_date)"
        )
    problems.extend(entity.problems)
    if dossier.loonheffingennummer:
        if not is_valid_loonheffingennummer(dossier.loonheffingennummer):
            problems.append(
                "the employment's loonheffingennummer is not 9 digits, L, 2 digits with a valid 11-check: "
                "correct or clear it in the HR system (export field loonheffingennummer; it replaces the "
                "legal entity's)"
            )
    elif entity.loonheffingennummer_problem:
        problems.append(entity.loonheffingennummer_problem)
    if carries_iban:
        problems.extend(_iban_problems(dossier, entity))
    return tuple(problems)


def _iban_problems(dossier: Dossier, entity: _EntityCheck) -> list[str]:
    """The IBANs the message would carry (MESSAGES.md): with direct payment the employee's and
    the entity's; otherwise the employment's, else the entity's."""
    invalid_own = (
        "the employment's IBAN fails its check (ISO 13616): correct it in the HR system (export field iban)"
    )
    if dossier.direct_payment:
        problems = []
        if not dossier.iban:
            problems.append(
                "direct_payment is set but the employment has no IBAN: add the employee's IBAN (export "
                "field iban) or clear direct_payment in the HR system"
            )
        elif not is_valid_iban(dossier.iban):
            problems.append(invalid_own)
        if entity.iban_problem:
            problems.append(entity.iban_problem)
        return problems
    if dossier.iban:
        return [] if is_valid_iban(dossier.iban) else [invalid_own]
    return [entity.iban_problem] if entity.iban_problem else []


# ---------------------------------------------------------------- the evaluation


class _Evaluator:
    """Collects the notifications of one run date, employee by employee."""

    def __init__(self, run_date: date, horizon: int, sent_keys: Container[str]):
        self.run_date = run_date
        self.horizon_end = run_date + timedelta(days=min(horizon, (date.max - run_date).days))
        self.sent_keys = sent_keys
        self.notifications: list[Notification] = []
        self.already_sent: list[Notification] = []
        self.handover: list[Notification] = []
        self.input_errors: list[InputError] = []
        # The employer whose employees are being evaluated (`start_employer`).
        self.employer: Employer | None = None
        self.start = run_date
        self.enabled: frozenset[Kind] = frozenset()
        self._entities: dict[str, _EntityCheck] = {}  # by org unit id, for this employer
        self._last_checked: tuple[Dossier | None, bool, tuple[str, ...]] = (None, False, ())

    def discard_employee(self, dossiers: list[Dossier]) -> None:
        """Take back what was found for an employee whose dates cannot be computed with, and
        report each of their rows instead (the rows are skipped, the others go on)."""
        ids = {d.dossier_id for d in dossiers}
        for found in (self.notifications, self.already_sent, self.handover):
            while found and found[-1].dossier_id in ids:
                found.pop()
        self.input_errors.extend(
            InputError(
                source=d.source,
                line=d.line,
                message="a date of this employee's dossiers lies so close to the year 9999 that the UWV "
                "terms cannot be computed: correct it in the HR system. This row was skipped.",
            )
            for d in dossiers
        )

    def result(self) -> Evaluation:
        for found in (self.notifications, self.already_sent, self.handover):
            found.sort(key=_ORDER)
        self.input_errors.sort(key=lambda e: (e.source, e.line if e.line is not None else -1))
        return Evaluation(self.notifications, self.already_sent, self.handover, self.input_errors)

    # ------------------------------------------------------------ one employer, one employee

    def start_employer(self, employer: Employer) -> bool:
        """Evaluate this employer's employees next. Returns whether its link is on (RULES §5.1:
        active, with a start date); without it nothing is in scope, not even the hand-over."""
        self.employer = employer
        self.start = employer.start_date or self.run_date
        self.enabled = frozenset(kind for kind in Kind if employer.enabled(kind))
        self._entities = {}
        return employer.active and employer.start_date is not None

    def lone_dossier(self, dossier: Dossier) -> None:
        """The one dossier of an employee (most of them): no chain, no pregnancy to consult, so
        the MLA is simply due on the dossier's AO day 288 if it is still sick then."""
        if dossier.dossier_type != "ziekte":
            if dossier.expected_delivery_date is not None:
                self._wazo(Pregnancy.of(dossier, dossier.expected_delivery_date))
            return
        first_sick_day = dossier.first_sick_day
        if first_sick_day is None:
            return
        recovered = dossier.recovery_date
        if recovered is not None and recovered > self.run_date:
            recovered = None  # a planned return is not yet a return
        zw_since = self._ziekmelding(dossier, recovered, [])
        mla_due = first_sick_day + _DAYS[MLA_AO_DAY - 1]
        if (recovered is None or mla_due < recovered) and (zw_since is None or zw_since > mla_due):
            self._mla(dossier, mla_due, recovered, first_sick_day, ())

    def employee(self, dossiers: list[Dossier], live: bool) -> None:
        ziekte: list[Dossier] = []
        pregnancies: list[Pregnancy] = []
        for dossier in dossiers:
            if dossier.dossier_type == "ziekte":
                if dossier.first_sick_day is not None:
                    ziekte.append(dossier)
            elif dossier.expected_delivery_date is not None:
                pregnancies.append(Pregnancy.of(dossier, dossier.expected_delivery_date))
        if len(ziekte) > 1:
            ziekte.sort(key=lambda d: (d.first_sick_day, d.dossier_id))
            ziekte = self._without_overlaps(ziekte)
        if not live:
            return  # overlaps are input errors whatever the link's state; nothing else counts
        if pregnancies:
            pregnancies.sort(key=lambda p: (p.earliest_leave, p.dossier.dossier_id))
            for pregnancy in pregnancies:
                self._wazo(pregnancy)
        if ziekte:
            self._sickness(ziekte, pregnancies)

    def _without_overlaps(self, ziekte: list[Dossier]) -> list[Dossier]:
        """RULES §8: a dossier that starts before the previous one's recovery_date, or while it
        is still open, is an input error and is skipped; the next is compared with the last
        dossier kept. (The recorded recovery_date counts here, even a planned one: whether the
        data contradict themselves does not depend on the run date.)"""
        kept = [ziekte[0]]
        for dossier in ziekte[1:]:
            previous = kept[-1]
            if previous.recovery_date is None:
                reason = (
                    f"dossier {previous.dossier_id} of the same employee is still open (no recovery_date)"
                )
            elif dossier.first_sick_day < previous.recovery_date:
                reason = f"it starts before the recovery_date of dossier {previous.dossier_id}"
            else:
                kept.append(dossier)
                continue
            self.input_errors.append(
                InputError(
                    source=dossier.source,
                    line=dossier.line,
                    field="first_sick_day",
                    message=(
                        f"overlaps dossier {previous.dossier_id}: {reason}; correct first_sick_day or "
                        "close the other dossier in the HR system. This row was skipped."
                    ),
                )
            )
        return kept

    def _sickness(self, ziekte: list[Dossier], pregnancies: list[Pregnancy]) -> None:
        """Ziekmeldingen and werkhervattingen per dossier; MLAs and herstel along the chains."""
        run_date = self.run_date
        leaves = sorted((p.leave_start, p.leave_end) for p in pregnancies) if pregnancies else None
        chain_first = ziekte[0].first_sick_day
        chain_ao_days = 0  # AO days of the chain before the current dossier
        periods: list[tuple[date, date]] = []  # (first, last AO day) of the chain's earlier dossiers
        previous_end: date | None = None
        last = len(ziekte) - 1
        for index, dossier in enumerate(ziekte):
            first_sick_day: date = dossier.first_sick_day
            recovered = dossier.recovery_date
            if recovered is not None and recovered > run_date:
                recovered = None  # a planned return is not yet a return
            # Where this dossier's AO days stop: its recovery or, while a planned return keeps it
            # open, the start of the next (future) dossier; None = still open.
            end = recovered if recovered is not None or index == last else ziekte[index + 1].first_sick_day

            zw_since = self._ziekmelding(dossier, recovered, pregnancies)

            if previous_end is not None and _ao_days(previous_end, first_sick_day, leaves) >= NEW_CHAIN_GAP:
                chain_first, chain_ao_days, periods = first_sick_day, 0, []
            mla_due = _nth_ao_day(first_sick_day, max(MLA_AO_DAY - chain_ao_days, 1), leaves)
            if end is None or mla_due < end:  # the chain reaches AO day 288 in this dossier
                suppressed = zw_since is not None and zw_since <= mla_due  # ZW 38(4): UWV knows
                if not suppressed:
                    self._mla(dossier, mla_due, recovered, chain_first, tuple(periods))
            if end is not None:
                ao_days = _ao_days(first_sick_day, end, leaves)
                if ao_days > 0:
                    periods.append((first_sick_day, end - _DAY))
                    chain_ao_days += ao_days
            previous_end = end

    # ------------------------------------------------------------ zw-ziekmelding, werkhervatting

    def _ziekmelding(
        self, dossier: Dossier, recovered: date | None, pregnancies: list[Pregnancy]
    ) -> date | None:
        """Emit the dossier's zw-ziekmelding and werkhervattingen (RULES §4.1, §4.2). Returns the
        day from which the dossier is in the ZW safety net (None: it is not), which suppresses
        an MLA due on or after it."""
        first_sick_day: date = dossier.first_sick_day
        employment_end = dossier.employment_end_date
        if pregnancies:
            if _in_any_leave(first_sick_day, pregnancies):
                return None  # sickness during WAZO leave is not reported: the leave continues
        elif dossier.sick_reason == "overig" and dossier.vangnet_status == "none" and employment_end is None:
            return None  # the common case, decided without the calls below
        qualification = _zw_qualification(dossier, first_sick_day, recovered, pregnancies)
        ends_sick = None  # the last day of the employment when the employee is sick on it
        if (
            employment_end is not None
            and first_sick_day <= employment_end
            and (recovered is None or recovered > employment_end)
        ):
            ends_sick = employment_end
        if qualification is not None and (ends_sick is None or qualification[1] <= ends_sick):
            reason, due, fourth_day = qualification
            deadline = shift(due + _FOURTH_DAY) if fourth_day else shift(first_sick_day + _SIX_WEEKS)
            if ends_sick is not None:
                deadline = min(deadline, shift(ends_sick + _DAY))
        elif ends_sick is not None:  # ziek uit dienst: in the safety net only because the employment ends
            reason, due, deadline = ZwReason.ZIEK_UIT_DIENST, ends_sick, shift(ends_sick + _DAY)
        else:
            return None
        predecessor = self._emit(
            dossier,
            Kind.ZW_ZIEKMELDING,
            due,
            deadline,
            zw_reason=reason,
            first_ao_day=first_sick_day,
            employment_ends=ends_sick is not None,
        )
        if reason is ZwReason.ZIEK_UIT_DIENST:
            return None
        if Kind.ZW_ZIEKMELDING in self.enabled:
            self._werkhervatting(dossier, recovered, pregnancies, due, deadline, predecessor)
        return due

    def _werkhervatting(
        self,
        dossier: Dossier,
        recovered: date | None,
        pregnancies: list[Pregnancy],
        ziekmelding_due: date,
        ziekmelding_deadline: date,
        predecessor: str | None,
    ) -> None:
        """Partial and full return to work of a ZW recipient. Neither is due before, nor has a
        deadline earlier than, the ziekmelding it follows (ZW 38a(6): both may go together)."""
        partial = dossier.partial_recovery_date
        if partial is not None:
            predecessor = self._emit(
                dossier,
                Kind.WERKHERVATTING,
                max(partial, ziekmelding_due),
                max(shift(partial + _CHANGE_TERM), ziekmelding_deadline),
                variant=PARTIAL,
                waits_for=predecessor,
                specific=()
                if dossier.partial_daily_wage is not None
                else (
                    "the partial return to work has no partial_daily_wage (gross SV wage per day while "
                    "working partially): add it in the HR system",
                ),
                first_ao_day=dossier.first_sick_day,
            )
        if recovered is not None and not (pregnancies and _in_any_leave(recovered, pregnancies)):
            reported = dossier.recovery_reported_date or recovered
            self._emit(
                dossier,
                Kind.WERKHERVATTING,
                recovered,
                max(shift(max(reported, recovered) + _CHANGE_TERM), ziekmelding_deadline),
                variant=FULL,
                waits_for=predecessor,
                first_ao_day=dossier.first_sick_day,
            )

    # ------------------------------------------------------------ 42e-weeksmelding, herstel

    def _mla(
        self,
        dossier: Dossier,
        due: date,
        recovered: date | None,
        chain_first: date,
        earlier_periods: tuple[tuple[date, date], ...],
    ) -> None:
        predecessor = self._emit(
            dossier,
            Kind.MLA,
            due,
            due + _MLA_TERM,
            first_ao_day=chain_first,
            earlier_periods=earlier_periods,
        )
        if recovered is not None and recovered > due and Kind.MLA in self.enabled:
            self._emit(
                dossier,
                Kind.HERSTEL_MLA,
                recovered,
                None,
                waits_for=predecessor,
                first_ao_day=chain_first,
                earlier_periods=earlier_periods,
            )

    # ------------------------------------------------------------ wazo

    def _wazo(self, pregnancy: Pregnancy) -> None:
        dossier = pregnancy.dossier
        chosen = dossier.leave_start_date
        leave_start = pregnancy.earliest_leave if chosen is None else chosen
        lawful = chosen is None or pregnancy.earliest_leave <= chosen <= pregnancy.latest_leave
        self._emit(
            dossier,
            Kind.WAZO,
            min(
                pregnancy.expected_delivery - _WAZO_DUE_BEFORE_DELIVERY, leave_start - _WAZO_DUE_BEFORE_LEAVE
            ),
            leave_start - _WAZO_TERM,
            specific=()
            if lawful
            else (
                "leave_start_date lies outside the lawful window (from 6 to 4 weeks before the expected "
                "delivery date; 10 to 8 weeks for a multiple birth): correct it in the HR system",
            ),
            notes=("earliest lawful leave start assumed",) if chosen is None else (),
            leave_start=leave_start,
            leave_start_assumed=chosen is None,
        )

    # ------------------------------------------------------------ scope and state

    def _emit(
        self,
        dossier: Dossier,
        kind: Kind,
        due: date,
        deadline: date | None,
        *,
        variant: str | None = None,
        waits_for: str | None = None,
        specific: tuple[str, ...] = (),
        notes: tuple[str, ...] = (),
        **details: object,
    ) -> str | None:
        """Place one candidate (RULES §5, §6). Returns its key when it is listed with problems,
        so that its successor waits for it; None when it does not hold anything up."""
        employment_end = dossier.employment_end_date
        if employment_end is not None and due > employment_end:
            return None  # after the employment ends the employer sends nothing else
        if kind not in self.enabled:
            return None
        start = self.start
        if due < start:
            if deadline is not None and deadline >= start:
                key = notification_key(dossier.employer_id, dossier.dossier_id, kind, variant)
                if key not in self.sent_keys:
                    state = self._state(due, deadline, ())
                    self.handover.append(
                        _build(key, kind, dossier, due, deadline, state, (), variant, (), details)
                    )
            return None
        if start > self.run_date or due > self.horizon_end:
            return None
        key = notification_key(dossier.employer_id, dossier.dossier_id, kind, variant)
        entity = self._entity(dossier.org_unit_id)
        problems = self._problems(dossier, kind, entity) + specific
        if entity.notes:
            notes = entity.notes + notes
        if key in self.sent_keys:
            if due <= self.run_date:
                state = self._state(due, deadline, problems)
                found = _build(key, kind, dossier, due, deadline, state, problems, variant, notes, details)
                self.already_sent.append(found)
            return None
        if waits_for is not None:
            problems += (f"waits for {waits_for}",)
            details["waits_for"] = waits_for
        state = self._state(due, deadline, problems)
        self.notifications.append(
            _build(key, kind, dossier, due, deadline, state, problems, variant, notes, details)
        )
        return key if problems else None

    def _problems(self, dossier: Dossier, kind: Kind, entity: _EntityCheck) -> tuple[str, ...]:
        """The §7 problems of the dossier for this kind. The notifications of one dossier are
        placed one after another, so the last answer is kept for the next."""
        carries_iban = kind in _CARRIES_IBAN
        last, last_carries_iban, found = self._last_checked
        if last is not dossier or last_carries_iban != carries_iban:
            found = _dossier_problems(dossier, carries_iban, entity)
            self._last_checked = (dossier, carries_iban, found)
        return found

    def _state(self, due: date, deadline: date | None, problems: object) -> State:
        if due > self.run_date:
            return State.UPCOMING
        if problems:
            return State.BLOCKED
        if deadline is not None and self.run_date > deadline:
            return State.LATE
        return State.DUE

    def _entity(self, org_unit_id: str) -> _EntityCheck:
        found = self._entities.get(org_unit_id)
        if found is None:
            found = self._entities[org_unit_id] = _check_entity(self.employer, org_unit_id)
        return found


def _build(
    key: str,
    kind: Kind,
    dossier: Dossier,
    due: date,
    deadline: date | None,
    state: State,
    problems: tuple[str, ...],
    variant: str | None,
    notes: tuple[str, ...],
    details: dict[str, object],
) -> Notification:
    return Notification(
        key=key,
        kind=kind,
        employer_id=dossier.employer_id,
        employee_id=dossier.employee_id,
        dossier_id=dossier.dossier_id,
        due_date=due,
        deadline=deadline,
        state=state,
        problems=problems,
        variant=variant,
        notes=notes,
        **details,  # type: ignore[arg-type]
    )


def _zw_qualification(
    dossier: Dossier, first_sick_day: date, recovered: date | None, pregnancies: list[Pregnancy]
) -> tuple[ZwReason, date, bool] | None:
    """Whether a ziekte dossier is in the ZW safety net (RULES §3): (reason, the day its report
    is due, whether the 4th-day term applies), or None."""
    in_window = bool(pregnancies) and any(p.in_window(first_sick_day) for p in pregnancies)
    sick_reason = dossier.sick_reason
    reason = _ZW_BY_REASON.get(sick_reason)
    if reason is None:
        if in_window:
            reason = ZwReason.PREGNANCY_WINDOW
        elif dossier.vangnet_status in _VANGNET:
            reason = ZwReason.VANGNET
        else:
            for pregnancy in pregnancies:  # sick before the window and still sick when it opens
                opens = pregnancy.earliest_leave
                if first_sick_day < opens and (recovered is None or recovered > opens):
                    return ZwReason.PREGNANCY_WINDOW, opens, True
            return None
    fourth_day = (
        in_window
        or sick_reason == "bevalling"
        or (sick_reason == "zwangerschap" and any(p.leave_end <= first_sick_day for p in pregnancies))
    )
    return reason, first_sick_day, fourth_day

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

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter

from uwvcli.domain import ordering, problems
from uwvcli.domain.blocking import CARRIES_IBAN, EntityCheck, check_entity, dossier_problems
from uwvcli.domain.keys import AnyKey, NotificationKey, Variant
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import (
    Dossier,
    Employer,
    InputError,
    Kind,
    Notification,
    State,
    ZwReason,
)
from uwvcli.domain.problems import Code, Note, Problem
from uwvcli.domain.workdays import shift

MLA_AO_DAY = 288  # the first day of the 42nd week of incapacity (ZW 38(1))
NEW_CHAIN_GAP = 28  # a gap of four weeks or more ends a chain (ZW 29(10))

_DAY = timedelta(days=1)
_DAYS = [timedelta(days=n) for n in range(MLA_AO_DAY)]  # the offsets the MLA count asks for
# The terms the rules add to a date (public: the pre-filter, `prefilter.py`, derives its margins
# from them).
MLA_TERM = timedelta(days=7)  # due on AO day 288, statutory deadline AO day 295
FOURTH_DAY = timedelta(days=3)  # ZW 38a: report on the 4th day (window, bevalling, after leave)
SIX_WEEKS = timedelta(days=42)  # ZW 38a(3): report by the first day after six weeks
CHANGE_TERM = timedelta(days=2)  # werkhervatting: UWV asks for changes within two days
NEXT_DAY = timedelta(days=1)  # ziek uit dienst: a report on the next working day is on time
_WAZO_DUE_BEFORE_DELIVERY = timedelta(days=70)  # week 30 of the pregnancy (product manual)
_WAZO_DUE_BEFORE_LEAVE = timedelta(days=28)  # keeps two weeks between sending and the deadline
_WAZO_TERM = timedelta(days=14)  # WAZO 3:11: at least two weeks before the leave

_ZW_BY_REASON = {
    "zwangerschap": ZwReason.ZWANGERSCHAP,
    "bevalling": ZwReason.BEVALLING,
    "orgaandonatie": ZwReason.ORGAANDONATIE,
}
_VANGNET = frozenset({"no_risk", "sfb"})
# CONTRACT §4 order: due_date, employer_id, dossier_id, kind (the kind's public name, as text).
# The one tie left (a partial and a full werkhervatting on one day) keeps the order in which the
# evaluator emits them: a successor after the predecessors it may wait for (`ordering`), so partial
# before full. The *sending* order of RULES §6 is not this order; `ordering.sending_order` is. A
# stable sort on these fields (in C) is what makes a million cheap to sort.
_ORDER = attrgetter("due_date", "employer_id", "dossier_id", "kind")


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
    sent_keys: Container[AnyKey] = frozenset(),
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
        elif isinstance(found, list):
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
                if isinstance(found, list):
                    evaluator.employee(found, live)
                elif live:
                    evaluator.lone_dossier(found)
            except OverflowError:  # a date near 9999-12-31: its terms lie beyond the calendar
                evaluator.discard_employee(found if isinstance(found, list) else [found])
    return evaluator.result()


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


# ---------------------------------------------------------------- the evaluation


class _Evaluator:
    """Collects the notifications of one run date, employee by employee."""

    def __init__(self, run_date: date, horizon: int, sent_keys: Container[AnyKey]):
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
        self._entities: dict[str, EntityCheck] = {}  # by org unit id, for this employer
        self._last_checked: tuple[Dossier | None, bool, tuple[Problem, ...]] = (None, False, ())
        # The keys of one dossier listed with problems: its successors wait for them (RULES §6).
        # Predecessor and successor share the dossier, and a dossier's notifications are placed
        # one after another, so only the last dossier with such a key is remembered.
        self._held_back: set[NotificationKey] = set()
        self._held_back_of: Dossier | None = None

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
            self._mla(dossier, mla_due, first_sick_day, ())

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
            assert dossier.first_sick_day is not None  # `employee` keeps only dossiers with one
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
        assert chain_first is not None  # `employee` keeps only dossiers with a first sick day
        chain_ao_days = 0  # AO days of the chain before the current dossier
        periods: list[tuple[date, date]] = []  # (first, last AO day) of the chain's earlier dossiers
        previous_end: date | None = None
        last = len(ziekte) - 1
        for index, dossier in enumerate(ziekte):
            first_sick_day = dossier.first_sick_day
            assert first_sick_day is not None
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
                    self._mla(dossier, mla_due, chain_first, tuple(periods))
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
        first_sick_day = dossier.first_sick_day
        assert first_sick_day is not None  # both callers pass only dossiers with one
        employment_end = dossier.employment_end_date
        if pregnancies:
            if _in_any_leave(first_sick_day, pregnancies):
                return None  # sickness during WAZO leave is not reported: the leave continues
        elif is_ordinary_sickness(dossier.sick_reason, dossier.vangnet_status, employment_end):
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
            deadline = shift(due + FOURTH_DAY) if fourth_day else shift(first_sick_day + SIX_WEEKS)
            if ends_sick is not None:
                deadline = min(deadline, shift(ends_sick + NEXT_DAY))
        elif ends_sick is not None:  # ziek uit dienst: in the safety net only because the employment ends
            reason, due, deadline = ZwReason.ZIEK_UIT_DIENST, ends_sick, shift(ends_sick + NEXT_DAY)
        else:
            return None
        self._emit(
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
            self._werkhervatting(dossier, pregnancies, due, deadline)
        return due

    def _werkhervatting(
        self,
        dossier: Dossier,
        pregnancies: list[Pregnancy],
        ziekmelding_due: date,
        ziekmelding_deadline: date,
    ) -> None:
        """Partial and full return to work of a ZW recipient. Neither has a deadline earlier than
        the ziekmelding it follows (ZW 38a(6): both may go together), and the partial one is never
        due before it. The full one is due on the recorded recovery_date, also a planned one
        (RULES §1): listed as upcoming until then, never sent before it."""
        recovered = dossier.recovery_date
        partial = dossier.partial_recovery_date
        if partial is not None:
            self._emit(
                dossier,
                Kind.WERKHERVATTING,
                max(partial, ziekmelding_due),
                max(shift(partial + CHANGE_TERM), ziekmelding_deadline),
                variant=Variant.PARTIAL,
                specific=()
                if dossier.partial_daily_wage is not None
                else (Problem.of(Code.PARTIAL_DAILY_WAGE_MISSING),),
                first_ao_day=dossier.first_sick_day,
            )
        if recovered is not None and not (pregnancies and _in_any_leave(recovered, pregnancies)):
            reported = dossier.recovery_reported_date or recovered
            self._emit(
                dossier,
                Kind.WERKHERVATTING,
                recovered,
                max(shift(max(reported, recovered) + CHANGE_TERM), ziekmelding_deadline),
                variant=Variant.FULL,
                first_ao_day=dossier.first_sick_day,
            )

    # ------------------------------------------------------------ 42e-weeksmelding, herstel

    def _mla(
        self,
        dossier: Dossier,
        due: date,
        chain_first: date,
        earlier_periods: tuple[tuple[date, date], ...],
    ) -> None:
        """The MLA and, when its dossier recovers after it, the herstel. The recorded
        recovery_date counts, also a planned one (RULES §1): the herstel it causes is listed as
        upcoming and is due only on that date."""
        recovered = dossier.recovery_date
        self._emit(
            dossier,
            Kind.MLA,
            due,
            due + MLA_TERM,
            first_ao_day=chain_first,
            earlier_periods=earlier_periods,
        )
        if recovered is not None and recovered > due and Kind.MLA in self.enabled:
            self._emit(
                dossier,
                Kind.HERSTEL_MLA,
                recovered,
                None,
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
            specific=() if lawful else (Problem.of(Code.LEAVE_START_OUTSIDE_WINDOW),),
            notes=(Note.of(Code.LEAVE_START_ASSUMED, leave_start=leave_start.isoformat()),)
            if chosen is None
            else (),
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
        variant: Variant | None = None,
        specific: tuple[Problem, ...] = (),
        notes: tuple[Note, ...] = (),
        **details: object,
    ) -> None:
        """Place one candidate (RULES §5, §6). One listed with problems holds up its successors
        (`ordering.waits_for`); one out of scope or already sent holds up nothing."""
        employment_end = dossier.employment_end_date
        if employment_end is not None and due > employment_end:
            return None  # after the employment ends the employer sends nothing else
        if kind not in self.enabled:
            return None
        start = self.start
        if due < start:
            if deadline is not None and deadline >= start:
                key = NotificationKey(dossier.employer_id, dossier.dossier_id, kind, variant)
                if key not in self.sent_keys:
                    state = self._state(due, deadline, ())
                    self.handover.append(
                        _build(key, kind, dossier, due, deadline, state, (), variant, (), details)
                    )
            return None
        if start > self.run_date or due > self.horizon_end:
            return None
        key = NotificationKey(dossier.employer_id, dossier.dossier_id, kind, variant)
        entity = self._entity(dossier.org_unit_id)
        blocking = self._problems(dossier, kind, entity) + specific
        if entity.notes:
            notes = entity.notes + notes
        if key in self.sent_keys:
            if due <= self.run_date:
                state = self._state(due, deadline, blocking)
                found = _build(key, kind, dossier, due, deadline, state, blocking, variant, notes, details)
                self.already_sent.append(found)
            return None
        waits = ordering.waits_for(key, self._held_back) if self._held_back_of is dossier else None
        if waits is not None:
            blocking += (problems.waits_for(waits, kind_label(waits.kind, waits.variant), waits.dossier_id),)
            details["waits_for"] = waits
        state = self._state(due, deadline, blocking)
        self.notifications.append(
            _build(key, kind, dossier, due, deadline, state, blocking, variant, notes, details)
        )
        if blocking:
            if self._held_back_of is not dossier:
                self._held_back, self._held_back_of = set(), dossier
            self._held_back.add(key)

    def _problems(self, dossier: Dossier, kind: Kind, entity: EntityCheck) -> tuple[Problem, ...]:
        """The §7 problems of the dossier for this kind. The notifications of one dossier are
        placed one after another, so the last answer is kept for the next."""
        carries_iban = kind in CARRIES_IBAN
        last, last_carries_iban, found = self._last_checked
        if last is not dossier or last_carries_iban != carries_iban:
            found = dossier_problems(dossier, carries_iban, entity)
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

    def _entity(self, org_unit_id: str) -> EntityCheck:
        found = self._entities.get(org_unit_id)
        if found is None:
            assert self.employer is not None  # set by `start_employer` before any dossier
            found = self._entities[org_unit_id] = check_entity(self.employer, org_unit_id)
        return found


def _build(
    key: NotificationKey,
    kind: Kind,
    dossier: Dossier,
    due: date,
    deadline: date | None,
    state: State,
    problems: tuple[Problem, ...],
    variant: Variant | None,
    notes: tuple[Note, ...],
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


def is_ordinary_sickness(sick_reason: str, vangnet_status: str, employment_end_date: date | None) -> bool:
    """Whether a ziekte dossier's own fields keep it out of the ZW safety net: no ZW reason, no
    no-risk or sfb status (RULES §3) and no end of employment (ziek uit dienst, §4.1). Only a
    pregnancy of the employee can still bring it in; otherwise it gives only an MLA and its
    herstel. (The pre-filter's shortcut for ordinary sickness asks the same.)"""
    return sick_reason not in _ZW_BY_REASON and vangnet_status not in _VANGNET and employment_end_date is None


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
                # Only a window that has a first day: with leave_start_date on Lmin (or before it)
                # the window is empty and the sickness runs straight into the leave (RULES §3).
                if (
                    pregnancy.in_window(opens)
                    and first_sick_day < opens
                    and (recovered is None or recovered > opens)
                ):
                    return ZwReason.PREGNANCY_WINDOW, opens, True
            return None
    fourth_day = (
        in_window
        or sick_reason == "bevalling"
        or (sick_reason == "zwangerschap" and any(p.leave_end <= first_sick_day for p in pregnancies))
    )
    return reason, first_sick_day, fourth_day

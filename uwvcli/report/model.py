"""What the HTML overview shows, as plain data, and how it is ordered: the groups a notification
falls into ("attention first"), and the counts per week for the chart.

Pure: no I/O, no clock. `uwvcli.app.report` fills these from the journal and the rules' preview;
`uwvcli.report.html` turns them into the page. Nothing here holds a BSN, a name or a birth date:
an employee is known by personnel number only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from uwvcli.domain import keys
from uwvcli.domain.models import Kind
from uwvcli.domain.problems import Problem
from uwvcli.recap.mails import AMSTERDAM

WITHDRAWAL_MARK = f"/{keys.WITHDRAWAL_MARK}/"  # `<key>/intrekking/<revision>` (RULES 4.6, CONTRACT §4)
CHART_WEEKS = 12  # the chart shows this many weeks, ending with the report date's week


@dataclass(frozen=True, slots=True)
class LastStatus:
    """The latest status Digipoort reported for a notification's process."""

    code: str
    at: datetime
    description: str  # Digipoort's statusomschrijving, verbatim
    meaning: str  # uwvcli's one-line explanation of the code (and foutcode)
    foutcode: str | None = None
    foutbeschrijving: str | None = None
    findings: tuple[str, ...] = ()  # redacted (digipoort.findings)


@dataclass(frozen=True, slots=True)
class Row:
    """One notification as the journal knows it. `state` is a string on purpose: a state added to
    the journal later still renders (in the group `other`) instead of failing."""

    key: str
    kind: Kind
    employer_id: str
    employee_id: str
    dossier_id: str
    due_date: date
    deadline: date | None
    state: str
    variant: str | None = None  # partial/full of a werkhervatting
    problems: tuple[Problem, ...] = ()
    reason: str | None = None
    aanleverkenmerk: str | None = None
    kenmerk: str | None = None
    submitted: datetime | None = None
    status: LastStatus | None = None

    @property
    def is_withdrawal(self) -> bool:
        return WITHDRAWAL_MARK in self.key


@dataclass(frozen=True, slots=True)
class Planned:
    """A notification the rules' preview expects within the horizon (not sent yet)."""

    key: str
    kind: Kind
    employer_id: str
    employee_id: str
    dossier_id: str
    due_date: date
    deadline: date | None
    variant: str | None = None
    problems: tuple[Problem, ...] = ()  # would block it if not fixed before its due date


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the page shows. `employers`: id -> name, configured ones in configuration order."""

    day: date  # the report date: "late" and the calendar are relative to it
    generated: datetime  # when the file was made (shown, so a stale copy on a share is noticed)
    horizon: int  # days the calendar looks ahead
    employers: Mapping[str, str]
    rows: Sequence[Row]
    planned: Sequence[Planned] = ()
    input_errors: int = 0  # export rows the preview could not read
    plan_problem: str | None = None  # why there is no calendar (an unusable export file)
    since: date | None = None  # settled notifications that last changed before this are left out
    older: int = 0  # how many were left out that way


# ---------------------------------------------------------------- groups: attention first


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    title: str  # Dutch, for payroll staff
    intro: str
    attention: bool  # a person has to act (or at least look)
    colour: str  # the chart's and the badges' colour


REJECTED = Group(
    "rejected",
    "Afgewezen of mislukt",
    "UWV of Digipoort heeft deze meldingen niet verwerkt. Corrigeer de gegevens uiterlijk de dag na de "
    "afwijzing; uwvcli verstuurt de melding bij de volgende run opnieuw.",
    True,
    "#b3261e",
)
BLOCKED = Group(
    "blocked",
    "Geblokkeerd",
    "Deze meldingen kunnen niet worden opgesteld: er ontbreekt iets of iets klopt niet. Los het op; "
    "uwvcli verstuurt ze bij de volgende run.",
    True,
    "#7b1fa2",
)
LATE = Group(
    "late",
    "Te laat, nog niet verzonden",
    "De termijn is verstreken. uwvcli verstuurt ze bij de volgende run; een te late ZW-melding kan een "
    "boete opleveren.",
    True,
    "#c25e00",
)
IN_DOUBT = Group(
    "in_doubt",
    "Onzeker of geparkeerd",
    "Van deze meldingen is niet zeker of ze bij Digipoort zijn aangekomen. uwvcli verstuurt ze niet "
    "opnieuw; de beheerder zoekt het uit en legt de uitkomst vast met `uwvcli resolve`.",
    True,
    "#e08a00",
)
CORRECTION = Group(
    "correction",
    "Correcties en intrekkingen",
    "Intrekkingen van eerder verstuurde meldingen en de gecorrigeerde meldingen die ze vervangen.",
    True,
    "#00796b",
)
OTHER = Group(
    "other",
    "Andere status",
    "Een status die dit overzicht niet kent (een nieuwere uwvcli?): bekijk ze met `uwvcli status`.",
    True,
    "#5f6368",
)
IN_PROGRESS = Group(
    "in_progress",
    "Onderweg",
    "Klaar voor verzending of verzonden; uwvcli volgt de status bij Digipoort.",
    False,
    "#1565c0",
)
DONE = Group(
    "done",
    "Afgerond",
    "Geaccepteerd door UWV, of afgeleverd zonder afwijzing.",
    False,
    "#2e7d32",
)

#: The order of the page and of the chart's stack: everything needing attention first.
GROUPS: tuple[Group, ...] = (REJECTED, BLOCKED, LATE, IN_DOUBT, CORRECTION, OTHER, IN_PROGRESS, DONE)

#: Journal state -> group. A state not in here (added later) falls into OTHER: shown, and flagged.
_STATE_GROUPS: Mapping[str, Group] = {
    "rejected": REJECTED,
    "failed": REJECTED,
    "refused": REJECTED,
    "blocked": BLOCKED,
    "in_doubt": IN_DOUBT,
    "parked": IN_DOUBT,
    "submitting": IN_DOUBT,  # outside a run: a crash's leftover, the next send asks Digipoort
    "written": IN_PROGRESS,
    "submitted": IN_PROGRESS,
    "delivered": DONE,
    "accepted": DONE,
    "cancelled": DONE,  # vervallen: no longer due before it was sent; UWV never had it
    "withdrawn": DONE,  # ingetrokken: UWV accepted its withdrawal (a correction follows, if any)
}

#: Journal states in Dutch; an unknown state is shown as it is.
STATE_LABELS: Mapping[str, str] = {
    "blocked": "geblokkeerd",
    "written": "klaar voor verzending",
    "submitting": "wordt verzonden",
    "in_doubt": "onzeker",
    "parked": "geparkeerd",
    "submitted": "verzonden",
    "delivered": "afgeleverd",
    "accepted": "geaccepteerd",
    "rejected": "afgewezen",
    "failed": "mislukt",
    "refused": "geweigerd (bestand klopte niet)",
    "cancelled": "vervallen (niet verstuurd)",
    "withdrawn": "ingetrokken",
}
PLANNED_STATE = "gepland"  # what the calendar's entries are called in the state filter

#: States in which the notification has not reached Digipoort successfully: a passed deadline
#: makes them late.
_UNSENT = frozenset({"blocked", "written", "refused", "rejected", "failed"})


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def is_late(row: Row, day: date) -> bool:
    """Not (successfully) sent and its deadline has passed on `day` (RULES §6 `late`)."""
    return row.state in _UNSENT and row.deadline is not None and day > row.deadline


def sent_late(row: Row) -> bool:
    """Submitted after its deadline (the day of the submission, in the Netherlands)."""
    if row.submitted is None or row.deadline is None:
        return False
    return row.submitted.astimezone(AMSTERDAM).date() > row.deadline


def corrections(rows: Iterable[Row]) -> frozenset[str]:
    """Keys that take part in a correction: every withdrawal, and the notification it withdraws
    (whose next revision is the corrected one)."""
    keys: set[str] = set()
    for row in rows:
        if row.is_withdrawal:
            keys.add(row.key)
            keys.add(row.key.split(WITHDRAWAL_MARK, 1)[0])
    return frozenset(keys)


def group_of(row: Row, day: date, correcting: frozenset[str] = frozenset()) -> Group:
    """Failures, blocks and doubts first (a rejected withdrawal is a rejection: urgent), then
    late, then corrections, then an unknown state; what is on its way or done comes last."""
    by_state = _STATE_GROUPS.get(row.state, OTHER)
    if by_state in (REJECTED, BLOCKED, IN_DOUBT):
        return by_state
    if is_late(row, day):
        return LATE
    if row.key in correcting:
        return CORRECTION
    return by_state


def ordered(rows: Iterable[Row], day: date) -> list[tuple[Group, Row]]:
    """Rows with their group, attention first (GROUPS order), then by deadline (none last), due
    date and key."""
    rows = list(rows)
    correcting = corrections(rows)
    rank = {group.id: i for i, group in enumerate(GROUPS)}
    grouped = [(group_of(row, day, correcting), row) for row in rows]
    return sorted(
        grouped,
        key=lambda gr: (rank[gr[0].id], gr[1].deadline or date.max, gr[1].due_date, gr[1].key),
    )


# ---------------------------------------------------------------- the chart


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class WeekCounts:
    start: date  # Monday
    counts: Mapping[str, int]  # group id -> notifications due that week

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def week_chart(rows: Iterable[Row], day: date, weeks: int = CHART_WEEKS) -> tuple[list[WeekCounts], int]:
    """Notifications per week of their due date, by group, for the `weeks` weeks ending with the
    week of `day`; and how many fall outside that window (so the chart never hides them silently)."""
    rows = list(rows)
    correcting = corrections(rows)
    last = week_start(day)
    starts = [last - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    counts: dict[date, dict[str, int]] = {start: {} for start in starts}
    outside = 0
    for row in rows:
        bucket = counts.get(week_start(row.due_date))
        if bucket is None:
            outside += 1
            continue
        group = group_of(row, day, correcting)
        bucket[group.id] = bucket.get(group.id, 0) + 1
    return [WeekCounts(start, counts[start]) for start in starts], outside

"""Exactly-once delivery of the outbox to Digipoort, and following what became of it.

Digipoort does not deduplicate: the same message posted twice starts two processes at UWV. So
every submission follows the transactional-outbox discipline (DIGIPOORT.md, "Never twice, never
lost"): the attempt is committed to the journal *before* the POST, the `kenmerk` right after it,
and an attempt without a recorded answer is *in doubt*. An in-doubt message is never resent
blindly: Digipoort lists every process it started for a berichtsoort and loonheffingennummer
(`getProcessen`), so asking it settles the question:

- exactly one process uwvcli does not know, first seen within the attempt's observed window →
  that is ours: adopt its `kenmerk`;
- none, and the processing margin after the attempt ended has passed → the message never
  arrived: resubmitting is safe;
- several unknown candidates, or one whose start cannot be dated → a person must decide (parked).

That decision can only be made because a sender (berichtsoort + loonheffingennummer) never has
two attempts in doubt: one in flight or in doubt holds the sender's other messages back until it
is settled, which the loop tries within the run (`_Check`: getProcessen asked again a few times).

All journal writes happen on the calling thread (SQLite connections belong to one thread and one
writer keeps the ordering obvious); only the network calls run in the thread pool, over one shared
client so connections are reused.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uwvcli.delivery.freshness import Freshness
from uwvcli.delivery.verify import mismatch
from uwvcli.digipoort import codes
from uwvcli.digipoort.client import (
    AanleverResult,
    DigipoortClient,
    DigipoortFault,
    InDoubt,
    NotDelivered,
    ResponseNotTrusted,
)
from uwvcli.domain import ordering
from uwvcli.domain.keys import AnyKey
from uwvcli.domain.models import Config, DeliverySettings, DigipoortSettings, StatusRecord
from uwvcli.errors import SigningError, UwvcliError
from uwvcli.messages.signing import verify_document

if TYPE_CHECKING:
    from cryptography import x509

    from uwvcli.state.journal import Entry, Journal

log = logging.getLogger("uwvcli.delivery")


#: Journal states a report line can end in, besides the journal's own: the message went nowhere
#: this run, for a reason the line names.
NOT_SENT = "not_sent"
WAITING = "waiting"
#: Submitted, but Digipoort's status answers could not be verified (a bad signature, STS100).
UNVERIFIED = "unverified"
#: Submitted longer ago than `overdue_after` and still without a final status.
OVERDUE = "overdue"

ATTENTION_STATES = frozenset(
    {"rejected", "failed", "refused", "parked", "in_doubt", NOT_SENT, UNVERIFIED, OVERDUE}
)


def utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- policy and report


_DEFAULTS = DeliverySettings()


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """The knobs of the send loop; defaults are `digipoort.delivery`'s (docs/delivery.md explains
    each). Tests shrink the times."""

    retries: int = _DEFAULTS.retries  # extra tries after a failure that never reached Digipoort
    backoff_seconds: float = _DEFAULTS.backoff_seconds  # first wait; doubles each retry
    backoff_cap_seconds: float = _DEFAULTS.backoff_cap_seconds
    clock_skew: timedelta = timedelta(seconds=_DEFAULTS.clock_skew_seconds)  # on Digipoort's timestamps
    processing_margin: timedelta = timedelta(seconds=_DEFAULTS.processing_margin_seconds)
    settle_checks: int = _DEFAULTS.settle_checks  # getProcessen in the run after an attempt went in doubt
    settle_wait_seconds: float = _DEFAULTS.settle_wait_seconds
    attempt_timeout: timedelta = timedelta(seconds=30)  # an attempt without a recorded end: its length
    delivered_after: timedelta = timedelta(days=2)  # 400 and no 5xx for this long → delivered
    overdue_after: timedelta = timedelta(days=_DEFAULTS.overdue_after_days)  # submitted, no final status
    poll_interval_seconds: float = 5.0  # between status rounds within one invocation

    @classmethod
    def of(cls, settings: DigipoortSettings) -> DeliveryPolicy:
        delivery = settings.delivery
        return cls(
            retries=delivery.retries,
            backoff_seconds=delivery.backoff_seconds,
            backoff_cap_seconds=delivery.backoff_cap_seconds,
            clock_skew=timedelta(seconds=delivery.clock_skew_seconds),
            processing_margin=timedelta(seconds=delivery.processing_margin_seconds),
            settle_checks=delivery.settle_checks,
            settle_wait_seconds=delivery.settle_wait_seconds,
            attempt_timeout=timedelta(seconds=settings.timeout_seconds),
            overdue_after=timedelta(days=delivery.overdue_after_days),
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one notification in this invocation: one line of `send`'s summary."""

    key: AnyKey
    aanleverkenmerk: str
    state: str  # a journal state, or NOT_SENT / WAITING
    kenmerk: str | None = None
    code: str | None = None  # last Digipoort status code, or the fault's foutcode
    foutcode: str | None = None
    text: str | None = None  # Digipoort's own words (foutbeschrijving / statusomschrijving), verbatim
    reason: str | None = None  # uwvcli's explanation when Digipoort said nothing

    @property
    def needs_attention(self) -> bool:
        return self.state in ATTENTION_STATES


@dataclass(slots=True)
class SendReport:
    deliveries: dict[AnyKey, Delivery] = field(default_factory=dict)  # by key, first seen first

    def note(self, delivery: Delivery) -> None:
        self.deliveries[delivery.key] = delivery

    @property
    def lines(self) -> list[Delivery]:
        return list(self.deliveries.values())

    @property
    def needs_attention(self) -> bool:
        return any(d.needs_attention for d in self.deliveries.values())

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for delivery in self.deliveries.values():
            totals[delivery.state] = totals.get(delivery.state, 0) + 1
        return totals


# ---------------------------------------------------------------- reconciliation (pure)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    verdict: str  # "adopt" | "absent" | "ambiguous" | "wait"
    kenmerk: str | None = None
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Window:
    """What was observed of one attempt, as reconciliation uses it. A process the attempt started
    carries a first timestamp (Digipoort's clock) between `earliest` and `latest`; once our own
    clock passes `absent_after` without one, the attempt never arrived."""

    earliest: datetime  # the attempt began, minus the clock skew
    latest: datetime  # it ended (answer lost, timeout, or the next run's start), plus margin and skew
    absent_after: datetime  # it ended, plus the processing margin: our clock only


def attempt_window(started: datetime, ended: datetime, policy: DeliveryPolicy) -> Window:
    """The window of an attempt begun at `started` and ended (the drop, the timeout, or after a
    crash the start of the next run) at `ended`, both on our clock. Digipoort may still create the
    process for `processing_margin` after the connection ended; its timestamps may be off by
    `clock_skew` either way, which widens the window but never delays "absent"."""
    return Window(
        earliest=started - policy.clock_skew,
        latest=ended + policy.processing_margin + policy.clock_skew,
        absent_after=ended + policy.processing_margin,
    )


def reconcile(
    listed: Mapping[str, datetime | None],
    known: Container[str],
    window: Window,
    now: datetime,
) -> Reconciliation:
    """Decide what became of an in-doubt attempt from Digipoort's list of processes.

    `listed` maps each kenmerk `getProcessen` returned to the moment it was first seen (its earliest
    status), or None when that cannot be told. An undatable unknown process counts as a candidate:
    when unsure, never resend. "absent" is only concluded once `window.absent_after` has passed on
    our clock, so a request still being processed when we asked cannot be missed."""
    candidates = tuple(
        sorted(
            kenmerk
            for kenmerk, first_seen in listed.items()
            if kenmerk not in known and (first_seen is None or window.earliest <= first_seen <= window.latest)
        )
    )
    if len(candidates) == 1 and listed[candidates[0]] is not None:
        return Reconciliation("adopt", candidates[0], candidates)
    if candidates:
        return Reconciliation("ambiguous", None, candidates)
    if now <= window.absent_after:
        return Reconciliation("wait")
    return Reconciliation("absent")


def reconcile_together(
    listed: Mapping[str, datetime | None],
    known: Container[str],
    windows: Sequence[Window],
    now: datetime,
) -> list[Reconciliation]:
    """Decide for every in-doubt attempt of one sender (one berichtsoort and loonheffingennummer)
    at once. Digipoort's list names no aanleverkenmerk, so an unknown process cannot be matched to
    one of several attempts: with more than one in doubt, any candidate makes all of them
    ambiguous (parked, never resent); without candidates each is absent once its own window has
    closed. The send loop never lets a sender have two attempts in doubt, so this only happens
    with state left by an older uwvcli."""
    if len(windows) == 1:
        return [reconcile(listed, known, windows[0], now)]
    together = Window(
        min(w.earliest for w in windows), max(w.latest for w in windows), max(w.absent_after for w in windows)
    )
    decision = reconcile(listed, known, together, now)
    if decision.candidates:
        return [Reconciliation("ambiguous", None, decision.candidates) for _ in windows]
    return [Reconciliation("wait") if now <= w.absent_after else Reconciliation("absent") for w in windows]


# ---------------------------------------------------------------- outcome of a status history (pure)

FINAL_OUTCOMES = ("accepted", "rejected", "failed")


def history_outcome(
    history: Iterable[StatusRecord],
    now: datetime,
    delivered_after: timedelta,
    outcome: Callable[[str, str | None], str | None],
) -> tuple[str | None, StatusRecord | None]:
    """(journal state to set or None while still open, the status that decided it).

    Statuses are ordered by Digipoort's timestamp, not by code. The latest final status wins; a 400
    (delivered to UWV) without a 5xx becomes `delivered` once `delivered_after` has passed since it."""
    ordered = sorted(history, key=lambda s: s.timestamp)
    for status in reversed(ordered):
        verdict = outcome(status.code, status.foutcode)
        if verdict in FINAL_OUTCOMES:
            return verdict, status
    for status in reversed(ordered):
        if outcome(status.code, status.foutcode) == "delivered":
            return ("delivered" if now - status.timestamp >= delivered_after else None), status
    return None, (ordered[-1] if ordered else None)


def is_overdue(
    submitted: datetime | None, history: Iterable[StatusRecord], now: datetime, overdue_after: timedelta
) -> bool:
    """A process still open this long after it was submitted (tijdstempelAangeleverd, else its
    first status) is news: Digipoort's own retries end after 72 hours."""
    since = submitted or min((s.timestamp for s in history), default=None)
    return since is not None and now - since > overdue_after


def backoff_delays(policy: DeliveryPolicy) -> list[float]:
    """Waits before each retry: exponential, capped, bounded in number."""
    return [min(policy.backoff_seconds * 2**i, policy.backoff_cap_seconds) for i in range(policy.retries)]


# ---------------------------------------------------------------- order within an employee


@dataclass(frozen=True, slots=True)
class _Flight:
    """One submission handed to the pool: the entry and its journalled attempt."""

    entry: Entry
    attempt_id: int


@dataclass(slots=True)
class _Check:
    """A sender's attempt(s) in doubt, to be settled with getProcessen within this run: asked
    `left` more times, the next once the monotonic clock reaches `due`. `employee` is set when the
    attempt was made in this run: that employee's queue waits for the answer (RULES §6 order)."""

    sender: tuple[str, str]
    entries: list[Entry]
    left: int
    due: float
    employee: tuple[str, str] | None = None


def _sender(entry: Entry) -> tuple[str | None, str | None]:
    """Who Digipoort lists a process under: berichtsoort and loonheffingennummer."""
    return entry.berichtsoort, entry.loonheffingennummer


def _employee(entry: Entry) -> tuple[str, str]:
    return entry.employer_id, entry.employee_id


class _Unresolved:
    """Keys without a kenmerk this run (not sent, refused, in doubt, waiting…), indexed by dossier,
    the only place a predecessor can be (RULES §6)."""

    def __init__(self, keys: Iterable[AnyKey] = ()):
        self._keys = set(keys)

    def add(self, key: AnyKey) -> None:
        self._keys.add(key)

    def discard(self, key: AnyKey) -> None:
        self._keys.discard(key)

    def predecessor_of(self, key: AnyKey) -> AnyKey | None:
        return ordering.waits_for(key, self._keys)


# ---------------------------------------------------------------- the send loop


def send_outbox(
    config: Config,
    journal: Journal,
    *,
    client: DigipoortClient,
    parallelism: int = 4,
    poll_seconds: float = 60.0,
    progress: Callable[[Delivery], None] | None = None,
    now: Callable[[], datetime] = utc_now,
    policy: DeliveryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    signer: x509.Certificate | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    polled: Callable[[int, int], None] | None = None,
    due_by: date | None = None,
) -> SendReport:
    """Submit every `written` outbox message exactly once, settle in-doubt attempts, then follow
    the statuses of every open process for at most `poll_seconds`. With `due_by` (today), a
    message due later (written by a preview, `run --no-send --date`) waits for its day.

    Once `should_stop()` (a signal) no new message is posted and no new status round begins: the
    messages in flight are finished and recorded, the rest goes with the next run. `polled(open,
    total)` after each status round.

    `signer` (an x509 certificate) is the certificate outbox files must be signed with; None accepts
    the certificate embedded in each file. One message's trouble never raises: it becomes a line
    of the report (and the journal says what to do next)."""
    policy = policy or DeliveryPolicy.of(config.digipoort)
    report = SendReport()
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="digipoort") as pool:
        loop = _SendLoop(
            config, journal, client, policy, report, pool, parallelism, progress, now, sleep, signer
        )
        loop.should_stop = should_stop
        loop.due_by = due_by
        loop.settle_interrupted()
        loop.reconcile_in_doubt()
        loop.submit_outbox()
        if should_stop():
            return report
        follow_statuses(
            journal,
            client=client,
            poll_seconds=poll_seconds,
            report=report,
            now=now,
            policy=policy,
            sleep=sleep,
            pool=pool,
            should_stop=should_stop,
            polled=polled,
        )
    return report


class _SendLoop:
    """The state of one `send_outbox` call. Journal calls only on the calling thread."""

    def __init__(
        self,
        config: Config,
        journal: Journal,
        client: DigipoortClient,
        policy: DeliveryPolicy,
        report: SendReport,
        pool: ThreadPoolExecutor,
        parallelism: int,
        progress: Callable[[Delivery], None] | None,
        now: Callable[[], datetime],
        sleep: Callable[[float], None],
        signer: x509.Certificate | None,
    ):
        self.config = config
        self.journal = journal
        self.client = client
        self.policy = policy
        self.report = report
        self.pool = pool
        self.parallelism = max(1, parallelism)
        self.progress = progress
        self.now = now
        self.sleep = sleep
        self.signer = signer
        self.resent: set[AnyKey] = set()  # keys found absent and put back in line once this run
        self.freshness = Freshness(journal, client, clock_skew=policy.clock_skew)
        # Once one message exhausted its retries without reaching Digipoort, the others would only
        # wait out the same backoff: they are left for the next run instead.
        self.unreachable: str | None = None
        self.should_stop: Callable[[], bool] = lambda: False
        self.due_by: date | None = None

    def note(self, delivery: Delivery) -> None:
        self.report.note(delivery)
        if self.progress is not None:
            self.progress(delivery)

    # -- in doubt

    def settle_interrupted(self) -> None:
        """An attempt still `submitting` at startup belongs to a run that died during its POST. It
        ends now: the start of this run is the latest moment that POST can have been going on."""
        for entry in self.journal.entries(state="submitting"):
            attempt_id = self.journal.attempts(entry.key)[-1].id
            self.journal.record_in_doubt(attempt_id, "no answer recorded: the sending run was interrupted")

    def reconcile_in_doubt(self) -> None:
        """Settle what earlier runs left in doubt, before anything new is posted: ask Digipoort
        which processes it started, per sender (`reconcile_together`). What cannot be decided yet
        is asked again during this run (`submit_outbox`), its sender sending nothing meanwhile."""
        for group in self._groups(self.journal.in_doubt()).values():
            listing = self._listing(*_sender(group[0]))  # type: ignore[arg-type]
            self._decide(group, listing)

    def _groups(self, entries: Iterable[Entry]) -> dict[tuple[str, str], list[Entry]]:
        """In-doubt entries by sender; one that cannot be asked about is parked at once."""
        groups: dict[tuple[str, str], list[Entry]] = {}
        for entry in entries:
            if not entry.berichtsoort or not entry.loonheffingennummer:
                reason = (
                    "in doubt, and the journal lacks its berichtsoort or loonheffingennummer to ask Digipoort"
                )
                self.journal.park(entry.key, reason)
                self.note(_line(entry, "parked", reason=reason))
                continue
            groups.setdefault((entry.berichtsoort, entry.loonheffingennummer), []).append(entry)
        return groups

    def _listing(self, berichtsoort: str, lhnr: str) -> Mapping[str, datetime | None] | str:
        """Digipoort's processes for one sender, each one uwvcli does not know dated by its
        earliest status; or the reason the question could not be answered."""
        try:
            listed = [p.kenmerk for p in self.client.get_processen(berichtsoort, lhnr)]
        except UwvcliError as error:
            return f"Digipoort could not list its processes ({error})"
        return self._dated(listed)

    def _dated(self, listed: Sequence[str]) -> Mapping[str, datetime | None] | str:
        """The listed kenmerken, each unknown one dated by its earliest status. Usually at most one
        is unknown (one attempt per sender in doubt), so they are asked one after the other."""
        dates: dict[str, datetime | None] = {}
        for kenmerk in listed:
            if self.journal.knows_kenmerk(kenmerk):
                dates[kenmerk] = None
                continue
            try:
                history = self.client.get_statussen_proces(kenmerk)
            except UwvcliError as error:
                return f"Digipoort could not date its process {kenmerk} ({error})"
            dates[kenmerk] = min((s.timestamp for s in history), default=None)
        return dates

    def _decide(self, entries: list[Entry], listing: Mapping[str, datetime | None] | str) -> list[str]:
        """Settle one sender's in-doubt entries from a listing; returns each one's verdict."""
        if isinstance(listing, str):
            for entry in entries:
                self.note(_line(entry, "in_doubt", reason=f"still in doubt: {listing}"))
            return ["wait"] * len(entries)
        known = {k for k in listing if self.journal.knows_kenmerk(k)}
        attempts = [self.journal.attempts(entry.key)[-1] for entry in entries]
        windows = [
            attempt_window(a.started, a.finished or a.started + self.policy.attempt_timeout, self.policy)
            for a in attempts
        ]
        decisions = reconcile_together(listing, known, windows, self.now())
        for entry, attempt, decision in zip(entries, attempts, decisions, strict=True):
            self._settle(entry, attempt.id, decision)
        return [decision.verdict for decision in decisions]

    def _settle(self, entry: Entry, attempt_id: int, decision: Reconciliation) -> None:
        if decision.verdict == "adopt":
            assert decision.kenmerk is not None
            self.journal.adopt_kenmerk(entry.key, decision.kenmerk)
            self.note(
                _line(
                    entry,
                    "submitted",
                    kenmerk=decision.kenmerk,
                    reason="was in doubt; found at Digipoort and adopted (not sent again)",
                )
            )
        elif decision.verdict == "absent":
            self.journal.record_not_sent(attempt_id, "in doubt, and Digipoort has no process for it")
        elif decision.verdict == "ambiguous":
            reason = (
                f"in doubt, and Digipoort lists {len(decision.candidates)} processes of this sender that "
                f"uwvcli did not send itself or cannot tell apart ({', '.join(decision.candidates)}), "
                "started while it was being sent (another program submitting for this "
                "loonheffingennummer?): check them with Logius or in the UWV portal, then "
                f"`uwvcli resolve {entry.key} --kenmerk <kenmerk>` or `--not-received`"
            )
            self.journal.park(entry.key, reason)
            self.note(_line(entry, "parked", reason=reason))
        else:
            self.note(
                _line(
                    entry,
                    "in_doubt",
                    reason="no answer, and no process listed at Digipoort yet: asked again",
                )
            )

    # -- submitting

    def submit_outbox(self) -> None:
        """Post every written message; employees run in parallel, one employee's messages in order,
        and a successor only once its predecessor has a kenmerk.

        Never more flights than workers: an attempt is begun only when its POST can start at once,
        so its window is where it really went. And a sender (berichtsoort + loonheffingennummer)
        with an attempt in flight or in doubt sends nothing else until that attempt is settled:
        Digipoort's list of processes names no aanleverkenmerk, so an unknown process can only be
        matched to an attempt that was alone for its sender. An attempt that goes in doubt is
        settled in the run when possible (`_Check`): getProcessen is asked again a few times, and
        the sender's queue goes on once it is adopted or proved absent."""
        unresolved = _Unresolved(e.key for e in self.journal.entries(state=("submitting", "parked")))
        queues: dict[tuple[str, str], deque[Entry]] = {}
        for entry in self.journal.to_submit():
            queues.setdefault(_employee(entry), deque()).append(entry)
        start = time.monotonic()
        checks = [
            _Check(sender, group, self.policy.settle_checks, start + self.policy.settle_wait_seconds)
            for sender, group in self._groups(self.journal.in_doubt()).items()
        ]
        busy: set[tuple[str | None, str | None]] = {check.sender for check in checks}
        for check in checks:
            for entry in check.entries:
                unresolved.add(entry.key)
        ready = deque(queues)
        held: list[tuple[str, str]] = []  # employees whose next message waits for its sender
        flights: dict[Future[AanleverResult], _Flight] = {}
        asking: dict[Future[Any], _Check] = {}
        while True:
            while ready and len(flights) < self.parallelism and not self.should_stop():
                employee = ready.popleft()
                if not self._launch(queues[employee], unresolved, flights, busy):
                    held.append(employee)
            moment = time.monotonic()
            if self.should_stop():
                checks.clear()  # a signal: what is still in doubt is settled by the next run
            for check in [c for c in checks if c.due <= moment]:
                checks.remove(check)
                asking[self.pool.submit(self.client.get_processen, *check.sender)] = check
            if not flights and not asking and not checks:
                for employee in held if not self.should_stop() else ():  # only senders in doubt hold them
                    self._hold_for_doubt(queues[employee], unresolved)
                return
            timeout = max(0.0, min(c.due for c in checks) - moment) if checks else None
            done, _ = wait([*flights, *asking], timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                if future in flights:
                    flight = flights.pop(future)
                    employee = _employee(flight.entry)
                    outcome = self._record(flight, future)
                    if outcome == "in_doubt":  # the employee waits for the answer, the sender too
                        sender = (flight.entry.berichtsoort or "", flight.entry.loonheffingennummer or "")
                        due = time.monotonic() + self.policy.settle_wait_seconds
                        checks.append(
                            _Check(sender, [flight.entry], self.policy.settle_checks, due, employee)
                        )
                        continue
                    busy.discard(_sender(flight.entry))
                    if outcome != "submitted":
                        unresolved.add(flight.entry.key)
                    if queues[employee]:
                        ready.append(employee)
                    continue
                check = asking.pop(future)
                if not self._answer_check(check, future, checks, queues, unresolved, busy):
                    continue
                # The employees of the settled entries go on, unless one of their messages is still
                # in flight or being settled (one employee's messages never overlap: RULES §6).
                active = {_employee(f.entry) for f in flights.values()}
                active |= {c.employee for c in [*checks, *asking.values()] if c.employee is not None}
                for employee in dict.fromkeys(_employee(e) for e in check.entries):
                    if queues.get(employee) and employee not in active and employee not in (*ready, *held):
                        ready.append(employee)
            ready.extend(held)
            held.clear()

    def _answer_check(
        self,
        check: _Check,
        future: Future[Any],
        checks: list[_Check],
        queues: dict[tuple[str, str], deque[Entry]],
        unresolved: _Unresolved,
        busy: set[tuple[str | None, str | None]],
    ) -> bool:
        """Settle a sender's in-doubt attempt(s) from getProcessen's answer. True when the check is
        over (settled, or asked often enough), so the employee's queue may go on."""
        try:
            listing = self._dated([p.kenmerk for p in future.result()])
        except UwvcliError as error:
            listing = f"Digipoort could not list its processes ({error})"
        entries = [self.journal.entry(entry.key) or entry for entry in check.entries]
        verdicts = self._decide(entries, listing)
        if "wait" not in verdicts:
            busy.discard(check.sender)
            for entry, verdict in zip(entries, verdicts, strict=True):
                if verdict == "adopt":
                    unresolved.discard(entry.key)
                elif verdict == "absent":
                    self._again(entry, queues, unresolved)
            return True
        if check.left > 1:
            check.left -= 1
            check.due = time.monotonic() + self.policy.settle_wait_seconds
            checks.append(check)
            return False
        for entry, verdict in zip(entries, verdicts, strict=True):
            if verdict == "wait":
                unresolved.add(entry.key)
                reason = (
                    f"no answer, and no process listed at Digipoort after {self.policy.settle_checks} "
                    "checks: settled on the next run, nothing else of this sender is sent meanwhile"
                )
                self.note(_line(entry, "in_doubt", reason=reason))
        return True

    def _again(
        self, entry: Entry, queues: dict[tuple[str, str], deque[Entry]], unresolved: _Unresolved
    ) -> None:
        """A message proved never to have arrived goes back to the front of its employee's queue,
        once per run (a second time it waits for the next run)."""
        fresh = self.journal.entry(entry.key)
        if fresh is None or entry.key in self.resent:
            unresolved.add(entry.key)
            reason = "did not arrive at Digipoort (checked twice this run): goes on the next run"
            self.note(_line(entry, NOT_SENT, reason=reason))
            return
        self.resent.add(entry.key)
        unresolved.discard(entry.key)
        queues.setdefault(_employee(fresh), deque()).appendleft(fresh)

    def _hold_for_doubt(self, queue: deque[Entry], unresolved: _Unresolved) -> None:
        """Messages of a sender with an attempt still in doubt wait for the next run."""
        while queue:
            entry = queue.popleft()
            unresolved.add(entry.key)
            self.note(
                _line(
                    entry,
                    WAITING,
                    reason="another message of this sender is in doubt at Digipoort; goes on the next run",
                )
            )

    def _launch(
        self,
        queue: deque[Entry],
        unresolved: _Unresolved,
        flights: dict[Future[AanleverResult], _Flight],
        busy: set[tuple[str | None, str | None]],
    ) -> bool:
        """Start the next message of one employee that can go; note the ones that must wait.
        False when that message's sender already has one in flight or in doubt (it stays first in
        line)."""
        while queue:
            entry = queue[0]
            if self.unreachable is None and _sender(entry) in busy:
                return False
            queue.popleft()
            if self.unreachable is not None:
                unresolved.add(entry.key)
                self.note(
                    _line(entry, NOT_SENT, reason=f"not tried: {self.unreachable}; goes on the next run")
                )
                continue
            if self.due_by is not None and entry.due_date > self.due_by:
                unresolved.add(entry.key)
                reason = (
                    f"due on {entry.due_date.isoformat()}: not sent before that day (written by a preview)"
                )
                self.note(_line(entry, WAITING, reason=reason))
                continue
            waits_for = unresolved.predecessor_of(entry.key)
            if waits_for is not None:
                unresolved.add(entry.key)
                self.note(_line(entry, WAITING, reason=f"waits for {waits_for} to reach Digipoort"))
                continue
            stale = self.freshness.verdict(entry)  # a journal older than Digipoort's list stops the sender
            if stale is not None:
                unresolved.add(entry.key)
                self.note(_line(entry, NOT_SENT, reason=stale))
                continue
            payload = self._verified_payload(entry)
            if payload is None:
                unresolved.add(entry.key)
                continue
            attempt_id = self.journal.begin_attempt(entry.key)
            future = self.pool.submit(self._post, entry, payload)
            flights[future] = _Flight(entry, attempt_id)
            busy.add(_sender(entry))
            return True
        return True

    def _verified_payload(self, entry: Entry) -> bytes | None:
        """The message without its signature, or None (and `refused`) when the file is not what
        uwvcli signed: a changed file must never reach UWV."""
        path = Path(entry.file or f"{entry.aanleverkenmerk}.xml")
        if not path.is_absolute():
            path = self.config.paths.outbox / path
        try:
            signed = path.read_bytes()
            payload = verify_document(signed, trusted=self.signer)
            wrong = mismatch(signed, payload, sha256=entry.sha256, aanleverkenmerk=entry.aanleverkenmerk)
            if wrong is None:
                return payload
            reason = f"outbox file {path.name} refused: {wrong}; `uwvcli run` rebuilds it"
        except OSError as error:
            reason = f"outbox file {path.name} cannot be read ({error.strerror}): `uwvcli run` rebuilds it"
        except SigningError as error:
            reason = f"outbox file {path.name} refused: {error}"
        self.journal.record_refused(entry.key, reason)
        self.note(_line(entry, "refused", reason=reason))
        return None

    def _post(self, entry: Entry, payload: bytes) -> AanleverResult:
        """aanleveren, retried with backoff while the request provably never reached Digipoort."""
        # A written entry has all three: prepare writes only what the blocking rules let through.
        assert entry.berichtsoort is not None and entry.loonheffingennummer is not None
        assert entry.aanleverkenmerk is not None
        delays = backoff_delays(self.policy)
        for attempt, delay in enumerate([*delays, None]):
            try:
                return self.client.aanleveren(
                    berichtsoort=entry.berichtsoort,
                    aanleverkenmerk=entry.aanleverkenmerk,
                    loonheffingennummer=entry.loonheffingennummer,
                    rol=self.config.sender.role,
                    bestandsnaam=f"{entry.aanleverkenmerk}.xml",
                    inhoud=payload,
                )
            except NotDelivered as error:  # TransientFault too: not processed, so safe to send again
                if delay is None:
                    raise
                log.info(
                    "%s was not processed by Digipoort (%s); try %d in %.1f s",
                    entry.aanleverkenmerk,
                    error,
                    attempt + 2,
                    delay,
                )
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, flight: _Flight, future: Future[AanleverResult]) -> str:
        """Journal what one POST came to: "submitted" (a kenmerk), "in_doubt", or "unsettled"
        (rejected, not sent)."""
        entry, attempt_id = flight.entry, flight.attempt_id
        try:
            result = future.result()
        except DigipoortFault as fault:
            self.journal.record_fault(attempt_id, fault.foutcode, fault.foutbeschrijving)
            self.note(
                _line(
                    entry,
                    "rejected",
                    code=fault.foutcode,
                    foutcode=fault.foutcode,
                    text=fault.foutbeschrijving,
                )
            )
            return "unsettled"
        except NotDelivered as error:  # TransientFault too: Digipoort did not process it
            tries = self.policy.retries + 1
            reason = f"not processed by Digipoort in {tries} tries ({error}): goes on the next run"
            self.unreachable = f"Digipoort did not take {entry.aanleverkenmerk} ({error})"
            self.journal.record_not_sent(attempt_id, reason)
            self.note(_line(entry, NOT_SENT, reason=reason))
            return "unsettled"
        except (InDoubt, ResponseNotTrusted) as error:
            # An untrusted answer is no answer: its kenmerk is not data (DIGIPOORT.md), yet the message
            # may well have arrived, so it is settled like any other attempt without an answer.
            kind = "answer failed verification" if isinstance(error, ResponseNotTrusted) else "no answer"
            reason = f"{kind} ({error}): in doubt, settled with Digipoort's list of processes"
            self.journal.record_in_doubt(attempt_id, reason)
            self.note(_line(entry, "in_doubt", reason=reason))
            return "in_doubt"
        except Exception as error:  # a bug or an unforeseen transport error: in doubt, never resent blindly
            log.exception("unexpected error while submitting %s", entry.aanleverkenmerk)
            reason = f"unexpected error ({type(error).__name__}): in doubt, settled with Digipoort's list"
            self.journal.record_in_doubt(attempt_id, reason)
            self.note(_line(entry, "in_doubt", reason=reason))
            return "in_doubt"
        self.journal.record_accepted(attempt_id, result.kenmerk, result.timestamp)
        self.note(_line(entry, "submitted", kenmerk=result.kenmerk))
        return "submitted"


def _kenmerk(entry: Entry) -> str:
    """The process id of an open process (`submitted` and `delivered` rows always have one)."""
    assert entry.kenmerk is not None
    return entry.kenmerk


def _line(entry: Entry, state: str, **fields: Any) -> Delivery:
    assert entry.aanleverkenmerk is not None  # the loop sees only written entries and later ones
    return Delivery(key=entry.key, aanleverkenmerk=entry.aanleverkenmerk, state=state, **fields)


# ---------------------------------------------------------------- following statuses


def follow_statuses(
    journal: Journal,
    *,
    client: DigipoortClient,
    poll_seconds: float,
    report: SendReport | None = None,
    now: Callable[[], datetime] = utc_now,
    policy: DeliveryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    pool: ThreadPoolExecutor | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    polled: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Poll every open process until each reaches an end state or `poll_seconds` have passed (or
    `should_stop()`; `polled(open, total)` after each round).

    Every status is journalled (idempotently) before it is interpreted, so nothing Digipoort said is
    lost even when the outcome stays open; processes still open go on with the next invocation."""
    policy = policy or DeliveryPolicy()
    report = report if report is not None else SendReport()
    own_pool = pool is None
    pool = pool or ThreadPoolExecutor(max_workers=4, thread_name_prefix="digipoort-status")
    budget_end = time.monotonic() + poll_seconds
    try:
        while True:
            total = len(journal.open_processes())
            still_open = _poll_round(journal, client, pool, report, now(), policy)
            if polled is not None:
                polled(still_open, total)
            if not still_open or time.monotonic() + policy.poll_interval_seconds > budget_end:
                return report
            sleep(policy.poll_interval_seconds)
            if should_stop():
                return report
    finally:
        if own_pool:
            pool.shutdown()


def _poll_round(
    journal: Journal,
    client: DigipoortClient,
    pool: ThreadPoolExecutor,
    report: SendReport,
    moment: datetime,
    policy: DeliveryPolicy,
) -> int:
    """One getStatussenProces per open process; returns how many stay open."""
    entries = list(journal.open_processes())
    futures = {pool.submit(client.get_statussen_proces, _kenmerk(entry)): entry for entry in entries}
    still_open = 0
    for future, entry in futures.items():
        try:
            statuses: Sequence[StatusRecord] = future.result()
        except (ResponseNotTrusted, DigipoortFault) as error:
            # Nothing Digipoort said about this process could be believed: that is news, not
            # silence (exit 1, named in the recap), or a message could stay `submitted` forever.
            still_open += 1
            reason = f"Digipoort's status answer cannot be used ({error}): asked again next run"
            report.note(_line(entry, UNVERIFIED, kenmerk=entry.kenmerk, reason=reason))
            continue
        except UwvcliError as error:
            still_open += 1
            previous = report.deliveries.get(entry.key) or _line(entry, entry.state, kenmerk=entry.kenmerk)
            report.note(replace(previous, reason=f"statuses not fetched ({error}): asked again next run"))
            continue
        journal.add_statuses(_kenmerk(entry), statuses)
        history = journal.status_history(_kenmerk(entry))
        verdict, decisive = history_outcome(history, moment, policy.delivered_after, codes.outcome)
        overdue = verdict is None and is_overdue(entry.submitted, history, moment, policy.overdue_after)
        if verdict is not None:
            journal.set_outcome(entry.key, verdict)
        else:
            still_open += 1
        report.note(
            _line(
                entry,
                verdict or (OVERDUE if overdue else entry.state),
                reason=(
                    f"submitted more than {policy.overdue_after.days} days ago and still without a final "
                    "status: ask the Logius Servicecentrum about this kenmerk"
                )
                if overdue
                else None,
                kenmerk=entry.kenmerk,
                code=decisive.code if decisive else None,
                foutcode=decisive.foutcode if decisive else None,
                text=(decisive.foutbeschrijving or decisive.description) if decisive else None,
            )
        )
    return still_open

"""Exactly-once delivery of the outbox to Digipoort, and following what became of it.

Digipoort does not deduplicate: the same message posted twice starts two processes at UWV. So
every submission follows the transactional-outbox discipline (DIGIPOORT.md, "Never twice, never
lost"): the attempt is committed to the journal *before* the POST, the `kenmerk` right after it,
and an attempt without a recorded answer is *in doubt*. An in-doubt message is never resent
blindly: Digipoort lists every process it started for a berichtsoort and loonheffingennummer
(`getProcessen`), so asking it settles the question:

- exactly one process uwvcli does not know, first seen within the attempt's time window → that is
  ours: adopt its `kenmerk`;
- none, and the window has closed → the message never arrived: resubmitting is safe;
- several unknown candidates, or one whose start cannot be dated → a person must decide (parked).

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

from uwvcli.digipoort import codes
from uwvcli.digipoort.client import (
    AanleverResult,
    DigipoortClient,
    DigipoortFault,
    InDoubt,
    NotDelivered,
    ResponseNotTrusted,
)
from uwvcli.domain.models import Config, Kind, StatusRecord
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

ATTENTION_STATES = frozenset({"rejected", "failed", "refused", "parked", "in_doubt", NOT_SENT})


def utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- policy and report


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """The knobs of the send loop. Defaults suit the 16:00 cron run; tests shrink the times."""

    retries: int = 4  # extra tries after a transport failure that never reached Digipoort
    backoff_seconds: float = 1.0  # first wait; doubles each retry
    backoff_cap_seconds: float = 30.0
    clock_skew: timedelta = timedelta(minutes=5)  # between our clock and Digipoort's timestamps
    attempt_timeout: timedelta = timedelta(seconds=30)  # how long an attempt may have been in flight
    delivered_after: timedelta = timedelta(days=2)  # 400 and no 5xx for this long → delivered
    poll_interval_seconds: float = 5.0  # between status rounds within one invocation


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one notification in this invocation: one line of `send`'s summary."""

    key: str
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
    deliveries: dict[str, Delivery] = field(default_factory=dict)  # by key, in the order first seen

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


def reconcile(
    listed: Mapping[str, datetime | None],
    known: Container[str],
    window: tuple[datetime, datetime],
    now: datetime,
) -> Reconciliation:
    """Decide what became of an in-doubt attempt from Digipoort's list of processes.

    `listed` maps each kenmerk `getProcessen` returned to the moment it was first seen (its earliest
    status), or None when that cannot be told. `window` is when the attempt could have arrived, clock
    skew included. An undatable unknown process counts as a candidate: when unsure, never resend.
    "absent" is only concluded once the window has closed, so a request still being processed
    when we asked cannot be missed."""
    start, end = window
    candidates = tuple(
        sorted(
            kenmerk
            for kenmerk, first_seen in listed.items()
            if kenmerk not in known and (first_seen is None or start <= first_seen <= end)
        )
    )
    if len(candidates) == 1 and listed[candidates[0]] is not None:
        return Reconciliation("adopt", candidates[0], candidates)
    if candidates:
        return Reconciliation("ambiguous", None, candidates)
    if now <= end:
        return Reconciliation("wait")
    return Reconciliation("absent")


def reconcile_together(
    listed: Mapping[str, datetime | None],
    known: Container[str],
    windows: Sequence[tuple[datetime, datetime]],
    now: datetime,
) -> list[Reconciliation]:
    """Decide for every in-doubt attempt of one sender (one berichtsoort and loonheffingennummer)
    at once. Digipoort's list names no aanleverkenmerk, so an unknown process cannot be matched to
    one of several attempts: with more than one in doubt, any candidate makes all of them
    ambiguous (parked, never resent); without candidates each is absent once its own window has
    closed. The send loop keeps one message per sender in flight, so this is the rare case of
    state left by an older version or several interrupted runs."""
    if len(windows) == 1:
        return [reconcile(listed, known, windows[0], now)]
    start, end = min(w[0] for w in windows), max(w[1] for w in windows)
    together = reconcile(listed, known, (start, end), now)
    if together.candidates:
        return [Reconciliation("ambiguous", None, together.candidates) for _ in windows]
    return [
        Reconciliation("wait") if now <= window_end else Reconciliation("absent") for _, window_end in windows
    ]


def attempt_window(started: datetime, policy: DeliveryPolicy) -> tuple[datetime, datetime]:
    """When a process started by an attempt begun at `started` can carry Digipoort's timestamps:
    every try of the attempt (retries after "not delivered" included) may have been the one that
    arrived, each taking up to the timeout, plus the backoff between them, plus clock skew."""
    tries = policy.retries + 1
    in_flight = policy.attempt_timeout * tries + timedelta(seconds=sum(backoff_delays(policy)))
    return started - policy.clock_skew, started + in_flight + policy.clock_skew


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


def backoff_delays(policy: DeliveryPolicy) -> list[float]:
    """Waits before each retry: exponential, capped, bounded in number."""
    return [min(policy.backoff_seconds * 2**i, policy.backoff_cap_seconds) for i in range(policy.retries)]


# ---------------------------------------------------------------- order within an employee


def _parts(key: str) -> tuple[str, str, str]:
    """(employer_id, dossier_id, kind) of a notification key."""
    employer_id, dossier_id, kind, *_ = key.split("/")
    return employer_id, dossier_id, kind


def is_predecessor(earlier: str, later: str) -> bool:
    """RULES §6, by key: a zw-ziekmelding goes before the werkhervattingen of its dossier (partial
    before full), a 42e-weeksmelding before the herstel of its dossier."""
    e_employer, e_dossier, e_kind = _parts(earlier)
    l_employer, l_dossier, l_kind = _parts(later)
    if (e_employer, e_dossier) != (l_employer, l_dossier):
        return False
    if l_kind == Kind.WERKHERVATTING:
        return e_kind == Kind.ZW_ZIEKMELDING or (e_kind == Kind.WERKHERVATTING and later.endswith("/full"))
    return l_kind == Kind.HERSTEL_MLA and e_kind == Kind.MLA


@dataclass(frozen=True, slots=True)
class _Flight:
    """One submission handed to the pool: the entry and its journalled attempt."""

    entry: Entry
    attempt_id: int


def _sender(entry: Entry) -> tuple[str | None, str | None]:
    """Who Digipoort lists a process under: berichtsoort and loonheffingennummer."""
    return entry.berichtsoort, entry.loonheffingennummer


def _employee(entry: Entry) -> tuple[str, str]:
    return entry.employer_id, entry.employee_id


class _Unresolved:
    """Keys without a kenmerk this run (not sent, refused, in doubt, waiting…), indexed by dossier,
    the only place a predecessor can be (RULES §6)."""

    def __init__(self, keys: Iterable[str] = ()):
        self._by_dossier: dict[tuple[str, str], set[str]] = {}
        for key in keys:
            self.add(key)

    def add(self, key: str) -> None:
        self._by_dossier.setdefault(_parts(key)[:2], set()).add(key)

    def predecessor_of(self, key: str) -> str | None:
        same_dossier = self._by_dossier.get(_parts(key)[:2], set())
        return next((k for k in sorted(same_dossier) if is_predecessor(k, key)), None)


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
    policy = policy or DeliveryPolicy(attempt_timeout=timedelta(seconds=config.digipoort.timeout_seconds))
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
        loop.reconcile_in_doubt(only=loop.new_in_doubt)
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
        self.new_in_doubt: set[str] = set()
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
        """An attempt still `submitting` at startup belongs to a run that died during its POST."""
        for entry in self.journal.entries(state="submitting"):
            attempt_id = self.journal.attempts(entry.key)[-1].id
            self.journal.record_in_doubt(attempt_id, "no answer recorded: the sending run was interrupted")

    def reconcile_in_doubt(self, only: Container[str] | None = None) -> None:
        """Ask Digipoort which processes it started, and settle each in-doubt attempt (see module
        doc), the attempts of one sender together (`reconcile_together`)."""
        groups: dict[tuple[str, str], list[Entry]] = {}
        for entry in self.journal.in_doubt():
            if only is not None and entry.key not in only:
                continue
            if not entry.berichtsoort or not entry.loonheffingennummer:
                reason = (
                    "in doubt, and the journal lacks its berichtsoort or loonheffingennummer to ask Digipoort"
                )
                self.journal.park(entry.key, reason)
                self.note(_line(entry, "parked", reason=reason))
                continue
            groups.setdefault((entry.berichtsoort, entry.loonheffingennummer), []).append(entry)
        for group, entries in groups.items():
            listing = self._listing(*group)
            if isinstance(listing, str):
                for entry in entries:
                    self.note(
                        _line(entry, "in_doubt", reason=f"still in doubt: {listing}; asked again next run")
                    )
                continue
            known = {k for k in listing if self.journal.knows_kenmerk(k)}
            attempts = [self.journal.attempts(entry.key)[-1] for entry in entries]
            windows = [attempt_window(attempt.started, self.policy) for attempt in attempts]
            decisions = reconcile_together(listing, known, windows, self.now())
            for entry, attempt, decision in zip(entries, attempts, decisions, strict=True):
                self._settle(entry, attempt.id, decision)

    def _listing(self, berichtsoort: str, lhnr: str) -> Mapping[str, datetime | None] | str:
        """Digipoort's processes for one sender, each one uwvcli does not know dated by its
        earliest status; or the reason the question could not be answered."""
        try:
            listed = [p.kenmerk for p in self.client.get_processen(berichtsoort, lhnr)]
            unknown = [k for k in listed if not self.journal.knows_kenmerk(k)]
            histories = dict(
                zip(unknown, self.pool.map(self.client.get_statussen_proces, unknown), strict=True)
            )
        except UwvcliError as error:
            return f"Digipoort could not list its processes ({error})"
        return {k: min((s.timestamp for s in histories.get(k, ())), default=None) for k in listed}

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
            self.new_in_doubt.discard(entry.key)
        elif decision.verdict == "ambiguous":
            reason = (
                f"in doubt, and Digipoort lists {len(decision.candidates)} unknown processes that may be it "
                f"({', '.join(decision.candidates)}): check them with Logius or in the UWV portal, then "
                f"`uwvcli resolve {entry.key} --kenmerk <kenmerk>` or `--not-received`"
            )
            self.journal.park(entry.key, reason)
            self.note(_line(entry, "parked", reason=reason))
        else:
            self.note(
                _line(
                    entry,
                    "in_doubt",
                    reason="no answer and no process listed at Digipoort yet: checked again next run",
                )
            )

    # -- submitting

    def submit_outbox(self) -> None:
        """Post every written message; employees run in parallel, one employee's messages in order,
        and a successor only once its predecessor has a kenmerk."""
        unresolved = _Unresolved(
            e.key for e in self.journal.entries(state=("submitting", "in_doubt", "parked"))
        )
        queues: dict[tuple[str, str], deque[Entry]] = {}
        for entry in self.journal.to_submit():
            queues.setdefault(_employee(entry), deque()).append(entry)
        # Never more flights than workers: an attempt is begun only when its POST can start at
        # once, so its time window (used to reconcile it after a crash) is where it really went.
        # And one flight per sender (berichtsoort + loonheffingennummer), counting attempts still
        # in doubt: Digipoort's list of processes names no aanleverkenmerk, so after a crash an
        # unknown process can only be matched to an attempt that was alone in flight for its sender.
        busy = {_sender(e) for e in self.journal.in_doubt()}
        ready = deque(queues)
        held: list[tuple[str, str]] = []  # employees whose next message waits for its sender
        flights: dict[Future[AanleverResult], _Flight] = {}
        while True:
            while ready and len(flights) < self.parallelism and not self.should_stop():
                employee = ready.popleft()
                if not self._launch(queues[employee], unresolved, flights, busy):
                    held.append(employee)
            if not flights:
                for employee in held if not self.should_stop() else ():  # only senders in doubt hold them
                    self._hold_for_doubt(queues[employee], unresolved)
                return
            done, _ = wait(flights, return_when=FIRST_COMPLETED)
            for future in done:
                flight = flights.pop(future)
                busy.discard(_sender(flight.entry))
                if not self._record(flight, future):
                    unresolved.add(flight.entry.key)
                if queues[_employee(flight.entry)]:
                    ready.append(_employee(flight.entry))
            ready.extend(held)
            held.clear()

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
        False when that message's sender already has one in flight (it stays first in line)."""
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
            return verify_document(path.read_bytes(), trusted=self.signer)
        except OSError as error:
            reason = f"outbox file {path.name} cannot be read ({error.strerror}): `uwvcli run` rebuilds it"
        except SigningError as error:
            reason = f"outbox file {path.name} refused: {error}"
        self.journal.record_refused(entry.key, reason)
        self.note(_line(entry, "refused", reason=reason))
        return None

    def _post(self, entry: Entry, payload: bytes) -> AanleverResult:
        """aanleveren, retried with backoff while the request provably never reached Digipoort."""
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
            except NotDelivered as error:
                if delay is None:
                    raise
                log.info(
                    "%s did not reach Digipoort (%s); try %d in %.1f s",
                    entry.aanleverkenmerk,
                    error,
                    attempt + 2,
                    delay,
                )
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, flight: _Flight, future: Future[AanleverResult]) -> bool:
        """Journal what one POST came to; True when the message has a kenmerk."""
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
            return False
        except NotDelivered as error:
            tries = self.policy.retries + 1
            reason = f"did not reach Digipoort in {tries} tries ({error}): goes on the next run"
            self.unreachable = f"Digipoort was unreachable for {entry.aanleverkenmerk} ({error})"
            self.journal.record_not_sent(attempt_id, reason)
            self.note(_line(entry, NOT_SENT, reason=reason))
            return False
        except (InDoubt, ResponseNotTrusted) as error:
            # An untrusted answer is no answer: its kenmerk is not data (DIGIPOORT.md), yet the message
            # may well have arrived, so it is settled like any other attempt without an answer.
            kind = "answer failed verification" if isinstance(error, ResponseNotTrusted) else "no answer"
            reason = f"{kind} ({error}): in doubt, settled with Digipoort's list of processes"
            self.journal.record_in_doubt(attempt_id, reason)
            self.new_in_doubt.add(entry.key)
            self.note(_line(entry, "in_doubt", reason=reason))
            return False
        except Exception as error:  # a bug or an unforeseen transport error: in doubt, never resent blindly
            log.exception("unexpected error while submitting %s", entry.aanleverkenmerk)
            reason = f"unexpected error ({type(error).__name__}): in doubt, settled with Digipoort's list"
            self.journal.record_in_doubt(attempt_id, reason)
            self.new_in_doubt.add(entry.key)
            self.note(_line(entry, "in_doubt", reason=reason))
            return False
        self.journal.record_accepted(attempt_id, result.kenmerk, result.timestamp)
        self.note(_line(entry, "submitted", kenmerk=result.kenmerk))
        return True


def _line(entry: Entry, state: str, **fields: Any) -> Delivery:
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
    futures = {pool.submit(client.get_statussen_proces, entry.kenmerk): entry for entry in entries}
    still_open = 0
    for future, entry in futures.items():
        try:
            statuses: Sequence[StatusRecord] = future.result()
        except UwvcliError as error:
            still_open += 1
            previous = report.deliveries.get(entry.key) or _line(entry, entry.state, kenmerk=entry.kenmerk)
            report.note(replace(previous, reason=f"statuses not fetched ({error}): asked again next run"))
            continue
        journal.add_statuses(entry.kenmerk, statuses)
        history = journal.status_history(entry.kenmerk)
        verdict, decisive = history_outcome(history, moment, policy.delivered_after, codes.outcome)
        if verdict is not None:
            journal.set_outcome(entry.key, verdict)
        else:
            still_open += 1
        report.note(
            _line(
                entry,
                verdict or entry.state,
                kenmerk=entry.kenmerk,
                code=decisive.code if decisive else None,
                foutcode=decisive.foutcode if decisive else None,
                text=(decisive.foutbeschrijving or decisive.description) if decisive else None,
            )
        )
    return still_open

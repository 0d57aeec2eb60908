"""The first half of `uwvcli run`: from the exports to signed files in the outbox and a journal
that knows about each of them.

For every notification due (or late, or blocked) on the run date, in sending order: blocked ones
are recorded with their problems; the others are built, checked, signed, written to the outbox
and recorded as `written`. It is safe to run again at any moment, also after a `kill -9`:

- a message not yet submitted is rebuilt from the current exports, so a correction made before
  sending is honoured (new bytes, same file name); one whose content did not change is left
  alone, so a second run the same day changes nothing;
- a message Digipoort rejected (or that failed) gets revision + 1 (a new aanleverkenmerk `-r2`
  and a new file) only when its content changed; otherwise it stays flagged: resending the same
  content would only be rejected again;
- a message already submitted is never touched; if its content would now differ, the report
  says "changed after sending — withdraw and resend";
- what a crash leaves (temporaries, a file without its journal row, a row whose file is missing)
  is reconciled at the start and in passing. See docs/state.md.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from uwvcli.app import correction, planning
from uwvcli.app.correction import fingerprint
from uwvcli.app.credentials import load_credentials
from uwvcli.app.withdraw import CannotWithdraw, write_withdrawal
from uwvcli.digipoort.addresses import berichtsoort_for
from uwvcli.domain import corrections, ordering, problems
from uwvcli.domain.keys import AnyKey, aanleverkenmerk
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import (
    Config,
    Dossier,
    Employer,
    InputError,
    Notification,
    Sender,
    State,
)
from uwvcli.domain.problems import Code, Problem
from uwvcli.errors import UwvcliError
from uwvcli.messages import build as messages
from uwvcli.messages import signing
from uwvcli.recap.mails import UPCOMING_DAYS
from uwvcli.state.journal import NEVER_AGAIN, UNSUCCESSFUL, Entry, Journal, JournalState
from uwvcli.state.outbox import Outbox, Staged

#: Journal records and outbox renames are made durable together, this many notifications at a time.
_BATCH = 50
#: From this many messages to build on, signing is spread over worker processes.
PARALLEL_THRESHOLD = 500

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A notification with a message in the outbox."""

    notification: Notification
    aanleverkenmerk: str
    revision: int
    file: Path
    why: str = ""  # for a file written this run: new, corrected, revision, repaired, after refusal

    @property
    def late(self) -> bool:
        return self.notification.state == State.LATE


@dataclass(frozen=True)
class PrepareReport:
    run_date: date
    written: list[Prepared] = field(default_factory=list)  # a file written this run
    unchanged: list[Prepared] = field(default_factory=list)  # its file is already there, same content
    blocked: list[Notification] = field(default_factory=list)  # with problems; nothing written
    still_unsuccessful: list[Entry] = field(default_factory=list)  # rejected/failed, content unchanged
    changed_after_sending: list[Notification] = field(default_factory=list)  # facts unknown: by hand
    withdrawals: list[Withdrawal] = field(default_factory=list)  # written this run (RULES 4.6)
    braked: dict[str, int] = field(default_factory=dict)  # employer -> withdrawals held by the brake
    gone: list[Entry] = field(default_factory=list)  # submitted, and the dossier left the exports
    cannot_withdraw: list[tuple[Entry, str]] = field(default_factory=list)  # the sent file is unusable
    withdrawal_unsuccessful: list[Entry] = field(
        default_factory=list
    )  # rejected/failed: its correction waits
    cancelled: list[Entry] = field(default_factory=list)  # no longer due before sending; file removed
    input_errors: list[InputError] = field(default_factory=list)
    temporaries_removed: int = 0
    set_aside: list[Path] = field(default_factory=list)  # files moved out of the outbox
    upcoming: list[Notification] = field(default_factory=list)  # due within UPCOMING_DAYS (for the recap)
    dossiers: Mapping[str, Dossier] = field(default_factory=dict, repr=False)  # by dossier_id
    export_rows: tuple[planning.ExportRows, ...] = ()  # per configured export

    @property
    def late(self) -> list[Prepared]:
        return [p for p in (*self.written, *self.unchanged) if p.late]

    @property
    def waiting(self) -> list[Prepared]:
        """Every message now in the outbox waiting to be submitted, in sending order."""
        return sending_order_prepared([*self.written, *self.unchanged])


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A withdrawal written this run: of what, and why (`corrections.Cause`)."""

    notification: Notification  # its key is the WithdrawalKey
    cause: corrections.Cause
    file: Path
    changed: tuple[str, ...] = ()  # the fact paths that changed (a correction)


def sending_order_prepared(items: list[Prepared]) -> list[Prepared]:
    by_key = {p.notification.key: p for p in items}
    return [by_key[n.key] for n in ordering.sending_order(p.notification for p in items)]


def prepare(
    config: Config,
    run_date: date,
    journal: Journal,
    *,
    credentials: signing.Credentials,
    progress: Progress | None = None,
    workers: int | None = None,
    allow_withdrawals: bool = False,
) -> PrepareReport:
    """Bring the outbox and the journal in line with what is due on `run_date` (see the module
    docstring). Call under the run lock.

    `workers`: processes that build, check and sign in parallel (0 or 1: in this process; None:
    one per CPU when there are at least PARALLEL_THRESHOLD messages to build). Files and journal
    are only ever written by this process, in sending order. A lost journal never gets here: it
    is refused when opened (`app.recovery.open_journal`).

    `allow_withdrawals`: the person running confirms the withdrawals the safety brake would hold
    (RULES 4.6, `run --allow-withdrawals`)."""
    outbox = Outbox(config.paths.outbox)
    temporaries_removed = outbox.remove_temporaries()
    plan = planning.plan(config, run_date, horizon=UPCOMING_DAYS, sent_keys=journal.sent_lookup())
    report = PrepareReport(
        run_date=run_date,
        temporaries_removed=temporaries_removed,
        upcoming=[n for n in plan.notifications if n.state is State.UPCOMING],
        dossiers=plan.dossiers,
        export_rows=plan.export_rows,
    )
    plan = replace(plan, notifications=[n for n in plan.notifications if n.state is not State.UPCOMING])
    report.input_errors.extend(plan.input_errors)
    work = _Preparation(config, plan, journal, outbox, report)

    ordered = [
        work.replacement_dates(n)
        for n in ordering.sending_order(plan.notifications)
        if not work.already_gone(n)
    ]
    jobs = {n.key: job for n in ordered if (job := work.job_for(n)) is not None}
    total = len(ordered) + len(plan.already_sent)
    done = 0
    with _renderer(config, credentials, outbox, len(jobs), workers) as render:
        rendered = iter(render(list(jobs.values())))
        for start in range(0, len(ordered), _BATCH):
            with journal.transaction():
                for n in ordered[start : start + _BATCH]:
                    job = jobs.get(n.key)
                    work.settle(n, job, next(rendered) if job else None)
                    done += 1
                    if progress:
                        progress(done, total)
                work.flush()
    with journal.transaction():
        work.cancel_the_rest({n.key for n in ordered}, run_date)
        outbox.sync()
    work.correct(run_date, credentials, allow=allow_withdrawals)
    done += len(plan.already_sent)
    if progress:
        progress(done, total)
    work.set_aside_orphans()
    return report


# ---------------------------------------------------------------- rendering: pure, anywhere


@dataclass(frozen=True, slots=True)
class _Job:
    """Everything needed to render one message, and nothing else: picklable, so that it can be
    rendered in a worker process."""

    notification: Notification
    dossier: Dossier
    employer: Employer
    sender: Sender
    revision: int  # the revision to build when the content is not `known`
    known: str | None  # the journal's fingerprint of this notification's current file
    created: datetime
    rebuild: bool = False  # build even when the content is `known` (the file is damaged)


@dataclass(frozen=True, slots=True)
class _Rendered:
    fingerprint: str
    staged: Staged | None = None  # the signed file, not yet in place; None: the content is `known`
    problems: tuple[str, ...] = ()  # the message failed check_message
    facts: corrections.Facts | None = None  # of the staged file (digested by the run, not here)


def _render(job: _Job, credentials: signing.Credentials, outbox: Outbox) -> _Rendered:
    """Build the message once; its fingerprint decides whether it must be checked, signed and
    written at all (a second run the same day finds every content `known`). The signed file is
    staged here, where it was signed: the run itself only puts it in place, or drops it."""
    n = job.notification
    xml = messages.build_message(
        n,
        job.dossier,
        job.employer,
        job.sender,
        aanleverkenmerk=aanleverkenmerk(n.key, job.revision),
        created=job.created,
        revision=job.revision,
    )
    content = messages.content_digest(xml, n.key)
    if content == job.known and not job.rebuild:
        return _Rendered(content)
    problems = messages.check_message(xml)
    if problems:
        return _Rendered(content, problems=tuple(problems))
    signed = signing.sign_document(xml, credentials)
    staged = outbox.stage(aanleverkenmerk(n.key, job.revision), signed)
    return _Rendered(content, staged, facts=messages.message_facts(xml))


_worker_credentials: signing.Credentials | None = None
_worker_outbox: Outbox | None = None


def _start_worker(sender: Sender, environment: str, state_dir: Path, outbox: Path, parent: int) -> None:
    """Each worker loads the credentials itself (from the configured files and the environment):
    the private key never travels between processes."""
    global _worker_credentials, _worker_outbox
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the run itself, which stops us
    threading.Thread(target=_exit_with_parent, args=(parent,), name="watch-parent", daemon=True).start()
    _worker_credentials = load_credentials(sender, environment=environment, state_dir=state_dir)
    _worker_outbox = Outbox(outbox)


def _exit_with_parent(parent: int) -> None:
    """A run killed with SIGKILL cannot stop its workers, and a worker blocked on writing its
    result to the pool's pipe would wait forever (its siblings keep the pipe open): so each worker
    ends itself as soon as it has been orphaned, as the kernel's parent-death signal would: with
    SIGTERM's default action (nothing is left to clean up in a worker: it only stages files, which
    the next run reconciles)."""
    while os.getppid() == parent:
        time.sleep(0.2)
    signal.raise_signal(signal.SIGTERM)


def _render_in_worker(job: _Job) -> _Rendered:
    assert _worker_credentials is not None and _worker_outbox is not None
    return _render(job, _worker_credentials, _worker_outbox)


@contextmanager
def _renderer(
    config: Config, credentials: signing.Credentials, outbox: Outbox, count: int, workers: int | None
) -> Iterator[Callable[[list[_Job]], Iterable[_Rendered]]]:
    """A function that renders jobs in order: in this process, or spread over worker processes
    (RSA signing holds the GIL, so threads would not help)."""
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if count >= PARALLEL_THRESHOLD else 0
    if workers <= 1 or count == 0:
        yield lambda jobs: (_render(job, credentials, outbox) for job in jobs)
        return
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(
            config.sender,
            config.digipoort.environment,
            config.paths.state.parent,
            outbox.folder,
            os.getpid(),
        ),
    )
    try:
        yield lambda jobs: pool.map(
            _render_in_worker, jobs, chunksize=max(1, min(64, count // (4 * workers)))
        )
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        raise UwvcliError(
            "a signing worker process stopped unexpectedly; nothing half-done was kept. Run again, or set "
            "UWVCLI_WORKERS=1 to sign in one process"
        ) from None
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# ---------------------------------------------------------------- deciding and recording: this process


class _Preparation:
    """One prepare pass; keeps what the notifications of this run decided about each other."""

    def __init__(
        self, config: Config, plan: planning.Plan, journal: Journal, outbox: Outbox, report: PrepareReport
    ):
        self.config = config
        self.plan = plan
        self.journal = journal
        self.outbox = outbox
        self.report = report
        self.created = datetime.now(UTC)
        # What this run can touch, read by index and bounded by the exports and the plan, never
        # the whole history (issue 14; `correction.known_entries`).
        self.entries = correction.known_entries(journal, plan, report.run_date)
        # Not going out this run, so successors must wait: to start with, what UWV holds and is
        # being withdrawn (its replacement, and theirs, only once the withdrawal is accepted).
        self.held_back: set[AnyKey] = {
            e.key
            for e in self.entries.values()
            if e.state in NEVER_AGAIN and not e.is_withdrawal and self.open_withdrawal(e) is not None
        }
        self.pending: list[tuple[Notification, Entry | None, _Job, _Rendered]] = []
        self.facts_key = journal.facts_key()

    def already_gone(self, n: Notification) -> bool:
        """In flight or sent (the plan excludes those; this guards a journal changed meanwhile),
        or withdrawn because a person said so and the export still says the same: sending it
        again would undo their decision (a later correction of the facts does send it)."""
        entry = self.entries.get(n.key)
        if entry is None:
            return False
        if entry.state == JournalState.WITHDRAWN:
            withdrawal = self.withdrawal(entry)
            return (
                withdrawal is not None
                and withdrawal.cause is corrections.Cause.REQUESTED
                and n.state != State.BLOCKED
                and n.dossier_id in self.plan.dossiers
                and entry.content_sha256
                == fingerprint(
                    n,
                    self.plan.dossiers[n.dossier_id],
                    self.config.employers[n.employer_id],
                    self.config.sender,
                )
            )
        return entry.state in NEVER_AGAIN

    def job_for(self, n: Notification) -> _Job | None:
        """What to render for `n`, or None when it is blocked by the rules."""
        if n.state == State.BLOCKED:
            return None
        entry = self.entries.get(n.key)
        known, rebuild = None, False
        if entry is not None and entry.state in (JournalState.WRITTEN, *UNSUCCESSFUL):
            known = entry.content_sha256
            rebuild = entry.state == JournalState.WRITTEN and not self.file_intact(entry)
        return _Job(
            notification=n,
            dossier=self.plan.dossiers[n.dossier_id],
            employer=self.config.employers[n.employer_id],
            sender=self.config.sender,
            revision=self.revision_for(entry),
            known=known,
            created=self.created,
            rebuild=rebuild,
        )

    def file_intact(self, entry: Entry) -> bool:
        return entry.file is not None and self.outbox.digest(entry.file) == entry.sha256

    def revision_for(self, entry: Entry | None) -> int:
        """The same revision as long as its aanleverkenmerk was never sent; the next one once it
        was (Digipoort does not deduplicate, and UWV matches on the reference)."""
        if entry is None:
            return 1
        if entry.aanleverkenmerk is not None and self.journal.was_attempted(entry.aanleverkenmerk):
            return entry.revision + 1
        return entry.revision

    def settle(self, n: Notification, job: _Job | None, rendered: _Rendered | None) -> None:
        """Record what became of `n`, in sending order (so a held-back predecessor is known)."""
        entry = self.entries.get(n.key)
        waits = ordering.waits_for(n.key, self.held_back)
        if n.state != State.BLOCKED and waits is not None:
            problem = problems.waits_for(waits, kind_label(waits.kind, waits.variant), waits.dossier_id)
            n = replace(n, state=State.BLOCKED, problems=(problem,), waits_for=waits)
        if job is None or rendered is None or n.state == State.BLOCKED:
            self.block(n, entry, rendered)
        elif rendered.problems:
            found = tuple(map(problems.message_check, rendered.problems))
            self.block(replace(n, state=State.BLOCKED, problems=found), entry, rendered)
        elif rendered.staged is None and entry is not None and entry.state in UNSUCCESSFUL:
            self.report.still_unsuccessful.append(entry)
            self.held_back.add(n.key)
        elif rendered.staged is None and entry is not None and entry.file is not None:
            assert entry.aanleverkenmerk is not None
            self.report.unchanged.append(Prepared(n, entry.aanleverkenmerk, entry.revision, entry.file))
        else:
            assert rendered.staged is not None
            self.write(n, entry, job, rendered)

    def write(self, n: Notification, entry: Entry | None, job: _Job, rendered: _Rendered) -> None:
        """Queue the staged file; `flush` puts the batch in place and records it."""
        if entry is not None and entry.state == JournalState.REFUSED and entry.file is not None:
            self.set_aside(entry.file, "refused")  # before its rebuild takes the same name
        self.pending.append((n, entry, job, rendered))

    def flush(self) -> None:
        """Put the queued files in place (renames: the workers wrote them), make them durable,
        then record them — in that order, so the journal never points at a file a power cut could
        still take away. One `syncfs` covers the whole batch, whichever process wrote the bytes."""
        placed = []
        for _, _, _, rendered in self.pending:
            assert rendered.staged is not None
            placed.append(self.outbox.commit(rendered.staged))
        self.outbox.sync()
        for (n, entry, job, rendered), path in zip(self.pending, placed, strict=True):
            assert rendered.staged is not None
            reference = aanleverkenmerk(n.key, job.revision)
            self.journal.record_written(
                n,
                file=path,
                sha256=rendered.staged.sha256,
                aanleverkenmerk=reference,
                revision=job.revision,
                loonheffingennummer=messages.loonheffingennummer_for(job.dossier, job.employer),
                berichtsoort=berichtsoort_for(self.config.digipoort, n.kind),
                content_sha256=rendered.fingerprint,
                facts=corrections.stored(rendered.facts, self.facts_key) if rendered.facts else None,
            )
            if entry is not None and entry.state == JournalState.WRITTEN and entry.file not in (None, path):
                self.outbox.remove(entry.file)
            self.report.written.append(Prepared(n, reference, job.revision, path, _why(entry, job, rendered)))
        self.pending.clear()

    def block(self, n: Notification, entry: Entry | None, rendered: _Rendered | None = None) -> None:
        if rendered is not None and rendered.staged is not None:  # built, but a predecessor is held back
            self.outbox.discard(rendered.staged)
        self.journal.record_blocked(n)
        self.held_back.add(n.key)
        self.report.blocked.append(n)
        self.drop_unsent_file(entry)

    def drop_unsent_file(self, entry: Entry | None) -> None:
        """A file that was never submitted must not stay where `send` would pick it up."""
        if entry is None or entry.file is None:
            return
        if entry.state == JournalState.WRITTEN:
            self.outbox.remove(entry.file)
        elif entry.state == JournalState.REFUSED:
            self.set_aside(entry.file, "refused")

    # ------------------------------------------------------------------ the rest of the journal

    def cancel_the_rest(self, planned: set[AnyKey], run_date: date) -> None:
        """Unsent notifications the exports no longer make due (a correction, an employer set
        inactive, a row that became unreadable) are cancelled (vervallen) before `send` can
        submit them. UWV never had them: nothing to withdraw."""
        reason = Problem.of(Code.CANCELLED, day=run_date.isoformat())
        # This run only changed planned keys, so the snapshot taken at its start is current for
        # the others (and `cancel` checks each again): no second read of the whole journal.
        for entry in self.entries.values():
            if entry.key in planned or entry.state not in correction.UNSENT or entry.is_withdrawal:
                continue  # a withdrawal is the correction pass's (`correct`)
            previous = self.journal.cancel(entry.key, reason)
            if previous is not None and previous.state != JournalState.BLOCKED:
                self.report.cancelled.append(previous)
            self.drop_unsent_file(previous)

    def withdrawal(self, entry: Entry) -> Entry | None:
        return correction.withdrawal_of(self.entries, entry)

    def open_withdrawal(self, entry: Entry) -> Entry | None:
        return correction.open_withdrawal(self.entries, entry)

    def replacement_dates(self, n: Notification) -> Notification:
        """A notification sent again after its withdrawal is due when the correction was first
        seen, with the withdrawal's deadline (RULES 4.6), whatever its own dates were."""
        entry = self.entries.get(n.key)
        if entry is None or entry.state != JournalState.WITHDRAWN or n.state == State.BLOCKED:
            return n
        withdrawal = self.withdrawal(entry)
        if withdrawal is None:
            return n
        late = withdrawal.deadline is not None and self.report.run_date > withdrawal.deadline
        return replace(
            n,
            due_date=withdrawal.due_date,
            deadline=withdrawal.deadline,
            state=State.LATE if late else State.DUE,
        )

    def correct(self, run_date: date, credentials: signing.Credentials, *, allow: bool) -> None:
        """RULES 4.6 for what UWV has, as `correction.decide` decides it (the same decision `due`
        previews): facts read back from sent files are kept, unneeded withdrawals cancelled, gone
        dossiers recorded as reported, and the withdrawals written, in sending order. The entries
        read at the start are current for what UWV has: this run changed only planned keys, and
        never a sent one."""
        decided = correction.decide(
            self.config, self.plan, self.entries, self.journal, self.outbox.read, run_date, allow=allow
        )
        for key, facts in decided.read_back.items():
            self.journal.record_facts(key, facts)
        self.report.changed_after_sending.extend(decided.changed_after_sending)
        self.report.withdrawal_unsuccessful.extend(decided.unsuccessful)
        for withdrawal in decided.unneeded:
            previous = self.journal.cancel(
                withdrawal.key, Problem.of(Code.CANCELLED, day=self.report.run_date.isoformat())
            )
            self.drop_unsent_file(previous)
            if previous is not None:
                self.report.cancelled.append(previous)
        for entry in decided.gone:
            self.journal.record_gone(entry.key, run_date)
            self.report.gone.append(entry)
        self.report.braked.update(decided.braked)
        self.report.cannot_withdraw.extend((w.entry, why) for w, why in decided.cannot)
        for w in decided.withdraw:
            try:
                written = write_withdrawal(
                    self.config,
                    self.journal,
                    self.outbox,
                    credentials,
                    w.entry,
                    cause=w.cause,
                    run_date=run_date,
                    created=self.created,
                )
            except CannotWithdraw as error:
                self.report.cannot_withdraw.append((w.entry, str(error)))
                continue
            assert written.key == w.notification.key
            recorded = self.journal.entry(written.key)
            assert recorded is not None and recorded.file is not None and recorded.aanleverkenmerk is not None
            self.report.withdrawals.append(Withdrawal(w.notification, w.cause, recorded.file, w.changed))
            self.report.written.append(
                Prepared(
                    w.notification,
                    recorded.aanleverkenmerk,
                    recorded.revision,
                    recorded.file,
                    f"withdrawal ({w.cause})",
                )
            )

    def set_aside_orphans(self) -> None:
        """Files in the outbox the journal knows nothing of (written just before a crash, then no
        longer due) are moved to `orphaned/`, never deleted: they might be someone's evidence."""
        known: set[str] | None = None  # every name the journal points at: read only when needed
        for path in self.outbox.messages():
            if self.journal.references(path):  # the usual case, through the file indexes
                continue
            if known is None:  # a file not known by its path may still be known by its name
                known = {p.name for p in self.journal.referenced_files()}
            if path.name not in known:
                self.set_aside(path, "orphaned")

    def set_aside(self, path: Path, folder: str) -> None:
        target = self.outbox.set_aside(path, folder)
        if target is not None:
            self.report.set_aside.append(target)


def _why(entry: Entry | None, job: _Job, rendered: _Rendered) -> str:
    """Why a file was written, for the report."""
    if entry is None:
        return "new"
    if job.rebuild and rendered.fingerprint == job.known:
        return "repaired"
    if entry.state == JournalState.REFUSED:
        return "after refusal"
    if job.revision > entry.revision:
        return "revision"
    return "corrected" if entry.state == JournalState.WRITTEN else "new"

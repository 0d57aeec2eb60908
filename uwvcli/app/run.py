"""`uwvcli run` as one use case: under the run lock, prepare the outbox (build, check, sign, write,
journal), then — unless `--no-send` — submit, follow statuses and mail the recaps. The run is
recorded in the journal's runs table with its exit code, and that exit code is decided here only
(`exit_code`, CONTRACT §1)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from uwvcli.app.credentials import load_credentials
from uwvcli.app.daily import FollowUp, deliver_and_recap
from uwvcli.app.planning import export_warnings
from uwvcli.app.prepare import PrepareReport, prepare
from uwvcli.app.recovery import open_journal
from uwvcli.delivery.loop import NOT_SENT
from uwvcli.domain.keys import AnyKey
from uwvcli.domain.models import Config
from uwvcli.errors import EXIT_ATTENTION, EXIT_LOCKED, EXIT_OK, EXIT_UNUSABLE, UwvcliError
from uwvcli.recap.mails import catch_up_note
from uwvcli.state.journal import Journal
from uwvcli.state.locking import run_lock

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
#: A run date further back than this many days is a catch-up (CONTRACT §1): allowed, and said so.
CATCH_UP_DAYS = 7
#: `UWVCLI_TODAY=YYYY-MM-DD` stands in for the clock, with `environment: simulator` only: a
#: rehearsal (and the tests) may play a day ahead; nothing then reaches UWV.
TODAY_VARIABLE = "UWVCLI_TODAY"


class RunDateRefused(UwvcliError):
    """A run date that would submit what is not due yet, or undo a later run's work."""

    exit_code = EXIT_UNUSABLE


@dataclass
class Stop:
    """Ctrl-C or SIGTERM: the first one asks the run to stop after its current step (the message
    in flight finished and recorded); a second one interrupts at once (the journal still keeps
    every state change durable, so even that loses nothing)."""

    signal: int | None = None
    event: threading.Event = field(default_factory=threading.Event)

    def requested(self) -> bool:
        return self.signal is not None

    def wait(self, seconds: float) -> None:
        """A sleep that a signal ends early."""
        self.event.wait(seconds)

    @property
    def exit_code(self) -> int:
        return EXIT_TERMINATED if self.signal == signal.SIGTERM else EXIT_INTERRUPTED

    @property
    def name(self) -> str:
        return signal.Signals(self.signal or signal.SIGINT).name


class Stopped(UwvcliError):
    """The run stopped on a signal before it had prepared the outbox: nothing was sent."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def stop_on_signals(stop: Stop, events: RunEvents) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` for the duration of the run (main thread only: elsewhere a
    signal handler cannot be installed, and the caller keeps its own)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: object) -> None:
        if stop.requested():
            raise KeyboardInterrupt
        stop.signal = signum
        stop.event.set()
        events.stopping(signal.Signals(signum).name)

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@dataclass(frozen=True)
class Sending:
    """How the second half of the run talks to Digipoort."""

    parallelism: int = 4
    poll_seconds: float = 120.0


class RunEvents(Protocol):
    """What the caller hears while the run works (the CLI shows it as it happens)."""

    def warning(self, text: str) -> None:
        """Something to fix soon that does not stop the run (the certificate expires soon)."""

    def note(self, text: str) -> None:
        """Something the person should know about this run (it is a catch-up)."""

    def progress(self, step: str) -> AbstractContextManager[Callable[[int, int], None]]:
        """Around a long step (preparing, sending, following statuses): a `progress(done, total)`
        callback."""

    def stopping(self, signal_name: str) -> None:
        """A signal arrived: the run stops after the current step."""

    def sending(self, report: PrepareReport) -> None:
        """The outbox is prepared and its messages go to Digipoort now (not called with --no-send)."""


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: the prepare half and, unless it stopped after preparing, the follow-up."""

    report: PrepareReport
    follow_up: FollowUp | None = None  # None: --no-send
    export_warnings: tuple[str, ...] = ()  # an export without (usable) rows, or one that shrank
    catch_up: str | None = None  # the note when the run date is more than CATCH_UP_DAYS back
    stopped: Stop | None = None  # a signal stopped the run after a step
    left_to_send: int = 0  # when stopped: outbox messages the next run submits

    @property
    def exit_code(self) -> int:
        return exit_code(
            self.report, self.follow_up, export_warnings=self.export_warnings, stopped=self.stopped
        )


def exit_code(
    report: PrepareReport,
    follow_up: FollowUp | None = None,
    *,
    export_warnings: tuple[str, ...] = (),
    stopped: Stop | None = None,
) -> int:
    """CONTRACT §1 for a run: 130 (SIGINT) or 143 (SIGTERM) when a signal stopped it; 1 when a
    person must act — blocked, rejected unchanged, changed after sending, unreadable rows, an
    export that looks broken (no usable rows, or less than half of the previous run's), a dossier
    gone after sending, withdrawals held by the brake or that cannot be built; then, for
    a run that stops after preparing, late messages still unsent; for a full run, a message
    rejected, failed, refused, parked, in doubt or not sent, or a recap that could not be mailed
    — else 0."""
    if stopped is not None:
        return stopped.exit_code
    attention = (
        report.blocked
        or report.still_unsuccessful
        or report.changed_after_sending
        or report.input_errors
        or export_warnings
        or report.gone  # RULES 4.6: reported once, on that run
        or report.braked
        or report.cannot_withdraw
        or report.withdrawal_unsuccessful
    )
    if follow_up is None:
        return EXIT_ATTENTION if attention or report.late else EXIT_OK
    # Late messages submitted now are no longer "late-unsent": what still needs a person is the
    # prepare half's other findings and what the Digipoort and mail work found.
    mail = follow_up.mail
    if attention or follow_up.send.needs_attention or (mail.mail_configured and not mail.complete):
        return EXIT_ATTENTION
    return EXIT_OK


def today(config: Config, clock: Callable[[], date]) -> date:
    """The day it is for the date rules: `clock()`, or `UWVCLI_TODAY` for the simulator."""
    value = os.environ.get(TODAY_VARIABLE, "").strip()
    if not value or config.digipoort.environment != "simulator":
        return clock()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UwvcliError(f"{TODAY_VARIABLE} is {value!r}: write YYYY-MM-DD, or unset it") from None


def check_future(day: date, today: date, *, no_send: bool) -> None:
    """CONTRACT §1: a run never submits for a date after today; `--no-send` only previews."""
    if day > today and not no_send:
        raise RunDateRefused(
            f"the run date {day.isoformat()} is after today ({today.isoformat()}): a run never submits "
            "what is not due yet. Add --no-send to preview that day's outbox without submitting"
        )


def check_not_before_last_run(day: date, last_run: date | None, *, force: bool) -> None:
    """A run for an earlier date than the last run would withdraw (delete from the outbox) every
    message that run prepared and that was not yet due on the earlier date."""
    if last_run is not None and day < last_run and not force:
        raise RunDateRefused(
            f"the run date {day.isoformat()} is before the date of the last run ({last_run.isoformat()}): "
            f"it would withdraw the prepared messages that were not yet due on {day.isoformat()}. "
            "Give --force if you really mean to go back"
        )


def catch_up(day: date, today: date) -> str | None:
    """The catch-up note (English, for the output) when `day` is more than CATCH_UP_DAYS back."""
    days = (today - day).days
    if days <= CATCH_UP_DAYS:
        return None
    return (
        f"catch-up run: the run date {day.isoformat()} is {days} days ago; what is due since then is "
        "prepared now, and what passed its deadline is late"
    )


def run(
    config: Config,
    day: date,
    *,
    today: date,
    no_send: bool,
    sending: Sending,
    events: RunEvents,
    force: bool = False,
    allow_withdrawals: bool = False,
) -> RunOutcome:
    """One run under the run lock, recorded in the journal's runs table with its exit code (also
    when it fails or is interrupted). Refused (exit 2, nothing done) for a future date unless
    `no_send`, and for a date before the last run's unless `force`. `allow_withdrawals` confirms
    what the safety brake holds."""
    check_future(day, today, no_send=no_send)
    with run_lock(config.paths.state), open_journal(config) as journal:
        last_run = journal.last_run_date(up_to=today, ignore=(EXIT_UNUSABLE, EXIT_LOCKED))
        check_not_before_last_run(day, last_run, force=force)
        run_id = journal.start_run(day)
        code: int | None = None
        stop = Stop()
        try:
            with stop_on_signals(stop, events):
                outcome = _run(
                    config,
                    day,
                    journal,
                    run_id,
                    today=today,
                    no_send=no_send,
                    sending=sending,
                    events=events,
                    stop=stop,
                    allow_withdrawals=allow_withdrawals,
                )
            code = outcome.exit_code
            return outcome
        except UwvcliError as error:
            code = error.exit_code
            raise
        except KeyboardInterrupt:
            code = EXIT_INTERRUPTED
            raise
        finally:
            if code is not None:
                journal.finish_run(run_id, code)


def _run(
    config: Config,
    day: date,
    journal: Journal,
    run_id: int,
    *,
    today: date,
    no_send: bool,
    sending: Sending,
    events: RunEvents,
    stop: Stop,
    allow_withdrawals: bool = False,
) -> RunOutcome:
    catch_up_text = catch_up(day, today)
    if catch_up_text:
        events.note(catch_up_text)
    credentials = load_credentials(
        config.sender, environment=config.digipoort.environment, state_dir=config.paths.state.parent
    )
    expiry = credentials.expiry_warning()
    if expiry:
        events.warning(expiry)
    with events.progress("preparing") as progress:
        report = prepare(
            config,
            day,
            journal,
            credentials=credentials,
            progress=_stoppable(progress, stop),
            workers=workers_from_environment(),
            allow_withdrawals=allow_withdrawals,
        )
    counts = report.export_rows
    previous = journal.previous_export_rows(run_id)
    warnings = tuple(f"{source}: {problem}" for source, problem in export_warnings(counts, previous))
    journal.record_export_rows(run_id, [(c.source, c.rows, c.unusable) for c in counts])
    for warning in warnings:
        events.warning(warning)
    stopped = stop if stop.requested() else None
    if no_send or stopped:
        left = len(journal.to_submit()) if stopped else 0
        return RunOutcome(
            report, export_warnings=warnings, catch_up=catch_up_text, stopped=stopped, left_to_send=left
        )
    events.sending(report)
    to_send = len(journal.to_submit())
    with events.progress("sending") as sent, events.progress("following statuses") as polled:
        done = 0

        def one_sent(delivery: object) -> None:
            nonlocal done
            done += 1
            sent(min(done, to_send), to_send)

        follow_up = deliver_and_recap(
            config,
            day,
            journal,
            credentials,
            report,
            upcoming=report.upcoming,
            dossiers=report.dossiers,
            parallelism=sending.parallelism,
            poll_seconds=sending.poll_seconds,
            notes=(catch_up_note(day, today),) if catch_up_text else (),
            progress=one_sent,
            should_stop=stop.requested,
            polled=lambda still_open, total: polled(total - still_open, total),
            sleep=stop.wait,
        )
    stopped = stop if stop.requested() else None
    left = len(journal.to_submit()) if stopped else 0
    return RunOutcome(
        report,
        follow_up,
        export_warnings=warnings,
        catch_up=catch_up_text,
        stopped=stopped,
        left_to_send=left,
    )


def _stoppable(progress: Callable[[int, int], None], stop: Stop) -> Callable[[int, int], None]:
    """Preparing stops at the next notification once a signal came: the batch being prepared is
    not recorded (its signed files stay temporaries, which the next run removes) and nothing of
    it was sent; the next run prepares it again."""

    def report(done: int, total: int) -> None:
        progress(done, total)
        if stop.requested():
            raise Stopped(
                f"stopped by {stop.name} while preparing the outbox ({done} of {total} looked at): "
                "nothing was sent; the next run prepares and sends everything due",
                stop.exit_code,
            )

    return report


@dataclass(frozen=True, slots=True)
class Attention:
    """One notification a person must act on, as the log file says it (the cron job's stdout
    goes to /dev/null): its key, its state, the Digipoort code, what to do and by when."""

    key: AnyKey
    state: str
    code: str | None  # Digipoort's status code or foutcode
    action: str  # `{by}` marks where the day goes
    by: date | None = None

    @property
    def text(self) -> str:
        code = f" (Digipoort code {self.code})" if self.code else ""
        action = self.action.format(by=f" by {self.by.isoformat()}" if self.by else "")
        return f"{self.key}: {self.state}{code}: {action}"


#: What to do about a message in each state that needs a person (the recap's section of it says
#: the same in Dutch).
ACTIONS = {
    "rejected": "correct the data in the export{by}; the next run sends a new revision",
    "failed": "correct what `uwvcli explain CODE` names{by}; the next run sends it again",
    "refused": "correct what `uwvcli explain CODE` names{by}; the next run sends it again",
    "parked": "may or may not have arrived: look it up with `uwvcli status` and decide with `uwvcli resolve`",
    "in_doubt": "may or may not have arrived: the next run asks Digipoort; if it stays, use `uwvcli resolve`",
    NOT_SENT: "Digipoort could not be reached; the next run sends it",
}


def attention(outcome: RunOutcome) -> list[Attention]:
    """The notifications of the run that need a person and that preparing did not report already
    (rejected and unchanged, changed after sending: `PrepareReport`), in the recap's order of
    urgency: what Digipoort refused or may not have (correct by the recap's `fix_by` day), what is
    blocked (before its deadline), and with --no-send what is late and unsent."""
    report, follow_up = outcome.report, outcome.follow_up
    found: list[Attention] = []
    if follow_up is not None:
        items = {
            item.key: item
            for recap in follow_up.news
            for section in ("rejected", "failed", "parked")
            for item in getattr(recap, section)
        }
        for d in follow_up.send.lines:
            if d.needs_attention:
                item = items.get(d.key)
                by = item.fix_by if item else None
                found.append(Attention(d.key, d.state, d.foutcode or d.code, ACTIONS.get(d.state, ""), by))
    for n in report.blocked:
        problems = "; ".join(map(str, n.problems))
        found.append(Attention(n.key, "blocked", None, f"fix what blocks it{{by}}: {problems}", n.deadline))
    if follow_up is None:
        for p in report.late:
            late = "past its deadline and not sent (--no-send): send it now with `uwvcli send`"
            found.append(Attention(p.notification.key, "late", None, late))
    return found


def workers_from_environment() -> int | None:
    """`UWVCLI_WORKERS=N`: sign in N processes (1: in this one); unset: one per CPU for big runs."""
    value = os.environ.get("UWVCLI_WORKERS", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise UwvcliError(f"UWVCLI_WORKERS is {value!r}: set it to a whole number of processes, or unset it")
    return int(value)

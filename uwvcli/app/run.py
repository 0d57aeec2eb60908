"""`uwvcli run` as one use case: under the run lock, prepare the outbox (build, check, sign, write,
journal), then — unless `--no-send` — submit, follow statuses and mail the recaps. The run is
recorded in the journal's runs table with its exit code, and that exit code is decided here only
(`exit_code`, CONTRACT §1)."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from uwvcli.app.credentials import load_credentials
from uwvcli.app.daily import FollowUp, deliver_and_recap
from uwvcli.app.prepare import PrepareReport, prepare
from uwvcli.domain.models import Config
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK, UwvcliError
from uwvcli.state.journal import Journal
from uwvcli.state.locking import run_lock

EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Sending:
    """How the second half of the run talks to Digipoort."""

    parallelism: int = 4
    poll_seconds: float = 120.0


class RunEvents(Protocol):
    """What the caller hears while the run works (the CLI shows it as it happens)."""

    def warning(self, text: str) -> None:
        """Something to fix soon that does not stop the run (the certificate expires soon)."""

    def preparing(self) -> AbstractContextManager[Callable[[int, int], None]]:
        """Around preparing the outbox: a `progress(done, total)` callback."""

    def sending(self, report: PrepareReport) -> None:
        """The outbox is prepared and its messages go to Digipoort now (not called with --no-send)."""


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: the prepare half and, unless it stopped after preparing, the follow-up."""

    report: PrepareReport
    follow_up: FollowUp | None = None  # None: --no-send

    @property
    def exit_code(self) -> int:
        return exit_code(self.report, self.follow_up)


def exit_code(report: PrepareReport, follow_up: FollowUp | None = None) -> int:
    """CONTRACT §1 for a run: 1 when a person must act — blocked, rejected unchanged, changed after
    sending, unreadable rows, a dossier gone after sending, withdrawals held by the brake or that
    cannot be built; then, for a run that stops after preparing, late messages still unsent;
    for a full run, a message rejected, failed, refused, parked, in doubt or not sent, or a recap
    that could not be mailed — else 0."""
    attention = (
        report.blocked
        or report.still_unsuccessful
        or report.changed_after_sending
        or report.input_errors
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


def run(
    config: Config,
    day: date,
    *,
    no_send: bool,
    sending: Sending,
    events: RunEvents,
    allow_withdrawals: bool = False,
) -> RunOutcome:
    """One run under the run lock, recorded in the journal's runs table with its exit code (also
    when it fails or is interrupted). `allow_withdrawals` confirms what the safety brake holds."""
    with run_lock(config.paths.state), Journal.open(config.paths.state) as journal:
        run_id = journal.start_run(day)
        code: int | None = None
        try:
            outcome = _run(
                config,
                day,
                journal,
                no_send=no_send,
                sending=sending,
                events=events,
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
    *,
    no_send: bool,
    sending: Sending,
    events: RunEvents,
    allow_withdrawals: bool = False,
) -> RunOutcome:
    credentials = load_credentials(
        config.sender, environment=config.digipoort.environment, state_dir=config.paths.state.parent
    )
    expiry = credentials.expiry_warning()
    if expiry:
        events.warning(expiry)
    with events.preparing() as progress:
        report = prepare(
            config,
            day,
            journal,
            credentials=credentials,
            progress=progress,
            workers=workers_from_environment(),
            allow_withdrawals=allow_withdrawals,
        )
    if no_send:
        return RunOutcome(report)
    events.sending(report)
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
    )
    return RunOutcome(report, follow_up)


def workers_from_environment() -> int | None:
    """`UWVCLI_WORKERS=N`: sign in N processes (1: in this one); unset: one per CPU for big runs."""
    value = os.environ.get("UWVCLI_WORKERS", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise UwvcliError(f"UWVCLI_WORKERS is {value!r}: set it to a whole number of processes, or unset it")
    return int(value)

"""Withdrawals (intrekkingen, RULES 4.6) as messages like any other: built from the file that
was sent (the facts exactly as they were), checked, signed into the outbox and recorded as
`written`, so that the delivery loop submits each exactly once and follows its statuses.

`write_withdrawal` is what the run's correction pass and `uwvcli withdraw` (a person's decision,
`withdraw`) both use. A withdrawal is due on the run that decides it, its deadline the next
working day after (`shift(due + 1)`, RULES 4.6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from uwvcli.app.credentials import load_credentials
from uwvcli.domain import workdays
from uwvcli.domain.corrections import Cause
from uwvcli.domain.keys import (
    NotificationKey,
    WithdrawalKey,
    aanleverkenmerk,
)
from uwvcli.domain.models import Config, Notification, State
from uwvcli.errors import EXIT_ATTENTION, UwvcliError
from uwvcli.messages import build as messages
from uwvcli.messages import signing
from uwvcli.state.journal import SENT, Entry, Journal, JournalState
from uwvcli.state.locking import run_lock
from uwvcli.state.outbox import Outbox, OutboxError, sha256_hex

#: A person's reason is kept with the withdrawal: one line, bounded (no room for a document).
REASON_LIMIT = 200


class WithdrawError(UwvcliError):
    """`uwvcli withdraw` cannot do what was asked (nothing was changed)."""

    exit_code = EXIT_ATTENTION


class CannotWithdraw(Exception):
    """The sent file is gone or altered, or the withdrawal fails its check: why, without values."""


def deadline_for(due: date) -> date:
    return workdays.shift(due + timedelta(days=1))


def withdrawal_notification(entry: Entry, due: date, run_date: date) -> Notification:
    """The journal's view of the withdrawal of `entry`'s submitted revision, as a notification."""
    deadline = deadline_for(due)
    key = entry.withdrawal_key
    assert key is not None, "a withdrawal is never withdrawn itself"
    return replace(
        entry.as_notification(run_date),
        key=key,
        due_date=due,
        deadline=deadline,
        state=State.LATE if run_date > deadline else State.DUE,
    )


def build_signed(
    config: Config,
    outbox: Outbox,
    credentials: signing.Credentials,
    entry: Entry,
    reference: str,
    created: datetime,
) -> bytes:
    """The signed withdrawal of `entry`'s sent file; `CannotWithdraw` when that file is not the
    one that was sent or the withdrawal fails the project's message check."""
    sent = sent_message(entry, outbox.read)
    xml = messages.build_withdrawal(
        sent,
        config.sender,
        style=config.digipoort.withdrawal_style,
        aanleverkenmerk=reference,
        created=created,
    )
    found = messages.check_message(xml)
    if found:
        raise CannotWithdraw("; ".join(found))
    return signing.sign_document(xml, credentials)


def sent_message(entry: Entry, read: Callable[[Path], bytes]) -> bytes:
    """The bytes of the file that was sent for `entry`, which its withdrawal is built from;
    `CannotWithdraw` when the journal does not know it or it is gone or altered. Asked before
    anything is written (`app.correction.decide`), so that `due` knows it too."""
    if entry.file is None or entry.sha256 is None:
        raise CannotWithdraw("the journal does not know the file that was sent")
    try:
        sent = read(entry.file)
    except (OutboxError, OSError):
        raise CannotWithdraw(f"the sent file {entry.file.name} is missing from the outbox") from None
    if sha256_hex(sent) != entry.sha256:
        raise CannotWithdraw(f"the sent file {entry.file.name} was altered since it was sent")
    return sent


def write_withdrawal(
    config: Config,
    journal: Journal,
    outbox: Outbox,
    credentials: signing.Credentials,
    entry: Entry,
    *,
    cause: Cause,
    run_date: date,
    reason: str | None = None,
    created: datetime | None = None,
) -> Notification:
    """Write and record the withdrawal of `entry`'s submitted revision (durable before it is
    recorded, like every outbox file). Returns it as a notification."""
    n = withdrawal_notification(entry, run_date, run_date)
    reference = aanleverkenmerk(n.key)
    existing = journal.entry(n.key)
    revision = 1
    if existing is not None:
        revision = existing.revision + (1 if journal.was_attempted(existing.aanleverkenmerk or "") else 0)
        reference = aanleverkenmerk(n.key, revision)
    signed = build_signed(config, outbox, credentials, entry, reference, created or datetime.now(UTC))
    path, sha256 = outbox.write(reference, signed)
    journal.record_written(
        n,
        file=path,
        sha256=sha256,
        aanleverkenmerk=reference,
        revision=revision,
        loonheffingennummer=entry.loonheffingennummer,
        berichtsoort=entry.berichtsoort,  # the same berichtsoort as what it withdraws (MESSAGES.md)
        content_sha256=sha256,
        cause=cause,
        cause_reason=reason,
    )
    return n


def open_withdrawal(journal: Journal, entry: Entry) -> Entry | None:
    """The withdrawal of `entry`'s current revision the journal has (any state but cancelled)."""
    key = entry.withdrawal_key
    found = journal.entry(key) if key is not None else None
    return found if found is not None and found.state != JournalState.CANCELLED else None


@dataclass(frozen=True)
class Requested:
    key: WithdrawalKey
    file: str


def withdraw(config: Config, key: NotificationKey, *, reason: str | None, today: date) -> Requested:
    """A person's decision to withdraw a submitted notification (RULES 4.6): its withdrawal is
    written to the outbox now, under the run lock, and goes on the next `run` or `send`."""
    if reason is not None:
        reason = " ".join(reason.split())
        if len(reason) > REASON_LIMIT or not reason.isprintable():
            raise UwvcliError(f"--reason: at most {REASON_LIMIT} printable characters, on one line")
    with run_lock(config.paths.state), Journal.open(config.paths.state) as journal:
        entry = journal.entry(key)
        if entry is None:
            raise WithdrawError(f"{key}: the journal has no such notification; nothing was withdrawn")
        if entry.state not in SENT:
            raise WithdrawError(
                f"{key} is {entry.state}: only a submitted, delivered or accepted notification "
                "can be withdrawn"
            )
        if open_withdrawal(journal, entry) is not None:
            raise WithdrawError(f"{key}: its withdrawal is already under way (see uwvcli status)")
        credentials = load_credentials(
            config.sender, environment=config.digipoort.environment, state_dir=config.paths.state.parent
        )
        outbox = Outbox(config.paths.outbox)
        try:
            n = write_withdrawal(
                config,
                journal,
                outbox,
                credentials,
                entry,
                cause=Cause.REQUESTED,
                run_date=today,
                reason=reason,
            )
        except CannotWithdraw as error:
            raise UwvcliError(
                f"{key}: cannot withdraw: {error}",
            ) from None
        written = journal.entry(n.key)
        assert written is not None and written.file is not None
        assert isinstance(n.key, WithdrawalKey)
        return Requested(n.key, written.file.name)

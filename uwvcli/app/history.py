"""`uwvcli status KEY` as one use case: the story of one notification as the journal tells it, in
time order — every revision that was sent (its aanleverkenmerk, its kenmerk, its POST attempts
and Digipoort's statuses with their codes), every withdrawal of one of them (why, and a person's
reason), the replacement that followed, a dossier that left the exports, and where it stands now.

The journal keeps one row per key (its current revision) and every attempt and status, so the
story is put together from those: an attempt belongs to the revision whose aanleverkenmerk it
carries (`domain.keys.aanleverkenmerk`), and the withdrawal of revision n is the row of key
`<key>/intrekking/<n>`. Reads the journal only; never creates it, never contacts Digipoort. No
personal data: the BSN and birth date are in the journal only as a digest, which is never shown;
Digipoort's texts were redacted when they were stored, findings are redacted when shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from uwvcli.app.explain import latest_outcome
from uwvcli.app.status import ATTENTION, gone_note, last_status, status_row
from uwvcli.digipoort import codes
from uwvcli.digipoort.findings import findings
from uwvcli.domain.corrections import Cause
from uwvcli.domain.keys import AnyKey, NotificationKey, WithdrawalKey, aanleverkenmerk, withdrawal_of
from uwvcli.domain.models import Config, StatusRecord
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK, UwvcliError
from uwvcli.state.journal import Attempt, AttemptOutcome, Entry, Journal, JournalState

#: A day the journal keeps (a dossier reported gone) is placed at its start, in Dutch time.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class UnknownKey(UwvcliError):
    """The journal does not know the key asked for (nothing was created)."""

    exit_code = EXIT_ATTENTION


def history(config: Config, key: AnyKey) -> dict[str, Any]:
    """The story of `key`'s notification (for a withdrawal's key: of the notification it
    withdraws) as one JSON-ready document (its fields: docs/cli.md, "status KEY"). `UnknownKey`
    when the journal does not hold `key`; a state database that does not exist yet holds nothing,
    and is not created."""
    if not config.paths.state.exists():
        raise UnknownKey(f"{key}: the journal is empty (nothing was done yet); check the key")
    notification = key.withdraws if isinstance(key, WithdrawalKey) else key
    with Journal.open(config.paths.state) as journal:
        entry = journal.entry(notification)
        if entry is None or (isinstance(key, WithdrawalKey) and journal.entry(key) is None):
            raise UnknownKey(_unknown(key, entry))
        return _document(journal, key, entry)


def exit_code(document: dict[str, Any]) -> int:
    """Like `uwvcli status`: 1 when the notification or one of its withdrawals needs a person."""
    states = [document["state"], *(w["state"] for w in document["withdrawals"])]
    return EXIT_ATTENTION if any(state in ATTENTION for state in states) else EXIT_OK


def _unknown(key: AnyKey, entry: Entry | None) -> str:
    if entry is not None:  # the notification is there, this withdrawal of it is not
        return (
            f"{key}: the journal has no such withdrawal; `uwvcli status {entry.key}` shows every "
            "withdrawal of that notification"
        )
    return f"{key}: the journal has no such notification; check the key (`uwvcli status` lists them)"


@dataclass(frozen=True, slots=True)
class _Message:
    """One message of the story: a revision of the notification, or (a revision of) the
    withdrawal of one; its attempts and the statuses of the process they started."""

    label: str  # "revision 2", "withdrawal of revision 1"
    key: AnyKey
    revision: int | None  # the key's revision this message is (None: a reference no revision gives)
    aanleverkenmerk: str
    kenmerk: str | None
    state: str
    submitted: datetime | None
    attempts: list[Attempt]
    statuses: list[StatusRecord]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": str(self.key),
            "revision": self.revision,
            "aanleverkenmerk": self.aanleverkenmerk,
            "kenmerk": self.kenmerk,
            "state": self.state,
            "submitted_at": self.submitted.isoformat() if self.submitted else None,
            "attempts": [_attempt(a) for a in self.attempts],
            "statuses": [_status(s) for s in self.statuses],
        }


def _messages(journal: Journal, entry: Entry, label: Callable[[int | None], str]) -> list[_Message]:
    """One per revision of `entry`'s key that was attempted or is its current one, oldest first.
    Only the current revision has a row; an earlier one is known by the aanleverkenmerk its
    attempts carry, and what became of it by its statuses."""
    attempts = journal.attempts(entry.key)
    revisions = {aanleverkenmerk(entry.key, r): r for r in range(1, entry.revision + 1)}
    references = dict.fromkeys(a.aanleverkenmerk for a in attempts)
    if entry.aanleverkenmerk is not None:
        references.setdefault(entry.aanleverkenmerk)
    found = []
    for reference in references:
        own = [a for a in attempts if a.aanleverkenmerk == reference]
        current = reference == entry.aanleverkenmerk
        kenmerk = (entry.kenmerk if current else None) or next(
            (a.kenmerk for a in reversed(own) if a.kenmerk), None
        )
        statuses = journal.status_history(kenmerk) if kenmerk else []
        revision = revisions.get(reference, entry.revision if current else None)
        sent = next((a.started for a in own if a.kenmerk), None)
        found.append(
            _Message(
                label=label(revision),
                key=entry.key,
                revision=revision,
                aanleverkenmerk=reference,
                kenmerk=kenmerk,
                state=str(entry.state) if current else _earlier_state(own, statuses),
                submitted=(entry.submitted if current else None) or sent,
                attempts=own,
                statuses=statuses,
            )
        )
    return sorted(found, key=lambda m: m.revision or 0)


def _earlier_state(attempts: list[Attempt], statuses: list[StatusRecord]) -> str:
    """What became of a revision that is no longer the key's current one: what its statuses
    decided, else what its last attempt says (a fault: rejected; no answer: in doubt)."""
    decided, _ = latest_outcome(statuses)
    if decided is not None:
        return decided
    last = attempts[-1].outcome if attempts else None
    if last is AttemptOutcome.FAULT:
        return str(JournalState.REJECTED)
    if last in (AttemptOutcome.ACCEPTED, AttemptOutcome.ADOPTED):
        return str(JournalState.SUBMITTED)
    return str(JournalState.IN_DOUBT) if last is not None else str(JournalState.WRITTEN)


def _attempt(attempt: Attempt) -> dict[str, Any]:
    return {
        "started": attempt.started.isoformat(),
        "finished": attempt.finished.isoformat() if attempt.finished else None,
        "outcome": str(attempt.outcome),
        "kenmerk": attempt.kenmerk,
        "foutcode": attempt.foutcode,
        "foutbeschrijving": attempt.foutbeschrijving,
        "reason": attempt.reason,
    }


def _status(status: StatusRecord) -> dict[str, Any]:
    return {
        "at": status.timestamp.isoformat(),
        "code": status.code,
        "meaning": codes.describe(status.code, status.foutcode),
        "text": status.description,
        "foutcode": status.foutcode,
        "foutbeschrijving": status.foutbeschrijving,
        "findings": findings(status.details),
    }


#: Why a withdrawal exists, in the words `status KEY` shows (RULES 4.6).
CAUSES = {
    Cause.CORRECTED: "corrected: the exports changed what it says; the next revision replaces it",
    Cause.WITHDRAWN: "withdrawn: the rules no longer produce it while its dossier is in the exports",
    Cause.DEPENDANT: "dependant: the notification it follows was withdrawn; it is sent again after that one",
    Cause.REQUESTED: "requested by a person (uwvcli withdraw)",
}


def _document(journal: Journal, asked: AnyKey, entry: Entry) -> dict[str, Any]:
    assert isinstance(entry.key, NotificationKey)
    revisions = _messages(journal, entry, lambda r: f"revision {r or '?'}")
    keys = [withdrawal_of(entry.key, r) for r in range(1, entry.revision + 1)]
    found = journal.entries_for(keys)
    withdrawals = [(found[k], _messages(journal, found[k], _withdrawal_label(k))) for k in keys if k in found]
    withdrawn = {k.revision: found[k] for k in keys if k in found}
    revisions = [  # an earlier revision whose withdrawal UWV accepted: the row says so of the current one
        replace(m, state=str(JournalState.WITHDRAWN))
        if m.revision in withdrawn and withdrawn[m.revision].state == JournalState.ACCEPTED
        else m
        for m in revisions
    ]
    last = last_status(journal.status_history(entry.kenmerk)) if entry.kenmerk else None
    return {
        "key": str(entry.key),
        "asked": str(asked),
        "employer_id": entry.employer_id,
        "employee_id": entry.employee_id,
        "dossier_id": entry.dossier_id,
        "kind": str(entry.kind),
        "variant": str(entry.variant) if entry.variant else None,
        "state": str(entry.state),
        "revision": entry.revision,
        "current": status_row(entry, last),
        "gone_reported": entry.gone_reported.isoformat() if entry.gone_reported else None,
        "facts": json.loads(entry.facts.case) if entry.facts else None,
        "revisions": [
            {
                **m.to_json(),
                "withdrawn_by": str(withdrawn[m.revision].key) if m.revision in withdrawn else None,
            }
            for m in revisions
        ],
        "withdrawals": [_withdrawal(w, messages, revisions) for w, messages in withdrawals],
        "events": _events(entry, revisions, withdrawals),
    }


def _why(withdrawal: Entry) -> str:
    """The cause in words, and the reason a person gave (kept as typed: one line, no personal data)."""
    cause = CAUSES[withdrawal.cause] if withdrawal.cause else "withdrawn"
    return f"{cause} — {withdrawal.cause_reason}" if withdrawal.cause_reason else cause


def _withdrawal_label(key: WithdrawalKey) -> Callable[[int | None], str]:
    return lambda _: f"withdrawal of revision {key.revision}"


def _withdrawal(entry: Entry, messages: list[_Message], revisions: list[_Message]) -> dict[str, Any]:
    assert isinstance(entry.key, WithdrawalKey)
    withdrawn = entry.key.revision
    later = [m.revision for m in revisions if m.revision is not None and m.revision > withdrawn]
    return {
        "key": str(entry.key),
        "withdraws_revision": withdrawn,
        "cause": str(entry.cause) if entry.cause else None,
        "cause_reason": entry.cause_reason,
        "why": _why(entry),
        "state": str(entry.state),
        "decided_at": entry.created.isoformat(),
        "replaced_by_revision": min(later) if later else None,
        "messages": [m.to_json() for m in messages],
    }


def _events(
    entry: Entry, revisions: list[_Message], withdrawals: list[tuple[Entry, list[_Message]]]
) -> list[dict[str, Any]]:
    """Every moment of the story, in time order (ties keep the order of the story: recorded,
    decided, posted, statuses). Each event has the same fields (docs/cli.md)."""
    found: list[tuple[datetime, dict[str, Any]]] = []

    def add(at: datetime, message: str, key: AnyKey, event: str, detail: str, **more: str | None) -> None:
        fields = {"aanleverkenmerk": None, "kenmerk": None, "code": None, **more}
        found.append((at, {"at": at.isoformat(), "message": message, "key": str(key), "event": event,
                           **fields, "detail": detail}))  # fmt: skip

    add(
        entry.created,
        "notification",
        entry.key,
        "recorded",
        f"first recorded, due {entry.due_date.isoformat()}",
    )
    for withdrawal, _ in withdrawals:
        assert isinstance(withdrawal.key, WithdrawalKey)
        label = f"withdrawal of revision {withdrawal.key.revision}"
        add(withdrawal.created, label, withdrawal.key, "decided", _why(withdrawal))
    for message in [*revisions, *(m for _, messages in withdrawals for m in messages)]:
        ids = {"aanleverkenmerk": message.aanleverkenmerk}
        for attempt in message.attempts:
            add(attempt.started, message.label, message.key, "submitted", _attempt_line(attempt),
                **ids, kenmerk=attempt.kenmerk)  # fmt: skip
        for status in message.statuses:
            text = codes.describe_with_text(
                status.code, status.foutcode, status.foutbeschrijving or status.description
            )
            found_first = findings(status.details)[:1]
            detail = text + (f"; finding: {found_first[0]}" if found_first else "")
            add(status.timestamp, message.label, message.key, f"status {status.code}", detail,
                **ids, kenmerk=message.kenmerk, code=status.code)  # fmt: skip
    if entry.gone_reported is not None:
        gone = datetime.combine(entry.gone_reported, time(), AMSTERDAM)  # that day: its run reported it
        add(gone, "notification", entry.key, "gone", gone_note(entry) or "")
    return [event for _, event in sorted(found, key=lambda item: item[0])]  # sorted() is stable


def _attempt_line(attempt: Attempt) -> str:
    outcome = attempt.outcome
    if outcome is AttemptOutcome.ACCEPTED:
        text = f"received by Digipoort as kenmerk {attempt.kenmerk}"
    elif outcome is AttemptOutcome.ADOPTED:
        text = f"found at Digipoort as kenmerk {attempt.kenmerk}"
    elif outcome is AttemptOutcome.FAULT:
        return f"refused by Digipoort: {attempt.foutcode}: {attempt.foutbeschrijving}"
    elif outcome is AttemptOutcome.NOT_SENT:
        text = "did not reach Digipoort"
    elif outcome is AttemptOutcome.IN_DOUBT:
        text = "no answer: in doubt"
    else:
        text = "being posted (no answer recorded yet)"
    return f"{text} ({attempt.reason})" if attempt.reason else text

"""The correction pass of RULES 4.6, decided once for `uwvcli run` (which writes what it
decides, `app.prepare`) and `uwvcli due` (which only lists it, `app.due`): so the preview shows
exactly the withdrawals the next run on that date writes.

Two halves, both reading only, never writing:

- `known_entries`: what a run can need of the journal, bounded by the exports and the plan,
  whatever the history holds (issue 14): the entries of the planned keys; the unsent ones (what
  a run cancels); the sent ones of the dossiers in the exports (only those can be corrected or
  withdrawn, RULES 4.6); the submitted ones of the last `GONE_REPORT_DAYS` days not yet reported
  gone (only those can be reported); the rejected or failed withdrawals and what they withdraw;
  and the withdrawals of all of these. Each through an index (journal schema 5 and 6).
- `decide`: from those entries and the plan, what RULES 4.6 makes of what UWV has: the
  decision itself is `domain.corrections.decide` (pure); around it the facts of the sent and of
  the current messages, the brake and the order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from uwvcli.app.planning import Plan
from uwvcli.app.withdraw import CannotWithdraw, sent_message, withdrawal_notification
from uwvcli.domain import corrections, ordering, problems
from uwvcli.domain.keys import AnyKey, NotificationKey, WithdrawalKey, aanleverkenmerk
from uwvcli.domain.models import Config, Dossier, Employer, Notification, Sender, State
from uwvcli.errors import UwvcliError
from uwvcli.messages import build as messages
from uwvcli.recap.mails import HIGHEST_FINE
from uwvcli.state.journal import NEVER_AGAIN, SENT, UNSUCCESSFUL, Entry, Journal, JournalState
from uwvcli.state.outbox import sha256_hex

#: Any moment will do for a fingerprint build (content_digest sets its own); a fixed one, to be
#: plain. The facts leave the moment of building out too (`messages.message_facts`).
FINGERPRINT_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
#: Journal states of a notification with nothing submitted, which a run cancels when no longer due.
UNSENT = (JournalState.WRITTEN, JournalState.BLOCKED, JournalState.REFUSED)


def known_entries(journal: Journal, plan: Plan, run_date: date) -> dict[AnyKey, Entry]:
    """Every entry a run on `run_date` with `plan` reads, by key (see the module docstring).
    Reading the whole journal instead gives the same decisions (tests/test_correction_reads.py)."""
    # The sent ones of the exports' dossiers first: on a big export most planned keys are among
    # them (what the rules produce again), and are then not read a second time by key.
    found = {e.key: e for e in journal.entries_of_dossiers(plan.dossiers, state=NEVER_AGAIN)}
    planned = (n.key for n in (*plan.notifications, *plan.already_sent, *plan.handover))
    found.update(journal.entries_for(key for key in planned if key not in found))
    unsuccessful = journal.withdrawals(state=UNSUCCESSFUL)
    for entry in (
        *journal.entries(state=UNSENT),
        *journal.unreported_since(run_date - timedelta(days=corrections.GONE_REPORT_DAYS), state=SENT),
        *unsuccessful,
    ):
        found.setdefault(entry.key, entry)
    found.update(
        journal.entries_for(
            w.key.withdraws
            for w in unsuccessful
            if isinstance(w.key, WithdrawalKey) and w.key.withdraws not in found
        )
    )
    found.update(
        journal.entries_for(
            key for e in list(found.values()) if (key := e.withdrawal_key) is not None and key not in found
        )
    )
    return found


def withdrawal_of(entries: Mapping[AnyKey, Entry], entry: Entry) -> Entry | None:
    """The withdrawal of `entry`'s current revision among `entries`, in any state (None for a
    withdrawal: it is never withdrawn itself)."""
    key = entry.withdrawal_key
    return entries.get(key) if key is not None else None


def open_withdrawal(entries: Mapping[AnyKey, Entry], entry: Entry) -> Entry | None:
    """The withdrawal of `entry`'s current revision, when one exists (and is not cancelled)."""
    found = withdrawal_of(entries, entry)
    return found if found is not None and found.state != JournalState.CANCELLED else None


# ---------------------------------------------------------------- the decision


@dataclass(frozen=True, slots=True)
class Withdrawing:
    """A withdrawal the pass decided: of which sent entry, why, and which facts changed."""

    notification: Notification  # its key is the WithdrawalKey; due on the run date
    entry: Entry  # what it withdraws, as the journal has it
    cause: corrections.Cause
    changed: tuple[str, ...] = ()  # the fact paths that changed (a correction)

    @property
    def key(self) -> AnyKey:
        return self.notification.key

    @property
    def due_date(self) -> date:
        return self.notification.due_date


@dataclass(frozen=True)
class Corrections:
    """What the correction pass of one run decides; nothing of it is written yet."""

    withdraw: list[Withdrawing] = field(default_factory=list)  # to write, in sending order
    held: list[Withdrawing] = field(default_factory=list)  # held by the brake, in sending order
    braked: dict[str, int] = field(default_factory=dict)  # employer -> withdrawals held by the brake
    gone: list[Entry] = field(default_factory=list)  # to report now (RULES 4.6: once, when recent)
    unsuccessful: list[Entry] = field(default_factory=list)  # withdrawals rejected/failed: theirs wait
    unneeded: list[Entry] = field(default_factory=list)  # unsent automatic withdrawals no longer called for
    changed_after_sending: list[Notification] = field(default_factory=list)  # facts unknown: by hand
    cannot: list[tuple[Withdrawing, str]] = field(default_factory=list)  # the sent file is unusable: why
    read_back: dict[NotificationKey, corrections.StoredFacts] = field(default_factory=dict)  # to keep


class _Present:
    """(employer_id, dossier_id) pairs the exports hold, asked one at a time (no full scan)."""

    def __init__(self, dossiers: Mapping[str, Dossier]):
        self._dossiers = dossiers

    def __contains__(self, pair: object) -> bool:
        if not isinstance(pair, tuple) or len(pair) != 2:
            return False
        employer_id, dossier_id = pair
        return dossier_id in self._dossiers and self._dossiers[dossier_id].employer_id == employer_id


def decide(
    config: Config,
    plan: Plan,
    entries: Mapping[AnyKey, Entry],
    journal: Journal,
    read: Callable[[Path], bytes],
    run_date: date,
    *,
    allow: bool,
) -> Corrections:
    """RULES 4.6 for what UWV has, among `entries` (`known_entries`): corrected and withdrawn
    notifications get a withdrawal (dependants first, the brake per employer unless `allow`), a
    gone dossier is reported once, and an unsent automatic withdrawal the exports no longer call
    for is cancelled. Reads the journal (the brake's counts) and, through `read`, outbox files (the
    facts of a file sent by a version that kept none); never writes."""
    facts_key = journal.facts_key()
    present = _Present(plan.dossiers)
    sent = {  # the notifications UWV has, not their withdrawals, in the journal's order
        e.key: e
        for e in sorted(entries.values(), key=lambda e: (e.due_date, str(e.key)))
        if e.state in SENT and isinstance(e.key, NotificationKey)
    }
    result = Corrections()
    facts: dict[NotificationKey, corrections.StoredFacts | None] = {}
    for key, e in sent.items():
        if (key.employer_id, key.dossier_id) not in present:
            facts[key] = None  # gone: nothing is decided on its facts
            continue
        found = e.facts
        if found is None and (found := facts_from_file(read, e, facts_key)) is not None:
            result.read_back[key] = found
        facts[key] = found
    produced: dict[AnyKey, corrections.StoredFacts | None] = {}
    for n in plan.already_sent:
        if n.state == State.BLOCKED or n.dossier_id not in plan.dossiers:
            produced[n.key] = None
            continue
        dossier, employer = plan.dossiers[n.dossier_id], config.employers[n.employer_id]
        produced[n.key] = corrections.stored(current_facts(config, n, dossier, employer), facts_key)
        if (
            n.key in facts
            and facts[n.key] is None
            and _content_differs(entries.get(n.key), n, dossier, employer, config)
        ):
            result.changed_after_sending.append(n)
    for n in plan.handover:
        produced.setdefault(n.key, None)
    open_ = {key: w for key, e in sent.items() if (w := open_withdrawal(entries, e)) is not None}
    result.unsuccessful.extend(w for w in open_.values() if w.state in UNSUCCESSFUL)
    result.unneeded.extend(_unneeded(open_, produced, facts))
    decision = corrections.decide(
        [corrections.Submitted(key, facts[key]) for key in sent if key not in open_],
        produced,
        present,
        {
            key
            for key, e in sent.items()
            if key not in produced and by_configuration(config, plan, e, facts[key])
        },
    )
    result.gone.extend(_to_report(sent, decision.gone, run_date))
    automatic = Counter(key.employer_id for key in decision.withdraw)
    braked = set() if allow else corrections.braked(automatic, journal.count_sent(automatic))
    result.braked.update({employer: automatic[employer] for employer in sorted(braked)})
    decided = []
    for key, cause in decision.withdraw.items():
        now, then = produced.get(key), facts.get(key)
        changed = now.differs_from(then) if now is not None and then is not None else ()
        n = withdrawal_notification(sent[key], run_date, run_date)
        if cause is corrections.Cause.CORRECTED and corrections.fined_when_corrected(changed):
            n = replace(n, notes=(problems.corrected_date_fine(HIGHEST_FINE),))
        decided.append(Withdrawing(n, sent[key], cause, changed))
    for item in ordering.sending_order(decided):
        if item.entry.employer_id in braked:
            result.held.append(item)
            continue
        try:
            sent_message(item.entry, read)  # a withdrawal is built from it
        except CannotWithdraw as error:
            result.cannot.append((item, str(error)))
            continue
        result.withdraw.append(item)
    return result


def _content_differs(
    entry: Entry | None, n: Notification, dossier: Dossier, employer: Employer, config: Config
) -> bool:
    """A message sent by a version that kept no facts, whose file is gone: the old content
    comparison, and a person withdraws at UWV by hand."""
    if entry is None or entry.content_sha256 is None:
        return False
    return entry.content_sha256 != fingerprint(n, dossier, employer, config.sender)


def _unneeded(
    open_: Mapping[NotificationKey, Entry],
    produced: Mapping[AnyKey, corrections.StoredFacts | None],
    facts: Mapping[NotificationKey, corrections.StoredFacts | None],
) -> Iterable[Entry]:
    """An automatic withdrawal not yet submitted whose notification the exports give the sent
    facts again (the correction was undone): nothing to withdraw."""
    for key, withdrawal in open_.items():
        if withdrawal.state not in UNSENT or withdrawal.cause in (None, corrections.Cause.REQUESTED):
            continue
        now, then = produced.get(key), facts.get(key)
        if now is not None and then is not None and not now.differs_from(then):
            yield withdrawal


def _to_report(
    sent: Mapping[NotificationKey, Entry], gone: Iterable[NotificationKey], run_date: date
) -> Iterable[Entry]:
    """Once, when it was submitted in the last GONE_REPORT_DAYS days (RULES 4.6)."""
    for key in gone:
        entry = sent.get(key)
        if entry is None or entry.gone_reported is not None or entry.submitted is None:
            continue
        if (run_date - entry.submitted.date()).days > corrections.GONE_REPORT_DAYS:
            continue
        yield entry


def by_configuration(config: Config, plan: Plan, entry: Entry, facts: corrections.StoredFacts | None) -> bool:
    """Whether the rules no longer produce `entry` because of the configuration, which never
    withdraws (RULES 4.6): its employer gone, inactive or its kind disabled, or a start_date
    after a first sick day that did not move."""
    employer = config.employers.get(entry.employer_id)
    if employer is None or not employer.active or not employer.enabled(entry.kind):
        return True
    if employer.start_date is None or facts is None or entry.dossier_id not in plan.dossiers:
        return False
    first = plan.dossiers[entry.dossier_id].first_sick_day
    return (
        first is not None
        and first < employer.start_date
        and corrections.first_ao_day(facts) == first.strftime("%Y%m%d")
    )


# ---------------------------------------------------------------- facts and fingerprints


def fingerprint(n: Notification, dossier: Dossier, employer: Employer, sender: Sender) -> str:
    """sha256 of what the message says about the notification (`messages.content_digest`): neither
    a new revision, a new phone number nor the moment of building counts as a change."""
    return messages.content_digest(_built_now(n, dossier, employer, sender), n.key)


def current_facts(config: Config, n: Notification, dossier: Dossier, employer: Employer) -> corrections.Facts:
    """The facts a message built now for `n` would carry (no names among them: a preview without
    names gives the same facts)."""
    return messages.message_facts(_built_now(n, dossier, employer, config.sender))


def _built_now(n: Notification, dossier: Dossier, employer: Employer, sender: Sender) -> bytes:
    """Revision 1 of `n`'s message from the exports as they are, to be compared, never sent."""
    return messages.build_message(
        n, dossier, employer, sender, aanleverkenmerk=aanleverkenmerk(n.key), created=FINGERPRINT_MOMENT
    )


def facts_from_file(
    read: Callable[[Path], bytes], entry: Entry, key: bytes
) -> corrections.StoredFacts | None:
    """The facts of a message submitted by a version that did not keep them, read back from its
    outbox file (when it is still the file that was sent); the run keeps them (`record_facts`)."""
    if entry.file is None or entry.sha256 is None:
        return None
    try:
        content = read(entry.file)
    except (UwvcliError, OSError):
        return None
    if sha256_hex(content) != entry.sha256:
        return None
    return corrections.stored(messages.message_facts(content), key)

"""The second half of the daily run: once the outbox is prepared, deliver it to Digipoort, follow
the statuses for a bounded time, and tell every employer what happened (the recap mail).

The order matters for "never lose": the Digipoort work is journalled before any recap is
written, and a recap is on disk before any mail is attempted, so a crash or a mail server that is
down loses nothing — the next run sends what is still pending. A run killed after sending but
before its recap loses no news either: the next run of the same day reports, from the journal,
what the killed one sent (and what it sent late), and an undisturbed rerun adds nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TypedDict, Unpack

from uwvcli.app.connection import open_digipoort
from uwvcli.app.prepare import PrepareReport
from uwvcli.app.sharing import share_accepted
from uwvcli.delivery.loop import NOT_SENT, OVERDUE, UNVERIFIED, Delivery, SendReport, send_outbox
from uwvcli.domain.corrections import Cause
from uwvcli.domain.keys import AnyKey
from uwvcli.domain.models import Config, Dossier, Notification, StatusRecord
from uwvcli.messages.signing import Credentials
from uwvcli.recap.mails import (
    DeliveryReport,
    EmployerRecap,
    RecapItem,
    deliver_pending,
    recap_folder,
    write_recaps,
)
from uwvcli.state.journal import Entry, Journal

#: Recap sections of a message that went out (or may have) on this run date.
SENT_SECTIONS = ("sent", "accepted", "delivered", "rejected", "failed", "parked")

#: Which recap section a delivery line of the send report belongs in.
SECTION_OF_STATE = {
    "submitted": "sent",
    "accepted": "accepted",
    "delivered": "delivered",
    "rejected": "rejected",
    "failed": "failed",
    "refused": "failed",
    "parked": "parked",
    "in_doubt": "parked",
}


@dataclass(frozen=True)
class FollowUp:
    """What the second half of the run did."""

    send: SendReport
    recaps: list[Path]  # recap files written this run
    mail: DeliveryReport
    news: Sequence[EmployerRecap] = ()  # what each employer's recap says (written or not)


def deliver_and_recap(
    config: Config,
    day: date,
    journal: Journal,
    credentials: Credentials,
    prepared: PrepareReport,
    *,
    upcoming: Sequence[Notification] = (),
    dossiers: Mapping[str, Dossier] | None = None,
    parallelism: int = 4,
    poll_seconds: float = 60.0,
    progress: Callable[[Delivery], None] | None = None,
    notes: Sequence[str] = (),
    should_stop: Callable[[], bool] = lambda: False,
    polled: Callable[[int, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FollowUp:
    """Send the outbox, follow statuses, write every employer's recap (with `notes`, general
    remarks for every employer) and mail what is pending. Once `should_stop()` (a signal) the
    messages in flight are finished and recorded and no recap is written: the next run of the day
    sends the rest and reports what this one did."""
    with open_digipoort(config) as client:
        send = send_outbox(
            config,
            journal,
            client=client,
            parallelism=parallelism,
            poll_seconds=poll_seconds,
            progress=progress,
            signer=credentials.certificate,
            should_stop=should_stop,
            polled=polled,
            sleep=sleep,
        )
    if should_stop():
        return FollowUp(send=send, recaps=[], mail=DeliveryReport(config.mail is not None))
    recaps = build_recaps(
        config, day, journal, prepared, send, upcoming=upcoming, dossiers=dossiers or {}, notes=notes
    )
    shared = share_accepted(config, journal, dossiers or {}, _start_of_the_day_runs(journal, day))
    recaps = [replace(r, notes=(*r.notes, *shared.get(r.employer.id, ()))) for r in recaps]
    folder = recap_folder(config.paths)
    from_address = config.mail.from_address if config.mail else "uwvcli@localhost"
    written = write_recaps(folder, recaps, from_address=from_address)
    mail = deliver_pending(folder, config.mail)
    return FollowUp(send=send, recaps=written, mail=mail, news=recaps)


def build_recaps(
    config: Config,
    day: date,
    journal: Journal,
    prepared: PrepareReport,
    send: SendReport,
    *,
    upcoming: Iterable[Notification] = (),
    dossiers: Mapping[str, Dossier],
    notes: Sequence[str] = (),
) -> list[EmployerRecap]:
    """One recap per configured employer with the run's news sorted into the recap's sections.
    Employers without news get a recap object too; `write_recaps` skips those."""
    notifications = _notifications_of(prepared)
    sections: dict[str, dict[str, list[RecapItem]]] = {employer_id: {} for employer_id in config.employers}

    def add(employer_id: str, section: str, item: RecapItem) -> None:
        if employer_id in sections:
            sections[employer_id].setdefault(section, []).append(item)

    def item_for(n: Notification, **status: Unpack[_StatusFields]) -> RecapItem:
        return RecapItem.from_notification(n, dossiers.get(n.dossier_id), **status)

    for n in prepared.blocked:
        add(n.employer_id, "blocked", item_for(n))
    for p in prepared.late:
        add(p.notification.employer_id, "late", item_for(p.notification))
    for n in prepared.changed_after_sending:
        add(n.employer_id, "changed_after_sending", item_for(n))
    for w in prepared.withdrawals:  # RULES 4.6: what uwvcli corrects by itself, and what it withdraws
        corrected = w.cause in (Cause.CORRECTED, Cause.DEPENDANT)
        add(w.notification.employer_id, "corrected" if corrected else "withdrawn", item_for(w.notification))
    for gone in prepared.gone:
        add(gone.employer_id, "gone", _item_from_entry(gone, dossiers.get(gone.dossier_id)))
    for n in upcoming:
        add(n.employer_id, "upcoming", item_for(n))

    unreachable: dict[str, int] = {}
    unsure: dict[tuple[str, str], int] = {}  # (employer, UNVERIFIED or OVERDUE): how many
    for delivery in send.lines:
        entry = journal.entry(delivery.key)
        employer_id = delivery.key.employer_id
        if delivery.state == NOT_SENT:
            unreachable[employer_id] = unreachable.get(employer_id, 0) + 1
            continue
        if delivery.state in (UNVERIFIED, OVERDUE):
            unsure[employer_id, delivery.state] = unsure.get((employer_id, delivery.state), 0) + 1
            continue
        section = SECTION_OF_STATE.get(delivery.state)
        if section is None:
            continue
        notification = notifications.get(delivery.key)
        status = _status_fields(journal, entry, delivery, day) if section in ("rejected", "failed") else {}
        if notification is not None:
            item = item_for(notification, **status)
        elif entry is not None:
            item = _item_from_entry(entry, dossiers.get(entry.dossier_id), **status)
        else:
            continue
        add(employer_id, section, item)

    since = _start_of_the_day_runs(journal, day)
    reported = {delivery.key for delivery in send.lines}
    for entry in _settled_since(journal, since, reported):
        section = SECTION_OF_STATE[entry.state]
        status = _status_fields(journal, entry, None, day) if section in ("rejected", "failed") else {}
        add(entry.employer_id, section, _item_from_entry(entry, dossiers.get(entry.dossier_id), **status))

    for employer_id, item in _sent_late_today(journal, sections, prepared, day, since, dossiers):
        add(employer_id, "late", item)

    recaps = []
    for employer_id, employer in config.employers.items():
        remarks = list(notes)
        if unreachable.get(employer_id):
            remarks.append(
                f"{unreachable[employer_id]} bericht(en) konden Digipoort vandaag niet bereiken; "
                "ze gaan bij de volgende run automatisch mee."
            )
        if unsure.get((employer_id, UNVERIFIED)):
            remarks.append(
                f"Van {unsure[employer_id, UNVERIFIED]} verzonden bericht(en) kon de status bij Digipoort "
                "niet worden gecontroleerd (het antwoord was niet te verifiëren); uwvcli vraagt het bij "
                "de volgende run opnieuw. Blijft dit zo, vraag dan het Logius Servicecentrum."
            )
        if unsure.get((employer_id, OVERDUE)):
            remarks.append(
                f"{unsure[employer_id, OVERDUE]} bericht(en) zijn al dagen geleden verzonden en hebben nog "
                "geen eindstatus; vraag het Logius Servicecentrum naar het kenmerk (uwvcli status)."
            )
        recaps.append(
            EmployerRecap(
                employer=employer,
                run_date=day,
                notes=tuple(remarks),
                **{section: tuple(items) for section, items in sections[employer_id].items()},
            )
        )
    return recaps


def _notifications_of(prepared: PrepareReport) -> dict[AnyKey, Notification]:
    found = {p.notification.key: p.notification for p in (*prepared.written, *prepared.unchanged)}
    found.update({n.key: n for n in (*prepared.blocked, *prepared.changed_after_sending)})
    found.update({w.notification.key: w.notification for w in prepared.withdrawals})
    return found


def _sent_late_today(
    journal: Journal,
    sections: Mapping[str, Mapping[str, Sequence[RecapItem]]],
    prepared: PrepareReport,
    day: date,
    since: datetime | None,
    dossiers: Mapping[str, Dossier],
) -> list[tuple[str, RecapItem]]:
    """Late is a property of when a message went out: one sent past its deadline by an earlier
    (killed) run of the day is late too, so the day's recap says the same whatever run wrote it.
    The ones this run prepared late are in the recap already."""
    if since is None:
        return []
    already = {p.notification.key for p in prepared.late}
    found: list[tuple[str, RecapItem]] = []
    for employer_id, by_section in sections.items():
        for item in (item for section in SENT_SECTIONS for item in by_section.get(section, ())):
            if item.key in already or item.deadline is None or item.deadline >= day:
                continue
            entry = journal.entry(item.key)
            if entry is not None and _attempted_since(journal, entry.key, since):
                already.add(item.key)
                found.append((employer_id, _item_from_entry(entry, dossiers.get(entry.dossier_id))))
    return found


def _start_of_the_day_runs(journal: Journal, day: date) -> datetime | None:
    """When the latest series of runs for `day` began (this run and the ones right before it
    with the same run date, e.g. runs killed before they finished)."""
    started = None
    for run in reversed(journal.runs()):
        if run.run_date != day:
            break
        started = run.started
    return started


def _settled_since(journal: Journal, since: datetime | None, reported: Container[AnyKey]) -> list[Entry]:
    """Messages an earlier run of the day sent or settled but never told the employer about: that
    run was killed before its recap was written. Without them a crash would silently drop news
    from the day's recap; with them a normal rerun adds nothing (`write_recap` sees the facts were
    already told)."""
    if since is None:
        return []
    return [e for e in journal.entries(state=tuple(SECTION_OF_STATE), since=since) if e.key not in reported]


def _attempted_since(journal: Journal, key: AnyKey, since: datetime) -> bool:
    return any(attempt.started >= since for attempt in journal.attempts(key))


class _StatusFields(TypedDict, total=False):
    """What `_status_fields` gives `RecapItem.from_notification`: the status, or the fault."""

    status: StatusRecord
    foutcode: str | None
    foutbeschrijving: str | None
    reported_on: date


def _status_fields(
    journal: Journal, entry: Entry | None, delivery: Delivery | None, day: date
) -> _StatusFields:
    """The Digipoort status that ended a message (its code, foutcode, verbatim text and
    statusdetails, which `RecapItem` keeps only as redacted findings), or the synchronous fault
    when there was no process (a fault has no statusdetails)."""
    if entry is not None and entry.kenmerk:
        history = journal.status_history(entry.kenmerk)
        if history:
            return {"status": history[-1]}
    if delivery is None and entry is not None:
        attempts = journal.attempts(entry.key)
        last = attempts[-1] if attempts else None
        return {
            "foutcode": last.foutcode if last else None,
            "foutbeschrijving": (last.foutbeschrijving if last else None) or entry.reason,
            "reported_on": day,
        }
    assert delivery is not None
    return {
        "foutcode": delivery.foutcode,
        "foutbeschrijving": delivery.text or delivery.reason,
        "reported_on": day,
    }


def _item_from_entry(entry: Entry, dossier: Dossier | None, **status: Unpack[_StatusFields]) -> RecapItem:
    """A recap item for a message that is not in today's plan (sent on an earlier run)."""
    notification = entry.as_notification(entry.due_date)  # its state is not shown in the recap
    return RecapItem.from_notification(notification, dossier, **status)

"""The employee's copy as a step of the run: after the Digipoort work is journalled and before
the recaps are written, every notification UWV accepted today of a kind its employer shares gets
its copy written (once: `recap.copies`) and then everything pending is mailed. What goes wrong —
no address, an invalid one, an SMTP server that does not take it — becomes a remark in the
employer's recap; it never touches the UWV message, which was accepted already."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from uwvcli.domain.identifiers import is_email_address
from uwvcli.domain.keys import NotificationKey
from uwvcli.domain.models import Config, Dossier
from uwvcli.recap.copies import (
    compose_copy,
    copies_folder,
    copy_made,
    employer_of,
    notification_dates,
    write_copy,
)
from uwvcli.recap.mails import AMSTERDAM, DeliveryReport, deliver_pending
from uwvcli.state.journal import Entry, Journal

_NO_ADDRESS = (
    "{n} werknemer(s) kregen geen kopie van hun door UWV geaccepteerde melding: de export heeft "
    "geen employee_email voor hen. Vul het aan in het HR-systeem."
)
_BAD_ADDRESS = (
    "{n} werknemer(s) kregen geen kopie van hun door UWV geaccepteerde melding: hun employee_email "
    "in de export is geen geldig e-mailadres. Verbeter het in het HR-systeem."
)
_WAITING = (
    "{n} kopie(ën) voor werknemers konden nog niet worden gemaild (de mailserver nam ze niet aan); "
    "uwvcli probeert het bij de volgende run opnieuw."
)


def share_accepted(
    config: Config, journal: Journal, dossiers: Mapping[str, Dossier], since: datetime | None
) -> dict[str, list[str]]:
    """Write and mail the copies of what was accepted since `since` (the start of the day's
    runs; None: nothing); returns the recap remarks per employer id."""
    folder = copies_folder(config.paths)
    counts: dict[tuple[str, str], int] = {}

    def count(employer_id: str, text: str) -> None:
        counts[employer_id, text] = counts.get((employer_id, text), 0) + 1

    accepted = journal.entries(state="accepted", since=since) if since is not None else []
    for entry in accepted:
        key = entry.key
        if not isinstance(key, NotificationKey):
            continue  # an accepted withdrawal (RULES 4.6): the copy is for what was reported
        employer = config.employers.get(entry.employer_id)
        if employer is None or not employer.shares(entry.kind) or copy_made(folder, key):
            continue
        dossier = dossiers.get(entry.dossier_id)
        address = dossier.employee_email if dossier is not None else None
        if address is None:
            count(entry.employer_id, _NO_ADDRESS)
        elif not is_email_address(address):
            count(entry.employer_id, _BAD_ADDRESS)
        else:
            assert dossier is not None
            message = compose_copy(
                employer,
                entry.kind,
                entry.variant,
                notification_dates(entry.kind, entry.variant, dossier),
                to=address,
                reported_on=entry.submitted.astimezone(AMSTERDAM).date() if entry.submitted else None,
                accepted_on=_accepted_on(journal, entry),
                from_address=config.mail.from_address if config.mail else "uwvcli@localhost",
            )
            write_copy(folder, key, message)
    _count_waiting(deliver_pending(folder, config.mail), count)
    remarks: dict[str, list[str]] = {}
    for (employer_id, text), n in counts.items():
        remarks.setdefault(employer_id, []).append(text.format(n=n))
    return remarks


def _accepted_on(journal: Journal, entry: Entry) -> date | None:
    history = journal.status_history(entry.kenmerk) if entry.kenmerk else []
    accepted = [status for status in history if status.code == "500"]
    return accepted[-1].timestamp.astimezone(AMSTERDAM).date() if accepted else None


def _count_waiting(report: DeliveryReport, count: Callable[[str, str], None]) -> None:
    """A copy that the SMTP server did not take stays pending; its employer hears about it.
    Without a `mail:` section the files are the output, as the recaps are: no remark."""
    if not report.mail_configured:
        return
    for waiting in report.waiting:
        employer_id = employer_of(waiting.path)
        if employer_id is not None:
            count(employer_id, _WAITING)

"""The employer's recap after a run: one Dutch e-mail per employer, telling payroll staff what
went to UWV, what UWV refused (urgent: a late correction is fined), what uwvcli could not send
and why, and what comes next.

The recap is written to disk as an `.eml` file before anything is mailed, so an SMTP server that
is down loses nothing: `deliver_pending` sends what is pending on every run and moves each file to
`sent/` right after the server accepted it. Employees are named only by personnel number and
initials: the input records have no place for a BSN, a full name or a birth date.

Folder layout (under `<state folder>/recaps/`, see `recap_folder`):

- `pending/`     written, waiting for the SMTP server (or the `.eml` is the output: no `mail:`);
- `sent/`        accepted by the SMTP server;
- `unaddressed/` the employer has no `recap_email`: the file is the only output.

`run` calls `write_recaps` and then `deliver_pending`, both under the run lock (one writer).
"""

from __future__ import annotations

import copy
import hashlib
import html
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from uwvcli.common.network import Deadline, is_loopback
from uwvcli.digipoort import codes
from uwvcli.digipoort.findings import findings
from uwvcli.domain.keys import AnyKey, WithdrawalKey
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import (
    Dossier,
    Employer,
    Kind,
    MailSettings,
    Notification,
    PathSettings,
    StatusRecord,
)
from uwvcli.domain.problems import Note, Problem
from uwvcli.errors import EXIT_ATTENTION, UwvcliError
from uwvcli.state.outbox import write_atomic

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
UPCOMING_DAYS = 14  # the recap shows what comes up in this many days after the run date
FINDINGS_MORE = "… en nog {n} bevinding(en)"  # the last findings line when UWV listed more

RECAP_HEADER = "X-Uwvcli-Recap"  # "<employer id> <run date>": which recap this file is
FACTS_HEADER = "X-Uwvcli-Facts"  # short hashes of the news it carries (rerun idempotence)

_MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip
_WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")

# Boetebesluit / Beleidsregel boete werkgevers ZW (RULES §6): days late -> fine.
_FINE_BANDS = ((0, 70), (7, 230), (28, 455))
#: What UWV may fine an incorrect date (Boetebesluit 2b/2c: like a report never made; RULES 4.6).
HIGHEST_FINE = _FINE_BANDS[-1][1]


class RecapError(UwvcliError):
    """A recap could not be written. The notifications themselves were handled; only the
    employer's mail is missing, so the run ends with "needs attention", not "unusable"."""

    exit_code = EXIT_ATTENTION


# ---------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class RecapItem:
    """One notification as the recap shows it. Deliberately without BSN, names or birth date:
    what is not here cannot leak into a mail."""

    key: AnyKey  # matches items across sections
    kind: Kind
    employee_id: str  # personnel number
    dossier_id: str
    initials: str | None = None
    variant: str | None = None  # werkhervatting: "partial" | "full"
    due_date: date | None = None
    deadline: date | None = None
    problems: tuple[Problem, ...] = ()  # blocking problems (rules), personal-data-free
    notes: tuple[Note, ...] = ()  # informational (e.g. the risicocode default used)
    code: str | None = None  # Digipoort statuscode, e.g. "311"
    status_description: str | None = None  # Digipoort's statusomschrijving, verbatim
    foutcode: str | None = None  # e.g. "VAS500", "ALS100"
    explanation: str | None = None  # uwvcli's one-line explanation; default codes.describe(...)
    foutbeschrijving: str | None = None  # Digipoort's own words, verbatim
    findings: tuple[str, ...] = ()  # what the statusdetails say, redacted (digipoort.findings)
    reported_on: date | None = None  # the day UWV/Digipoort reported the failure

    @property
    def fix_by(self) -> date | None:
        """A rejected report must be corrected by the day after UWV reported it (fine policy)."""
        return self.reported_on + timedelta(days=1) if self.reported_on else None

    @classmethod
    def from_notification(
        cls,
        notification: Notification,
        dossier: Dossier | None = None,
        *,
        status: StatusRecord | None = None,
        explanation: str | None = None,
        foutcode: str | None = None,
        foutbeschrijving: str | None = None,
        details: str | None = None,
        reported_on: date | None = None,
    ) -> RecapItem:
        """The item for `notification`; of the dossier only the initials are taken. `status` is
        the Digipoort status that ended it (its code, foutcode, verbatim text, statusdetails and
        report date); the explicit keywords cover a synchronous fault, which has no status. The
        statusdetails are kept only as their redacted findings: raw details may quote a BSN or a
        birth date, and what is not in the item cannot leak into a mail."""
        if status is not None:
            foutcode = foutcode or status.foutcode
            foutbeschrijving = foutbeschrijving or status.foutbeschrijving
            details = details or status.details
            reported_on = reported_on or status.timestamp.astimezone(AMSTERDAM).date()
        return cls(
            key=notification.key,
            kind=notification.kind,
            employee_id=notification.employee_id,
            dossier_id=notification.dossier_id,
            initials=dossier.initials if dossier else None,
            variant=notification.variant,
            due_date=notification.due_date,
            deadline=notification.deadline,
            problems=notification.problems,
            notes=notification.notes,
            code=status.code if status else None,
            status_description=status.description if status else None,
            foutcode=foutcode,
            explanation=explanation,
            foutbeschrijving=foutbeschrijving,
            findings=tuple(findings(details, more=FINDINGS_MORE)),
            reported_on=reported_on,
        )


@dataclass(frozen=True)
class EmployerRecap:
    """Everything one employer hears about one run date; `run` fills it from journal and plan."""

    employer: Employer
    run_date: date
    sent: Sequence[RecapItem] = ()  # submitted to Digipoort on this run
    accepted: Sequence[RecapItem] = ()  # UWV accepted (500)
    delivered: Sequence[RecapItem] = ()  # delivered to UWV (400), no refusal in the polling window
    rejected: Sequence[RecapItem] = ()  # refused by Digipoort/UWV (311, 321, 510, sync fault)
    failed: Sequence[RecapItem] = ()  # other final failures (210, 230, 410, 420+AFS600)
    parked: Sequence[RecapItem] = ()  # may or may not have arrived: a person must look
    blocked: Sequence[RecapItem] = ()  # cannot be built: problems to fix
    late: Sequence[RecapItem] = ()  # past its deadline (sent now, or still not sent)
    changed_after_sending: Sequence[RecapItem] = ()  # withdraw and resend by hand
    corrected: Sequence[RecapItem] = ()  # a withdrawal written this run; the correction follows
    withdrawn: Sequence[RecapItem] = ()  # a withdrawal written this run; nothing replaces it
    gone: Sequence[RecapItem] = ()  # submitted, and the dossier is no longer in the export
    upcoming: Sequence[RecapItem] = ()  # due in the next UPCOMING_DAYS days
    notes: Sequence[str] = ()  # general remarks for this employer

    def news(self) -> Iterator[tuple[str, RecapItem]]:
        """(section, item) for everything that happened or needs a person; upcoming items and
        notes are context, not news: on their own they do not make a mail."""
        for section in _NEWS_SECTIONS:
            for item in getattr(self, section):
                yield section, item

    @property
    def has_news(self) -> bool:
        return next(self.news(), None) is not None


_NEWS_SECTIONS = (
    "rejected", "failed", "parked", "blocked", "late", "changed_after_sending", "gone",
    "corrected", "withdrawn", "sent", "accepted", "delivered",
)  # fmt: skip


def recap_folder(paths: PathSettings) -> Path:
    """Recaps live next to the journal: `<state folder>/recaps/`."""
    return paths.state.parent / "recaps"


# ---------------------------------------------------------------- Dutch wording


def catch_up_note(run_date: date, today: date) -> str:
    """The recap's line for a catch-up run (CONTRACT §1: a run date more than a week back)."""
    return (
        f"Inhaalrun: dit overzicht hoort bij {dutch_date(run_date)} en is op {dutch_date(today)} gemaakt, "
        f"{(today - run_date).days} dagen later."
    )


def dutch_date(day: date, *, weekday: bool = False) -> str:
    """`1 december 2026` (or `dinsdag 1 december 2026`), whatever the system locale is."""
    text = f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return f"{_WEEKDAYS[day.weekday()]} {text}" if weekday else text


def _fines_in_words() -> str:
    """`€ 70 tot 7 dagen te laat, € 230 tot 28 dagen, daarna € 455`, from the bands themselves."""
    upto = [f"€ {amount} tot {until} dagen" for (_, amount), (until, _) in pairwise(_FINE_BANDS)]
    return ", ".join([upto[0] + " te laat", *upto[1:], f"daarna € {_FINE_BANDS[-1][1]}"])


def fine_for(days_late: int) -> int:
    """The fine (euro) for a ZW report sent `days_late` days after its deadline (RULES §6)."""
    return max(amount for threshold, amount in _FINE_BANDS if days_late >= threshold)


def problem_in_dutch(problem: Problem) -> str:
    """What is wrong and where to fix it, in the words payroll staff use (`problems.TEXTS`)."""
    return _clean(problem.dutch_with(_dutch_value))


def note_in_dutch(note: Note) -> str:
    """A note of the rules (e.g. a default used) in Dutch."""
    return _clean(note.dutch_with(_dutch_value))


def _dutch_value(value: str) -> str:
    """A parameter as the recap shows it: an ISO date as `1 december 2026`, the rest as it is."""
    if _ISO_DATE.fullmatch(value):
        try:
            return dutch_date(date.fromisoformat(value))
        except ValueError:
            pass
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _clean(text: str) -> str:
    """One line of text: hostile or sloppy input (newlines, control characters) cannot break
    the layout of the mail or a header."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


# ---------------------------------------------------------------- layout (text and HTML share it)


_SUB = "- "  # a detail line that belongs to the line before it (a list under a heading line)


@dataclass(frozen=True, slots=True)
class _Entry:
    headline: str
    details: tuple[str, ...] = ()  # lines starting with _SUB are sub-items of the line before


@dataclass(frozen=True, slots=True)
class _Section:
    title: str
    intro: str
    entries: tuple[_Entry, ...]
    urgent: bool = False


def _who(item: RecapItem) -> str:
    initials = f" ({_clean(item.initials)})" if item.initials and _clean(item.initials) else ""
    what = kind_label(item.kind, item.variant)
    if isinstance(item.key, WithdrawalKey):
        what = f"Intrekking {what}"
    return f"{what}, personeelsnr. {_clean(item.employee_id)}{initials}, dossier {_clean(item.dossier_id)}"


def _code_lines(item: RecapItem) -> list[str]:
    """The codes, uwvcli's explanation in Dutch (`codes.describe_nl` unless the caller gave one)
    and what to do, Digipoort's own words, verbatim, and UWV's findings: what to correct."""
    if not (item.code or item.foutcode):
        return []
    names = []
    if item.code:
        described = f" ({_clean(item.status_description)})" if item.status_description else ""
        names.append(f"Digipoort-status {item.code}{described}")
    if item.foutcode:
        names.append(f"{'foutcode' if names else 'Foutcode'} {item.foutcode}")
    explanation = item.explanation or (
        codes.describe_nl(item.code, item.foutcode) if item.code else codes.describe_nl(item.foutcode or "")
    )
    lines = [", ".join(names), f"Uitleg: {_clean(explanation)}"]
    action = codes.explain(item.code or item.foutcode or "").action_nl
    if action:
        lines.append(f"Wat te doen: {_clean(action)}")
    if item.foutbeschrijving:
        lines.append(f"Toelichting van Digipoort/UWV: “{_clean(item.foutbeschrijving)}”")
    if item.findings:
        lines.append("Bevindingen van UWV:")
        lines += [f"{_SUB}{_clean(finding)}" for finding in item.findings]
    lines.append(f"Meer uitleg: uwvcli explain {item.foutcode or item.code}")
    return lines


def _lateness(item: RecapItem, run_date: date, *, sent_now: bool) -> list[str]:
    """How late, and what it costs (RULES §6), for an item whose deadline has passed."""
    if item.deadline is None or run_date <= item.deadline:
        return []
    days = (run_date - item.deadline).days
    lines = [f"Termijn was {dutch_date(item.deadline)}: {days} {'dag' if days == 1 else 'dagen'} te laat."]
    if item.kind is Kind.WAZO:
        lines.append("Bij een te late WAZO-aanvraag betaalt UWV niet verder terug dan een jaar.")
        return lines
    if sent_now:
        lines.append(f"Bij deze run verzonden; boete-indicatie € {fine_for(days)}.")
        return lines
    lines.append(f"Nog niet verzonden; boete-indicatie nu € {fine_for(days)}.")
    for threshold, amount in _FINE_BANDS:
        if threshold > days:
            when = item.deadline + timedelta(days=threshold)
            lines.append(f"Vanaf {dutch_date(when)} € {amount}.")
    return lines


def _sections(recap: EmployerRecap) -> list[_Section]:
    sent_keys = {i.key for i in (*recap.sent, *recap.accepted, *recap.delivered)}
    run_date = recap.run_date

    def entries(items: Sequence[RecapItem], details: Callable[[RecapItem], list[str]]) -> tuple[_Entry, ...]:
        return tuple(_Entry(_who(i), tuple(details(i))) for i in items)

    def rejected_details(item: RecapItem) -> list[str]:
        lines = _code_lines(item)
        if item.reported_on and item.fix_by:
            lines.append(
                f"Gemeld op {dutch_date(item.reported_on)}; corrigeer uiterlijk "
                f"{dutch_date(item.fix_by, weekday=True)}."
            )
        return lines

    def blocked_details(item: RecapItem) -> list[str]:
        return [problem_in_dutch(p) for p in item.problems] + _lateness(item, run_date, sent_now=False)

    def deadline_details(item: RecapItem) -> list[str]:
        return [f"Termijn: {dutch_date(item.deadline)}."] if item.deadline else []

    def upcoming_details(item: RecapItem) -> list[str]:
        lines = [f"Wordt verstuurd op {dutch_date(item.due_date, weekday=True)}."] if item.due_date else []
        lines += deadline_details(item)
        lines += [f"Let op: {problem_in_dutch(p)}" for p in item.problems]
        return lines

    candidates = [
        _Section(
            "Afgewezen — dringend",
            "UWV of Digipoort heeft deze meldingen niet geaccepteerd. Corrigeer de gegevens uiterlijk "
            "op de genoemde dag: een te late melding kan een boete opleveren. Zodra de gegevens zijn "
            "gecorrigeerd, verstuurt uwvcli de melding bij de volgende run opnieuw.",
            entries(recap.rejected, rejected_details),
            urgent=True,
        ),
        _Section(
            "Mislukt — dringend",
            "Deze meldingen zijn niet bij UWV verwerkt, meestal door een technisch probleem bij het "
            "versturen of afleveren. Neem contact op met de beheerder van uwvcli.",
            entries(recap.failed, rejected_details),
            urgent=True,
        ),
        _Section(
            "Onzeker of aangekomen — dringend",
            "Van deze meldingen is niet zeker of ze bij Digipoort zijn aangekomen. uwvcli verstuurt ze "
            "niet opnieuw (dan zou UWV ze dubbel krijgen): de beheerder van uwvcli moet dit nagaan "
            "bij Logius of in het UWV-portaal en de uitkomst vastleggen met `uwvcli resolve`.",
            entries(recap.parked, lambda i: []),
            urgent=True,
        ),
        _Section(
            "Geblokkeerd — niet verstuurd",
            "Deze meldingen kunnen niet worden opgesteld. Los het probleem op; uwvcli verstuurt ze "
            "bij de volgende run.",
            entries(recap.blocked, blocked_details),
        ),
        _Section(
            "Te laat",
            "De termijn van deze meldingen is verstreken. Een te late ZW-melding kan een boete van "
            f"UWV opleveren ({_fines_in_words()}).",
            entries(recap.late, lambda i: _lateness(i, run_date, sent_now=i.key in sent_keys)),
        ),
        _Section(
            "Gewijzigd na verzending — intrekken en opnieuw versturen",
            "De gegevens van deze meldingen zijn veranderd nadat ze zijn verstuurd. uwvcli verstuurt "
            "niet opnieuw: trek de melding in bij UWV en geef de juiste gegevens door.",
            entries(recap.changed_after_sending, lambda i: []),
        ),
        _Section(
            "Verzonden, maar niet meer in de export",
            "Deze meldingen zijn verstuurd, maar hun dossier staat niet meer in de export. uwvcli "
            "trekt ze niet vanzelf in: is het dossier per vergissing ingevoerd, laat de beheerder "
            "de melding dan intrekken met `uwvcli withdraw`. Deze melding komt maar één keer.",
            entries(recap.gone, lambda i: []),
        ),
        _Section(
            "Gecorrigeerd",
            "De gegevens van deze verstuurde meldingen zijn gecorrigeerd. uwvcli trekt de verstuurde "
            "melding bij UWV in en verstuurt daarna de gecorrigeerde melding, zodra UWV de intrekking "
            "heeft geaccepteerd. U hoeft niets te doen.",
            entries(recap.corrected, deadline_details),
        ),
        _Section(
            "Ingetrokken",
            "Deze verstuurde meldingen zijn volgens de export niet meer nodig (of de beheerder heeft "
            "ze laten intrekken). uwvcli trekt ze bij UWV in; er komt niets voor in de plaats.",
            entries(recap.withdrawn, deadline_details),
        ),
        _Section(
            "Verzonden",
            "Bij deze run verstuurd naar UWV via Digipoort.",
            entries(recap.sent, deadline_details),
        ),
        _Section(
            "Geaccepteerd door UWV",
            "UWV heeft deze meldingen verwerkt.",
            entries(recap.accepted, lambda i: []),
        ),
        _Section(
            "Afgeleverd bij UWV",
            "Afgeleverd bij UWV; er is geen afwijzing ontvangen.",
            entries(recap.delivered, lambda i: []),
        ),
        _Section(
            f"De komende {UPCOMING_DAYS} dagen",
            "Deze meldingen staan gepland; los eventuele problemen vóór de verzenddatum op.",
            entries(recap.upcoming, upcoming_details),
        ),
    ]
    sections = [s for s in candidates if s.entries]
    notes = _notes(recap)
    if notes:
        sections.append(_Section("Opmerkingen", "", tuple(notes)))
    return sections


def _notes(recap: EmployerRecap) -> list[_Entry]:
    """The notes of the news items, each note once: a note that holds for several notifications
    (the default risicopremiegroep for a whole employer) is one line with their number and
    personnel numbers, not a line per notification."""
    who_by_note: dict[str, list[RecapItem]] = {}
    seen_items: set[AnyKey] = set()
    for _, item in recap.news():
        if item.key in seen_items:
            continue
        seen_items.add(item.key)
        for note in dict.fromkeys(note_in_dutch(n) for n in item.notes):
            who_by_note.setdefault(note, []).append(item)
    entries = []
    for note, items in who_by_note.items():
        if len(items) == 1:
            entries.append(_Entry(f"{_who(items[0])}: {note}"))
            continue
        numbers = ", ".join(dict.fromkeys(_clean(i.employee_id) for i in items))
        entries.append(_Entry(f"{len(items)} meldingen: {note}", (f"Personeelsnummers: {numbers}.",)))
    entries += [_Entry(text) for text in dict.fromkeys(_clean(n) for n in recap.notes)]
    return entries


_SUBJECT_COUNTS = (
    ("rejected", "afgewezen"),
    ("failed", "mislukt"),
    ("parked", "onzeker"),
    ("blocked", "geblokkeerd"),
    ("late", "te laat"),
    ("changed_after_sending", "gewijzigd na verzending"),
    ("gone", "niet meer in de export"),
    ("corrected", "gecorrigeerd"),
    ("withdrawn", "ingetrokken"),
    ("sent", "verzonden"),
    ("accepted", "geaccepteerd"),
    ("delivered", "afgeleverd"),
)


def subject_for(recap: EmployerRecap) -> str:
    """Tells at a glance: `uwvcli: 2 afgewezen, 5 verzonden — Bakkerij De Vries BV, 1 december 2026`."""
    counts = [f"{len(getattr(recap, name))} {word}" for name, word in _SUBJECT_COUNTS if getattr(recap, name)]
    summary = ", ".join(counts) if counts else "geen nieuws"
    return f"uwvcli: {summary} — {_clean(recap.employer.name)}, {dutch_date(recap.run_date)}"


def _render_text(recap: EmployerRecap, sections: list[_Section]) -> str:
    employer = recap.employer
    lines = [
        f"Recapitulatie UWV-meldingen — {_clean(employer.name)} ({_clean(employer.id)})",
        f"Verwerkingsdag: {dutch_date(recap.run_date, weekday=True)}",
        "",
    ]
    for section in sections:
        title = section.title.upper() + f" ({len(section.entries)})"
        lines += [title, "-" * len(title)]
        if section.intro:
            lines.append(section.intro)
        lines.append("")
        for entry in section.entries:
            lines.append(f"- {entry.headline}")
            lines += [f"{'      ' if d.startswith(_SUB) else '    '}{d}" for d in entry.details]
        lines.append("")
    lines += _FOOTER
    return "\n".join(lines) + "\n"


_FOOTER = (
    "--",
    "Dit bericht is automatisch opgesteld door uwvcli. Medewerkers worden alleen genoemd met",
    "personeelsnummer en voorletters. Vragen over een code: uwvcli explain <code>.",
)


def _render_html(recap: EmployerRecap, sections: list[_Section]) -> str:
    e = html.escape
    employer = recap.employer
    parts = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        f"<title>{e(subject_for(recap))}</title></head>",
        '<body style="font-family: sans-serif; line-height: 1.4;">',
        f'<h1 style="font-size: 1.3em;">Recapitulatie UWV-meldingen — {e(_clean(employer.name))} '
        f"({e(_clean(employer.id))})</h1>",
        f"<p>Verwerkingsdag: {e(dutch_date(recap.run_date, weekday=True))}</p>",
    ]
    for section in sections:
        style = ' style="color: #b00020;"' if section.urgent else ""
        parts.append(f"<h2{style}>{e(section.title)} ({len(section.entries)})</h2>")
        if section.intro:
            parts.append(f"<p>{e(section.intro)}</p>")
        parts.append("<ul>")
        for entry in section.entries:
            details = _html_details(entry.details)
            parts.append(
                f"<li><strong>{e(entry.headline)}</strong>"
                + (f"<ul>{details}</ul>" if details else "")
                + "</li>"
            )
        parts.append("</ul>")
    parts.append(
        f'<hr><p style="color: #555; font-size: 0.9em;">{"<br>".join(e(line) for line in _FOOTER[1:])}</p>'
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_details(details: Sequence[str]) -> str:
    """The detail lines as list items; sub-items (`_SUB`) as a nested list in the item before."""
    items: list[list[str]] = []
    for detail in details:
        if detail.startswith(_SUB) and items:
            items[-1].append(detail.removeprefix(_SUB))
        else:
            items.append([detail])
    e = html.escape
    return "".join(
        f"<li>{e(head)}" + (f"<ul>{''.join(f'<li>{e(s)}</li>' for s in subs)}</ul>" if subs else "") + "</li>"
        for head, *subs in items
    )


# ---------------------------------------------------------------- the message


def _facts(recap: EmployerRecap) -> list[str]:
    """Short hashes of the news (section, key, code): no personal data, enough to tell whether a
    rerun on the same day has anything the employer has not been told yet."""
    facts = {
        hashlib.sha256(f"{section}|{item.key}|{item.code}|{item.foutcode}".encode()).hexdigest()[:12]
        for section, item in recap.news()
    }
    return sorted(facts)


def compose_recap(
    recap: EmployerRecap, *, from_address: str = "uwvcli@localhost", now: datetime | None = None
) -> EmailMessage:
    """The recap as a mail: plain text with an HTML alternative, To the employer's recap_email
    (no To when none is configured: `write_recap` then files it as unaddressed)."""
    sections = _sections(recap)
    message = EmailMessage()
    message["Subject"] = subject_for(recap)
    message["From"] = from_address
    if recap.employer.recap_email:
        message["To"] = _clean(recap.employer.recap_email)
    message["Date"] = format_datetime((now or datetime.now(AMSTERDAM)).astimezone(AMSTERDAM))
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("uwvcli-recap", domain=domain)
    message[RECAP_HEADER] = f"{recap.employer.id} {recap.run_date.isoformat()}"
    message[FACTS_HEADER] = " ".join(_facts(recap)) or "-"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this mail
    message.set_content(_render_text(recap, sections), charset="utf-8", cte="quoted-printable")
    message.add_alternative(
        _render_html(recap, sections), subtype="html", charset="utf-8", cte="quoted-printable"
    )
    return message


# ---------------------------------------------------------------- files


_PENDING, _SENT, _UNADDRESSED = "pending", "sent", "unaddressed"


def _ensure_folder(folder: Path) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def _base_name(employer_id: str, run_date: str) -> str:
    """`WG001_2026-12-01`: employer id and run date only; an id with unsafe characters is
    replaced and made unique with a short hash of the original."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", employer_id)[:40]
    if safe != employer_id:
        safe += "-" + hashlib.sha256(employer_id.encode()).hexdigest()[:8]
    return f"{safe}_{run_date}"


def _read(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)  # type: ignore[return-value]


def _identity(message: EmailMessage) -> tuple[str, str]:
    value = str(message.get(RECAP_HEADER, ""))
    employer_id, _, run_date = value.rpartition(" ")
    if not employer_id or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", run_date):
        raise ValueError(f"not a uwvcli recap: the {RECAP_HEADER} header is missing (use compose_recap)")
    return employer_id, run_date


def _facts_of(message: EmailMessage) -> set[str]:
    return set(str(message.get(FACTS_HEADER, "")).split()) - {"-"}


def write_recap(folder: Path, message: EmailMessage) -> Path:
    """Write the recap as `.eml` before anything is mailed; returns the file that carries it.

    Idempotent per employer and run date: when every piece of news in `message` is already in a
    recap of that day (mailed, unaddressed, or still waiting in `pending/`), nothing is written
    and that file is returned. Otherwise — news after an earlier recap of that day — a follow-up
    `…-2.eml` is written whose subject starts with "Aanvulling". An earlier recap is never
    replaced: a rerun knows only its own run's events, so replacing a recap that is still waiting
    for the mail server would lose what the earlier run sent."""
    employer_id, run_date = _identity(message)
    base = _base_name(employer_id, run_date)
    try:
        return _write_once(folder, base, message)
    except OSError as error:
        raise RecapError(
            f"cannot write the recap of employer {employer_id} in {folder}: {error.strerror}"
        ) from None


def _write_once(folder: Path, base: str, message: EmailMessage) -> Path:
    _ensure_folder(folder)
    target_folder = _ensure_folder(folder / (_PENDING if message.get("To") else _UNADDRESSED))
    earlier = [_same_day(folder / name, base) for name in (_SENT, _UNADDRESSED, _PENDING)]
    earlier_recaps = [path for paths in earlier for path in paths]
    told = set().union(*(_facts_of(_read(path)) for path in earlier_recaps))
    if earlier_recaps and _facts_of(message) <= told:
        return max(earlier_recaps, key=lambda path: _sequence(path, base))
    sequence = max((_sequence(path, base) for path in earlier_recaps), default=0) + 1
    target = target_folder / (f"{base}.eml" if sequence == 1 else f"{base}-{sequence}.eml")
    if earlier_recaps:
        message = copy.deepcopy(message)
        subject = str(message["Subject"])
        del message["Subject"]
        message["Subject"] = f"Aanvulling — {subject}"
    write_atomic(target, message.as_bytes(policy=policy.default))
    return target


def _same_day(folder: Path, base: str) -> list[Path]:
    """The recap files of one employer and run date in `folder`: `<base>.eml`, `<base>-N.eml`."""
    if not folder.is_dir():
        return []
    return [path for path in folder.glob(f"{base}*.eml") if _sequence(path, base)]


def _sequence(path: Path, base: str) -> int:
    """1 for `<base>.eml`, N for `<base>-N.eml`, 0 for any other file."""
    found = re.fullmatch(re.escape(base) + r"(?:-(\d+))?\.eml", path.name)
    return (int(found[1]) if found[1] else 1) if found else 0


def write_recaps(
    folder: Path,
    recaps: Iterable[EmployerRecap],
    *,
    from_address: str = "uwvcli@localhost",
    now: datetime | None = None,
) -> list[Path]:
    """What `run` calls after sending: every employer with news gets its recap written (see
    `write_recap`); an employer with only upcoming items or notes gets none."""
    return [
        write_recap(folder, compose_recap(recap, from_address=from_address, now=now))
        for recap in recaps
        if recap.has_news
    ]


# ---------------------------------------------------------------- sending


@dataclass(frozen=True, slots=True)
class Undelivered:
    path: Path
    reason: str  # what happened and what will happen next; no personal data, no secrets


@dataclass(frozen=True)
class DeliveryReport:
    mail_configured: bool
    sent: tuple[Path, ...] = ()  # now in sent/
    waiting: tuple[Undelivered, ...] = ()  # still in pending/: they go on the next run
    warnings: tuple[str, ...] = ()  # e.g. one of several recipients refused

    @property
    def complete(self) -> bool:
        return not self.waiting


class _Unavailable(Exception):
    """The SMTP server cannot take anything right now: every remaining recap waits."""


def _credentials(mail: MailSettings) -> tuple[str, str] | None:
    """Username and password from the environment variables the configuration names."""
    if not mail.username_env and not mail.password_env:
        return None
    if not (mail.username_env and mail.password_env):
        raise _Unavailable(
            "mail: username_env and password_env must be configured together to log in to the SMTP server"
        )
    values = []
    for key, name in (("username_env", mail.username_env), ("password_env", mail.password_env)):
        value = os.environ.get(name)
        if not value:
            raise _Unavailable(f"environment variable {name} (mail.{key}) is not set")
        values.append(value)
    return values[0], values[1]


def _connect(mail: MailSettings, context: ssl.SSLContext, smtp: smtplib.SMTP) -> smtplib.SMTP:
    login = _credentials(mail)
    if login and not mail.starttls and not is_loopback(mail.smtp_host):
        raise _Unavailable("refusing to send the SMTP password unencrypted: set mail.starttls: true")
    where = f"{mail.smtp_host}:{mail.smtp_port}"
    # what SMTP(host) would keep: STARTTLS checks the certificate against it (typeshed lacks `_host`)
    smtp._host = mail.smtp_host  # type: ignore[attr-defined]
    try:
        smtp.connect(mail.smtp_host, mail.smtp_port)
    except (OSError, smtplib.SMTPException) as error:
        raise _Unavailable(f"cannot reach the SMTP server {where}: {error}") from None
    try:
        smtp.ehlo()
        if mail.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if login:
            smtp.login(*login)
    except smtplib.SMTPAuthenticationError:
        smtp.close()
        raise _Unavailable(
            f"the SMTP server {where} refused the login (check {mail.username_env} and {mail.password_env})"
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        smtp.close()
        raise _Unavailable(f"the SMTP server {where}: {error}") from None
    except (OSError, smtplib.SMTPException) as error:
        smtp.close()
        raise _Unavailable(f"the SMTP server {where} failed: {type(error).__name__}: {error}") from None
    return smtp


def check_smtp(
    mail: MailSettings, *, deadline: float = 15.0, ssl_context: ssl.SSLContext | None = None
) -> str | None:
    """Whether the SMTP server answers as the recaps need it (`check --smtp`): the conversation
    the mailing starts with (EHLO, STARTTLS and login when configured), then NOOP and QUIT, all
    within `deadline` seconds. None when it does; else what is wrong. Sends no mail."""
    where = f"{mail.smtp_host}:{mail.smtp_port}"
    smtp = smtplib.SMTP(timeout=deadline)
    result: str | None
    with Deadline(deadline, lambda: getattr(smtp, "sock", None)) as watch:
        try:
            _connect(mail, ssl_context or ssl.create_default_context(), smtp)
            with smtp:
                code, _ = smtp.noop()
            result = None if code == 250 else f"the SMTP server {where} answered NOOP with {code}"
        except _Unavailable as error:
            result = str(error)
        except (OSError, smtplib.SMTPException) as error:
            result = f"the SMTP server {where} failed: {type(error).__name__}"
    if watch.expired:
        return f"the SMTP server {where} did not finish answering within {deadline:g} s"
    return result


def _move_to_sent(path: Path, folder: Path) -> Path:
    """Right after the server accepted the mail: the rename is the only step in the window in
    which a crash would mail it twice (it then goes again with the same Message-ID)."""
    target = _ensure_folder(folder / _SENT) / path.name
    os.replace(path, target)
    for directory in (target.parent, path.parent):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return target


def deliver_pending(
    folder: Path,
    mail: MailSettings | None,
    *,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 30.0,
    deadline: float = 300.0,
) -> DeliveryReport:
    """Mail every recap in `<folder>/pending/` and move each to `sent/` once the server took it.

    Nothing is lost: a server that is down, refuses the login or refuses a message leaves the
    file in `pending/` for the next run, and the report says why. Without `mail` nothing is sent
    (the `.eml` files are the output). TLS is always verified (`ssl_context` lets a test or a
    private CA add trust; it never turns verification off). `timeout` bounds each wait for the
    server, `deadline` the whole conversation: a server that drips its greeting one line at a time
    never trips the first, and must not hold the run (and its lock) for longer than the second."""
    pending_folder = folder / _PENDING
    files = sorted(pending_folder.glob("*.eml")) if pending_folder.is_dir() else []
    if mail is None:
        reason = "not mailed: the configuration has no mail: section; the .eml file is the recap"
        return DeliveryReport(False, waiting=tuple(Undelivered(p, reason) for p in files))
    if not files:
        return DeliveryReport(True)
    context = ssl_context or ssl.create_default_context()
    smtp = smtplib.SMTP(timeout=timeout)
    with Deadline(deadline, lambda: getattr(smtp, "sock", None)) as watch:
        report = _deliver(folder, files, mail, context, smtp)
    if not watch.expired:
        return report
    reason = (
        f"the SMTP server {mail.smtp_host}:{mail.smtp_port} did not finish within {deadline:g} s; "
        "it stays pending and goes on the next run"
    )
    return replace(report, waiting=tuple(Undelivered(item.path, reason) for item in report.waiting))


def _deliver(
    folder: Path, files: list[Path], mail: MailSettings, context: ssl.SSLContext, smtp: smtplib.SMTP
) -> DeliveryReport:
    try:
        _connect(mail, context, smtp)
    except _Unavailable as error:
        reason = f"{error}; it stays pending and goes on the next run"
        return DeliveryReport(True, waiting=tuple(Undelivered(p, reason) for p in files))

    sent: list[Path] = []
    waiting: list[Undelivered] = []
    warnings: list[str] = []
    with smtp:
        for index, path in enumerate(files):
            try:
                refused = _send_one(smtp, path, parseaddr(mail.from_address)[1])
            except _Unavailable as error:
                reason = f"{error}; it stays pending and goes on the next run"
                waiting += [Undelivered(p, reason) for p in files[index:]]
                break
            except _Refused as error:
                waiting.append(Undelivered(path, f"{error}; it stays pending and is retried on the next run"))
                continue
            try:
                sent.append(_move_to_sent(path, folder))
            except OSError as error:
                warnings.append(
                    f"{path.name} was mailed but could not be moved to sent/ ({error.strerror}): move it "
                    "by hand, or it is mailed again on the next run"
                )
                continue
            if refused:
                warnings.append(
                    f"{path.name}: the SMTP server refused recipient(s) {', '.join(sorted(refused))}"
                )
    return DeliveryReport(True, sent=tuple(sent), waiting=tuple(waiting), warnings=tuple(warnings))


class _Refused(Exception):
    """The server refused this one message; others may still go."""


def _send_one(smtp: smtplib.SMTP, path: Path, from_address: str) -> dict[str, object]:
    try:
        message = _read(path)
    except OSError as error:
        raise _Refused(f"cannot read {path.name}: {error.strerror}") from None
    recipients = [
        address for _, address in getaddresses([str(v) for v in message.get_all("To", [])]) if address
    ]
    if not recipients:
        raise _Refused(f"{path.name} has no recipient")
    try:
        return dict(smtp.send_message(message, from_addr=from_address, to_addrs=recipients))
    except smtplib.SMTPRecipientsRefused:
        raise _Refused("the SMTP server refused every recipient") from None
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        reply = error.smtp_error  # bytes from the server; typed `bytes | str`
        answer = _clean(reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)[:200]
        raise _Refused(f"the SMTP server refused the message: {error.smtp_code} {answer}") from None
    except (OSError, smtplib.SMTPException) as error:
        raise _Unavailable(f"the SMTP connection failed: {type(error).__name__}") from None

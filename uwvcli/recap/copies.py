"""The employee's copy: once UWV accepted a notification (status 500) of a kind the employer
shares (`employers[].share_with_employee`), the employee gets a short Dutch mail saying what was
reported to UWV and when. It names the kind, the notification's dates and the employer, never a
BSN, a name or a birth date.

Like the recap, a copy is written as an `.eml` file before anything is mailed, and mailed by the
recap's `deliver_pending` (same SMTP settings, deadline and folder layout, under
`<state folder>/employee-copies/`): `pending/` waiting for the SMTP server, `sent/` accepted by it.
The file name is a hash of the notification key, so a copy exists at most once per notification:
a file in either folder means it was made, whatever happens to the mail afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from uwvcli.domain.keys import Kind, NotificationKey, Variant
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Dossier, Employer, PathSettings
from uwvcli.recap.mails import AMSTERDAM, dutch_date
from uwvcli.state.outbox import write_atomic

COPY_HEADER = "X-Uwvcli-Copy"  # the employer id: whose recap hears about a copy that waits
_PENDING, _SENT = "pending", "sent"  # the folders `deliver_pending` reads and fills

#: Per kind (and werkhervatting variant) the dossier dates the copy names, in Dutch.
_DATES: dict[tuple[Kind, Variant | None], tuple[tuple[str, str], ...]] = {
    (Kind.ZW_ZIEKMELDING, None): (("eerste ziektedag", "first_sick_day"),),
    (Kind.MLA, None): (("eerste ziektedag", "first_sick_day"),),
    (Kind.WERKHERVATTING, Variant.PARTIAL): (("gedeeltelijk hersteld per", "partial_recovery_date"),),
    (Kind.WERKHERVATTING, Variant.FULL): (("hersteld per", "recovery_date"),),
    (Kind.HERSTEL_MLA, None): (("hersteld per", "recovery_date"),),
    (Kind.WAZO, None): (
        ("vermoedelijke bevallingsdatum", "expected_delivery_date"),
        ("eerste verlofdag", "leave_start_date"),
    ),
}


def copies_folder(paths: PathSettings) -> Path:
    """Copies live next to the recaps: `<state folder>/employee-copies/`."""
    return paths.state.parent / "employee-copies"


def notification_dates(kind: Kind, variant: Variant | None, dossier: Dossier) -> list[tuple[str, date]]:
    """The dates the copy names ("eerste ziektedag", 1 december 2026), those the dossier has."""
    found = [(label, getattr(dossier, name)) for label, name in _DATES.get((kind, variant), ())]
    return [(label, day) for label, day in found if day is not None]


def compose_copy(
    employer: Employer,
    kind: Kind,
    variant: Variant | None,
    dates: Sequence[tuple[str, date]],
    *,
    to: str,
    reported_on: date | None,
    accepted_on: date | None,
    from_address: str = "uwvcli@localhost",
    now: datetime | None = None,
) -> EmailMessage:
    """The copy as a plain-text Dutch mail to the employee's own address."""
    label = kind_label(kind, variant)
    reported = f" op {dutch_date(reported_on)}" if reported_on else ""
    accepted = f" op {dutch_date(accepted_on)}" if accepted_on else ""
    lines = [
        "Beste medewerker,",
        "",
        f"{employer.name} heeft{reported} een {label} over u bij UWV gemeld. "
        f"UWV heeft de melding{accepted} ontvangen en geaccepteerd.",
        "",
    ]
    if dates:
        lines += ["Wat er is gemeld:", *(f"- {what}: {dutch_date(day)}" for what, day in dates), ""]
    lines += [
        "U hoeft hiervoor niets te doen. Klopt er iets niet, neem dan contact op met uw werkgever.",
        "",
        f"Dit is een automatisch bericht namens {employer.name}.",
    ]
    message = EmailMessage()
    message["Subject"] = f"Uw {label} is door UWV ontvangen"
    message["From"] = from_address
    message["To"] = to
    message["Date"] = format_datetime((now or datetime.now(AMSTERDAM)).astimezone(AMSTERDAM))
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("uwvcli-copy", domain=domain)
    message[COPY_HEADER] = employer.id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this mail
    message.set_content("\n".join(lines) + "\n", charset="utf-8", cte="quoted-printable")
    return message


def _file_name(key: NotificationKey) -> str:
    """A hash of the key: the key holds the personnel number, which a file name need not show."""
    return hashlib.sha256(str(key).encode()).hexdigest()[:32] + ".eml"


def copy_made(folder: Path, key: NotificationKey) -> bool:
    """Whether the copy of `key` was written already (waiting or mailed)."""
    return any((folder / name / _file_name(key)).exists() for name in (_PENDING, _SENT))


def write_copy(folder: Path, key: NotificationKey, message: EmailMessage) -> Path:
    """Write the copy to `pending/` (durably: `write_atomic`) before anything is mailed."""
    pending = folder / _PENDING
    pending.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = pending / _file_name(key)
    write_atomic(target, message.as_bytes(policy=policy.default))
    return target


def employer_of(path: Path) -> str | None:
    """The employer id a copy file was written for (None when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=policy.default).parse(handle)
    except OSError:
        return None
    value = headers.get(COPY_HEADER)
    return str(value) if value else None

"""Plain typed records that flow through uwvcli: inputs → rules → messages → outbox → journal.

Nothing here does I/O or knows about Typer, Rich, XML or SQLite. Every other module speaks
in these types, so they are the project's shared vocabulary (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from uwvcli.domain.keys import AnyKey, Kind, Variant, WithdrawalKey
from uwvcli.domain.problems import Note, Problem


class State(StrEnum):
    """State of a not-yet-sent notification on a run date (RULES §6)."""

    UPCOMING = "upcoming"
    DUE = "due"
    LATE = "late"
    BLOCKED = "blocked"


class ZwReason(StrEnum):
    """Why a zw-ziekmelding is made; decides CdRedenAangifteAo and the deadline (RULES §3, §4.1)."""

    ZWANGERSCHAP = "zwangerschap"  # sick_reason zwangerschap                 -> 06
    PREGNANCY_WINDOW = "window"  # sickness in (or open on the start of) the window -> 06
    BEVALLING = "bevalling"  # sick_reason bevalling                          -> 07
    ORGAANDONATIE = "orgaandonatie"  # sick_reason orgaandonatie              -> 08
    VANGNET = "vangnet"  # vangnet_status no_risk / sfb                       -> 04
    ZIEK_UIT_DIENST = "ziek_uit_dienst"  # only qualifies by ending employment -> 03


# ---------------------------------------------------------------- configuration (CONTRACT §2)


@dataclass(frozen=True, slots=True)
class OrgUnit:
    id: str
    name: str
    parent: str | None = None
    legal_entity: bool = False
    loonheffingennummer: str | None = None
    uwv_aansluitnummer: str | None = None
    uwv_sector: str | None = None
    uwv_risicocode: str | None = None
    iban: str | None = None


@dataclass(frozen=True, slots=True)
class Employer:
    id: str
    name: str
    active: bool
    start_date: date | None
    recap_email: str | None
    notifications: Mapping[Kind, bool]  # every Kind present; default True
    org_units: Mapping[str, OrgUnit]  # by id, in configuration order
    share_with_employee: Mapping[Kind, bool] = field(default_factory=dict)  # default False

    def enabled(self, kind: Kind) -> bool:
        return self.notifications.get(kind, True)

    def shares(self, kind: Kind) -> bool:
        """Whether the employee gets a copy once UWV accepted a notification of `kind`."""
        return self.share_with_employee.get(kind, False)

    def legal_entity_for(self, org_unit_id: str) -> OrgUnit | None:
        """The nearest org unit at or above `org_unit_id` with legal_entity: true (RULES §7)."""
        seen: set[str] = set()
        unit = self.org_units.get(org_unit_id)
        while unit is not None and unit.id not in seen:
            if unit.legal_entity:
                return unit
            seen.add(unit.id)
            unit = self.org_units.get(unit.parent) if unit.parent else None
        return None


@dataclass(frozen=True, slots=True)
class Sender:
    name: str
    role: str  # "Bedrijf" | "Intermediair"
    contact_name: str | None = None
    contact_phone: str | None = None
    certificate: Path | None = None  # absolute (resolved against the config file)
    private_key: Path | None = None  # PEM key, or a .p12/.pfx bundle (then certificate may be None)
    private_key_password_env: str | None = None


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """`digipoort.delivery:`, the exactly-once policy of the send loop (docs/delivery.md,
    "Settling an attempt in doubt", explains each default)."""

    clock_skew_seconds: float = 300.0  # Digipoort's timestamps vs our clock, either way
    processing_margin_seconds: float = 60.0  # a process appears at most this long after its POST ended
    settle_checks: int = 3  # getProcessen asked this often in the run after an attempt went in doubt
    settle_wait_seconds: float = 5.0  # between those checks
    retries: int = 4  # extra tries of a POST that provably never arrived (or a transient fault)
    backoff_seconds: float = 1.0  # first wait before such a retry; doubles each time
    backoff_cap_seconds: float = 30.0
    request_deadline_seconds: float | None = None  # whole request; None: 2 × timeout_seconds + 10
    overdue_after_days: float = 3.0  # submitted this long ago without a final status: news


@dataclass(frozen=True, slots=True)
class DigipoortSettings:
    environment: str  # simulator | custom | preprod | production
    aanlever_url: str | None = None
    status_url: str | None = None
    ca_bundle: Path | None = None
    service_certificate: Path | None = None
    signature_algorithm: str = "rsa-sha1"  # rsa-sha1 | rsa-sha256
    berichtsoorten: Mapping[Kind, str] = field(default_factory=dict)  # overrides of the defaults
    timeout_seconds: float = 30.0
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    withdrawal_style: str = "indicator"  # indicator | melding-intrekking (MESSAGES.md)


@dataclass(frozen=True, slots=True)
class PathSettings:
    dossiers: tuple[Path, ...]  # absolute
    outbox: Path
    state: Path  # the SQLite journal; its folder also holds the lock, recaps and test PKI


@dataclass(frozen=True, slots=True)
class MailSettings:
    smtp_host: str
    smtp_port: int = 25
    from_address: str = "uwvcli@localhost"  # YAML key `from`
    starttls: bool = False
    username_env: str | None = None
    password_env: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    source: Path  # the configuration file itself
    sender: Sender
    digipoort: DigipoortSettings
    paths: PathSettings
    mail: MailSettings | None
    employers: Mapping[str, Employer]  # by id, in configuration order


# ---------------------------------------------------------------- dossier exports (CONTRACT §3)


@dataclass(frozen=True, slots=True)
class Dossier:
    """One validated export row. `source`/`line` locate it for error messages (JSON: index)."""

    source: str
    line: int
    employer_id: str
    org_unit_id: str
    employee_id: str
    dossier_id: str
    dossier_type: str  # "ziekte" | "zwangerschap"
    bsn: str | None = None
    initials: str | None = None
    first_name: str | None = None
    name_prefix: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    gender: str | None = None  # M | V | X
    loonheffingennummer: str | None = None
    iban: str | None = None
    direct_payment: bool = False
    vangnet_status: str = "none"  # none | no_risk | sfb
    employment_end_date: date | None = None
    first_sick_day: date | None = None
    sick_reported_date: date | None = None
    sick_reason: str = "overig"  # overig | zwangerschap | bevalling | orgaandonatie
    recovery_date: date | None = None
    recovery_reported_date: date | None = None
    partial_recovery_date: date | None = None
    partial_daily_wage: Decimal | None = None
    expected_delivery_date: date | None = None
    leave_start_date: date | None = None
    multiple_birth: bool = False
    employee_email: str | None = None  # for the employee's copy (share_with_employee)

    @property
    def employee(self) -> tuple[str, str]:
        """All chain and pregnancy rules work per (employer_id, employee_id)."""
        return (self.employer_id, self.employee_id)


@dataclass(frozen=True, slots=True)
class InputError:
    """A row (or file) that could not be used. Never carries personal data in `message`."""

    source: str  # the file as the user named it (relative to the config file where possible)
    line: int | None  # CSV: physical line number (header = 1); JSON: index in the list; None: file
    message: str  # what is wrong and what to do
    field: str | None = None

    @property
    def location(self) -> str:
        """`file:line` (JSON: `file:index`), or the file alone for a file-level problem."""
        return f"{self.source}:{self.line}" if self.line is not None else self.source

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "line": self.line, "message": self.message}


# ---------------------------------------------------------------- rules output (RULES §4–§7)


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification the rules found, with everything the message builder needs beyond the
    dossier itself. `problems` are values (`domain.problems`), free of personal data."""

    key: AnyKey  # str(key): <employer_id>/<dossier_id>/<kind>[/partial|/full], or a withdrawal's
    kind: Kind
    employer_id: str
    employee_id: str
    dossier_id: str
    due_date: date
    deadline: date | None
    state: State
    problems: tuple[Problem, ...] = ()
    variant: Variant | None = None  # a werkhervatting only
    zw_reason: ZwReason | None = None  # zw-ziekmelding only
    first_ao_day: date | None = None  # DatEersteAoDag (for an MLA: the chain's first day)
    earlier_periods: tuple[tuple[date, date], ...] = ()  # MLA: (first, last AO day) before it
    employment_ends: bool = False  # zw-ziekmelding: the employment ends during the sickness
    leave_start: date | None = None  # wazo: L, the leave start applied for
    leave_start_assumed: bool = False  # wazo: L = Lmin because no leave_start_date was given
    waits_for: AnyKey | None = None  # a blocked predecessor (a withdrawal's: a dependant's withdrawal)
    notes: tuple[Note, ...] = ()  # informational, for the recap (e.g. the risicocode default)

    def to_json(self) -> dict[str, object]:
        """The CONTRACT §4 shape."""
        return {
            "key": str(self.key),
            "kind": str(self.kind),
            "employer_id": self.employer_id,
            "employee_id": self.employee_id,
            "dossier_id": self.dossier_id,
            "due_date": self.due_date.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "state": str(self.state),
            "problems": [str(p) for p in self.problems],
            **self.action(),
        }

    def action(self) -> dict[str, str]:
        """CONTRACT §4: `send`, or `withdraw` with the key of what it withdraws (RULES 4.6)."""
        if isinstance(self.key, WithdrawalKey):
            return {"action": "withdraw", "withdraws": str(self.key.withdraws)}
        return {"action": "send"}


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """One Digipoort status of a process (`StatusResultaat`), as received and as journalled."""

    code: str  # statuscode, e.g. "311"
    timestamp: datetime  # tijdstempelStatus (timezone-aware)
    description: str  # statusomschrijving, verbatim
    foutcode: str | None = None  # statusFoutcode/foutcode, e.g. "VAS500"
    foutbeschrijving: str | None = None  # verbatim: Digipoort's own explanation
    details: str | None = None  # statusdetails, verbatim

"""Builders for the rules tests: a configured employer and dossiers with valid defaults, so each
test states only the fields its rule is about."""

from __future__ import annotations

from datetime import date, timedelta

from uwvcli.domain.keys import parse_key
from uwvcli.domain.models import Dossier, Employer, Kind, Notification, OrgUnit
from uwvcli.domain.rules import Evaluation, evaluate

GO_LIVE = date(2024, 1, 1)  # the employer start date of RULES §10
VALID_BSN = "111222333"
VALID_LHN = "123456782L01"
VALID_IBAN = "NL91ABNA0417164300"


def legal_entity(unit_id: str = "OE1", **fields: object) -> OrgUnit:
    values: dict[str, object] = {
        "name": "Bakkerij De Vries BV",
        "legal_entity": True,
        "loonheffingennummer": VALID_LHN,
        "uwv_aansluitnummer": "013000000123456",
        "uwv_sector": "013",
        "uwv_risicocode": "01",
        "iban": VALID_IBAN,
    }
    values.update(fields)
    return OrgUnit(id=unit_id, **values)  # type: ignore[arg-type]


def employer(
    employer_id: str = "WG001",
    *,
    start_date: date | None = GO_LIVE,
    active: bool = True,
    disabled: tuple[Kind, ...] = (),
    units: tuple[OrgUnit, ...] | None = None,
) -> Employer:
    units = units if units is not None else (legal_entity(), OrgUnit(id="OE2", name="Filiaal", parent="OE1"))
    return Employer(
        id=employer_id,
        name="Bakkerij De Vries BV",
        active=active,
        start_date=start_date,
        recap_email=None,
        notifications={kind: kind not in disabled for kind in Kind},
        org_units={unit.id: unit for unit in units},
    )


def employers(*found: Employer) -> dict[str, Employer]:
    return {e.id: e for e in (found or (employer(),))}


_line = iter(range(2, 10**9))


def ziekte(dossier_id: str, first_sick_day: date, *, employee: str = "1001", **fields: object) -> Dossier:
    return _dossier(dossier_id, "ziekte", employee, first_sick_day=first_sick_day, **fields)


def zwangerschap(
    dossier_id: str, expected_delivery: date, *, employee: str = "1001", **fields: object
) -> Dossier:
    return _dossier(dossier_id, "zwangerschap", employee, expected_delivery_date=expected_delivery, **fields)


def _dossier(dossier_id: str, dossier_type: str, employee: str, **fields: object) -> Dossier:
    values: dict[str, object] = {
        "employer_id": "WG001",
        "org_unit_id": "OE2",
        "bsn": VALID_BSN,
        "birth_date": date(1990, 3, 4),
        "initials": "A.",
        "last_name": "Jansen",
        "gender": "V",
    }
    values.update(fields)
    return Dossier(
        source="exports/dossiers.csv",
        line=next(_line),
        employee_id=employee,
        dossier_id=dossier_id,
        dossier_type=dossier_type,
        **values,  # type: ignore[arg-type]
    )


def earliest_leave(expected_delivery: date, multiple_birth: bool = False) -> date:
    """Lmin of RULES §2: E + 1 − 42 days (multiple: − 70), the test's own arithmetic."""
    return expected_delivery + timedelta(days=1 - (70 if multiple_birth else 42))


def leave_days(multiple_birth: bool = False) -> timedelta:
    """The length of the leave with a chosen start, RULES §2: 112 days (multiple: 140)."""
    return timedelta(days=140 if multiple_birth else 112)


def run(*dossiers: Dossier, on: date, found: tuple[Employer, ...] = (), **options: object) -> Evaluation:
    """Evaluate the dossiers for the default employer (or `found`) on run date `on`; `sent_keys`
    may be given as key texts."""
    if "sent_keys" in options:
        options["sent_keys"] = {parse_key(str(k)) for k in options["sent_keys"]}  # type: ignore[attr-defined]
    return evaluate(employers(*found), list(dossiers), on, **options)  # type: ignore[arg-type]


def listed(evaluation: Evaluation) -> dict[str, Notification]:
    """The notifications to send (or blocked/upcoming), by key text."""
    return {str(n.key): n for n in evaluation.notifications}

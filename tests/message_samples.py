"""Sample notifications of every kind and option, with the builders behind them: shared by the
message, signing and outbox tests (fictitious people; identifiers that pass their checks)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from uwvcli.domain.keys import NotificationKey
from uwvcli.domain.models import (
    Dossier,
    Employer,
    Kind,
    Notification,
    OrgUnit,
    Sender,
    State,
    ZwReason,
)
from uwvcli.messages.build import NAMESPACE, build_message

NS = {"u": NAMESPACE}
CREATED = datetime(2026, 3, 2, 15, 4, 5, tzinfo=UTC)  # 16:04:05 in Amsterdam (CET)
BSN = "111222333"
BIRTH_DATE = date(1990, 2, 3)
ENTITY_IBAN = "NL91ABNA0417164300"
EMPLOYEE_IBAN = "NL20INGB0001234567"

ENTITY = OrgUnit(
    id="OE1",
    name="Bakkerij De Vries BV",
    legal_entity=True,
    loonheffingennummer="123456782L01",
    uwv_aansluitnummer="013000000123456",
    uwv_sector="013",
    uwv_risicocode="05",
    iban=ENTITY_IBAN,
)
BRANCH = OrgUnit(id="OE2", name="Filiaal Utrecht", parent="OE1")
SENDER = Sender(
    name="Voorbeeld Verzuimdiensten BV",
    role="Intermediair",
    contact_name="J. Jansen",
    contact_phone="020-123 4567",
)


def employer(*units: OrgUnit) -> Employer:
    units = units or (ENTITY, BRANCH)
    return Employer(
        id="WG001",
        name="Bakkerij De Vries",
        active=True,
        start_date=date(2024, 1, 1),
        recap_email=None,
        notifications={kind: True for kind in Kind},
        org_units={unit.id: unit for unit in units},
    )


def dossier(**fields: object) -> Dossier:
    base: dict[str, object] = {
        "source": "dossiers.csv",
        "line": 2,
        "employer_id": "WG001",
        "org_unit_id": "OE2",
        "employee_id": "1001",
        "dossier_id": "Z-17",
        "dossier_type": "ziekte",
        "bsn": BSN,
        "initials": "T.J.",
        "first_name": "Testa",
        "name_prefix": "van der",
        "last_name": "Testpersoon",
        "birth_date": BIRTH_DATE,
        "gender": "V",
        "first_sick_day": date(2026, 2, 2),
        "sick_reported_date": date(2026, 2, 2),
    }
    base.update(fields)
    return Dossier(**base)  # type: ignore[arg-type]


def notification(kind: Kind, d: Dossier, variant: str | None = None, **fields: object) -> Notification:
    base: dict[str, object] = {
        "key": NotificationKey(d.employer_id, d.dossier_id, kind, variant),
        "kind": kind,
        "employer_id": d.employer_id,
        "employee_id": d.employee_id,
        "dossier_id": d.dossier_id,
        "due_date": date(2026, 3, 2),
        "deadline": None,
        "state": State.DUE,
        "variant": variant,
        "first_ao_day": d.first_sick_day,
    }
    base.update(fields)
    return Notification(**base)  # type: ignore[arg-type]


def build(n: Notification, d: Dossier, *, emp: Employer | None = None, sender: Sender = SENDER) -> bytes:
    return build_message(n, d, emp or employer(), sender, aanleverkenmerk="WG001-Z-17-ZM", created=CREATED)


def zw(reason: ZwReason, **fields: object) -> tuple[Notification, Dossier]:
    d = dossier(**fields)
    return notification(Kind.ZW_ZIEKMELDING, d, zw_reason=reason), d


PREGNANCY = {"dossier_type": "zwangerschap", "dossier_id": "P-3", "expected_delivery_date": date(2026, 7, 1)}


def cases() -> dict[str, tuple[Notification, Dossier]]:
    """Every kind and option MESSAGES.md names."""
    wh = dossier(partial_recovery_date=date(2026, 3, 2), partial_daily_wage=Decimal("84.5"))
    full = dossier(recovery_date=date(2026, 3, 9), recovery_reported_date=date(2026, 3, 9))
    mla = dossier(dossier_id="Z-20", first_sick_day=date(2025, 3, 21))
    chosen = dossier(**PREGNANCY, leave_start_date=date(2026, 5, 25))
    twins = dossier(**PREGNANCY, multiple_birth=True, direct_payment=True, iban=EMPLOYEE_IBAN)
    return {
        "zw-zwangerschap": zw(ZwReason.ZWANGERSCHAP, sick_reason="zwangerschap"),
        "zw-window": zw(ZwReason.PREGNANCY_WINDOW),
        "zw-bevalling": zw(ZwReason.BEVALLING, sick_reason="bevalling"),
        "zw-orgaandonatie": zw(ZwReason.ORGAANDONATIE, sick_reason="orgaandonatie"),
        "zw-vangnet": zw(ZwReason.VANGNET, vangnet_status="no_risk"),
        "zw-ziek-uit-dienst": (
            notification(
                Kind.ZW_ZIEKMELDING,
                d := dossier(employment_end_date=date(2026, 2, 28), sick_reported_date=None),
                zw_reason=ZwReason.ZIEK_UIT_DIENST,
                employment_ends=True,
            ),
            d,
        ),
        "zw-direct-payment": zw(
            ZwReason.VANGNET, vangnet_status="sfb", direct_payment=True, iban=EMPLOYEE_IBAN
        ),
        "werkhervatting-partial": (notification(Kind.WERKHERVATTING, wh, "partial"), wh),
        "werkhervatting-full": (notification(Kind.WERKHERVATTING, full, "full"), full),
        "mla-one-period": (notification(Kind.MLA, mla), mla),
        "mla-chain": (
            notification(
                Kind.MLA,
                mla,
                first_ao_day=date(2025, 1, 6),
                earlier_periods=(
                    (date(2025, 1, 6), date(2025, 2, 14)),
                    (date(2025, 2, 20), date(2025, 3, 2)),
                ),
            ),
            mla,
        ),
        "herstel-mla": (
            notification(
                Kind.HERSTEL_MLA,
                h := dossier(first_sick_day=date(2025, 3, 21), recovery_date=date(2026, 1, 12)),
            ),
            h,
        ),
        "wazo-chosen-start": (notification(Kind.WAZO, chosen, leave_start=date(2026, 5, 25)), chosen),
        "wazo-multiple-assumed-start": (
            notification(Kind.WAZO, twins, leave_start=date(2026, 4, 23), leave_start_assumed=True),
            twins,
        ),
        "no-name-parts": zw(
            ZwReason.VANGNET, initials=None, first_name=None, name_prefix=None, last_name=None, gender=None
        ),
    }


CASES = cases()

"""Small builders for end-to-end tests: a configuration and a CSV export in a temporary folder."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

EXPORT_FIELDS = (
    "employer_id", "org_unit_id", "employee_id", "bsn", "initials", "first_name", "name_prefix",
    "last_name", "birth_date", "gender", "loonheffingennummer", "iban", "direct_payment",
    "vangnet_status", "employment_end_date", "dossier_id", "dossier_type", "first_sick_day",
    "sick_reported_date", "sick_reason", "recovery_date", "recovery_reported_date",
    "partial_recovery_date", "partial_daily_wage", "expected_delivery_date", "leave_start_date",
    "multiple_birth",
)  # fmt: skip

# Fictitious but valid: BSN 11-check, loonheffingennummer 11-check, IBAN mod 97.
PERSON = {
    "bsn": "111222333",
    "initials": "T.",
    "first_name": "Testa",
    "last_name": "Testpersoon",
    "birth_date": "1990-02-03",
    "gender": "V",
}


def employer(employer_id: str = "WG001", start_date: str = "2024-01-01", **uwv_interface: object) -> dict:
    return {
        "id": employer_id,
        "name": f"Testbedrijf {employer_id} BV",
        "uwv_interface": {
            "active": True,
            "start_date": start_date,
            "recap_email": f"salaris@{employer_id.lower()}.example",
            **uwv_interface,
        },
        "org_units": [
            {
                "id": "OE1",
                "name": "Hoofdkantoor",
                "legal_entity": True,
                "loonheffingennummer": "123456782L01",
                "uwv_aansluitnummer": "013000000123456",
                "uwv_sector": "013",
                "uwv_risicocode": "01",
            },
            {"id": "OE2", "name": "Filiaal", "parent": "OE1"},
        ],
    }


def write_setup(folder: Path, rows: list[dict], employers: list[dict] | None = None, **top: object) -> Path:
    """Write `uwvcli.yaml` and `dossiers.csv` into `folder`; returns the config path."""
    export = folder / "dossiers.csv"
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({"employer_id": "WG001", "org_unit_id": "OE2", **PERSON, **row})
    config = {
        "sender": {"name": "Test Verzuimdiensten BV", "role": "Intermediair"},
        "digipoort": {"environment": "simulator"},
        "paths": {"dossiers": ["dossiers.csv"], "outbox": "var/outbox", "state": "var/uwvcli.sqlite"},
        "employers": employers if employers is not None else [employer()],
        **top,
    }
    path = folder / "uwvcli.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path

"""The three kinds of export the benchmarks generate: fictitious people, valid BSNs, one
configuration per shape.

* **friendly** — the first benchmark's data: 40 employers, rows grouped by employee (sorted by
  personnel number), two dossiers per employee, almost every sickness closed long ago, 10%
  pregnancies; uwvcli went live two weeks before the run date.
* **realistic** — as an HR database dumps it: rows by dossier number, so one employee's rows are
  far apart; 300 employers; three dossiers per employee, mostly short closed sickness, ~4% open
  (some for months, reaching week 42), ~2% pregnancies, ~1% of employees in the safety net;
  uwvcli went live a year before the run date and this is its first run, so everything due since
  then is listed (about 25,000 notifications at a million rows).
* **adversarial** — the same order, 500 employers, two dossiers per employee and 30% of the
  sicknesses open for months, 2% of employees in the safety net, live for two years (about
  200,000 notifications at a million rows).

Rows are written as the data is produced (no list of rows in memory): row `n` is dossier `n`,
case `n // E` of employee `n % E`, where `E` is the number of employees. An employee's cases lie
in consecutive slots of the two years before the run date, so they do not overlap.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

RUN_DATE = date(2026, 12, 1)
FIELDS = (
    "employer_id", "org_unit_id", "employee_id", "bsn", "initials", "first_name", "name_prefix",
    "last_name", "birth_date", "gender", "loonheffingennummer", "iban", "direct_payment",
    "vangnet_status", "employment_end_date", "dossier_id", "dossier_type", "first_sick_day",
    "sick_reported_date", "sick_reason", "recovery_date", "recovery_reported_date",
    "partial_recovery_date", "partial_daily_wage", "expected_delivery_date", "leave_start_date",
    "multiple_birth",
)  # fmt: skip
UNITS_PER_EMPLOYER = 4
HISTORY_DAYS = 730


@dataclass(frozen=True)
class Shape:
    name: str
    employers: int
    go_live: date
    cases: int = 0  # dossiers per employee (scattered shapes)
    open_share: float = 0.0  # of employees whose last case is still open
    vangnet_share: float = 0.0  # of employees in the safety net
    pregnancy_share: float = 0.0  # of all dossiers


FRIENDLY = Shape("friendly", employers=40, go_live=RUN_DATE - timedelta(days=15))
REALISTIC = Shape(
    "realistic",
    employers=300,
    go_live=RUN_DATE - timedelta(days=365),
    cases=3,
    open_share=0.12,  # their last case of three: 4% of the dossiers
    vangnet_share=0.01,
    pregnancy_share=0.02,
)
ADVERSARIAL = Shape(
    "adversarial",
    employers=500,
    go_live=RUN_DATE - timedelta(days=730),
    cases=2,
    open_share=0.6,  # their last case of two: 30% of the dossiers
    vangnet_share=0.02,
    pregnancy_share=0.02,
)
SHAPES = {s.name: s for s in (FRIENDLY, REALISTIC, ADVERSARIAL)}


def valid_bsn(number: int) -> str:
    """A 9-digit number passing the BSN 11-check, derived from `number` (fictitious people)."""
    digits = [int(c) for c in f"{number % 10**8:08d}"]
    total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
    for last in range(10):
        if (total - last) % 11 == 0:
            return "".join(map(str, digits)) + str(last)
    return valid_bsn(number + 1)


def write_config(folder: Path, shape: Shape = FRIENDLY) -> Path:
    lines = [
        "sender: {name: Benchmark Verzuimdiensten BV, role: Intermediair}",
        "digipoort: {environment: simulator}",
        "paths: {dossiers: [dossiers.csv], outbox: var/outbox, state: var/uwvcli.sqlite}",
        "employers:",
    ]
    for e in range(shape.employers):
        lines += [
            f"  - id: WG{e:03d}",
            f"    name: Benchmarkbedrijf {e} BV",
            f"    uwv_interface: {{active: true, start_date: {shape.go_live.isoformat()}}}",
            "    org_units:",
            f"      - {{id: OE0, name: Hoofdkantoor, legal_entity: true, loonheffingennummer: 111222333L01, "
            f'uwv_aansluitnummer: "0130000001{e:05d}", uwv_sector: "013"}}',
        ]
        lines += [
            f"      - {{id: OE{u}, name: Afdeling {u}, parent: OE0}}" for u in range(1, UNITS_PER_EMPLOYER)
        ]
    path = folder / "uwvcli.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _person(shape: Shape, employee: int, dossier: int) -> list[str]:
    """The columns up to `dossier_id` of one employee's row, in FIELDS order."""
    return [
        f"WG{employee % shape.employers:03d}",
        f"OE{employee % UNITS_PER_EMPLOYER}",
        str(100000 + employee),
        valid_bsn(100000000 + employee),
        f"{'ABCDEFGHIJKLMNOPRSTW'[employee % 20]}.",
        f"Test{employee % 400}",  # as many distinct names as a real workforce
        "",
        f"Testpersoon-{employee % 8000}",
        (date(1960, 1, 1) + timedelta(days=employee % 15000)).isoformat(),
        "MVX"[employee % 3],
        "",
        "",
        "",
        "",  # vangnet_status, filled in by the caller
        "",
        f"D-{dossier}",
    ]


def write_rows(path: Path, rows: int, seed: int = 42, shape: Shape = FRIENDLY) -> None:
    """`rows` dossier rows of `shape` (see the module docstring)."""
    if shape is FRIENDLY:
        _write_friendly(path, rows, seed)
    else:
        _write_scattered(path, rows, seed, shape)


def _write_friendly(path: Path, rows: int, seed: int) -> None:
    """Two dossiers per employee: a closed sickness case in the first year, then a second case
    (closed, or open in 10%: some reach week 42) or, for every fifth employee, a pregnancy."""
    rng = random.Random(seed)
    start = RUN_DATE - timedelta(days=HISTORY_DAYS)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for n in range(rows):
            record = _person(FRIENDLY, n // 2, n)
            if n % 10 == 9:
                record += ["zwangerschap", "", "", "", "", "", "", ""]
                record += [(start + timedelta(days=rng.randrange(900))).isoformat(), "", ""]
            else:
                first = (start + timedelta(days=(n % 2) * 370 + rng.randrange(340))).isoformat()
                recovery = ""
                if n % 2 == 0 or rng.random() < 0.9:  # an employee's earlier case is closed: no overlaps
                    recovery = (date.fromisoformat(first) + timedelta(days=1 + rng.randrange(25))).isoformat()
                if rng.random() < 0.05:
                    record[13] = "no_risk"
                record += ["ziekte", first, first, "", recovery, "", "", "", "", "", ""]
            writer.writerow(record)


def _write_scattered(path: Path, rows: int, seed: int, shape: Shape) -> None:
    rng = random.Random(seed)
    employees = max(1, -(-rows // shape.cases))
    slot = HISTORY_DAYS // shape.cases
    start = RUN_DATE - timedelta(days=HISTORY_DAYS)
    last = shape.cases - 1
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for n in range(rows):
            case, employee = divmod(n, employees)
            profile = (employee * 2654435761 % 2**32) / 2**32  # the same for all of an employee's rows
            has_open = profile < shape.open_share
            record = _person(shape, employee, n)
            if shape.open_share <= profile < shape.open_share + shape.vangnet_share:
                record[13] = "no_risk"
            slot_start = start + timedelta(days=case * slot)
            if employee % 3 == 1 and rng.random() < shape.pregnancy_share * 3:  # women: 1/3 of employees
                due = slot_start + timedelta(days=rng.randrange(slot + 120))
                record += ["zwangerschap", "", "", "", "", "", "", "", due.isoformat(), "", ""]
            elif has_open and case == last:
                # open for weeks to most of a year: from a third into the slot before to 40 days ago
                first = (
                    slot_start
                    - timedelta(days=slot - slot // 3 - 20)
                    + timedelta(days=rng.randrange(2 * slot - slot // 3 - 60))
                )
                record += ["ziekte", first.isoformat(), first.isoformat(), "", "", "", "", "", "", "", ""]
            else:
                # closed; when the next case is the open one, this one lies in the first third
                room = slot // 3 - 70 if has_open and case == last - 1 else slot - 70  # ends before it
                first = slot_start + timedelta(days=rng.randrange(max(room, 1)))
                length = 1 + (rng.randrange(14) if rng.random() < 0.9 else rng.randrange(14, 60))
                recovery = first + timedelta(days=length)
                record += [
                    "ziekte", first.isoformat(), first.isoformat(), "", recovery.isoformat(),
                    recovery.isoformat(), "", "", "", "", "",
                ]  # fmt: skip
            writer.writerow(record)

"""How fast is `uwvcli due` on a big export, compared with merely reading the same CSV?

Generates N realistic dossier rows (default 1,000,000) and a configuration in a temporary folder,
then times, each in its own process and a few times over (the median counts):
  * a bare `csv.reader` pass over the file (the standard library's cost of merely parsing it), and
  * `uwvcli due --format json` over the same file,
and prints the ratio (wall clock, and CPU seconds: steadier on a busy machine) and the peak RSS of
the `due` process. Target: ratio ≤ 5, peak RSS < 1 GB.

    .venv/bin/python benchmarks/bench_due.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

RUN_DATE = date(2026, 12, 1)
# uwvcli went live two weeks before the run date: like a daily run in steady state, the rules look at
# every dossier but only a few days' notifications are listed (no journal needed to simulate "sent").
GO_LIVE = RUN_DATE - timedelta(days=15)
EMPLOYERS = 40
UNITS_PER_EMPLOYER = 4
FIELDS = (
    "employer_id", "org_unit_id", "employee_id", "bsn", "initials", "first_name", "name_prefix",
    "last_name", "birth_date", "gender", "loonheffingennummer", "iban", "direct_payment",
    "vangnet_status", "employment_end_date", "dossier_id", "dossier_type", "first_sick_day",
    "sick_reported_date", "sick_reason", "recovery_date", "recovery_reported_date",
    "partial_recovery_date", "partial_daily_wage", "expected_delivery_date", "leave_start_date",
    "multiple_birth",
)  # fmt: skip
BARE_PASS = "import csv, sys\nfor _ in csv.reader(open(sys.argv[1], encoding='utf-8', newline='')): pass\n"
DUE = "import sys\nfrom uwvcli.cli import main\nsys.argv[0] = 'uwvcli'\nmain()\n"
DUE_ARGUMENTS = ("due", "--date", RUN_DATE.isoformat(), "--format", "json", "--config")
# The steps of `planning.plan`, timed in CPU seconds inside one process (`--phases`).
PHASES = """
import gc, sys, time
from datetime import date
from pathlib import Path
from uwvcli.inputs import exports
from uwvcli.domain import prefilter, rules
from uwvcli.inputs.config import load_config
config = load_config(Path(sys.argv[1]))
run_date = date.fromisoformat(sys.argv[2])
clock = time.process_time
started = clock()
table, errors = exports.load_table(
    config.paths.dossiers, config.employers, display_base=config.source.parent, names=False
)  # as `due` does
loaded = clock()
gc.disable()  # as the command line does for every command (uwvcli.cli.main)
keep = prefilter.relevant(config.employers, table.column, run_date, runs=table.employee_runs())
filtered = clock()
dossiers = table.dossiers(keep)
built = clock()
evaluation = rules.evaluate(config.employers, dossiers, run_date)
done = clock()
print(loaded - started, filtered - loaded, built - filtered, done - built, len(dossiers), len(table))
"""


def valid_bsn(number: int) -> str:
    """A 9-digit number passing the BSN 11-check, derived from `number` (fictitious people)."""
    digits = [int(c) for c in f"{number % 10**8:08d}"]
    total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
    for last in range(10):
        if (total - last) % 11 == 0:
            return "".join(map(str, digits)) + str(last)
    return valid_bsn(number + 1)


def write_config(folder: Path) -> Path:
    lines = [
        "sender: {name: Benchmark Verzuimdiensten BV, role: Intermediair}",
        "digipoort: {environment: simulator}",
        "paths: {dossiers: [dossiers.csv], outbox: var/outbox, state: var/uwvcli.sqlite}",
        "employers:",
    ]
    for e in range(EMPLOYERS):
        lines += [
            f"  - id: WG{e:03d}",
            f"    name: Benchmarkbedrijf {e} BV",
            f"    uwv_interface: {{active: true, start_date: {GO_LIVE.isoformat()}}}",
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


def write_rows(path: Path, rows: int, seed: int = 42) -> None:
    """Two dossiers per employee: a closed sickness case in the first year, then a second case
    (closed, or open in 10%: some reach week 42) or, for every fifth employee, a pregnancy."""
    rng = random.Random(seed)
    start = RUN_DATE - timedelta(days=730)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for n in range(rows):
            employee = n // 2
            record = dict.fromkeys(FIELDS, "")
            record.update(
                employer_id=f"WG{employee % EMPLOYERS:03d}",
                org_unit_id=f"OE{employee % UNITS_PER_EMPLOYER}",
                employee_id=str(100000 + employee),
                bsn=valid_bsn(100000000 + employee),
                initials=f"{'ABCDEFGHIJKLMNOPRSTW'[employee % 20]}.",
                first_name=f"Test{employee % 400}",  # as many distinct names as a real workforce
                last_name=f"Testpersoon-{employee % 8000}",
                birth_date=(date(1960, 1, 1) + timedelta(days=employee % 15000)).isoformat(),
                gender="MVX"[employee % 3],
                dossier_id=f"D-{n}",
            )
            if n % 10 == 9:
                record.update(
                    dossier_type="zwangerschap",
                    expected_delivery_date=(start + timedelta(days=rng.randrange(900))).isoformat(),
                )
            else:
                first = start + timedelta(days=(n % 2) * 370 + rng.randrange(340))
                record.update(
                    dossier_type="ziekte",
                    first_sick_day=first.isoformat(),
                    sick_reported_date=first.isoformat(),
                )
                if n % 2 == 0 or rng.random() < 0.9:  # an employee's earlier case is closed: no overlaps
                    record["recovery_date"] = (first + timedelta(days=1 + rng.randrange(25))).isoformat()
                if rng.random() < 0.05:
                    record["vangnet_status"] = "no_risk"
            writer.writerow(record.values())


def timed(command: list[str]) -> tuple[float, int, int, float]:
    """Wall-clock seconds, exit code, peak RSS (KiB) and CPU seconds (user + system) of one child
    process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    return elapsed, os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="dossier rows to generate (default 1,000,000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the median counts")
    parser.add_argument(
        "--keep", type=Path, help="generate into this folder and keep it (default: a temp dir)"
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also time the steps of planning in one process: loading, pre-filter, dossiers, rules",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-due-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        config = write_config(folder)
        export = folder / "dossiers.csv"
        print(f"generating {args.rows:,} rows …", file=sys.stderr)
        write_rows(export, args.rows)
        size = export.stat().st_size / 2**20

        # Alternating, so that a change in the machine's load hits both alike.
        bare, due_runs = [], []
        for _ in range(args.repeat):
            bare.append(timed([sys.executable, "-c", BARE_PASS, str(export)]))
            due_runs.append(timed([sys.executable, "-c", DUE, *DUE_ARGUMENTS, str(config)]))
        codes = {code for _, code, _, _ in due_runs}
        if not codes <= {0, 1}:
            sys.exit(f"uwvcli due failed (exit codes {sorted(codes)}): run it by hand on {folder} to see why")
        bare_wall, bare_cpu = (statistics.median(run[i] for run in bare) for i in (0, 3))
        due_wall, due_cpu = (statistics.median(run[i] for run in due_runs) for i in (0, 3))
        peak_mib = max(rss for _, _, rss, _ in due_runs) / 1024
        ratio, cpu_ratio = due_wall / bare_wall, due_cpu / bare_cpu
        print(f"rows:               {args.rows:,} ({size:.0f} MiB CSV)")
        print(f"bare csv.reader:    {bare_wall:.2f} s, {bare_cpu:.2f} s CPU (median of {args.repeat})")
        print(f"uwvcli due --json:  {due_wall:.2f} s, {due_cpu:.2f} s CPU (median of {args.repeat})")
        print(f"ratio:              {ratio:.2f}x  (target ≤ 5x)  {'OK' if ratio <= 5 else 'MISSED'}")
        print(f"ratio, CPU seconds: {cpu_ratio:.2f}x  {'OK' if cpu_ratio <= 5 else 'MISSED'}")
        print(
            f"peak RSS of due:    {peak_mib:.0f} MiB  (target < 1024 MiB)  "
            f"{'OK' if peak_mib < 1024 else 'MISSED'}"
        )
        if args.phases:
            print_phases(config, args.repeat)


def print_phases(config: Path, repeat: int) -> None:
    """Median CPU seconds of each step of `planning.plan`, each run in a fresh process."""
    runs = []
    for _ in range(repeat):
        command = [sys.executable, "-c", PHASES, str(config), RUN_DATE.isoformat()]
        runs.append(subprocess.run(command, capture_output=True, text=True, check=True).stdout.split())
    load, prefilter, build, rules = (statistics.median(float(run[i]) for run in runs) for i in range(4))
    kept, total = int(runs[0][4]), int(runs[0][5])
    print(f"  exports.load_table:     {load:.2f} s CPU")
    print(f"  prefilter.relevant:     {prefilter:.2f} s CPU (keeps {kept:,} of {total:,} dossiers)")
    print(f"  DossierTable.dossiers:  {build:.2f} s CPU")
    print(f"  rules.evaluate:         {rules:.2f} s CPU")


if __name__ == "__main__":
    main()

"""How fast `run` fills the outbox: 10,000 due notifications planned, built, checked, signed,
written and journalled (prepare), as signed messages per second, set against the raw RSA-2048
signing rate of `cryptography` measured in the same run on the same key. Target: at least 1/3.

    .venv/bin/python benchmarks/bench_outbox.py [--count 10000] [--folder PATH]

Prints the figures and exits 1 when the ratio is below the target. The work happens in a
temporary folder (or --folder) on the same file system as the outbox would be."""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from uwvcli.config import load_config
from uwvcli.journal import Journal
from uwvcli.prepare import prepare
from uwvcli.signing import load_credentials

TARGET = 1 / 3
RUN_DATE = date(2026, 11, 26)


def write_inputs(folder: Path, count: int) -> Path:
    """`count` employees sick because of their pregnancy (a zw-ziekmelding each, due on the run date)."""
    export = folder / "dossiers.csv"
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "employer_id",
                "org_unit_id",
                "employee_id",
                "bsn",
                "birth_date",
                "gender",
                "last_name",
                "dossier_id",
                "dossier_type",
                "first_sick_day",
                "sick_reason",
            ]
        )
        for i in range(count):
            first = RUN_DATE - timedelta(days=i % 20)
            writer.writerow(
                [
                    "WG001",
                    "OE1",
                    f"{100000 + i}",
                    "111222333",
                    "1990-02-03",
                    "V",
                    "Bench",
                    f"Z-{i}",
                    "ziekte",
                    first.isoformat(),
                    "zwangerschap",
                ]
            )
    config = {
        "sender": {"name": "Bench Verzuimdiensten BV", "role": "Intermediair"},
        "digipoort": {"environment": "simulator"},
        "paths": {"dossiers": ["dossiers.csv"], "outbox": "var/outbox", "state": "var/uwvcli.sqlite"},
        "employers": [{
            "id": "WG001", "name": "Bench BV",
            "uwv_interface": {"active": True, "start_date": "2024-01-01"},
            "org_units": [{"id": "OE1", "name": "Bench BV", "legal_entity": True,
                           "loonheffingennummer": "123456782L01", "uwv_aansluitnummer": "013000000123456",
                           "uwv_sector": "013"}],
        }],
    }  # fmt: skip
    path = folder / "uwvcli.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def raw_rsa_rate(private_key, seconds: float = 3.0) -> tuple[float, float]:
    """Bare RSA-2048 PKCS#1 v1.5 SHA-256 signatures over a SignedInfo-sized input: per second of
    wall-clock time, and per CPU-second."""
    data = b"x" * 600
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        done += 50
    return done / elapsed, done / (time.process_time() - cpu)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the signing workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--folder", type=Path, help="where to create the temporary outbox and state")
    parser.add_argument("--workers", type=int, help="signing processes (default: as `uwvcli run`)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as temporary:
        folder = Path(temporary)
        config = load_config(write_inputs(folder, args.count))
        credentials = load_credentials(
            config.sender, environment="simulator", state_dir=config.paths.state.parent
        )
        # the machine's load may change during the run: measure the baseline before and after
        before = raw_rsa_rate(credentials.private_key)
        with Journal.open(config.paths.state) as journal:
            start, cpu_start = time.perf_counter(), cpu_seconds()
            report = prepare(config, RUN_DATE, journal, credentials=credentials, workers=args.workers)
            elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
            again = time.perf_counter()
            rerun = prepare(config, RUN_DATE, journal, credentials=credentials, workers=args.workers)
            rerun_elapsed = time.perf_counter() - again
        after = raw_rsa_rate(credentials.private_key)
    written = len(report.written)
    if written != args.count or report.blocked or rerun.written:
        print(f"unexpected result: {written} written, {len(report.blocked)} blocked", file=sys.stderr)
        return 2
    baseline = (before[0] + after[0]) / 2
    per_cpu = (before[1] + after[1]) / 2
    rate = written / elapsed
    ratio = rate / baseline
    print(
        f"raw RSA-2048 signatures/s (cryptography): {baseline:8.0f}  "
        f"(before {before[0]:.0f}, after {after[0]:.0f})"
    )
    print(f"signed messages/s through prepare:       {rate:8.0f}  ({written} in {elapsed:.1f} s)")
    print(f"ratio:                                   {ratio:8.2f}  (target >= {TARGET:.2f})")
    print(
        f"CPU per message:                         {cpu / written * 1000:8.2f} ms "
        f"(messages per CPU-second / signatures per CPU-second = {written / cpu / per_cpu:.2f})"
    )
    print(f"second run, nothing to write:            {rerun_elapsed:8.1f} s for {len(rerun.unchanged)}")
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())

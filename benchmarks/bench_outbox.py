"""How fast `run` fills the outbox: 10,000 due notifications planned, built, checked, signed,
written and journalled (prepare), as signed messages per second, set against the raw RSA-2048
signing rate of `cryptography` measured in the same run on the same key. Target: at least 1/5.

    .venv/bin/python benchmarks/bench_outbox.py [--count 10000] [--folder PATH] [--repeat 5]

Prints the figures of each run and exits 1 when the median ratio is below the target. The work
happens in a temporary folder (or --folder) on the same file system as the outbox would be."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from uwvcli.app.credentials import load_credentials
from uwvcli.app.prepare import prepare
from uwvcli.common.memory import pause_cycle_collection
from uwvcli.inputs.config import load_config
from uwvcli.state.journal import Journal

TARGET = 1 / 5  # issue 14: at least a fifth of the raw rate (the first round aimed at a third)
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


@dataclass(frozen=True)
class Measurement:
    rate: float  # signed messages per second of wall-clock time through prepare
    baseline: float  # raw RSA-2048 signatures per second, mean of before and after
    cpu_per_message: float  # seconds, this process and its workers
    cpu_ratio: float  # messages per CPU-second / signatures per CPU-second
    rerun: float  # seconds for a second prepare that finds nothing to write
    load: float

    @property
    def ratio(self) -> float:
        return self.rate / self.baseline


def measure(count: int, folder: Path, workers: int | None) -> Measurement:
    """One prepare of `count` messages into a fresh outbox and journal in `folder`, between two
    baselines."""
    config = load_config(write_inputs(folder, count))
    credentials = load_credentials(
        config.sender, environment="simulator", state_dir=config.paths.state.parent
    )
    # the machine's load may change during the run: measure the baseline before and after
    before = raw_rsa_rate(credentials.private_key)
    with Journal.open(config.paths.state) as journal:
        start, cpu_start = time.perf_counter(), cpu_seconds()
        report = prepare(config, RUN_DATE, journal, credentials=credentials, workers=workers)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
        again = time.perf_counter()
        rerun = prepare(config, RUN_DATE, journal, credentials=credentials, workers=workers)
        rerun_elapsed = time.perf_counter() - again
    after = raw_rsa_rate(credentials.private_key)
    written = len(report.written)
    if written != count or report.blocked or rerun.written or len(rerun.unchanged) != count:
        raise SystemExit(f"unexpected result: {written} written, {len(report.blocked)} blocked")
    return Measurement(
        rate=written / elapsed,
        baseline=(before[0] + after[0]) / 2,
        cpu_per_message=cpu / written,
        cpu_ratio=written / cpu / ((before[1] + after[1]) / 2),
        rerun=rerun_elapsed,
        load=os.getloadavg()[0],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--folder", type=Path, help="where to create the temporary outbox and state")
    parser.add_argument("--workers", type=int, help="signing processes (default: as `uwvcli run`)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median ratio counts")
    args = parser.parse_args()
    pause_cycle_collection()  # as `uwvcli run` runs: the command line pauses it (uwvcli.cli.main)
    runs = []
    # Every run's files stay until the end: deleting 10,000 files just before the next run would
    # make that run's file creation pay for it (ext4 skips recently freed inodes).
    with contextlib.ExitStack() as cleanup:
        for number in range(1, args.repeat + 1):
            folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(dir=args.folder)))
            run = measure(args.count, folder, args.workers)
            runs.append(run)
            print(
                f"run {number}: {run.rate:6.0f} messages/s, raw RSA-2048 {run.baseline:5.0f} signatures/s, "
                f"ratio {run.ratio:.2f}; CPU {run.cpu_per_message * 1000:.2f} ms/message "
                f"(per CPU-second: {run.cpu_ratio:.2f} of the raw rate); second run {run.rerun:.1f} s; "
                f"load {run.load:.1f}",
                flush=True,
            )
    ratio = statistics.median(run.ratio for run in runs)
    print(
        f"median ratio of {len(runs)} run(s): {ratio:.2f} (target >= {TARGET:.2f}); "
        f"{os.cpu_count()} CPUs, outbox on {args.folder or tempfile.gettempdir()}"
    )
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())

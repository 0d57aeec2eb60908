"""Does a run cost more as the journal's history grows? And do the read-only commands read only
what they show?

Builds two states: an empty journal, and one holding `--past` (default 1,000,000) notifications of
earlier years — inserted straight into SQLite through the journal's own schema (`Journal.open`
creates it; `journal.MIGRATIONS`), each with its attempt and its final Digipoort status, as three
years of daily runs would leave them. Then, alternating, `--repeat` times, each in its own process
on a fresh copy of the state:
  * `uwvcli run --no-send` on a day with 100 new notifications (build, check, sign, write, journal),
  * `uwvcli status --since <run date> --format json` afterwards (it shows those 100),
and reports wall and CPU seconds (medians) and peak RSS for both journals and the ratio big/empty.
Targets (issue 14): run ≤ 1.5×; status --since reads only what it shows (≈ 1×).

    .venv/bin/python benchmarks/bench_journal.py                       # 1,000,000 past notifications
    .venv/bin/python benchmarks/bench_journal.py --past 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_due import Run, load_average, timed
from bench_outbox import RUN_DATE, write_inputs

from uwvcli.app.credentials import load_credentials
from uwvcli.domain.corrections import GONE_REPORT_DAYS
from uwvcli.inputs.config import load_config
from uwvcli.state.journal import Journal

NEW = 100
CLI = "import sys\nfrom uwvcli.cli import main\nsys.argv[0] = 'uwvcli'\nmain()\n"
TARGET = 1.5


def fill(state: Path, past: int) -> None:
    """`past` notifications of earlier years, 97% accepted, 2% rejected, 1% delivered, each with
    its attempt and last status, through the journal's own schema. Their dossiers are not in the
    export (it holds the NEW ones only), so those submitted in the last GONE_REPORT_DAYS days are
    marked reported gone, as the earlier daily runs would have left them (RULES 4.6: once); else
    every copy's first run would report thousands of them, which is not the history's cost."""
    Journal.open(state).close()  # creates and migrates the schema
    kinds = ("zw-ziekmelding", "werkhervatting/full", "42e-weeksmelding", "wazo")
    first_day = RUN_DATE - timedelta(days=3 * 365)

    def rows():
        for i in range(past):
            kind = kinds[i % 4]
            key = f"WG001/P-{i}/{kind}"
            day = first_day + timedelta(days=i * (3 * 365 - 10) // past)
            moment = datetime(day.year, day.month, day.day, 7, tzinfo=UTC).isoformat(timespec="microseconds")
            state = "rejected" if i % 50 == 7 else "delivered" if i % 100 == 3 else "accepted"
            kenmerk = f"{900000000 + i}"
            aanleverkenmerk = f"UWV-{i:012d}-r1"
            digest = f"{i:064x}"
            reported = (
                (day + timedelta(days=1)).isoformat() if (RUN_DATE - day).days <= GONE_REPORT_DAYS else None
            )
            yield (
                (key, kind.split("/")[0], "WG001", f"{200000 + i // 3}", f"P-{i}", day.isoformat(),
                 (day + timedelta(days=7)).isoformat(), state, "[]", f"outbox/{aanleverkenmerk}.xml", digest,
                 digest, aanleverkenmerk, 1, "123456782L01", "UWV-ziekmelding", kenmerk, None, moment, moment,
                 moment, reported),
                (key, aanleverkenmerk, f"outbox/{aanleverkenmerk}.xml", digest, moment, moment, "accepted",
                 kenmerk),
                (kenmerk, "500" if state == "accepted" else "400" if state == "delivered" else "510", moment,
                 "afgehandeld", moment),
            )  # fmt: skip

    db = sqlite3.connect(state)
    try:
        db.execute("PRAGMA synchronous=OFF")
        batch: list = []
        for row in rows():
            batch.append(row)
            if len(batch) == 50_000:
                _insert(db, batch)
                db.commit()
                batch.clear()
        _insert(db, batch)
        db.commit()
        # A journal in use is checkpointed as it goes; without this, every copy would carry a
        # gigabyte of write-ahead log that the first run after it replays (1.3 s of CPU).
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def _insert(db: sqlite3.Connection, batch: list) -> None:
    db.executemany(
        "INSERT INTO notifications (key, kind, employer_id, employee_id, dossier_id, due_date, deadline, "
        "state, problems, file, sha256, content_sha256, aanleverkenmerk, revision, loonheffingennummer, "
        "berichtsoort, kenmerk, reason, submitted, created, updated, gone_reported) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (b[0] for b in batch),
    )
    db.executemany(
        "INSERT INTO attempts (key, aanleverkenmerk, file, sha256, started, finished, outcome, kenmerk) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (b[1] for b in batch),
    )
    db.executemany(
        "INSERT INTO statuses (kenmerk, code, timestamp, description, received) VALUES (?, ?, ?, ?, ?)",
        (b[2] for b in batch),
    )


def prepare_base(folder: Path, past: int) -> Path:
    """The configuration, an export with NEW due notifications, the simulator's PKI and a journal."""
    folder.mkdir(parents=True)
    config_path = write_inputs(folder, NEW)
    config = load_config(config_path)
    load_credentials(config.sender, environment="simulator", state_dir=config.paths.state.parent)
    if past:
        print(f"filling a journal with {past:,} past notifications …", file=sys.stderr, flush=True)
        fill(config.paths.state, past)
    else:
        Journal.open(config.paths.state).close()
    return config_path


def once(work: Path) -> tuple[Run, Run]:
    """`run --no-send` then `status --since` on `work`, a fresh copy of a base state."""
    config = str(work / "uwvcli.yaml")
    day = RUN_DATE.isoformat()
    run = timed(
        [sys.executable, "-c", CLI, "run", "--no-send", "--date", day, "--format", "json", "-c", config]
    )
    if run.code not in (0, 1):
        sys.exit(f"uwvcli run --no-send failed (exit code {run.code}): run it by hand on {work}")
    status = timed([sys.executable, "-c", CLI, "status", "--since", day, "--format", "json", "-c", config])
    return run, status


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--past", type=int, default=1_000_000, help="past notifications in the big journal")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median counts")
    args = parser.parse_args()
    print(f"load average before: {load_average()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as scratch:
        root = Path(scratch)
        bases = {
            "empty": prepare_base(root / "empty", 0).parent,
            "big": prepare_base(root / "big", args.past).parent,
        }
        size = (root / "big" / "var" / "uwvcli.sqlite").stat().st_size / 2**20
        results: dict[str, list[tuple[Run, Run]]] = {"empty": [], "big": []}
        # Every copy is made and on disk before the first clock starts: the run's syncfs would
        # otherwise pay for writing (and deleting) gigabytes of copies, which is this script's
        # doing, not the run's.
        copies = {
            name: [Path(shutil.copytree(base, root / f"{name}-{n}")) for n in range(args.repeat)]
            for name, base in bases.items()
        }
        os.sync()
        time.sleep(5)
        for n in range(args.repeat):
            for name in bases:
                results[name].append(once(copies[name][n]))
    print(f"\n{NEW} new notifications; big journal: {args.past:,} past ones ({size:.0f} MiB); "
          f"median of {args.repeat}, alternating; load {load_average()}\n")  # fmt: skip
    print(
        "| command | empty journal wall / CPU | big journal wall / CPU | × wall | × CPU "
        "| peak RSS empty / big |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    ratios = {}
    for index, command in enumerate((f"run --no-send ({NEW} new)", "status --since (run date)")):
        empty = [pair[index] for pair in results["empty"]]
        big = [pair[index] for pair in results["big"]]
        wall, cpu = median(big, "wall") / median(empty, "wall"), median(big, "cpu") / median(empty, "cpu")
        ratios[command] = cpu
        print(
            f"| {command} | {median(empty, 'wall'):.2f} / {median(empty, 'cpu'):.2f} s "
            f"| {median(big, 'wall'):.2f} / {median(big, 'cpu'):.2f} s | {wall:.2f} | {cpu:.2f} "
            f"| {max(r.rss_kib for r in empty) / 1024:.0f} / {max(r.rss_kib for r in big) / 1024:.0f} MiB |"
        )
    met = all(r <= TARGET for r in ratios.values())
    print(f"\ntarget: ≤ {TARGET}× CPU with the big journal: {'OK' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

"""How fast and how lean is `uwvcli due` on big exports of three shapes, compared with merely
reading the same CSV?

For each shape (friendly, realistic, adversarial: see `shapes.py`) and each size (default 100,000,
300,000 and 1,000,000 rows) it generates the export and a configuration in a temporary folder,
then times, each in its own process, alternating, `--repeat` times (the median counts):
  * a bare `csv.reader` pass over the file (the standard library's cost of merely parsing it), and
  * `uwvcli due --date 2026-12-01 --format json` over the same file,
and reports the ratio of the wall-clock medians and of the CPU-second medians (user + system:
steadier on a busy machine), the peak RSS of the `due` process (`wait4`), the notifications listed,
and the CPU seconds per million rows at each size (linear growth).

    .venv/bin/python benchmarks/bench_due.py                                  # everything
    .venv/bin/python benchmarks/bench_due.py --rows 100000 --repeat 1         # quick
    .venv/bin/python benchmarks/bench_due.py --shape realistic --keep /tmp/b  # keep the files
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from shapes import FIELDS, RUN_DATE, SHAPES, Shape, valid_bsn, write_config, write_rows

__all__ = ["FIELDS", "RUN_DATE", "valid_bsn", "write_config", "write_rows"]  # the tests' generator

PROJECT = Path(__file__).resolve().parent.parent  # the checkout whose `due` this measures
#: Targets per shape (issue 14): (ratio to the bare pass, peak RSS in MiB).
TARGETS = {"friendly": (5.0, 1024), "realistic": (4.0, 400), "adversarial": (8.0, 600)}
SIZES = (100_000, 300_000, 1_000_000)
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
keep = prefilter.relevant(config.employers, table.column, run_date)
filtered = clock()
dossiers = table.dossiers(keep)
built = clock()
evaluation = rules.evaluate(config.employers, dossiers, run_date)
done = clock()
print(loaded - started, filtered - loaded, built - filtered, done - built, len(dossiers), len(table))
"""


@dataclass(frozen=True)
class Run:
    wall: float
    code: int
    rss_kib: int
    cpu: float


def timed(
    command: list[str],
    stdout: Path | None = None,
    environment: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Wall-clock seconds, exit code, peak RSS (KiB) and CPU seconds (user + system) of one child."""
    with open(stdout or os.devnull, "wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=environment, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
    return Run(elapsed, os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime)


@dataclass(frozen=True)
class Result:
    shape: str
    rows: int
    mib: float
    bare_wall: float
    bare_cpu: float
    due_wall: float
    due_cpu: float
    peak_mib: float
    notifications: int
    load: str
    base_cpu: float | None = None  # `due` of the --baseline code, CPU seconds
    base_peak_mib: float | None = None

    @property
    def ratio(self) -> float:
        return self.due_wall / self.bare_wall

    @property
    def cpu_ratio(self) -> float:
        return self.due_cpu / self.bare_cpu


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def measure(shape: Shape, rows: int, repeat: int, folder: Path, baseline: Path | None = None) -> Result:
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, shape)
    export = folder / "dossiers.csv"
    print(f"generating {rows:,} {shape.name} rows …", file=sys.stderr, flush=True)
    write_rows(export, rows, shape=shape)
    output = folder / "due.json"
    bare, due, base = [], [], []
    command = [sys.executable, "-c", DUE, *DUE_ARGUMENTS, str(config)]
    # Each child runs in the data folder with its checkout first on PYTHONPATH: `python -c` puts
    # the working directory first on sys.path, where a checkout would shadow the baseline.
    this = {**os.environ, "PYTHONPATH": str(PROJECT)}
    for number in range(repeat):  # alternating, so that a change in the load hits both alike
        bare.append(timed([sys.executable, "-c", BARE_PASS, str(export)], cwd=folder))
        due.append(timed(command, output if not number else None, this, cwd=folder))
        if baseline is not None:
            base.append(timed(command, environment={**os.environ, "PYTHONPATH": str(baseline)}, cwd=folder))
    codes = {run.code for run in due}
    if not codes <= {0, 1}:
        sys.exit(f"uwvcli due failed (exit codes {sorted(codes)}): run it by hand on {folder} to see why")
    listed = len(json.loads(output.read_bytes())["notifications"])
    output.unlink()
    return Result(
        shape=shape.name,
        rows=rows,
        mib=export.stat().st_size / 2**20,
        bare_wall=statistics.median(r.wall for r in bare),
        bare_cpu=statistics.median(r.cpu for r in bare),
        due_wall=statistics.median(r.wall for r in due),
        due_cpu=statistics.median(r.cpu for r in due),
        peak_mib=max(r.rss_kib for r in due) / 1024,
        notifications=listed,
        load=load_average(),
        base_cpu=statistics.median(r.cpu for r in base) if base else None,
        base_peak_mib=max(r.rss_kib for r in base) / 1024 if base else None,
    )


def print_results(results: list[Result], repeat: int) -> bool:
    """The report as a Markdown table; True when every shape met its targets at its largest size."""
    print(
        f"\n`due --format json` ÷ bare `csv.reader` pass, median of {repeat}, alternating; "
        f"{os.cpu_count()} CPUs"
    )
    print("\n| shape | rows | CSV | bare wall / CPU | due wall / CPU | × wall | × CPU | CPU s per M rows "
          "| peak RSS | notifications | load 1/5/15 |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r.shape} | {r.rows:,} | {r.mib:.0f} MiB | {r.bare_wall:.2f} / {r.bare_cpu:.2f} s "
            f"| {r.due_wall:.2f} / {r.due_cpu:.2f} s | {r.ratio:.2f} | {r.cpu_ratio:.2f} "
            f"| {r.due_cpu / r.rows * 1e6:.2f} | {r.peak_mib:.0f} MiB | {r.notifications:,} | {r.load} |"
        )
    if any(r.base_cpu is not None for r in results):
        print("\n| shape | rows | baseline due CPU | × CPU | peak RSS | this due CPU | × CPU | peak RSS |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in results:
            if r.base_cpu is not None and r.base_peak_mib is not None:
                print(
                    f"| {r.shape} | {r.rows:,} | {r.base_cpu:.2f} s | {r.base_cpu / r.bare_cpu:.2f} "
                    f"| {r.base_peak_mib:.0f} MiB | {r.due_cpu:.2f} s | {r.cpu_ratio:.2f} "
                    f"| {r.peak_mib:.0f} MiB |"
                )
    met = True
    print()
    for name in dict.fromkeys(r.shape for r in results):
        largest = max((r for r in results if r.shape == name), key=lambda r: r.rows)
        ratio, rss = TARGETS[name]
        ok = largest.cpu_ratio <= ratio and largest.peak_mib <= rss
        met &= ok
        print(
            f"{name} at {largest.rows:,} rows: {largest.ratio:.2f}× wall, {largest.cpu_ratio:.2f}× CPU "
            f"(target ≤ {ratio:g}×), {largest.peak_mib:.0f} MiB (target ≤ {rss} MiB): "
            f"{'OK' if ok else 'MISSED'}"
        )
    return met


def print_phases(config: Path, repeat: int) -> None:
    """Median CPU seconds of each step of `planning.plan`, each run in a fresh process."""
    runs = []
    for _ in range(repeat):
        command = [sys.executable, "-c", PHASES, str(config), RUN_DATE.isoformat()]
        this = {**os.environ, "PYTHONPATH": str(PROJECT)}
        found = subprocess.run(
            command, capture_output=True, text=True, check=True, env=this, cwd=config.parent
        )
        runs.append(found.stdout.split())
    load, prefilter, build, rules = (statistics.median(float(run[i]) for run in runs) for i in range(4))
    kept, total = int(runs[0][4]), int(runs[0][5])
    print(f"  exports.load_table:     {load:.2f} s CPU")
    print(f"  prefilter.relevant:     {prefilter:.2f} s CPU (keeps {kept:,} of {total:,} dossiers)")
    print(f"  DossierTable.dossiers:  {build:.2f} s CPU")
    print(f"  rules.evaluate:         {rules:.2f} s CPU")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shape", action="append", choices=sorted(SHAPES), help="repeatable; default all three"
    )
    parser.add_argument("--rows", type=int, action="append", help=f"repeatable; default {SIZES}")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the median counts")
    parser.add_argument(
        "--keep", type=Path, help="generate into this folder and keep it (default: a temp dir)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also time `due` of another checkout (its root, first on PYTHONPATH), in the same alternation",
    )
    parser.add_argument(
        "--phases", action="store_true", help="also time the steps of planning in one process"
    )
    args = parser.parse_args()
    shapes = [SHAPES[name] for name in args.shape or SHAPES]
    sizes = sorted(args.rows or SIZES)
    print(f"load average before: {load_average()}", file=sys.stderr)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-due-") as scratch:
        for shape in shapes:
            for rows in sizes:
                folder = (args.keep or Path(scratch)) / f"{shape.name}-{rows}"
                results.append(measure(shape, rows, args.repeat, folder, args.baseline))
                if args.phases and rows == sizes[-1]:
                    print(f"phases, {shape.name}, {rows:,} rows:")
                    print_phases(folder / "uwvcli.yaml", args.repeat)
                if not args.keep:
                    (folder / "dossiers.csv").unlink()
    met = print_results(results, args.repeat)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

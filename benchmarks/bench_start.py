"""How long support waits for the commands run by hand: `uwvcli explain CODE` and `uwvcli --version`,
each started as a fresh process through the installed `uwvcli` script (interpreter start and
imports included), `--repeat` times, alternating; median wall and CPU seconds. Target (issue 14):
under 0.3 s. A bare `python -c pass` is measured alongside: the interpreter's own share. With
`--baseline DIR` the same two commands of another checkout (first on `PYTHONPATH`, through the
same script) join the alternation: before/after in one run, under the same load.

    .venv/bin/python benchmarks/bench_start.py --repeat 10
    .venv/bin/python benchmarks/bench_start.py --repeat 10 --baseline /path/to/other/checkout
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from bench_due import load_average, timed

TARGET = 0.3
UWVCLI = str(Path(sys.executable).with_name("uwvcli"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "uwvcli --version": [UWVCLI, "--version"],
    "uwvcli explain 311": [UWVCLI, "explain", "311"],
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alongside")
    args = parser.parse_args()
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        name: (command, None) for name, command in COMMANDS.items()
    }
    if args.baseline is not None:
        if not (args.baseline / "uwvcli" / "__init__.py").is_file():
            sys.exit(f"{args.baseline} is not a uwvcli checkout (no uwvcli/__init__.py)")
        before = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}
        commands |= {
            f"{name} (baseline)": (command, before)
            for name, command in COMMANDS.items()
            if name != "python -c pass"
        }
    runs: dict[str, list] = {name: [] for name in commands}
    loads = [load_average()]
    for _ in range(args.repeat):  # alternating, so that a change in the load hits each alike
        for name, (command, environment) in commands.items():
            run = timed(command, environment=environment)
            if run.code != 0:
                sys.exit(f"{name} failed with exit code {run.code}")
            runs[name].append(run)
    loads.append(load_average())
    print(f"\nmedian of {args.repeat}, alternating; load {' → '.join(loads)}\n")
    print("| command | wall | CPU | target |")
    print("| --- | --- | --- | --- |")
    met = True
    for name, measured in runs.items():
        wall = statistics.median(r.wall for r in measured)
        cpu = statistics.median(r.cpu for r in measured)
        measured_here = not name.startswith("python") and not name.endswith("(baseline)")
        verdict = ("OK" if wall < TARGET else "MISSED") if measured_here else ""
        met &= verdict != "MISSED"
        print(f"| {name} | {wall:.3f} s | {cpu:.3f} s | {verdict} |")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

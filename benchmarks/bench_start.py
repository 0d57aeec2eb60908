"""How long support waits for the commands run by hand: `uwvcli explain CODE` and `uwvcli --version`,
each started as a fresh process through the installed `uwvcli` script (interpreter start and
imports included), `--repeat` times, alternating; median wall and CPU seconds. Target (issue 14):
under 0.3 s. A bare `python -c pass` is measured alongside: the interpreter's own share.

    .venv/bin/python benchmarks/bench_start.py --repeat 10
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
    runs: dict[str, list] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():
            run = timed(command)
            if run.code != 0:
                sys.exit(f"{' '.join(command)} failed with exit code {run.code}")
            runs[name].append(run)
    print(f"\nmedian of {args.repeat}, alternating; load {load_average()}\n")
    print("| command | wall | CPU | target |")
    print("| --- | --- | --- | --- |")
    met = True
    for name, measured in runs.items():
        wall = statistics.median(r.wall for r in measured)
        cpu = statistics.median(r.cpu for r in measured)
        verdict = "" if name.startswith("python") else ("OK" if wall < TARGET else "MISSED")
        met &= verdict != "MISSED"
        print(f"| {name} | {wall:.3f} s | {cpu:.3f} s | {verdict} |")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

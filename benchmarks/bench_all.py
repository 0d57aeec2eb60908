"""Every benchmark of issue 14 in one report, with the machine's load before and after
(`uptime`): `due` on the three shapes at three sizes, journal growth and `status --since`,
signing 10,000 messages against raw RSA-2048, `explain` and `--version` start.

    .venv/bin/python benchmarks/bench_all.py                 # the full figures (about half an hour)
    .venv/bin/python benchmarks/bench_all.py --rows 100000 --repeat 1   # a quick look
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, action="append", help="export sizes (default 100k, 300k, 1M)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    quick = bool(args.rows) and max(args.rows) < 1_000_000
    rows = [f"--rows={n}" for n in args.rows or ()]
    repeat = f"--repeat={args.repeat}"
    steps = [
        ["bench_due.py", *rows, repeat],
        ["bench_journal.py", f"--past={100_000 if quick else 1_000_000}", repeat],
        ["bench_outbox.py", f"--count={2_000 if quick else 10_000}", repeat],
        ["bench_start.py", f"--repeat={max(args.repeat, 5)}"],
    ]
    failed = []
    subprocess.run(["uptime"], check=False)
    for step in steps:
        print(f"\n## {' '.join(step)}\n", flush=True)
        if subprocess.run([sys.executable, str(HERE / step[0]), *step[1:]], check=False).returncode:
            failed.append(step[0])
    subprocess.run(["uptime"], check=False)
    print(f"\ntargets missed in: {', '.join(failed)}" if failed else "\nevery target met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

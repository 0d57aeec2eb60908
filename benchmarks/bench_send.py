"""Throughput of `send_outbox` against the simulator with 50 ms added latency per aanleveren.

    .venv/bin/python benchmarks/bench_send.py [--messages 1000] [--latency 0.05] [--parallelism 8]

Prepares the outbox once (real messages, signed), then sends copies of it at parallelism 1 and at
the given parallelism, each against a fresh simulator store, and prints messages per second and
their ratio (target: at least 4× at parallelism 8). The ratio is measured in the same run, so it
does not depend on the machine. Exit code 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers import employer, write_setup

from uwvcli.app.credentials import load_credentials, sender_certificate
from uwvcli.app.prepare import prepare
from uwvcli.delivery.loop import send_outbox
from uwvcli.digipoort.client import DigipoortClient
from uwvcli.inputs.config import load_config
from uwvcli.simulator.server import Simulator
from uwvcli.state.journal import Journal

TARGET_RATIO = 4.0


#: Employers (each its own legal entity and loonheffingennummer) the messages are spread over, as
#: for an absence service provider. uwvcli keeps one message per sender (berichtsoort +
#: loonheffingennummer) in flight, so parallelism pays off across senders, not within one.
EMPLOYERS = 40


def loonheffingennummers(count: int) -> list[str]:
    """`count` distinct, valid loonheffingennummers (11-check on the nine digits, then L01)."""
    found = []
    number = 100_000_000
    while len(found) < count:
        digits = [int(c) for c in str(number)]
        if (sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=False)) - digits[8]) % 11 == 0:
            found.append(f"{number}L01")
        number += 1
    return found


def build(folder: Path, messages: int) -> Path:
    """A configuration with `messages` WAZO applications due for EMPLOYERS employers, prepared into
    the outbox."""
    employers = []
    for index, lhnr in enumerate(loonheffingennummers(EMPLOYERS), start=1):
        entry = employer(f"WG{index:03d}")
        entry["org_units"][0]["loonheffingennummer"] = lhnr
        employers.append(entry)
    rows = [
        {
            "employer_id": f"WG{i % EMPLOYERS + 1:03d}",
            "employee_id": str(10_000 + i),
            "dossier_id": f"P-{i:05d}",
            "dossier_type": "zwangerschap",
            "expected_delivery_date": "2026-07-01",
        }
        for i in range(messages)
    ]
    path = write_setup(folder, rows, employers=employers)
    config = load_config(path)
    credentials = load_credentials(
        config.sender, environment="simulator", state_dir=config.paths.state.parent
    )
    with Journal.open(config.paths.state) as journal:
        report = prepare(config, date(2026, 5, 1), journal, credentials=credentials)
    if len(report.written) != messages:
        raise SystemExit(f"prepared {len(report.written)} of {messages} messages")
    return path


def measure(template: Path, parallelism: int, latency: float) -> tuple[float, int]:
    """(seconds, messages accepted or submitted) for one send of a fresh copy of the template."""
    folder = template.parent.parent / f"p{parallelism}"
    shutil.copytree(template.parent, folder)
    config = load_config(folder / "uwvcli.yaml")
    state_dir = config.paths.state.parent
    credentials = load_credentials(config.sender, environment="simulator", state_dir=state_dir)
    with (
        Simulator(state_dir / "simulator", scenario=f"SLOW-{latency}") as digipoort,
        DigipoortClient(
            digipoort.aanlever_url,
            digipoort.status_url,
            credentials,
            ca_bundle=digipoort.ca_bundle,
            service_certificate=digipoort.service_certificate,
        ) as client,
        Journal.open(config.paths.state) as journal,
    ):
        started = time.perf_counter()
        report = send_outbox(
            config,
            journal,
            client=client,
            parallelism=parallelism,
            poll_seconds=0,
            signer=sender_certificate(config),
        )
        elapsed = time.perf_counter() - started
    sent = sum(1 for line in report.lines if line.state in ("submitted", "accepted"))
    return elapsed, sent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to each aanleveren")
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()
    logging.getLogger("uwvcli").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        base = Path(tmp) / "template"
        base.mkdir()
        started = time.perf_counter()
        template = build(base, args.messages)
        print(f"prepared {args.messages} signed messages in {time.perf_counter() - started:.1f} s")
        results = {}
        for parallelism in (1, args.parallelism):
            elapsed, sent = measure(template, parallelism, args.latency)
            results[parallelism] = args.messages / elapsed
            print(
                f"parallelism {parallelism}: {sent}/{args.messages} sent in {elapsed:.1f} s "
                f"= {results[parallelism]:.1f} messages/s"
            )
            if sent != args.messages:
                print("not every message was sent: the figures are not comparable", file=sys.stderr)
                return 1
    ratio = results[args.parallelism] / results[1]
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(
        f"speed-up at parallelism {args.parallelism}: {ratio:.1f}× ({verdict} the {TARGET_RATIO:.0f}× target)"
    )
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())

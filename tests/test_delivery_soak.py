"""Exactly once without a person (issue 11), soaked: `uwvcli send` over a full outbox against a
Digipoort (the simulator, its store surviving every run) that drops a fifth of all connections
right after accepting the message and holds back the answer to one in twenty past the client's
timeout, while the runs are SIGKILLed at random moments. Then it runs until done. Every message
must have arrived exactly once, none parked, none in doubt, every status followed to 500.

The full soak (1,000 messages over 5 senders, 30 kills) is marked `slow`; the default suite runs a
short one."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from delivery_support import SENDER, write_message
from digipoort_support import seed_test_pki

from tests.run_support import UWVCLI, cron_environment
from uwvcli.app.credentials import load_credentials
from uwvcli.domain.keys import aanleverkenmerk, parse_key
from uwvcli.domain.models import Kind
from uwvcli.inputs.config import load_config
from uwvcli.simulator.pki import simulator_pki_folder
from uwvcli.simulator.server import RandomFaults, Simulator
from uwvcli.state.journal import Journal

SENDERS = [
    Kind.ZW_ZIEKMELDING,
    Kind.WERKHERVATTING,
    Kind.MLA,
    Kind.HERSTEL_MLA,
    Kind.WAZO,
]  # 5 berichtsoorten


def _configure(folder: Path, simulator: Simulator) -> Path:
    """`environment: custom` against the running simulator, with a quick in-doubt policy."""
    pki = simulator.pki
    (folder / "exports").mkdir(parents=True)
    (folder / "exports" / "dossiers.csv").write_text("", encoding="utf-8")
    document = {
        "sender": {
            "name": SENDER.name,
            "role": SENDER.role,
            "certificate": str(pki.sender_cert),
            "private_key": str(pki.sender_key),
        },
        "digipoort": {
            "environment": "custom",
            "aanlever_url": simulator.aanlever_url,
            "status_url": simulator.status_url,
            "ca_bundle": str(simulator.ca_bundle),
            "service_certificate": str(simulator.service_certificate),
            "timeout_seconds": 1,
            "delivery": {
                "processing_margin_seconds": 1,
                "settle_checks": 8,
                "settle_wait_seconds": 0.25,
                "retries": 2,
                "backoff_seconds": 0.1,
            },
        },
        "paths": {"dossiers": ["exports/dossiers.csv"], "outbox": "var/outbox", "state": "var/uwvcli.sqlite"},
        "employers": [],
    }
    path = folder / "uwvcli.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _key(i: int) -> str:
    """Message i's key text: the senders in turn; a werkhervatting needs its variant."""
    kind = SENDERS[i % len(SENDERS)]
    return f"WG1/D{i:04d}/{kind.value}" + ("/full" if kind is Kind.WERKHERVATTING else "")


def _outbox(config_path: Path, messages: int) -> list[str]:
    """`messages` signed outbox files, journalled as written, spread over the five senders; one
    dossier and one employee each, so no message waits for another."""
    config = load_config(config_path)
    credentials = load_credentials(config.sender, environment="custom", state_dir=config.paths.state.parent)
    keys = [_key(i) for i in range(messages)]
    with Journal.open(config.paths.state) as journal:
        for i, key in enumerate(keys):
            write_message(config, journal, credentials, key, employee_id=str(10000 + i))
    return keys


def _send(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(UWVCLI), "send", "--config", str(config), "--parallelism", "8", "--poll-seconds", "5"],
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=cron_environment(),
    )


def soak(folder: Path, *, messages: int, kills: int, seed: int) -> dict[str, object]:
    state = folder / "sim-state"
    seed_test_pki(state)
    faults = RandomFaults(drop_rate=0.20, hang_rate=0.05, hang_seconds=1.5, seed=seed)
    chance = random.Random(seed)
    with Simulator(
        state / "simulator",
        pki_folder=simulator_pki_folder(state),
        check_content=lambda content: [],
        faults=faults,
    ) as simulator:
        config = _configure(folder / "uwvcli", simulator)
        keys = _outbox(config, messages)
        exits: Counter[int] = Counter()
        for _ in range(kills):
            run = _send(config)
            time.sleep(chance.uniform(0.2, 2.5))
            run.send_signal(signal.SIGKILL)
            _, stderr = run.communicate(timeout=60)
            assert b"Traceback" not in stderr, stderr.decode()
            exits[run.returncode] += 1
        runs = 0
        while True:
            runs += 1
            run = _send(config)
            _, stderr = run.communicate(timeout=600)
            assert b"Traceback" not in stderr, stderr.decode()
            if run.returncode == 0:
                break
            assert runs < 30, f"not done after {runs} runs: {stderr.decode()[-2000:]}"
        received = {key: simulator.received(aanleverkenmerk(parse_key(key))) for key in keys}
        attempts = sum(simulator.attempts(aanleverkenmerk(parse_key(key))) for key in keys)
    with Journal.open(load_config(config).paths.state) as journal:
        states = Counter(str(entry.state) for entry in journal.entries())
        histories = {
            key: [s.code for s in journal.status_history(journal.entry(key).kenmerk or "")] for key in keys
        }
    counts = {
        "messages": messages,
        "kills": kills,
        "killed runs that had finished anyway": sum(
            n for code, n in exits.items() if code != -signal.SIGKILL
        ),
        "runs until done": runs,
        "aanleveren posts": attempts,
        "connections dropped after acceptance": faults.counts["drop"],
        "answers held past the timeout": faults.counts["hang"],
        "journal states": dict(states),
        "received once": sum(1 for n in received.values() if n == 1),
    }
    print("\nsoak:", counts)
    assert {key: n for key, n in received.items() if n != 1} == {}, "every message exactly once"
    assert states == {"accepted": messages}, "none parked, none in doubt: all accepted"
    assert all(history[-1] == "500" for history in histories.values())
    return counts


def test_a_short_soak_ends_with_every_message_exactly_once(tmp_path: Path) -> None:
    counts = soak(tmp_path, messages=60, kills=3, seed=11)
    assert counts["connections dropped after acceptance"], "the soak did drop connections"


@pytest.mark.slow
def test_soak_1000_messages_5_senders_30_kills(tmp_path: Path) -> None:
    soak(tmp_path, messages=1000, kills=30, seed=20261207)

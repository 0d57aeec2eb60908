"""What the end-to-end tests of `uwvcli run` share: the samples copied into a temporary folder
with a `mail:` section, a real SMTP server on loopback (aiosmtpd), the CLI as cron starts it (a
subprocess), and readers of what arrived: the simulator's own store, the recap mails, the
personal data of the sample exports that must never show up anywhere."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller

from uwvcli.simulator.pki import ensure_test_pki, simulator_pki_folder

PROJECT = Path(__file__).resolve().parent.parent
SAMPLES = PROJECT / "samples"
UWVCLI = Path(sys.executable).with_name("uwvcli")
RUN_DATE = "2026-12-01"
FROM_ADDRESS = "uwvcli@verzuimdiensten.example"

#: Every line uwvcli writes on stderr when it is not a terminal (cron): timestamp, level, text.
PLAIN_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4} (DEBUG|INFO|WARNING|ERROR) \S")

_MONTHS_NL = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class Mail:
    accepted_at: float  # time.monotonic() when the server answered 250 to DATA
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)  # type: ignore[return-value]

    @property
    def recap(self) -> str:
        """`<employer id> <run date>` from the X-Uwvcli-Recap header."""
        return str(self.message["X-Uwvcli-Recap"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def text(self) -> str:
        """Every text part, decoded (plain and HTML)."""
        return "\n".join(
            part.get_content() for part in self.message.walk() if part.get_content_maintype() == "text"
        )


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every accepted mail (thread-safe: the server runs in its own)."""

    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_accept: Callable[[], None] | None = None  # called as each mail is taken, before the 250 goes out

    async def handle_DATA(self, server, session, envelope):
        mail = Mail(time.monotonic(), envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        with self.lock:
            self.mails.append(mail)
        if self.on_accept is not None:
            self.on_accept()
        return "250 OK"

    def snapshot(self) -> list[Mail]:
        with self.lock:
            return list(self.mails)

    def by_recap(self) -> dict[str, list[Mail]]:
        found: dict[str, list[Mail]] = {}
        for mail in self.snapshot():
            found.setdefault(mail.recap, []).append(mail)
        return found


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox
    controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def running_smtp(port: int | None = None) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (a free port unless given) for the duration of the block."""
    server = SmtpServer(port or free_port(), Mailbox()).start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- the samples, set up as cron would find them


def make_test_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One throwaway PKI to copy into every state folder (generating keys per test would be slow)."""
    folder = tmp_path_factory.mktemp("pki") / "test-pki"
    ensure_test_pki(folder)
    return folder


def setup_samples(
    folder: Path, pki: Path | None, *, smtp_port: int | None, sender: dict | None = None, **digipoort: object
) -> Path:
    """The samples in `folder` (no state yet, the test PKI `pki` in place for the in-process
    simulator), with `mail:` pointing at `smtp_port` (None: no `mail:` section), and `sender:` and
    `digipoort:` settings added or replaced when given; returns the configuration."""
    shutil.copytree(SAMPLES, folder, ignore=shutil.ignore_patterns("var"), dirs_exist_ok=True)
    config_path = folder / "uwvcli.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    if smtp_port is not None:
        config["mail"] = {"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "from": FROM_ADDRESS}
    if digipoort:
        config["digipoort"] = dict(digipoort)
    config["sender"].update(sender or {})
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    state_dir = folder / "var"
    state_dir.mkdir(mode=0o700)
    if pki is not None:
        shutil.copytree(pki, simulator_pki_folder(state_dir))
    return config_path


# ---------------------------------------------------------------- the command


def cron_environment(**extra: str) -> dict[str, str]:
    """What cron gives a job: no terminal, a colour-capable TERM and no NO_COLOR, so any escape
    sequence that slips out would show. With the simulator, today is RUN_DATE (`UWVCLI_TODAY`):
    the samples' dates are fixed, and neither a catch-up nor a future date may depend on the clock."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "UWVCLI_CONFIG")}
    env.update(
        {"TERM": "xterm-256color", "TZ": "Europe/Amsterdam", "UWVCLI_WORKERS": "1", "UWVCLI_TODAY": RUN_DATE}
    )
    env.update(extra)
    return env


def uwvcli(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the installed `uwvcli` as cron would (pipes, not a terminal); never a traceback."""
    done = subprocess.run(
        [str(UWVCLI), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or cron_environment(),
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def run_day(
    config: Path, day: str = RUN_DATE, *extra: str, today: str | None = None
) -> subprocess.CompletedProcess:
    """`uwvcli run` for `day`, on the day `today` (default: `day` itself, and never before
    RUN_DATE, with the simulator): a run is normally made on its own date."""
    return uwvcli(
        "run", "--config", str(config), "--date", day, "--poll-seconds", "10", *extra, cwd=config.parent,
        env=cron_environment(UWVCLI_TODAY=today or max(day, RUN_DATE)),
    )  # fmt: skip


def due_notifications(config: Path, day: str = RUN_DATE) -> list[dict]:
    """`uwvcli due --format json` on `day`: what uwvcli itself says is due (CONTRACT §4 shape)."""
    done = uwvcli("due", "--config", str(config), "--date", day, "--format", "json", cwd=config.parent)
    return json.loads(done.stdout)["notifications"]


def due_keys(config: Path, day: str = RUN_DATE) -> tuple[set[str], set[str]]:
    """(keys `due` says go out on `day` — due or late —, keys it says are blocked)."""
    notifications = due_notifications(config, day)
    sendable = {n["key"] for n in notifications if n["state"] in ("due", "late")}
    blocked = {n["key"] for n in notifications if n["state"] == "blocked"}
    return sendable, blocked


def journal_status(config: Path) -> dict[str, dict]:
    """`uwvcli status --format json`, by key."""
    done = uwvcli("status", "--config", str(config), "--format", "json", cwd=config.parent)
    assert done.stdout, f"uwvcli status printed nothing (exit {done.returncode}): {done.stderr}"
    return {n["key"]: n for n in json.loads(done.stdout)["notifications"]}


def simulator_received(folder: Path) -> Counter[str]:
    """Processes a simulator started, per aanleverkenmerk, from its own store in `folder` (it
    survives restarts; the in-process one of `environment: simulator` lives in `<state>/simulator`)."""
    store = folder / "simulator.sqlite3"
    if not store.exists():
        return Counter()
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT aanleverkenmerk, count(*) FROM process GROUP BY aanleverkenmerk").fetchall()
    return Counter(dict(rows))


def simulator_processes(folder: Path) -> dict[str, str]:
    """kenmerk -> aanleverkenmerk of every process the simulator in `folder` started."""
    store = folder / "simulator.sqlite3"
    if not store.exists():
        return {}
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT kenmerk, aanleverkenmerk FROM process").fetchall())


def misattributed(config: Path, simulator_folder: Path) -> dict[str, str]:
    """Journal entries whose kenmerk is the process of another message (an in-doubt attempt that
    adopted the wrong process): key -> the aanleverkenmerk that process really carried."""
    processes = simulator_processes(simulator_folder)
    return {
        key: processes.get(n["kenmerk"], "no such process")
        for key, n in journal_status(config).items()
        if n["kenmerk"] and processes.get(n["kenmerk"]) != n["aanleverkenmerk"]
    }


def received_by_key(config: Path, simulator_folder: Path) -> dict[str, int]:
    """Simulator counts per notification key (the journal tells which aanleverkenmerk is which);
    an aanleverkenmerk the journal does not know shows under its own name."""
    counts = simulator_received(simulator_folder)
    names = {n["aanleverkenmerk"]: key for key, n in journal_status(config).items() if n["aanleverkenmerk"]}
    return {names.get(kenmerk, kenmerk): count for kenmerk, count in counts.items()}


# ---------------------------------------------------------------- personal data of the sample exports


def personal_values(exports: Path) -> dict[str, set[str]]:
    """BSNs, names and birth dates (in every way a date can be written) of the sample exports."""
    rows: list[dict] = []
    for path in sorted(exports.glob("*.csv")):
        text = path.read_text(encoding="utf-8-sig")
        delimiter = ";" if text.count(";") > text.count(",") else ","
        rows += list(csv.DictReader(text.splitlines(), delimiter=delimiter))
    for path in sorted(exports.glob("*.json")):
        rows += json.loads(path.read_text(encoding="utf-8"))["dossiers"]
    values: dict[str, set[str]] = {"bsn": set(), "name": set(), "birth_date": set()}
    for row in rows:
        values["bsn"].add(str(row["bsn"]))
        values["name"].update(str(row[f]) for f in ("first_name", "last_name") if row.get(f))
        born = _date(str(row["birth_date"]))
        values["birth_date"] |= {
            born.isoformat(),
            born.strftime("%d-%m-%Y"),
            born.strftime("%Y%m%d"),
            f"{born.day} {_MONTHS_NL[born.month - 1]} {born.year}",
        }
    return values


def _date(text: str) -> date:
    if re.fullmatch(r"\d{2}-\d{2}-\d{4}", text):
        day, month, year = text.split("-")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(text)


def personal_data_in(text: str, values: dict[str, set[str]]) -> list[str]:
    """Which kinds of personal data appear in `text` (names as whole words: "Cor" is in "Corrigeer")."""
    found = []
    for kind, items in values.items():
        for item in items:
            pattern = rf"\b{re.escape(item)}\b" if kind == "name" else rf"(?<!\d){re.escape(item)}(?!\d)"
            if re.search(pattern, text):
                found.append(f"{kind} of the sample exports")
                break
    return found


def simulator_meldingen(folder: Path) -> list[tuple[str, str]]:
    """What the simulator in `folder` accepted as UWV would hold it, in order: ("send" or
    "withdraw", ReferentieMelding)."""
    store = folder / "simulator.sqlite3"
    if not store.exists():
        return []
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return [tuple(row) for row in db.execute("SELECT action, reference FROM melding ORDER BY seq")]

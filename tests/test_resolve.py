"""`uwvcli resolve` end to end: a message really parked by `uwvcli send` against the real simulator
(HTTPS, mutual TLS, on loopback), then settled by hand, then followed or resent by the next send.

The parking is what it is in life: uwvcli died after `begin_attempt` while two processes it does
not know appeared at Digipoort for the same sender (its own POST, and another program's; or two of
the other program's), so reconciliation cannot tell which one, if any, is this message."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from helpers import write_setup
from typer.testing import CliRunner

from uwvcli.app.credentials import load_credentials
from uwvcli.app.prepare import prepare
from uwvcli.cli import app
from uwvcli.digipoort.addresses import berichtsoort_for
from uwvcli.digipoort.client import DigipoortClient
from uwvcli.domain.models import Kind
from uwvcli.inputs.config import load_config
from uwvcli.messages.signing import verify_document
from uwvcli.simulator.server import Simulator
from uwvcli.state.journal import Journal
from uwvcli.state.locking import run_lock

RUN_DATE = date(2026, 5, 1)
PARKED = "WG001/P-1/wazo"
ACCEPTED = "WG001/P-2/wazo"


def wazo_row(dossier_id: str, employee_id: str) -> dict[str, str]:
    return {
        "employee_id": employee_id,
        "dossier_id": dossier_id,
        "dossier_type": "zwangerschap",
        "expected_delivery_date": "2026-07-01",
    }


class ParkedWorld:
    """Two prepared messages: PARKED parked by a real `send`, ACCEPTED sent by that same send.
    `ours` is the kenmerk of PARKED's own process (None when its POST never arrived) and
    `others` those of another program's processes for the same sender."""

    def __init__(self, folder: Path, *, arrived: bool):
        self.path = write_setup(folder, [wazo_row("P-1", "1001"), wazo_row("P-2", "1002")])
        self.config = load_config(self.path)
        self.state = self.config.paths.state
        self.credentials = load_credentials(
            self.config.sender, environment="simulator", state_dir=self.state.parent
        )
        with Journal.open(self.state) as journal:
            prepare(self.config, RUN_DATE, journal, credentials=self.credentials)
            journal.begin_attempt(PARKED)  # … and then uwvcli died during the POST
        self.aanleverkenmerk = self.entry(PARKED).aanleverkenmerk
        references = (
            [self.aanleverkenmerk, "ANDER-PAKKET-1"] if arrived else ["ANDER-PAKKET-1", "ANDER-PAKKET-2"]
        )
        kenmerken = self._post(references)
        self.ours = kenmerken[0] if arrived else None
        self.others = kenmerken[1:] if arrived else kenmerken
        parking = self.send()
        assert parking.exit_code == 1, parking.stdout + parking.stderr
        assert self.entry(PARKED).state == "parked"
        assert self.entry(ACCEPTED).state == "accepted", parking.stdout

    def _post(self, references: list[str]) -> list[str]:
        """Processes at the simulator for PARKED's sender, carrying PARKED's signed content."""
        entry = self.entry(PARKED)
        with (
            # another package's processes: UWV's receiving side plays no part in this test
            Simulator(self.simulator_folder, trust=[self.credentials.certificate], holds=False) as digipoort,
            DigipoortClient(
                digipoort.aanlever_url,
                digipoort.status_url,
                self.credentials,
                ca_bundle=digipoort.ca_bundle,
                service_certificate=digipoort.service_certificate,
            ) as client,
        ):
            return [
                client.aanleveren(
                    berichtsoort=berichtsoort_for(self.config.digipoort, Kind.WAZO),
                    aanleverkenmerk=reference,
                    loonheffingennummer=entry.loonheffingennummer,
                    rol="Intermediair",
                    bestandsnaam=f"{reference}.xml",
                    inhoud=verify_document(entry.file.read_bytes()),
                ).kenmerk
                for reference in references
            ]

    @property
    def simulator_folder(self) -> Path:
        return self.state.parent / "simulator"

    def cli(self, *args: str):
        result = CliRunner().invoke(app, [*args, "--config", str(self.path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return result

    def send(self):
        return self.cli("send", "--poll-seconds", "3")

    def resolve(self, *args: str):
        return self.cli("resolve", *args)

    def entry(self, key: str):
        with Journal.open(self.state) as journal:
            return journal.entry(key)

    def attempts(self, key: str):
        with Journal.open(self.state) as journal:
            return journal.attempts(key)

    def status(self) -> dict[str, dict]:
        done = self.cli("status", "--format", "json")
        return {n["key"]: n for n in json.loads(done.stdout)["notifications"]}

    def received(self) -> int:
        """Processes the simulator started for PARKED's aanleverkenmerk."""
        simulator = Simulator(self.simulator_folder)
        try:
            return simulator.received(self.aanleverkenmerk)
        finally:
            simulator.store.close()

    def journal_dump(self) -> str:
        """Every row of the journal, to prove a refusal changed nothing."""
        with sqlite3.connect(self.state) as db:
            return "\n".join(db.iterdump())


@pytest.fixture
def parked(tmp_path: Path):
    return lambda *, arrived: ParkedWorld(tmp_path, arrived=arrived)


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParkedWorld]:
    """One parked world for every refusal: each must leave it exactly as it was."""
    yield ParkedWorld(tmp_path_factory.mktemp("refusing"), arrived=True)


def test_received_adopts_the_named_process_and_the_next_send_follows_it_to_500(parked) -> None:
    w = parked(arrived=True)
    reason = w.entry(PARKED).reason
    assert w.ours is not None and w.ours in reason, "the candidates are named"
    assert f"uwvcli resolve {PARKED} --kenmerk" in reason, "and what to do about them"

    result = w.resolve(PARKED, "--kenmerk", w.ours)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        f"{PARKED}: was parked, now submitted as Digipoort process {w.ours}. The next `uwvcli run` or "
        "`uwvcli send` follows its statuses; it is not sent again."
    )
    row = w.status()[PARKED]
    assert (row["state"], row["kenmerk"]) == ("submitted", w.ours)
    assert row["reason"] == f"resolved by hand: received as {w.ours}"

    followed = w.send()
    assert followed.exit_code == 0, followed.stdout + followed.stderr
    assert w.entry(PARKED).state == "accepted"
    (attempt,) = w.attempts(PARKED)
    assert (attempt.outcome, attempt.kenmerk) == ("adopted", w.ours)
    assert attempt.reason == f"resolved by hand: received as {w.ours}"
    again = w.send()
    assert again.exit_code == 0
    assert w.received() == 1, "Digipoort got the message exactly once in total"


def test_not_received_puts_it_back_and_the_next_send_submits_it_once(parked) -> None:
    w = parked(arrived=False)
    assert w.received() == 0

    result = w.resolve(PARKED, "--not-received", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"key": PARKED, "from": "parked", "to": "written", "kenmerk": None}
    assert w.entry(PARKED).state == "written"
    assert w.entry(PARKED).aanleverkenmerk == w.aanleverkenmerk, "never arrived: the reference is unused"

    sent = w.send()
    assert sent.exit_code == 0, sent.stdout + sent.stderr
    assert w.received() == 1
    assert w.entry(PARKED).state == "accepted"
    assert w.entry(PARKED).kenmerk not in w.others
    rerun = w.send()
    assert rerun.exit_code == 0
    assert w.received() == 1, "a rerun sends nothing more"
    first, second = w.attempts(PARKED)
    assert (first.outcome, first.reason) == ("not_sent", "resolved by hand: not received")
    assert second.outcome == "accepted"


def test_the_line_for_not_received_says_what_the_next_run_does(parked) -> None:
    w = parked(arrived=False)
    result = w.resolve(PARKED, "--not-received")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        f"{PARKED}: was parked, now written. The next `uwvcli run` or `uwvcli send` submits it once, "
        f"as {w.aanleverkenmerk}."
    )


def test_json_names_the_adopted_kenmerk(parked) -> None:
    w = parked(arrived=True)
    result = w.resolve(PARKED, "--kenmerk", w.ours, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "key": PARKED,
        "from": "parked",
        "to": "submitted",
        "kenmerk": w.ours,
    }


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("WG001/P-9/wazo", "--not-received"), "has no notification WG001/P-9/wazo"),
        ((ACCEPTED, "--not-received"), f"{ACCEPTED} is accepted"),
        ((ACCEPTED, "--kenmerk", "K-NIEUW-1"), f"{ACCEPTED} is accepted"),
        ((PARKED, "--kenmerk", "{accepted}"), f"already belongs to {ACCEPTED}"),
        ((PARKED, "--kenmerk", "{ours}", "--not-received"), "exactly one"),
        ((PARKED,), "exactly one"),
        ((PARKED, "--kenmerk", " "), "is empty"),
        ((PARKED, "--kenmerk", "K 1"), "spaces"),
        ((PARKED, "--kenmerk", "K" * 41), "at most 40"),
        (("WG001/P-1", "--not-received"), "is not a notification key"),
        (("WG001/P-1/wazo/full", "--not-received"), "no other key does"),
    ],
    ids=[
        "unknown key",
        "accepted, not received",
        "accepted, kenmerk",
        "kenmerk of another message",
        "both options",
        "neither option",
        "empty kenmerk",
        "kenmerk with a space",
        "kenmerk too long",
        "not a key",
        "a variant on a kind without one",
    ],
)
def test_refusals_exit_2_and_change_nothing(
    refusing: ParkedWorld, args: tuple[str, ...], complaint: str
) -> None:
    w = refusing
    filled = [a.format(accepted=w.entry(ACCEPTED).kenmerk, ours=w.ours) for a in args]
    before = w.journal_dump()
    result = w.resolve(*filled)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert complaint in " ".join(result.stderr.split())
    assert result.stdout == ""
    assert w.journal_dump() == before
    assert w.entry(PARKED).state == "parked"


def test_a_journal_refusal_says_nothing_changed_and_where_to_look(refusing: ParkedWorld) -> None:
    result = refusing.resolve(ACCEPTED, "--not-received")
    assert "Nothing was changed" in result.stderr and "uwvcli status --state parked" in result.stderr


def test_while_a_run_holds_the_lock_it_exits_75_and_changes_nothing(refusing: ParkedWorld) -> None:
    w = refusing
    before = w.journal_dump()
    with run_lock(w.state):
        result = w.resolve(PARKED, "--kenmerk", w.ours)
    assert result.exit_code == 75
    assert "another uwvcli run" in result.stderr
    assert w.journal_dump() == before


def test_without_a_state_database_there_is_nothing_to_resolve(tmp_path: Path) -> None:
    path = write_setup(tmp_path, [wazo_row("P-1", "1001")])
    result = CliRunner().invoke(app, ["resolve", PARKED, "--not-received", "--config", str(path)])
    assert result.exit_code == 2
    assert "no state database yet" in result.stderr
    assert not load_config(path).paths.state.exists(), "resolve never creates the journal"

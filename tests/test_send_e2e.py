"""`uwvcli send` end to end: real outbox files (built, checked and signed by `prepare`), a real
journal, and the real simulator over HTTPS with mutual TLS on loopback, started in-process by
`environment: simulator`. Failure flows are selected by the simulator's markers, which travel in
the aanleverkenmerk (so here: in the dossier id)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from helpers import PERSON, write_setup
from typer.testing import CliRunner

from uwvcli.app.credentials import load_credentials
from uwvcli.app.prepare import prepare
from uwvcli.cli import app
from uwvcli.digipoort.addresses import berichtsoort_for
from uwvcli.digipoort.client import DigipoortClient
from uwvcli.domain.models import Config, Kind
from uwvcli.inputs.config import load_config
from uwvcli.messages.signing import verify_document
from uwvcli.simulator.server import Simulator
from uwvcli.state.journal import Journal
from uwvcli.state.locking import run_lock

RUN_DATE = date(2026, 5, 1)


def wazo_row(dossier_id: str, employee_id: str = "1001") -> dict[str, str]:
    return {
        "employee_id": employee_id,
        "dossier_id": dossier_id,
        "dossier_type": "zwangerschap",
        "expected_delivery_date": "2026-07-01",
    }


class World:
    """One configuration with its outbox prepared for RUN_DATE, and the means to look inside."""

    def __init__(self, folder: Path, dossier_ids: list[str]):
        rows = [wazo_row(d, str(1001 + i)) for i, d in enumerate(dossier_ids)]
        self.path = write_setup(folder, rows)
        self.config: Config = load_config(self.path)
        self.credentials = load_credentials(
            self.config.sender, environment="simulator", state_dir=self.config.paths.state.parent
        )
        with Journal.open(self.config.paths.state) as journal:
            report = prepare(self.config, RUN_DATE, journal, credentials=self.credentials)
        assert len(report.written) == len(dossier_ids), report
        self.keys = {d: f"WG001/{d}/wazo" for d in dossier_ids}

    def send(self, *options: str):
        return CliRunner().invoke(app, ["send", "--config", str(self.path), "--poll-seconds", "3", *options])

    def entry(self, dossier_id: str):
        with Journal.open(self.config.paths.state) as journal:
            return journal.entry(self.keys[dossier_id])

    def attempts(self, dossier_id: str):
        with Journal.open(self.config.paths.state) as journal:
            return journal.attempts(self.keys[dossier_id])

    def history(self, dossier_id: str) -> list[str]:
        with Journal.open(self.config.paths.state) as journal:
            return [s.code for s in journal.status_history(journal.entry(self.keys[dossier_id]).kenmerk)]

    @property
    def simulator_folder(self) -> Path:
        return self.config.paths.state.parent / "simulator"

    def counts(self, dossier_id: str) -> tuple[int, int]:
        """(processes started, aanleveren requests seen) at the simulator for this message."""
        simulator = Simulator(self.simulator_folder)
        try:
            reference = self.entry(dossier_id).aanleverkenmerk
            return simulator.received(reference), simulator.attempts(reference)
        finally:
            simulator.store.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[type[World]]:
    yield lambda *dossier_ids: World(tmp_path, list(dossier_ids))


def test_happy_path_to_500_and_a_second_send_posts_nothing(world) -> None:
    w = world("P-1", "P-2", "P-3")
    result = w.send()
    assert result.exit_code == 0, result.stdout + result.stderr
    for d in ("P-1", "P-2", "P-3"):
        assert w.entry(d).state == "accepted"
        assert w.counts(d) == (1, 1)
        assert w.history(d)[0] == "105" and w.history(d)[-1] == "500"
    assert "accepted" in result.stdout and "Summary: 3 accepted" in result.stdout
    again = w.send()
    assert again.exit_code == 0
    assert [w.counts(d) for d in ("P-1", "P-2", "P-3")] == [(1, 1)] * 3
    for field in ("bsn", "first_name", "last_name", "birth_date"):
        assert PERSON[field] not in result.stdout + result.stderr


def test_a_synchronous_fault_is_rejected_verbatim_and_nothing_was_started(world) -> None:
    w = world("P-FAULT-ALS100")
    result = w.send()
    assert result.exit_code == 1
    entry = w.entry("P-FAULT-ALS100")
    assert entry.state == "rejected" and entry.kenmerk is None
    assert entry.reason.startswith("ALS100: Het verzoek voldoet niet aan de koppelvlakspecificaties")
    assert "ALS100" in result.stdout and "koppelvlakspecificaties" in result.stdout
    assert w.counts("P-FAULT-ALS100") == (0, 1)


@pytest.mark.parametrize(
    ("marker", "state", "last", "foutcode"),
    [
        ("FLOW-311", "rejected", "311", "VAS500"),
        ("FLOW-410", "failed", "410", "AFS400"),
        ("FLOW-420", "failed", "420", "AFS600"),
        ("FLOW-510", "rejected", "510", None),
    ],
)
def test_failure_flows_end_in_the_right_state(world, marker: str, state: str, last: str, foutcode) -> None:
    dossier = f"P-{marker}"
    w = world(dossier)
    result = w.send()
    assert result.exit_code == 1
    assert w.entry(dossier).state == state
    assert w.history(dossier)[-1] == last
    assert f"\t{state}\t" in result.stdout and last in result.stdout
    if foutcode:
        assert foutcode in result.stdout
    assert w.counts(dossier) == (1, 1)


def test_http_503_is_retried_and_arrives_once(world) -> None:
    w = world("P-HTTP503")
    result = w.send()
    assert result.exit_code == 0, result.stdout
    assert w.entry("P-HTTP503").state == "accepted"
    assert w.counts("P-HTTP503") == (1, 2)  # two requests, one process


def test_a_connection_dropped_after_acceptance_is_reconciled_not_resent(world) -> None:
    w = world("P-DROP-AFTER-ACCEPT")
    result = w.send()
    assert result.exit_code == 0, result.stdout
    (attempt,) = w.attempts("P-DROP-AFTER-ACCEPT")
    assert attempt.outcome == "adopted"
    assert w.entry("P-DROP-AFTER-ACCEPT").state == "accepted"
    assert w.counts("P-DROP-AFTER-ACCEPT") == (1, 1)


def test_an_answer_with_a_bad_signature_is_not_trusted(world) -> None:
    """Its kenmerk is never stored from the bad answer; the verified process list settles it."""
    w = world("P-BAD-SIGNATURE")
    w.send()
    (attempt,) = w.attempts("P-BAD-SIGNATURE")
    assert attempt.outcome != "accepted"
    assert "verification" in attempt.reason
    assert w.counts("P-BAD-SIGNATURE") == (1, 1)


def test_a_tampered_outbox_file_is_refused_and_never_reaches_digipoort(world) -> None:
    w = world("P-1", "P-2")
    tampered = w.entry("P-1").file
    tampered.write_bytes(
        tampered.read_bytes().replace(
            b"<DatVermoedelijkeBevalling>20260701", b"<DatVermoedelijkeBevalling>20260702", 1
        )
    )
    result = w.send()
    assert result.exit_code == 1
    assert w.entry("P-1").state == "refused"
    assert w.counts("P-1") == (0, 0)
    assert w.entry("P-2").state == "accepted"
    line = next(line for line in result.stdout.splitlines() if line.startswith("WG001/P-1/"))
    assert "refused" in line and tampered.name in line


def test_a_crash_after_the_post_arrived_is_adopted_on_the_rerun(world) -> None:
    w = world("P-1")
    entry = w.entry("P-1")
    with Journal.open(w.config.paths.state) as journal:
        journal.begin_attempt(entry.key)
    # The POST goes out and Digipoort starts the process … and uwvcli dies before recording it.
    with (
        Simulator(w.simulator_folder, trust=[w.credentials.certificate]) as digipoort,
        DigipoortClient(
            digipoort.aanlever_url,
            digipoort.status_url,
            w.credentials,
            ca_bundle=digipoort.ca_bundle,
            service_certificate=digipoort.service_certificate,
        ) as client,
    ):
        client.aanleveren(
            berichtsoort=berichtsoort_for(w.config.digipoort, Kind.WAZO),
            aanleverkenmerk=entry.aanleverkenmerk,
            loonheffingennummer=entry.loonheffingennummer,
            rol="Intermediair",
            bestandsnaam=entry.file.name,
            inhoud=verify_document(entry.file.read_bytes()),
        )
    assert w.entry("P-1").state == "submitting"
    result = w.send()
    assert result.exit_code == 0, result.stdout
    assert w.entry("P-1").state == "accepted"
    assert [a.outcome for a in w.attempts("P-1")] == ["adopted"]
    assert w.counts("P-1") == (1, 1)


def test_a_crash_before_the_post_arrived_waits_for_the_window_then_sends_once(world) -> None:
    w = world("P-1")
    with Journal.open(w.config.paths.state) as journal:
        journal.begin_attempt(w.keys["P-1"])
    soon = w.send()
    assert soon.exit_code == 1
    assert w.entry("P-1").state == "in_doubt", "no process yet, but the attempt may still be on its way"
    assert w.counts("P-1") == (0, 0)

    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with sqlite3.connect(w.config.paths.state) as db:  # the crash happened an hour ago
        db.execute("UPDATE attempts SET started = ?, finished = ?", (an_hour_ago, an_hour_ago))
    later = w.send()
    assert later.exit_code == 0, later.stdout
    assert w.entry("P-1").state == "accepted"
    assert [a.outcome for a in w.attempts("P-1")] == ["not_sent", "accepted"]
    assert w.counts("P-1") == (1, 1)


def test_another_run_holding_the_lock_exits_75_and_sends_nothing(world) -> None:
    w = world("P-1")
    with run_lock(w.config.paths.state):
        result = w.send()
    assert result.exit_code == 75
    assert "another uwvcli run" in result.stderr
    assert w.entry("P-1").state == "written"


def test_parallel_submissions_of_one_employer_all_arrive_once(world) -> None:
    ids = [f"P-{i}" for i in range(12)]
    w = world(*ids)
    result = w.send("--parallelism", "6")
    assert result.exit_code == 0, result.stdout
    assert [w.counts(d) for d in ids] == [(1, 1)] * len(ids)
    assert {w.entry(d).state for d in ids} == {"accepted"}

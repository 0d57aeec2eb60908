"""`uwvcli run --no-send`, end to end: configuration and CSV export on disk, real signing, a
real SQLite journal, the CLI in-process (and as a subprocess where a second process matters)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree
from rich.console import Console
from typer.testing import CliRunner

from tests.helpers import PERSON, write_setup
from uwvcli.app.credentials import load_credentials
from uwvcli.app.prepare import prepare
from uwvcli.cli import app
from uwvcli.cli.run import PROGRESS_THRESHOLD, ProgressBar, render_table
from uwvcli.inputs.config import load_config
from uwvcli.messages import build as messages
from uwvcli.messages.signing import verify_document
from uwvcli.simulator.pki import simulator_pki_folder
from uwvcli.state.journal import Journal, JournalState

runner = CliRunner()
RUN_DATE = "2026-11-26"  # a Thursday
UWV = "{http://schemas.uwv.nl/UwvML/Berichten/UwvZwMeldingInternBody-v0428}"

# On 2026-11-26 (RULES §4): Z-1's zw-ziekmelding (sick because of the pregnancy since 11-16) and
# its partial werkhervatting (11-25, deadline 11-27) are due; P-1's WAZO application is due since
# 11-21 (E − 70), deadline 12-06 (Lmin − 14); Z-3 (bevalling) is due but has no BSN: blocked.
Z1 = {
    "employee_id": "1001",
    "dossier_id": "Z-1",
    "dossier_type": "ziekte",
    "first_sick_day": "2026-11-16",
    "sick_reason": "zwangerschap",
    "partial_recovery_date": "2026-11-25",
    "partial_daily_wage": "84,50",
}
P1 = {
    "employee_id": "1002",
    "dossier_id": "P-1",
    "dossier_type": "zwangerschap",
    "expected_delivery_date": "2027-01-30",
}
Z3 = {
    "employee_id": "1003",
    "dossier_id": "Z-3",
    "dossier_type": "ziekte",
    "first_sick_day": "2026-11-24",
    "sick_reason": "bevalling",
    "bsn": "",
}
DUE_FILES = {"WG001-Z-1-ZM.xml", "WG001-Z-1-WH-P.xml", "WG001-P-1-WAZO.xml"}


@pytest.fixture
def setup(tmp_path: Path, test_pki: Path):
    """A config with Z-1, P-1 and Z-3; returns a helper object."""
    return Setup(tmp_path, test_pki, [Z1, P1, Z3])


class Setup:
    def __init__(self, folder: Path, pki: Path, rows: list[dict]):
        self.folder = folder
        self.config = write_setup(folder, rows)
        self.state = folder / "var" / "uwvcli.sqlite"
        self.outbox = folder / "var" / "outbox"
        target = simulator_pki_folder(self.state.parent)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copytree(pki, target)

    def run(self, *args: str, date: str = RUN_DATE):
        return runner.invoke(app, ["run", "--config", str(self.config), "--date", date, "--no-send", *args])

    def rewrite_rows(self, rows: list[dict]) -> None:
        write_setup(self.folder, rows)

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.outbox.iterdir() if p.is_file()}

    def journal(self) -> dict[str, list[tuple]]:
        """Every table except runs, as the user's state would be inspected."""
        db = sqlite3.connect(self.state)
        tables = ("notifications", "attempts", "statuses")
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}

    def entry(self, key: str):
        with Journal.open(self.state) as journal:
            return journal.entry(key)

    def sender_certificate(self):
        from cryptography import x509

        return x509.load_pem_x509_certificate(
            (simulator_pki_folder(self.state.parent) / "sender-cert.pem").read_bytes()
        )


def payload(signed: bytes) -> etree._Element:
    return etree.fromstring(verify_document(signed))


def test_one_verified_file_per_due_notification_and_none_for_the_blocked(setup: Setup) -> None:
    result = setup.run()
    assert result.exit_code == 1, result.output  # Z-3 is blocked
    files = setup.files()
    assert set(files) == DUE_FILES
    for name, signed in files.items():
        unsigned = verify_document(signed, trusted=setup.sender_certificate())
        assert messages.check_message(unsigned) == [], name
        reference = etree.fromstring(unsigned).findtext(f".//{UWV}BerichtkenmerkIndiener")
        assert f"{reference}.xml" == name
        assert (setup.outbox / name).stat().st_mode & 0o777 == 0o600
    with Journal.open(setup.state) as journal:
        states = {str(e.key): e.state for e in journal.entries()}
        assert states == {
            "WG001/Z-1/zw-ziekmelding": JournalState.WRITTEN,
            "WG001/Z-1/werkhervatting/partial": JournalState.WRITTEN,
            "WG001/P-1/wazo": JournalState.WRITTEN,
            "WG001/Z-3/zw-ziekmelding": JournalState.BLOCKED,
        }
        assert [str(e.key) for e in journal.to_submit()][:2] == [
            "WG001/Z-1/zw-ziekmelding",
            "WG001/Z-1/werkhervatting/partial",
        ]
        assert "BSN" in " ".join(map(str, journal.entry("WG001/Z-3/zw-ziekmelding").problems))
        [run] = journal.runs()
        assert run.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("blocked\tWG001/Z-3/zw-ziekmelding") for line in lines)
    assert sum(line.startswith("written\t") for line in lines) == 3
    assert "3 written" in result.stderr and "1 blocked" in result.stderr


def test_the_files_verify_with_xmlsec1_too(setup: Setup) -> None:
    if not shutil.which("xmlsec1"):
        pytest.skip("xmlsec1 is not installed")
    setup.run()
    ca = simulator_pki_folder(setup.state.parent) / "ca-cert.pem"
    for path in setup.outbox.glob("*.xml"):
        checked = subprocess.run(
            ["xmlsec1", "--verify", "--enabled-key-data", "x509", "--trusted-pem", str(ca), str(path)],
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, (path.name, checked.stderr)


def test_nothing_needs_attention_exits_0(tmp_path: Path, test_pki: Path) -> None:
    setup = Setup(tmp_path, test_pki, [Z1, P1])
    result = setup.run()
    assert result.exit_code == 0, result.output
    assert set(setup.files()) == DUE_FILES


def test_a_second_run_the_same_day_changes_nothing_but_the_runs_table(setup: Setup) -> None:
    setup.run()
    files, journal = setup.files(), setup.journal()
    stamps = {p.name: p.stat().st_mtime_ns for p in setup.outbox.iterdir()}
    result = setup.run()
    assert result.exit_code == 1
    assert setup.files() == files
    assert {p.name: p.stat().st_mtime_ns for p in setup.outbox.iterdir()} == stamps
    assert setup.journal() == journal
    with Journal.open(setup.state) as j:
        assert len(j.runs()) == 2
    assert sum(line.startswith("unchanged\t") for line in result.stdout.splitlines()) == 3
    assert "written" not in result.stderr


def test_a_correction_before_sending_rebuilds_the_same_file_name(setup: Setup) -> None:
    setup.run()
    before = setup.files()
    old = setup.entry("WG001/Z-1/zw-ziekmelding")
    setup.rewrite_rows([{**Z1, "sick_reported_date": "2026-11-17"}, P1, Z3])
    result = setup.run()
    after = setup.files()
    assert set(after) == DUE_FILES  # same names, no revision suffix: nothing was sent yet
    assert after["WG001-Z-1-ZM.xml"] != before["WG001-Z-1-ZM.xml"]
    assert payload(after["WG001-Z-1-ZM.xml"]).findtext(f".//{UWV}DatOntvangstMeldingWerkgever") == "20261117"
    assert after["WG001-P-1-WAZO.xml"] == before["WG001-P-1-WAZO.xml"]
    new = setup.entry("WG001/Z-1/zw-ziekmelding")
    assert new.sha256 != old.sha256 and new.revision == 1 and new.state == JournalState.WRITTEN
    assert any(line.startswith("written\tWG001/Z-1/zw-ziekmelding") for line in result.stdout.splitlines())


def test_a_fixed_blocked_notification_is_written_on_the_next_run(setup: Setup) -> None:
    setup.run()
    setup.rewrite_rows([Z1, P1, {**Z3, "bsn": PERSON["bsn"]}])
    result = setup.run()
    assert result.exit_code == 0, result.output
    assert "WG001-Z-3-ZM.xml" in setup.files()
    assert setup.entry("WG001/Z-3/zw-ziekmelding").state == JournalState.WRITTEN


def test_a_notification_that_is_no_longer_due_is_cancelled_before_sending(setup: Setup) -> None:
    setup.run()
    setup.rewrite_rows([Z1, Z3])  # P-1 was exported by mistake
    result = setup.run()
    assert "WG001-P-1-WAZO.xml" not in setup.files()
    assert setup.entry("WG001/P-1/wazo") is None
    assert any(line.startswith("cancelled\tWG001/P-1/wazo") for line in result.stdout.splitlines())


def test_a_newly_blocked_unsent_file_is_removed(setup: Setup) -> None:
    setup.run()
    setup.rewrite_rows([Z1, {**P1, "birth_date": ""}, Z3])
    setup.run()
    assert "WG001-P-1-WAZO.xml" not in setup.files()
    assert setup.entry("WG001/P-1/wazo").state == JournalState.BLOCKED


def test_an_altered_unsent_file_is_rebuilt_and_reported(setup: Setup) -> None:
    setup.run()
    target = setup.outbox / "WG001-P-1-WAZO.xml"
    good = target.read_bytes()
    target.write_bytes(good.replace(b"20270130", b"20270131"))
    result = setup.run()
    assert verify_document(target.read_bytes())  # a valid signature again
    assert "WG001/P-1/wazo: the outbox file was missing or altered and was rebuilt" in result.stderr


def submit(setup: Setup, key: str, *, fault: tuple[str, str] | None = None) -> None:
    """What `send` records for a message (delivery is another module; the journal is the contract)."""
    with Journal.open(setup.state) as journal:
        attempt = journal.begin_attempt(key)
        if fault:
            journal.record_fault(attempt, *fault)
        else:
            journal.record_accepted(attempt, f"KM-{key}", datetime.now(UTC))


def test_a_sent_notification_is_never_rewritten_and_a_correction_is_withdrawn_first(setup: Setup) -> None:
    setup.run()
    submit(setup, "WG001/P-1/wazo")
    sent = setup.files()["WG001-P-1-WAZO.xml"]
    assert setup.run().exit_code == 1
    setup.rewrite_rows([Z1, {**P1, "expected_delivery_date": "2027-01-29"}, Z3])
    result = setup.run()
    assert setup.files()["WG001-P-1-WAZO.xml"] == sent
    assert set(setup.files()) == {*DUE_FILES, "WG001-P-1-WAZO-I1.xml"}
    assert "changed after sending" not in result.stderr
    withdrawal = setup.entry("WG001/P-1/wazo/intrekking/1")
    assert withdrawal.state == JournalState.WRITTEN and str(withdrawal.cause) == "corrected"
    assert setup.entry("WG001/P-1/wazo").state == JournalState.SUBMITTED  # the replacement waits
    root = etree.fromstring(setup.files()["WG001-P-1-WAZO-I1.xml"])
    assert root.findtext(f"{UWV}MeldingWazo/{UWV}IndVerzoekTotIntrekken") == "1"
    assert root.findtext(f"{UWV}MeldingWazo/{UWV}DatVermoedelijkeBevalling") == "20270130"  # as sent
    again = setup.run()  # nothing new: one withdrawal, written once
    assert set(setup.files()) == {*DUE_FILES, "WG001-P-1-WAZO-I1.xml"}
    assert "withdrawal" not in again.stdout


def test_a_sender_detail_change_is_not_a_change_after_sending(setup: Setup) -> None:
    setup.run()
    submit(setup, "WG001/P-1/wazo")
    text = setup.config.read_text().replace(
        "role: Intermediair", "role: Intermediair\n  contact_phone: '0201234567'"
    )
    setup.config.write_text(text)
    result = setup.run()
    assert "changed after sending" not in result.stderr


def test_a_name_or_iban_change_after_sending_is_no_correction(setup: Setup) -> None:
    setup.run()
    submit(setup, "WG001/P-1/wazo")
    setup.rewrite_rows(
        [
            Z1,
            {**P1, "last_name": "Anders-Testpersoon", "first_name": "Tessa", "iban": "NL20INGB0001234567"},
            Z3,
        ]
    )
    result = setup.run()
    assert "changed after sending" not in result.stderr
    assert setup.entry("WG001/P-1/wazo").facts is not None


def test_a_message_sent_by_a_version_without_facts_is_compared_by_the_facts_in_its_file(setup: Setup) -> None:
    setup.run()
    submit(setup, "WG001/P-1/wazo")
    with Journal.open(setup.state) as journal, journal.transaction() as db:  # as schema 1 left it
        db.execute("UPDATE notifications SET facts = NULL, person_digest = NULL")
    setup.rewrite_rows([Z1, {**P1, "last_name": "Anders"}, Z3])
    assert "changed after sending" not in setup.run().stderr
    assert setup.entry("WG001/P-1/wazo").facts is not None  # read back from the sent file, kept
    setup.rewrite_rows([Z1, {**P1, "expected_delivery_date": "2027-01-29"}, Z3])
    setup.run()
    assert str(setup.entry("WG001/P-1/wazo/intrekking/1").cause) == "corrected"


def test_a_rejected_message_stays_flagged_until_its_content_changes_then_gets_revision_2(
    setup: Setup,
) -> None:
    setup.run()
    submit(setup, "WG001/P-1/wazo", fault=("ALS100", "Het bericht is niet valide"))
    first = setup.files()["WG001-P-1-WAZO.xml"]

    result = setup.run()
    assert result.exit_code == 1
    assert set(setup.files()) == DUE_FILES
    assert "WG001/P-1/wazo: rejected by Digipoort/UWV (ALS100: Het bericht is niet valide)" in result.stderr
    assert setup.entry("WG001/P-1/wazo").state == JournalState.REJECTED

    setup.rewrite_rows([Z1, {**P1, "leave_start_date": "2026-12-28"}, Z3])
    result = setup.run()
    files = setup.files()
    assert files["WG001-P-1-WAZO.xml"] == first  # the rejected one stays for audit
    assert (
        payload(files["WG001-P-1-WAZO-r2.xml"]).findtext(f".//{UWV}BerichtkenmerkIndiener")
        == "WG001-P-1-WAZO-r2"
    )
    entry = setup.entry("WG001/P-1/wazo")
    assert (entry.state, entry.revision, entry.aanleverkenmerk) == (
        JournalState.WRITTEN,
        2,
        "WG001-P-1-WAZO-r2",
    )


def test_a_successor_waits_while_its_predecessor_is_rejected_and_unchanged(setup: Setup) -> None:
    setup.rewrite_rows([{k: v for k, v in Z1.items() if not k.startswith("partial")}, P1, Z3])
    setup.run()
    submit(setup, "WG001/Z-1/zw-ziekmelding", fault=("ALS100", "niet valide"))
    setup.rewrite_rows([Z1, P1, Z3])
    result = setup.run()
    partial = setup.entry("WG001/Z-1/werkhervatting/partial")
    assert partial.state == JournalState.BLOCKED
    assert tuple(map(str, partial.problems)) == ("waits for WG001/Z-1/zw-ziekmelding",)
    assert "WG001-Z-1-WH-P.xml" not in setup.files()
    assert result.exit_code == 1


def test_no_personal_data_in_output_file_names_or_journal(setup: Setup) -> None:
    result = setup.run()
    as_json = setup.run("--format", "json")
    exposed = [result.stdout, result.stderr, as_json.stdout, *setup.files()]
    exposed.append(json.dumps(setup.journal(), default=str))
    for value in (PERSON["bsn"], PERSON["first_name"], PERSON["last_name"], PERSON["birth_date"], "19900203"):
        for text in exposed:
            assert value not in text


def test_json_output_is_one_object_on_stdout(setup: Setup) -> None:
    result = setup.run("--format", "json")
    document = json.loads(result.stdout)
    assert document["date"] == RUN_DATE
    assert {p["aanleverkenmerk"] for p in document["written"]} == {n.removesuffix(".xml") for n in DUE_FILES}
    assert [b["key"] for b in document["blocked"]] == ["WG001/Z-3/zw-ziekmelding"]
    assert document["exit_code"] == result.exit_code == 1


def test_a_lost_state_database_is_refused_rather_than_rebuilding_everything(setup: Setup) -> None:
    setup.run()
    for path in setup.state.parent.glob("uwvcli.sqlite*"):
        path.unlink()
    before = setup.files()
    result = setup.run()
    assert result.exit_code == 2
    assert "missing or empty" in result.stderr and "uwvcli recover" in result.stderr
    assert "Traceback" not in result.output
    assert setup.files() == before


def test_an_unreadable_export_row_is_reported_and_the_rest_is_written(setup: Setup) -> None:
    setup.rewrite_rows([Z1, P1, {**Z3, "bsn": PERSON["bsn"], "first_sick_day": "2026-02-30"}])
    result = setup.run()
    assert result.exit_code == 1
    assert set(setup.files()) == DUE_FILES
    assert "dossiers.csv:4" in result.stderr


def test_run_without_no_send_also_submits_what_it_prepared(setup: Setup) -> None:
    result = runner.invoke(app, ["run", "--config", str(setup.config), "--date", RUN_DATE])
    assert set(setup.files()) == DUE_FILES
    assert result.exit_code == 1  # the blocked notification still needs a person
    with Journal.open(setup.state) as journal:
        submitted = {e.aanleverkenmerk + ".xml" for e in journal.entries() if e.kenmerk}
    assert submitted == DUE_FILES


def test_a_bad_date_is_a_usage_error(setup: Setup) -> None:
    result = setup.run(date="28-13-2026")
    assert result.exit_code == 2
    assert not setup.outbox.exists()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from uwvcli.state.locking import run_lock
    with run_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_a_second_process_gets_exit_75_and_changes_nothing(setup: Setup) -> None:
    setup.state.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(setup.state)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        uwvcli = Path(sys.executable).with_name("uwvcli")
        second = subprocess.run(
            [str(uwvcli), "run", "--no-send", "--config", str(setup.config), "--date", RUN_DATE],
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=60,
        )
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 75
    assert (
        f"another uwvcli run is working on {setup.state} (pid {holder.pid}); try again later" in second.stderr
    )
    assert "Traceback" not in second.stderr
    assert not setup.outbox.exists()
    assert not setup.state.exists()


def test_signing_in_worker_processes_gives_the_same_outbox(setup: Setup, tmp_path_factory, test_pki) -> None:
    other = Setup(tmp_path_factory.mktemp("parallel"), test_pki, [Z1, P1, Z3])
    assert setup.run().exit_code == 1
    result = runner.invoke(
        app,
        ["run", "--config", str(other.config), "--date", RUN_DATE, "--no-send"],
        env={"UWVCLI_WORKERS": "2"},
    )
    assert result.exit_code == 1, result.output
    assert set(other.files()) == set(setup.files()) == DUE_FILES
    for signed in other.files().values():
        assert verify_document(signed, trusted=other.sender_certificate())
    with Journal.open(setup.state) as one, Journal.open(other.state) as many:
        assert [(e.key, e.state, e.content_sha256) for e in one.entries()] == [
            (e.key, e.state, e.content_sha256) for e in many.entries()
        ]


def test_a_malformed_worker_count_is_refused(setup: Setup) -> None:
    result = runner.invoke(
        app,
        ["run", "--config", str(setup.config), "--date", RUN_DATE, "--no-send"],
        env={"UWVCLI_WORKERS": "x"},
    )
    assert result.exit_code == 2
    assert "UWVCLI_WORKERS is 'x': set it to a whole number" in result.stderr
    assert not setup.outbox.exists()


def test_a_terminal_gets_a_table_and_a_progress_bar_for_big_batches_only(setup: Setup) -> None:
    class FakeTerminal:
        interactive = True
        out = Console(force_terminal=True, record=True, width=200)
        err = Console(force_terminal=True, record=True, width=200)

    config = load_config(setup.config)
    credentials = load_credentials(config.sender, environment="simulator", state_dir=setup.state.parent)
    with Journal.open(setup.state) as journal:
        report = prepare(config, date.fromisoformat(RUN_DATE), journal, credentials=credentials)
    terminal = FakeTerminal()
    render_table(terminal, report)
    table = terminal.out.export_text()
    [blocked_row] = [line for line in table.splitlines() if "blocked" in line]
    assert "Z-3" in blocked_row and "ZW-ziekmelding" in blocked_row and "BSN" in blocked_row
    assert "Werkhervatting (gedeeltelijk)" in table
    small, big = ProgressBar(terminal, "x"), ProgressBar(terminal, "x")
    with small:
        small(1, PROGRESS_THRESHOLD - 1)
        assert small.progress is None
    with big:
        big(1, PROGRESS_THRESHOLD)
        assert big.progress is not None
    terminal.interactive = False
    with ProgressBar(terminal, "x") as cron:
        cron(1, 10 * PROGRESS_THRESHOLD)
        assert cron.progress is None


def test_a_narrow_table_names_a_cancelled_notification_by_its_key_under_it(setup: Setup) -> None:
    """Regression: with the Details column left out, the line under the table showed a journal
    entry's key as its repr (`NotificationKey(employer_id=...)`) instead of its text."""
    from uwvcli.app.prepare import PrepareReport

    class NarrowTerminal:
        interactive = False
        out = Console(force_terminal=True, record=True, width=40)

    config = load_config(setup.config)
    credentials = load_credentials(config.sender, environment="simulator", state_dir=setup.state.parent)
    with Journal.open(setup.state) as journal:
        prepare(config, date.fromisoformat(RUN_DATE), journal, credentials=credentials)
        entry = journal.entries()[0]
    report = PrepareReport(run_date=date.fromisoformat(RUN_DATE), cancelled=[entry])
    terminal = NarrowTerminal()
    render_table(terminal, report)
    text = terminal.out.export_text()
    assert "Details" not in text  # left out: what it would have said is under the table
    assert f"\n{entry.key}\n" in text and "NotificationKey" not in text


def test_temporaries_of_an_interrupted_run_are_removed(setup: Setup) -> None:
    setup.run()
    (setup.outbox / ".WG001-Z-1-ZM.xml.0123456789ab.tmp").write_bytes(b"<UwvZwMeldingInternBody")
    result = setup.run()
    assert set(setup.files()) == DUE_FILES
    assert "1 temporaries of an interrupted run removed" in result.stderr


def test_a_file_the_journal_does_not_know_is_set_aside_and_the_known_ones_stay(setup: Setup) -> None:
    """The orphan check asks the journal per outbox file (its file indexes) instead of reading
    every file name of the history: the outcome is the same."""
    setup.run()
    known = setup.files()
    (setup.outbox / "WG001-Z-9-ZM.xml").write_bytes(b"<written just before a crash/>")
    result = setup.run()
    assert result.exit_code == 1
    assert setup.files() == known
    [aside] = (setup.outbox / "orphaned").iterdir()
    assert aside.name.startswith("WG001-Z-9-ZM.") and aside.read_bytes() == b"<written just before a crash/>"

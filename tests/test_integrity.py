"""The journal against the truth: an outbox file copied over another is never posted under the
wrong name, and a journal restored from an old backup stops its senders instead of sending again
what Digipoort already has (uwvcli/delivery/verify.py, uwvcli/delivery/freshness.py)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from delivery_support import LHNR, FakeDigipoort, make_config, test_credentials, write_message

from uwvcli.delivery.freshness import STALE, newer_unknown
from uwvcli.delivery.loop import DeliveryPolicy, send_outbox
from uwvcli.digipoort.addresses import berichtsoort_for
from uwvcli.domain.keys import aanleverkenmerk, parse_key
from uwvcli.domain.models import Kind
from uwvcli.state.journal import Journal, JournalLost

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory):
    return test_credentials(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def setup(tmp_path: Path, credentials):
    config = make_config(tmp_path)
    journal = Journal.open(config.paths.state)
    yield config, journal, credentials
    journal.close()


def _send(config, journal, digipoort, credentials):
    policy = DeliveryPolicy(
        backoff_seconds=1, retries=1, attempt_timeout=timedelta(seconds=5), poll_interval_seconds=0.0
    )
    return send_outbox(
        config,
        journal,
        client=digipoort,
        poll_seconds=0.0,
        policy=policy,
        now=lambda: digipoort.clock + timedelta(seconds=1),
        sleep=lambda s: None,
        signer=credentials.certificate,
    )


def test_an_outbox_file_copied_over_another_is_refused_not_posted_twice(setup) -> None:
    config, journal, credentials = setup
    first = write_message(config, journal, credentials, "WG1/D1/wazo")
    second = write_message(config, journal, credentials, "WG1/D2/wazo", employee_id="1002")
    shutil.copyfile(first, second)  # validly signed, but the first message
    digipoort = FakeDigipoort()
    report = _send(config, journal, digipoort, credentials)
    assert digipoort.received == [aanleverkenmerk(parse_key("WG1/D1/wazo"))], "first once, copy never"
    entry = journal.entry(parse_key("WG1/D2/wazo"))
    assert entry.state == "refused"
    assert aanleverkenmerk(parse_key("WG1/D1/wazo")) in entry.reason and "uwvcli run" in entry.reason
    assert report.deliveries[parse_key("WG1/D2/wazo")].state == "refused"


def test_a_replaced_file_with_the_right_reference_is_refused_by_its_digest(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    # the journal recorded other bytes than the (validly signed, rightly named) file now holds
    journal._db.execute("UPDATE notifications SET sha256 = ? WHERE key = ?", ("0" * 64, "WG1/D1/wazo"))
    digipoort = FakeDigipoort()
    _send(config, journal, digipoort, credentials)
    assert digipoort.received == []
    assert "differ from the file the journal recorded" in journal.entry(parse_key("WG1/D1/wazo")).reason


def _backup(journal: Journal, into: Path) -> Path:
    """A consistent copy of the journal as a person's backup script would make it."""
    import sqlite3

    copy = sqlite3.connect(into)
    journal._db.backup(copy)
    copy.close()
    return into


def test_a_journal_restored_from_an_old_backup_stops_the_sender_instead_of_resending(
    setup, tmp_path: Path
) -> None:
    config, journal, credentials = setup
    digipoort = FakeDigipoort()
    write_message(config, journal, credentials, "WG1/D1/wazo")
    _send(config, journal, digipoort, credentials)  # sent, and the journal knows
    write_message(config, journal, credentials, "WG1/D2/wazo", employee_id="1002")
    backup = _backup(journal, tmp_path / "backup.sqlite")
    digipoort.clock = datetime.now(UTC) + timedelta(seconds=1)  # Digipoort's stamps follow our POSTs
    _send(config, journal, digipoort, credentials)  # sent after the backup
    journal.close()
    shutil.copyfile(backup, config.paths.state)  # the disk died; the old backup comes back
    for stale in config.paths.state.parent.glob("uwvcli.sqlite-*"):
        stale.unlink()
    with Journal.open(config.paths.state) as restored:
        assert restored.entry(parse_key("WG1/D2/wazo")).state == "written"
        report = _send(config, restored, digipoort, credentials)
        assert restored.entry(parse_key("WG1/D2/wazo")).state == "written", "nothing was changed"
    both = (parse_key("WG1/D1/wazo"), parse_key("WG1/D2/wazo"))
    assert sorted(digipoort.received) == sorted(aanleverkenmerk(k) for k in both)
    line = report.deliveries[parse_key("WG1/D2/wazo")]
    assert line.state == "not_sent" and STALE in line.reason and report.needs_attention


def test_unknown_processes_older_than_the_journal_do_not_stop_anything(setup) -> None:
    """Another program's (or a pre-uwvcli) process for the same sender is older than what the
    journal last submitted: not a sign of a restored backup."""
    config, journal, credentials = setup
    digipoort = FakeDigipoort()
    soort = berichtsoort_for(config.digipoort, Kind.WAZO)
    digipoort.start_process(soort, LHNR, "someone-else", at=digipoort.clock - timedelta(days=30))
    write_message(config, journal, credentials, "WG1/D1/wazo")
    _send(config, journal, digipoort, credentials)
    write_message(config, journal, credentials, "WG1/D2/wazo", employee_id="1002")
    _send(config, journal, digipoort, credentials)
    assert journal.entry(parse_key("WG1/D2/wazo")).state == "accepted"


def test_the_verdict_table() -> None:
    listed = {"OLD": T0 - timedelta(hours=1), "NEW": T0 + timedelta(hours=1), "UNDATED": None}
    assert newer_unknown(listed, T0, None) == ["NEW", "UNDATED"]
    assert newer_unknown(listed, None, None) == [], "a journal that never submitted has nothing to compare"
    explained = newer_unknown(listed, T0, T0 + timedelta(minutes=30))
    assert explained == ["UNDATED"], "a process an unanswered attempt may be is reconciliation's"


# ---------------------------------------------------------------- the lost-journal guard


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    state, outbox, recaps = (
        tmp_path / "var" / "uwvcli.sqlite",
        tmp_path / "outbox",
        tmp_path / "var" / "recaps",
    )
    outbox.mkdir()
    recaps.mkdir(parents=True)
    return state, outbox, recaps


def test_a_missing_journal_next_to_outbox_messages_is_refused_and_not_created(folders) -> None:
    state, outbox, recaps = folders
    (outbox / "WG1-D1-ZM.xml").write_bytes(b"<x/>")
    for _ in range(2):
        with pytest.raises(JournalLost, match="uwvcli recover"):
            Journal.open(state, evidence=(outbox, recaps))
    assert not state.exists() and not list(state.parent.glob("uwvcli.sqlite*"))


def test_an_empty_or_fresh_journal_next_to_recaps_is_refused_and_left_as_it_was(folders) -> None:
    state, outbox, recaps = folders
    (recaps / "WG1-2026-12-01.eml").write_bytes(b"mail")
    state.write_bytes(b"")
    with pytest.raises(JournalLost):
        Journal.open(state, evidence=(outbox, recaps))
    assert state.read_bytes() == b""
    state.unlink()
    Journal.open(state).close()  # what a reading command (status) leaves behind: a fresh journal
    with pytest.raises(JournalLost):
        Journal.open(state, evidence=(outbox, recaps))


def test_set_aside_files_and_temporaries_are_no_evidence_and_a_recovery_disarms_the_guard(folders) -> None:
    state, outbox, recaps = folders
    (outbox / "orphaned").mkdir()
    (outbox / "orphaned" / "WG1-D1-ZM.20261201T000000Z.xml").write_bytes(b"<x/>")
    (outbox / ".WG1-D2-ZM.xml.abc.tmp").write_bytes(b"<x/>")
    Journal.open(state, evidence=(outbox, recaps)).close()
    (outbox / "WG1-D1-ZM.xml").write_bytes(b"<x/>")
    with Journal.open(state) as journal:
        journal.record_recovery(adopted=0, parked=0, unsent=0, note="a person decided")
    Journal.open(state, evidence=(outbox, recaps)).close()


# ---------------------------------------------------------------- Digipoort's fault texts


def test_a_bsn_in_digipoorts_fault_text_reaches_neither_output_nor_journal(setup, capsys) -> None:
    from uwvcli.cli.console import Terminal
    from uwvcli.cli.send import render_report
    from uwvcli.common.privacy import FAULT_CHARS
    from uwvcli.digipoort.client import DigipoortFault

    class Refusing(FakeDigipoort):
        def aanleveren(self, **kw):
            raise DigipoortFault("ALS100", "BSN 111222333 geboren 03-02-1990 onbekend. " + "x" * 1_000_000)

    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    report = _send(config, journal, Refusing(), credentials)
    render_report(Terminal(), report)
    shown = capsys.readouterr().out
    entry = journal.entry(parse_key("WG1/D1/wazo"))
    (attempt,) = journal.attempts(parse_key("WG1/D1/wazo"))
    for text in (shown, entry.reason, attempt.foutbeschrijving, report.lines[0].text):
        assert "111222333" not in text and "03-02-1990" not in text
    assert "BSN […] geboren […] onbekend." in attempt.foutbeschrijving
    assert len(attempt.foutbeschrijving) == FAULT_CHARS and len(shown) < 2 * FAULT_CHARS


def test_fault_texts_keep_their_words_lines_and_kenmerken_but_no_bsn_or_date() -> None:
    from uwvcli.common.privacy import fault_text

    text = "Het kenmerk 0a1b2c3d-0000-0000-0000-000000000000 is onbekend.\n\nBSN 111222333 op 03-02-1990\x07."
    assert (
        fault_text(text)
        == "Het kenmerk 0a1b2c3d-0000-0000-0000-000000000000 is onbekend.\n\nBSN […] op […] ."
    )
    assert fault_text(None) is None
    straddling = "x" * 995 + "111222333"  # a BSN cut in two by the bound of the work is still not shown
    assert "111" not in fault_text(straddling) and "333" not in fault_text(straddling)

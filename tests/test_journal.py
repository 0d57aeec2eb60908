"""The journal: schema, durability settings, permissions, and the state machine that makes
delivery exactly-once."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from uwvcli.common.privacy import FAULT_CHARS
from uwvcli.domain.keys import NotificationKey, aanleverkenmerk
from uwvcli.domain.models import Kind, Notification, State, StatusRecord
from uwvcli.domain.ordering import sending_order
from uwvcli.domain.problems import Code, Problem, legacy
from uwvcli.state.journal import (
    MIGRATIONS,
    NEVER_AGAIN,
    SENT,
    AttemptOutcome,
    Journal,
    JournalError,
    JournalState,
    StateConflict,
)


def notification(
    dossier: str = "Z-1",
    kind: Kind = Kind.ZW_ZIEKMELDING,
    variant: str | None = None,
    due: date = date(2026, 11, 2),
    employer: str = "WG001",
    problems: tuple[str, ...] = (),
) -> Notification:
    return Notification(
        key=NotificationKey(employer, dossier, kind, variant),
        kind=kind,
        employer_id=employer,
        employee_id="1001",
        dossier_id=dossier,
        due_date=due,
        deadline=due + timedelta(days=3),
        state=State.BLOCKED if problems else State.DUE,
        problems=tuple(map(legacy, problems)),
        variant=variant,
    )


def write(journal: Journal, n: Notification, tmp_path: Path, revision: int = 1) -> Path:
    kenmerk = aanleverkenmerk(n.key, revision)
    file = tmp_path / f"{kenmerk}.xml"
    journal.record_written(
        n,
        file=file,
        sha256="ab" * 32,
        aanleverkenmerk=kenmerk,
        revision=revision,
        loonheffingennummer="123456782L01",
        berichtsoort="UWV_ZM",
        content_sha256="cd" * 32,
    )
    return file


@pytest.fixture
def journal(tmp_path: Path):
    with Journal.open(tmp_path / "state" / "uwvcli.sqlite") as j:
        yield j


# ---------------------------------------------------------------- schema and file


def test_a_new_journal_is_migrated_to_the_latest_schema_and_reopens_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "state" / "uwvcli.sqlite"
    with Journal.open(path) as first:
        assert first.created
        assert first.schema_version == len(MIGRATIONS)
        first.record_blocked(notification(problems=("the BSN is missing",)))
    with Journal.open(path) as again:
        assert not again.created
        assert again.schema_version == len(MIGRATIONS)
        assert tuple(map(str, again.entry("WG001/Z-1/zw-ziekmelding").problems)) == ("the BSN is missing",)
    tables = {
        r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"notifications", "attempts", "statuses", "runs"} <= tables


def test_an_empty_existing_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "uwvcli.sqlite"
    path.touch()
    with Journal.open(path) as journal:
        assert journal.schema_version == len(MIGRATIONS)
        assert journal.entries() == []


def test_a_journal_from_a_newer_uwvcli_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "uwvcli.sqlite"
    Journal.open(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    raw.close()
    with pytest.raises(JournalError, match="newer uwvcli"):
        Journal.open(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "uwvcli.sqlite"
    path.write_bytes(b"this is a spreadsheet, honestly\n" * 200)
    with pytest.raises(JournalError) as caught:
        Journal.open(path)
    assert str(path) in str(caught.value)
    assert "restore it from a backup" in str(caught.value)


def test_a_state_path_that_cannot_be_created_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where the state folder should be")
    with pytest.raises(JournalError, match=r"var/uwvcli\.sqlite: .*uwvcli needs to create"):
        Journal.open(tmp_path / "var" / "uwvcli.sqlite")


def test_durability_pragmas_are_in_force(journal: Journal) -> None:
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    # WAL is a property of the file: another connection sees it too
    other = sqlite3.connect(journal.path)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_state_file_its_wal_and_its_folder_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o000)
    try:
        path = tmp_path / "var" / "uwvcli.sqlite"
        with Journal.open(path) as journal:
            journal.record_blocked(notification(problems=("x",)))
            created = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in created if p.exists()}
        assert len(modes) == 3
        assert set(modes.values()) == {0o600}
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        os.umask(previous)


def test_an_existing_state_file_readable_by_others_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "uwvcli.sqlite"
    Journal.open(path).close()
    path.chmod(0o644)
    Journal.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---------------------------------------------------------------- building


def test_blocked_then_written_keeps_one_row_and_clears_the_problems(journal: Journal, tmp_path: Path) -> None:
    n = notification()
    journal.record_blocked(notification(problems=("the birth date is missing",)))
    write(journal, n, tmp_path)
    [entry] = journal.entries()
    assert entry.state == JournalState.WRITTEN
    assert entry.problems == ()
    assert entry.aanleverkenmerk == "WG001-Z-1-ZM"
    assert entry.file == tmp_path / "WG001-Z-1-ZM.xml"
    assert journal.to_submit() == [entry]
    assert journal.sent_keys() == set()


def test_recording_the_same_block_twice_changes_nothing(journal: Journal) -> None:
    n = notification(problems=("the BSN fails the 11-check",))
    journal.record_blocked(n)
    before = journal.entry(n.key)
    journal.record_blocked(n)
    assert journal.entry(n.key) == before


def test_a_different_problem_updates_the_blocked_row(journal: Journal) -> None:
    journal.record_blocked(notification(problems=("a",)))
    journal.record_blocked(notification(problems=("b", "c")))
    assert tuple(map(str, journal.entry("WG001/Z-1/zw-ziekmelding").problems)) == ("b", "c")


def test_blocked_problems_come_back_as_values_the_recap_can_word_in_dutch(tmp_path: Path) -> None:
    problem = Problem.of(Code.NO_LEGAL_ENTITY, unit="OE2", employer="WG001")
    with Journal.open(tmp_path / "state.sqlite") as first:
        first.record_blocked(replace(notification(), state=State.BLOCKED, problems=(problem,)))
    with Journal.open(tmp_path / "state.sqlite") as again:
        (found,) = again.entry("WG001/Z-1/zw-ziekmelding").problems
    assert found == problem
    assert found.dutch.startswith("Organisatie-eenheid OE2 valt niet onder een juridische entiteit")


def test_a_row_of_an_older_version_keeps_its_english_problem_text(tmp_path: Path) -> None:
    """Before problems were values the column held their English texts: they are shown as they are."""
    path = tmp_path / "state.sqlite"
    with Journal.open(path) as journal:
        journal.record_blocked(notification(problems=("x",)))
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE notifications SET problems = ?", (json.dumps(["BSN is missing: add it"]),))
    db.close()
    with Journal.open(path) as journal:
        (found,) = journal.entry("WG001/Z-1/zw-ziekmelding").problems
    assert found.code is Code.LEGACY
    assert str(found) == found.dutch == "BSN is missing: add it"


def test_a_sent_notification_can_never_be_blocked_or_rewritten(journal: Journal, tmp_path: Path) -> None:
    n = notification()
    write(journal, n, tmp_path)
    attempt = journal.begin_attempt(n.key)
    journal.record_accepted(attempt, "KM-1", datetime.now(UTC))
    with pytest.raises(StateConflict, match="already submitted"):
        journal.record_blocked(notification(problems=("late change",)))
    with pytest.raises(StateConflict):
        write(journal, n, tmp_path)
    assert journal.entry(n.key).state == JournalState.SUBMITTED


def test_cancelling_a_never_attempted_notification_forgets_it(journal: Journal, tmp_path: Path) -> None:
    n = notification()
    write(journal, n, tmp_path)
    previous = journal.cancel(n.key, legacy("no longer due"))
    assert previous is not None and previous.file == tmp_path / "WG001-Z-1-ZM.xml"
    assert journal.entry(n.key) is None


def test_a_used_aanleverkenmerk_is_never_written_again(journal: Journal, tmp_path: Path) -> None:
    n = notification()
    write(journal, n, tmp_path)
    journal.record_fault(journal.begin_attempt(n.key), "ALS100", "schema")
    with pytest.raises(StateConflict, match="needs a new revision"):
        write(journal, n, tmp_path, revision=1)
    write(journal, n, tmp_path, revision=2)
    assert journal.entry(n.key).aanleverkenmerk == "WG001-Z-1-ZM-r2"


def test_cancelling_after_a_rejected_attempt_keeps_the_used_revision(
    journal: Journal, tmp_path: Path
) -> None:
    n = notification()
    write(journal, n, tmp_path)
    journal.record_fault(journal.begin_attempt(n.key), "ALS100", "schema")
    write(journal, n, tmp_path, revision=2)
    journal.cancel(n.key, Problem.of(Code.CANCELLED, day="2026-11-28"))
    entry = journal.entry(n.key)
    assert entry.state == JournalState.CANCELLED
    assert entry.revision == 2
    (problem,) = entry.problems
    assert str(problem) == "no longer due on 2026-11-28 according to the exports; cancelled, not sent"
    assert journal.was_attempted("WG001-Z-1-ZM")
    assert not journal.was_attempted("WG001-Z-1-ZM-r2")


def test_a_cancelled_notification_that_is_due_again_gets_a_new_revision(
    journal: Journal, tmp_path: Path
) -> None:
    n = notification()
    write(journal, n, tmp_path)
    journal.record_fault(journal.begin_attempt(n.key), "ALS100", "schema")
    journal.cancel(n.key, Problem.of(Code.CANCELLED, day="2026-11-28"))
    write(journal, n, tmp_path, revision=2)
    assert journal.entry(n.key).state == JournalState.WRITTEN


def _journal_of_schema_1(path: Path) -> None:
    """A state file as the uwvcli before corrections wrote it (its schema is `MIGRATIONS[0]`,
    never edited; the rows as its `record_written`, `begin_attempt`, `record_fault`,
    `record_accepted`, `record_blocked` and `withdraw` left them): a notification that was no
    longer due after a rejected attempt is `blocked` with the problem code `withdrawn` (older
    still: the English text itself)."""
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    now = "2026-11-28T06:00:00.000000+00:00"
    columns = (
        "key, kind, employer_id, employee_id, dossier_id, due_date, deadline, state, problems, file, "
        "sha256, content_sha256, aanleverkenmerk, revision, loonheffingennummer, berichtsoort, kenmerk, "
        "reason, submitted, created, updated"
    )
    rows = [
        ("Z-1", "blocked", json.dumps([{"code": "withdrawn", "params": {"day": "2026-11-28"}}]), None, None),
        (
            "Z-2",
            "blocked",
            json.dumps(["no longer due on 2026-11-27 according to the exports; not sent"]),
            None,
            None,
        ),
        ("Z-3", "submitted", "[]", "KM-3", now),
        ("Z-4", "blocked", json.dumps([{"code": "bsn_missing", "params": {}}]), None, None),
    ]
    for dossier, state, problems, kenmerk, submitted in rows:
        key = f"WG001/{dossier}/zw-ziekmelding"
        reference = (
            f"WG001-{dossier}-ZM"
            if state != "blocked" or "no longer" in problems or "withdrawn" in problems
            else None
        )
        db.execute(
            f"INSERT INTO notifications ({columns}) VALUES ({', '.join('?' * 21)})",
            (
                key,
                "zw-ziekmelding",
                "WG001",
                "1001",
                dossier,
                "2026-11-02",
                "2026-11-05",
                state,
                problems,
                None,
                None,
                "cd" * 32,
                reference,
                1,
                "123456782L01",
                "UWV_ZM",
                kenmerk,
                None,
                submitted,
                now,
                now,
            ),
        )
        if reference is not None:
            outcome = "accepted" if kenmerk else "fault"
            db.execute(
                "INSERT INTO attempts (key, aanleverkenmerk, started, finished, outcome, kenmerk, foutcode) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, reference, now, now, outcome, kenmerk, None if kenmerk else "ALS100"),
            )
    db.commit()
    db.close()


def test_a_journal_of_schema_1_is_upgraded_and_its_withdrawn_rows_are_cancelled(tmp_path: Path) -> None:
    path = tmp_path / "uwvcli.sqlite"
    _journal_of_schema_1(path)
    with Journal.open(path) as journal:
        assert journal.schema_version == len(MIGRATIONS)
        states = {str(e.key): e.state for e in journal.entries()}
        assert states == {
            "WG001/Z-1/zw-ziekmelding": JournalState.CANCELLED,
            "WG001/Z-2/zw-ziekmelding": JournalState.CANCELLED,
            "WG001/Z-3/zw-ziekmelding": JournalState.SUBMITTED,
            "WG001/Z-4/zw-ziekmelding": JournalState.BLOCKED,
        }
        cancelled = journal.entry(NotificationKey("WG001", "Z-1", Kind.ZW_ZIEKMELDING))
        assert cancelled.problems == (Problem.of(Code.CANCELLED, day="2026-11-28"),)
        sent = journal.entry(NotificationKey("WG001", "Z-3", Kind.ZW_ZIEKMELDING))
        assert sent.kenmerk == "KM-3" and journal.attempts(sent.key)[0].kenmerk == "KM-3"
        assert journal.was_attempted("WG001-Z-1-ZM")
        # the rebuilt table still enforces its constraints and the attempts' reference
        with pytest.raises(JournalError, match="CHECK constraint"), journal.transaction() as db:
            db.execute("UPDATE notifications SET state = 'sent-ish' WHERE key = 'WG001/Z-3/zw-ziekmelding'")
        with pytest.raises(JournalError, match="FOREIGN KEY"), journal.transaction() as db:
            db.execute("DELETE FROM notifications WHERE key = 'WG001/Z-3/zw-ziekmelding'")
        assert len(journal.facts_key()) == 32
        assert sent.facts is None  # read back from its outbox file by the next run
    with Journal.open(path) as again:  # nothing left to do the second time
        assert again.schema_version == len(MIGRATIONS)


def test_a_journal_of_schema_5_gains_the_correction_pass_indexes_and_its_queries_use_them(
    tmp_path: Path,
) -> None:
    """Schema 6: the correction pass finds sent notifications by dossier, the recent unreported
    ones by submission, withdrawals by state and counts per employer through indexes, so that
    it reads what the exports call for, however long the history (issue 12 over issue 14)."""
    path = tmp_path / "uwvcli.sqlite"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:5], start=1):
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {number}")
    db.commit()
    db.close()
    with Journal.open(path) as journal:
        assert journal.schema_version == len(MIGRATIONS) == 6
        n = notification("Z-9")
        write(journal, n, tmp_path)
        journal.record_accepted(journal.begin_attempt(n.key), "KM-9", datetime.now(UTC))
        statements: list[str] = []
        journal._db.set_trace_callback(statements.append)
        ids = [f"Z-{i}" for i in range(9, 200)]  # a long list: SQLite would rather walk the state index
        assert [e.key for e in journal.entries_of_dossiers(ids, state=SENT)] == [n.key]
        assert [e.key for e in journal.unreported_since(date.today() - timedelta(days=1), state=SENT)] == [
            n.key
        ]
        assert journal.withdrawals(state=SENT) == []
        assert journal.count_sent(["WG001", "WG002"]) == {"WG001": 1}
        journal._db.set_trace_callback(None)
        journal.record_gone(n.key, date.today())
        assert journal.unreported_since(date.today() - timedelta(days=1), state=SENT) == []
        plans = " ".join(
            str(tuple(row))
            for statement in statements
            for row in journal._db.execute(f"EXPLAIN QUERY PLAN {statement}")
        )
    for index in (
        "notifications_dossier",
        "notifications_unreported",
        "notifications_withdrawals",
        "notifications_employer",
    ):
        assert f"INDEX {index} " in plans, plans
    assert "notifications_state" not in plans and "SCAN notifications" not in plans, plans


def test_a_stored_withdrawn_code_still_loads_as_cancelled() -> None:
    assert Problem.from_json({"code": "withdrawn", "params": {"day": "2026-11-28"}}) == Problem.of(
        Code.CANCELLED, day="2026-11-28"
    )


# ---------------------------------------------------------------- delivery transitions


def test_the_attempt_is_committed_before_the_post(tmp_path: Path) -> None:
    """A crash right after begin_attempt (the POST may have gone out) leaves the message in
    flight: never built or sent again, listed as in doubt."""
    path = tmp_path / "uwvcli.sqlite"
    n = notification()
    with Journal.open(path) as journal:
        write(journal, n, tmp_path)
        journal.begin_attempt(n.key)
    with Journal.open(path) as after_crash:
        assert after_crash.sent_keys() == {n.key}
        assert [e.key for e in after_crash.in_doubt()] == [n.key]
        assert after_crash.to_submit() == []
        [attempt] = after_crash.attempts(n.key)
        assert attempt.outcome == AttemptOutcome.PENDING
        assert attempt.aanleverkenmerk == "WG001-Z-1-ZM"


def test_accepted_attempt_stores_the_kenmerk_and_the_moment(journal: Journal, tmp_path: Path) -> None:
    n = notification()
    write(journal, n, tmp_path)
    attempt = journal.begin_attempt(n.key)
    moment = datetime(2026, 11, 28, 16, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    journal.record_accepted(attempt, "KM-42", moment)
    entry = journal.entry(n.key)
    assert (entry.state, entry.kenmerk, entry.submitted) == (JournalState.SUBMITTED, "KM-42", moment)
    assert journal.knows_kenmerk("KM-42")
    assert [e.key for e in journal.open_processes()] == [n.key]
    with pytest.raises(StateConflict, match="already ended"):
        journal.record_fault(attempt, "ALS100", "too late")


def test_a_fault_rejects_and_frees_the_key_for_a_corrected_revision(journal: Journal, tmp_path: Path) -> None:
    n = notification()
    write(journal, n, tmp_path)
    journal.record_fault(journal.begin_attempt(n.key), "ALS100", "Het bericht voldoet niet aan het schema")
    entry = journal.entry(n.key)
    assert entry.state == JournalState.REJECTED
    assert entry.reason == "ALS100: Het bericht voldoet niet aan het schema"
    assert n.key not in journal.sent_keys()
    [attempt] = journal.attempts(n.key)
    assert (attempt.foutcode, attempt.outcome) == ("ALS100", AttemptOutcome.FAULT)


def test_not_sent_returns_to_written_and_may_be_tried_again(journal: Journal, tmp_path: Path) -> None:
    n = notification()
    write(journal, n, tmp_path)
    journal.record_not_sent(journal.begin_attempt(n.key), "connection refused")
    assert journal.entry(n.key).state == JournalState.WRITTEN
    assert not journal.was_attempted("WG001-Z-1-ZM")
    second = journal.begin_attempt(n.key)
    assert [a.id for a in journal.attempts(n.key)][-1] == second


def test_in_doubt_is_reconciled_by_adoption_or_parked(journal: Journal, tmp_path: Path) -> None:
    first, second = notification("Z-1"), notification("Z-2")
    for n in (first, second):
        write(journal, n, tmp_path)
        journal.record_in_doubt(journal.begin_attempt(n.key), "read timeout")
    assert {e.key for e in journal.in_doubt()} == {first.key, second.key}
    journal.adopt_kenmerk(first.key, "KM-7")
    journal.park(second.key, "two unknown processes in the attempt's window")
    assert journal.entry(first.key).kenmerk == "KM-7"
    assert journal.attempts(first.key)[0].outcome == AttemptOutcome.ADOPTED
    assert journal.entry(second.key).state == JournalState.PARKED
    assert journal.sent_keys() == {first.key, second.key}
    with pytest.raises(StateConflict, match="already belongs"):
        journal.adopt_kenmerk(second.key, "KM-7")


def test_a_person_resolves_only_what_uwvcli_could_not_settle(journal: Journal, tmp_path: Path) -> None:
    """`resolve_by_hand` takes parked and in-doubt messages, through reconciliation's own
    transitions; a crash's `submitting` leftover is for the next send to settle first."""
    received, lost, crashed = notification("Z-1"), notification("Z-2"), notification("Z-3")
    for n in (received, lost, crashed):
        write(journal, n, tmp_path)
    journal.record_in_doubt(journal.begin_attempt(received.key), "read timeout")
    journal.record_in_doubt(journal.begin_attempt(lost.key), "read timeout")
    journal.park(lost.key, "two unknown processes")
    journal.begin_attempt(crashed.key)

    assert journal.resolve_by_hand(received.key, kenmerk="KM-1").state == JournalState.IN_DOUBT
    assert journal.resolve_by_hand(lost.key, kenmerk=None).state == JournalState.PARKED
    assert (journal.entry(received.key).state, journal.entry(received.key).kenmerk) == ("submitted", "KM-1")
    assert journal.attempts(received.key)[-1].reason == "resolved by hand: received as KM-1"
    assert journal.entry(lost.key).state == JournalState.WRITTEN
    assert not journal.was_attempted(journal.entry(lost.key).aanleverkenmerk)
    before = (journal.entries(), journal.attempts(crashed.key))
    with pytest.raises(StateConflict, match="submitting: only a parked or in-doubt"):
        journal.resolve_by_hand(crashed.key, kenmerk="KM-2")
    with pytest.raises(StateConflict, match="submitting: only a parked or in-doubt"):
        journal.resolve_by_hand(crashed.key, kenmerk=None)
    assert (journal.entries(), journal.attempts(crashed.key)) == before


def test_a_kenmerk_of_an_earlier_attempt_is_not_adopted_again(journal: Journal, tmp_path: Path) -> None:
    n = notification()
    write(journal, n, tmp_path)
    journal.record_accepted(journal.begin_attempt(n.key), "KM-1", datetime.now(UTC))
    journal.set_outcome(n.key, "rejected")
    write(journal, n, tmp_path, revision=2)
    journal.record_in_doubt(journal.begin_attempt(n.key), "read timeout")
    with pytest.raises(StateConflict, match="KM-1 already belongs to an earlier attempt of this message"):
        journal.resolve_by_hand(n.key, kenmerk="KM-1")
    assert journal.entry(n.key).state == JournalState.IN_DOUBT


def test_refused_and_outcomes(journal: Journal, tmp_path: Path) -> None:
    tampered, sent = notification("Z-1"), notification("Z-2")
    write(journal, tampered, tmp_path)
    write(journal, sent, tmp_path)
    journal.record_refused(tampered.key, "signature does not verify")
    assert journal.entry(tampered.key).state == JournalState.REFUSED
    with pytest.raises(StateConflict):
        journal.set_outcome(tampered.key, "accepted")
    journal.record_accepted(journal.begin_attempt(sent.key), "KM-9", datetime.now(UTC))
    journal.set_outcome(sent.key, "delivered")
    journal.set_outcome(sent.key, "accepted")
    assert journal.entry(sent.key).state == JournalState.ACCEPTED
    assert journal.open_processes() == []
    with pytest.raises(StateConflict):
        journal.set_outcome(sent.key, "written")


def test_filters(journal: Journal, tmp_path: Path) -> None:
    write(journal, notification("Z-1", employer="WG001"), tmp_path)
    write(journal, notification("Z-2", Kind.WAZO, employer="WG002"), tmp_path)
    journal.record_blocked(notification("Z-3", employer="WG002", problems=("x",)))
    assert [e.dossier_id for e in journal.entries(employer_id="WG002")] == ["Z-2", "Z-3"]
    assert [e.dossier_id for e in journal.entries(kind=Kind.WAZO)] == ["Z-2"]
    assert [e.dossier_id for e in journal.entries(state="blocked")] == ["Z-3"]
    assert len(journal.entries(since=date.today())) == 3
    assert journal.entries(since=datetime.now(UTC) + timedelta(minutes=1)) == []


# ---------------------------------------------------------------- statuses


def status(code: str, minute: int, tz: timezone = UTC) -> StatusRecord:
    return StatusRecord(code, datetime(2026, 11, 28, 15, minute, tzinfo=UTC).astimezone(tz), f"status {code}")


def test_statuses_are_stored_once_and_returned_in_time_order(journal: Journal) -> None:
    batch = [status("100", 2), status("105", 1), status("110", 3)]
    assert journal.add_statuses("KM-1", batch) == 3
    # the same statuses again, one expressed in another time zone, plus one new
    again = [status("105", 1, timezone(timedelta(hours=1))), status("100", 2), status("400", 9)]
    assert journal.add_statuses("KM-1", again) == 1
    assert [s.code for s in journal.status_history("KM-1")] == ["105", "100", "110", "400"]
    assert journal.status_history("KM-other") == []


def test_a_status_keeps_digipoorts_words_with_personal_looking_values_redacted(journal: Journal) -> None:
    """Digipoort may quote a date or a BSN from the message: the journal keeps its words, not those
    (issue 15), and at most FAULT_CHARS of them."""
    record = StatusRecord(
        "311",
        datetime(2026, 11, 28, 15, 0, tzinfo=UTC),
        "Validatie niet gelukt",
        foutcode="VAS500",
        foutbeschrijving="Element 'Geboortedat': '2026-13-01' is geen geldige datum (BSN 111222333).",
        details="regel 12",
    )
    journal.add_statuses("KM-1", [record])
    (stored,) = journal.status_history("KM-1")
    assert stored.foutbeschrijving == "Element 'Geboortedat': '[…]' is geen geldige datum (BSN […])."
    assert (stored.code, stored.description, stored.details) == ("311", "Validatie niet gelukt", "regel 12")
    journal.add_statuses("KM-2", [StatusRecord("311", record.timestamp, "x" * 1_000_000)])
    assert len(journal.status_history("KM-2")[0].description) == FAULT_CHARS


# ---------------------------------------------------------------- order and runs


def test_to_submit_puts_predecessors_first(journal: Journal, tmp_path: Path) -> None:
    items = [
        notification("Z-1", Kind.WERKHERVATTING, "full", due=date(2026, 11, 1)),
        notification("Z-1", Kind.WERKHERVATTING, "partial", due=date(2026, 10, 1)),
        notification("Z-1", Kind.ZW_ZIEKMELDING, due=date(2026, 11, 3)),  # due on Lmin, after both
        notification("Z-9", Kind.HERSTEL_MLA, due=date(2026, 9, 1)),
        notification("Z-9", Kind.MLA, due=date(2026, 9, 1)),
    ]
    for n in items:
        write(journal, n, tmp_path)
    assert [str(e.key) for e in journal.to_submit()] == [
        "WG001/Z-9/42e-weeksmelding",
        "WG001/Z-9/herstel-42e-weeksmelding",
        "WG001/Z-1/zw-ziekmelding",
        "WG001/Z-1/werkhervatting/partial",
        "WG001/Z-1/werkhervatting/full",
    ]


CHAIN = [
    (Kind.ZW_ZIEKMELDING, None),
    (Kind.WERKHERVATTING, "partial"),
    (Kind.WERKHERVATTING, "full"),
    (Kind.MLA, None),
    (Kind.HERSTEL_MLA, None),
]
PREDECESSORS = {
    "werkhervatting/partial": ["zw-ziekmelding"],
    "werkhervatting/full": ["zw-ziekmelding", "werkhervatting/partial"],
    "herstel-42e-weeksmelding": ["42e-weeksmelding"],
}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Z-1", "Z-2", "Z-3"]),
            st.sampled_from(CHAIN),
            st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
        ),
        max_size=15,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_sending_order_never_puts_a_successor_before_its_predecessor(items) -> None:
    notifications = [notification(d, kind, variant, due=due) for d, (kind, variant), due in items]
    ordered = [str(n.key) for n in sending_order(notifications)]
    assert sorted(ordered) == sorted(str(n.key) for n in notifications)
    for position, key in enumerate(ordered):
        employer, dossier, *rest = key.split("/")
        for before in PREDECESSORS.get("/".join(rest), []):
            predecessor = f"{employer}/{dossier}/{before}"
            if predecessor in ordered:
                assert ordered.index(predecessor) < position


def test_runs_are_recorded(journal: Journal) -> None:
    run = journal.start_run(date(2026, 11, 28))
    journal.finish_run(run, 1)
    [recorded] = journal.runs()
    assert (recorded.run_date, recorded.exit_code) == (date(2026, 11, 28), 1)
    assert recorded.finished is not None and recorded.finished >= recorded.started


def test_a_failed_transaction_leaves_nothing_behind(journal: Journal, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), journal.transaction():
        write(journal, notification("Z-1"), tmp_path)
        raise RuntimeError("crash in the middle of a batch")
    assert journal.entries() == []


# ---------------------------------------------------------------- the state machine as a whole


class JournalMachine(RuleBasedStateMachine):
    """Any sequence of what prepare and delivery may call, in any order: refused calls change
    nothing, and the exactly-once invariants hold after every step."""

    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.journal = Journal.open(self.folder / "uwvcli.sqlite")
        self.with_process: set[str] = set()
        self.kenmerken = 0

    @initialize(target=keys)
    def dossiers(self):
        return multiple(*(notification(f"Z-{i}") for i in range(3)))

    def attempt_of(self, n: Notification) -> int | None:
        attempts = self.journal.attempts(n.key)
        return attempts[-1].id if attempts else None

    def tolerate(self, action) -> None:
        before = self.snapshot()
        try:
            action()
        except StateConflict:
            assert self.snapshot() == before, "a refused transition changed the journal"

    def snapshot(self):
        return (self.journal.entries(), [self.journal.attempts(e.key) for e in self.journal.entries()])

    @rule(n=keys, problem=st.sampled_from(["BSN missing", "no birth date"]))
    def block(self, n, problem):
        self.tolerate(lambda: self.journal.record_blocked(replace(n, problems=(legacy(problem),))))

    @rule(n=keys, bump=st.booleans())
    def written(self, n, bump):
        entry = self.journal.entry(n.key)
        revision = entry.revision + bump if entry else 1
        self.tolerate(lambda: write(self.journal, n, self.folder, revision))

    @rule(n=keys)
    def begin(self, n):
        self.tolerate(lambda: self.journal.begin_attempt(n.key))

    @rule(n=keys, outcome=st.sampled_from(["accepted", "fault", "not_sent", "in_doubt"]))
    def answer(self, n, outcome):
        attempt = self.attempt_of(n)
        if attempt is None:
            return
        self.kenmerken += 1
        record = {
            "accepted": lambda: self.journal.record_accepted(
                attempt, f"KM-{self.kenmerken}", datetime.now(UTC)
            ),
            "fault": lambda: self.journal.record_fault(attempt, "ALS100", "niet valide"),
            "not_sent": lambda: self.journal.record_not_sent(attempt, "connection refused"),
            "in_doubt": lambda: self.journal.record_in_doubt(attempt, "timeout"),
        }[outcome]
        self.tolerate(record)

    @rule(n=keys, adopt=st.booleans())
    def reconcile(self, n, adopt):
        self.kenmerken += 1
        if adopt:
            self.tolerate(lambda: self.journal.adopt_kenmerk(n.key, f"KM-{self.kenmerken}"))
        else:
            self.tolerate(lambda: self.journal.park(n.key, "ambiguous"))

    @rule(n=keys, kenmerk=st.sampled_from([None, "KM-1", "KM-2", "KM-HAND"]))
    def resolve_by_hand(self, n, kenmerk):
        self.tolerate(lambda: self.journal.resolve_by_hand(n.key, kenmerk=kenmerk))

    @rule(n=keys, state=st.sampled_from(["delivered", "accepted", "rejected", "failed"]))
    def outcome(self, n, state):
        self.tolerate(lambda: self.journal.set_outcome(n.key, state))

    @rule(n=keys)
    def refuse(self, n):
        self.tolerate(lambda: self.journal.record_refused(n.key, "tampered"))

    @invariant()
    def exactly_once(self) -> None:
        sent = self.journal.sent_keys()
        for entry in self.journal.entries():
            attempts = self.journal.attempts(entry.key)
            pending = [a for a in attempts if a.outcome == AttemptOutcome.PENDING]
            # never two POSTs of a message at once, and `submitting` always has its open attempt
            assert len(pending) == (1 if entry.state == JournalState.SUBMITTING else 0)
            if entry.state in SENT:
                assert entry.kenmerk is not None
            # an aanleverkenmerk that reached (or may have reached) Digipoort is never written again
            if entry.state == JournalState.WRITTEN:
                assert not self.journal.was_attempted(entry.aanleverkenmerk)
        # a key Digipoort has a process for leaves the sent states only when Digipoort says no
        for key in self.with_process - sent:
            assert self.journal.entry(key).state in (JournalState.REJECTED, JournalState.FAILED)
        self.with_process = {e.key for e in self.journal.entries(state=SENT)}

    @invariant()
    def the_indexed_reads_agree_with_the_whole_reads(self) -> None:
        """What a run reads by key (`entries_for`, `sent_lookup`, `references`) is exactly what
        reading the whole journal would say, also for a key the journal does not know."""
        everything = {e.key: e for e in self.journal.entries()}
        asked = [*everything, NotificationKey("WG001", "Z-unknown", Kind.WAZO)]
        assert self.journal.entries_for(asked) == everything
        sent = self.journal.sent_keys()
        for lookup in (self.journal.sent_lookup(), self.journal.sent_lookup(in_memory=0)):  # set, per key
            assert [key in lookup for key in asked] == [key in sent for key in asked]
        files = self.journal.referenced_files()
        for path in [*files, self.folder / "unknown.xml"]:
            assert self.journal.references(path) == (path in files)
        # the correction pass's reads (schema 6): by dossier, recent unreported, per employer
        by_dossier = self.journal.entries_of_dossiers(["Z-0", "Z-2", "Z-unknown"], state=NEVER_AGAIN)
        assert sorted(by_dossier, key=str) == sorted(
            (e for e in everything.values() if e.dossier_id in ("Z-0", "Z-2") and e.state in NEVER_AGAIN),
            key=str,
        )
        day = date.today() - timedelta(days=1)
        assert {e.key for e in self.journal.unreported_since(day, state=SENT)} == {
            e.key
            for e in everything.values()
            if e.state in SENT and e.submitted and e.submitted.date() >= day
        }
        sent_per_employer = Counter(e.employer_id for e in everything.values() if e.state in SENT)
        assert self.journal.count_sent(["WG001", "WG002"]) == sent_per_employer

    def teardown(self) -> None:
        self.journal.close()


TestJournalMachine = JournalMachine.TestCase
TestJournalMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)


def test_two_writers_cannot_both_begin_the_same_attempt(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: the second writer waits for the first to commit and then sees its
    attempt, instead of deciding on a stale read (two POSTs of one message)."""
    path = tmp_path / "uwvcli.sqlite"
    n = notification()
    outcome: list[object] = []

    def contender() -> None:
        with Journal.open(path) as second:
            try:
                outcome.append(second.begin_attempt(n.key))
            except StateConflict as conflict:
                outcome.append(conflict)

    with Journal.open(path) as first:
        write(first, n, tmp_path)
        with first.transaction():
            first.begin_attempt(n.key)
            thread = threading.Thread(target=contender)
            thread.start()
            time.sleep(0.3)  # the contender is now waiting for the write lock
            assert outcome == []
        thread.join(timeout=10)
        assert len(outcome) == 1 and isinstance(outcome[0], StateConflict)
        assert len(first.attempts(n.key)) == 1

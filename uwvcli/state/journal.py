"""The journal: uwvcli's memory of every notification, every POST attempt and every Digipoort
status, in one SQLite file (`paths.state`).

Exactly-once delivery rests on it (DIGIPOORT.md "Never twice, never lost"): an attempt is
committed *before* the POST (`begin_attempt`), the `kenmerk` right after it (`record_accepted`), and
an attempt without a recorded answer is *in doubt* — reconciled by asking Digipoort, never resent
blindly. Hence WAL with `synchronous=FULL` (a commit survives a power cut), `BEGIN IMMEDIATE` around
every read-then-write, and states that say what happened (strings, never booleans).

Personal data never enters the journal: a notification is known by its key, its personnel number
(`employee_id`), its files' hashes and its facts (RULES 4.6) without personal data — the BSN and
birth date only as a digest keyed with the journal's own random key. A person's `--reason` for a
withdrawal is kept as typed (one line, bounded). See docs/state.md for the states and their
transitions.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any

from uwvcli.common.privacy import fault_text
from uwvcli.domain.corrections import Cause, StoredFacts
from uwvcli.domain.keys import AnyKey, NotificationKey, Variant, WithdrawalKey, parse_key, withdrawal_of
from uwvcli.domain.models import Kind, Notification, State, StatusRecord
from uwvcli.domain.ordering import sending_order
from uwvcli.domain.problems import Problem
from uwvcli.errors import EXIT_ATTENTION, EXIT_UNUSABLE, UwvcliError
from uwvcli.state.outbox import write_receipt


class JournalState(StrEnum):
    """The state of one notification in the journal (docs/ARCHITECTURE.md, docs/state.md)."""

    BLOCKED = "blocked"  # cannot be built; problems stored
    WRITTEN = "written"  # signed file in the outbox, not submitted; rebuilt until submitted
    SUBMITTING = "submitting"  # attempt committed, POST under way (after a crash: in doubt)
    IN_DOUBT = "in_doubt"  # an attempt got no answer: reconcile via getProcessen
    PARKED = "parked"  # in doubt and not reconcilable: a person must look
    SUBMITTED = "submitted"  # kenmerk stored; statuses being followed
    DELIVERED = "delivered"  # 400 seen and no 5xx within the polling window
    ACCEPTED = "accepted"  # 500
    REJECTED = "rejected"  # validation/receiver failure or a synchronous fault
    FAILED = "failed"  # other final failures
    REFUSED = "refused"  # the outbox file failed verification; not sent
    CANCELLED = "cancelled"  # vervallen: no longer due before it was ever submitted; not sent
    WITHDRAWN = "withdrawn"  # ingetrokken: its withdrawal was accepted by UWV (500); may be re-sent


IN_FLIGHT = frozenset({JournalState.SUBMITTING, JournalState.IN_DOUBT, JournalState.PARKED})
#: What a person may settle by hand (`resolve_by_hand`). Not `submitting`: outside a run that is a
#: crash's leftover, which the next send first turns in doubt and asks Digipoort about itself.
RESOLVABLE = frozenset({JournalState.IN_DOUBT, JournalState.PARKED})
SENT = frozenset({JournalState.SUBMITTED, JournalState.DELIVERED, JournalState.ACCEPTED})
#: Nothing more happens to these, and nobody has to look at them again: an overview of the
#: recent past may leave the older ones out (`Journal.shown_since`).
SETTLED = frozenset({JournalState.ACCEPTED, JournalState.WITHDRAWN, JournalState.CANCELLED})
#: Once a key is in one of these states it is never built or sent again (unless withdrawn).
NEVER_AGAIN = IN_FLIGHT | SENT
#: Digipoort said no: rebuilt with a new revision only when the content changed.
UNSUCCESSFUL = frozenset({JournalState.REJECTED, JournalState.FAILED})
#: What `set_outcome` may record once Digipoort has a process for the message.
OUTCOMES = frozenset({*SENT, *UNSUCCESSFUL})


class AttemptOutcome(StrEnum):
    PENDING = "pending"  # committed before the POST; no answer recorded (yet)
    ACCEPTED = "accepted"  # Digipoort returned a kenmerk
    FAULT = "fault"  # Digipoort refused the message synchronously
    NOT_SENT = "not_sent"  # the request never reached Digipoort
    IN_DOUBT = "in_doubt"  # it may have arrived: reconcile
    ADOPTED = "adopted"  # reconciled: a kenmerk found through getProcessen


class JournalError(UwvcliError):
    """The state file cannot be used (not a database, written by a newer uwvcli, unwritable)."""


class JournalLost(JournalError):
    """The journal is missing, empty or new, but the outbox or the recap folder shows that uwvcli
    worked here before: which messages were sent is unknown, so nothing may be sent until a
    person restores the journal or runs `uwvcli recover` (docs/state.md, "A lost journal")."""

    exit_code = EXIT_UNUSABLE


def earlier_work(folders: Iterable[Path]) -> Path | None:
    """The first of `folders` holding what only earlier work leaves: an outbox message
    (`*.xml` directly in it; set-aside ones were never sent) or any file in the recap folder."""
    for folder in folders:
        try:
            with os.scandir(folder) as found:
                if any(not e.name.startswith(".") and e.is_file() for e in found):
                    return Path(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
    return None


def _lost(path: Path, evidence: Path) -> JournalLost:
    return JournalLost(
        f"the state database {path} is missing or empty, but {evidence} already holds uwvcli's earlier "
        "work: uwvcli would not know which messages were sent, and sending them again would duplicate "
        "them at UWV. Nothing was sent or created. Restore the newest backup of the state database, or "
        "run `uwvcli recover` to rebuild it from the outbox and Digipoort's process list (docs/state.md)"
    )


class StateConflict(UwvcliError):
    """A transition the journal refuses, e.g. recording a sent notification as blocked again.
    It means two parts of uwvcli disagree about a notification: nothing was changed."""

    exit_code = EXIT_ATTENTION


@dataclass(frozen=True, slots=True)
class Entry:
    """One notification as the journal knows it."""

    key: AnyKey
    kind: Kind
    employer_id: str
    employee_id: str
    dossier_id: str
    due_date: date
    deadline: date | None
    state: JournalState
    problems: tuple[Problem, ...]  # blocked: why (older rows: their English text, `Code.LEGACY`)
    file: Path | None
    sha256: str | None  # of the signed file's bytes
    content_sha256: str | None  # fingerprint of the unsigned payload (see prepare.py)
    aanleverkenmerk: str | None
    revision: int
    loonheffingennummer: str | None
    berichtsoort: str | None
    kenmerk: str | None  # Digipoort's id of the current process
    reason: str | None  # why it is refused, in doubt, parked or rejected
    submitted: datetime | None  # tijdstempelAangeleverd of the current process
    created: datetime
    updated: datetime
    facts: StoredFacts | None = None  # of the current revision's file (None: not known yet)
    cause: Cause | None = None  # a withdrawal: why (RULES 4.6)
    cause_reason: str | None = None  # a withdrawal a person asked for: their reason
    gone_reported: date | None = None  # its dossier left the exports; reported on this day

    @property
    def is_withdrawal(self) -> bool:
        return isinstance(self.key, WithdrawalKey)

    @property
    def variant(self) -> Variant | None:
        return self.key.variant

    def as_notification(self, day: date) -> Notification:
        """What the journal knows of it as a notification on `day` (due, or late after its
        deadline): for the lists of what is not in the day's plan."""
        late = self.deadline is not None and day > self.deadline
        return Notification(
            key=self.key,
            kind=self.kind,
            employer_id=self.employer_id,
            employee_id=self.employee_id,
            dossier_id=self.dossier_id,
            due_date=self.due_date,
            deadline=self.deadline,
            state=State.LATE if late else State.DUE,
            variant=self.variant,
        )

    @property
    def withdrawal_key(self) -> WithdrawalKey | None:
        """The key of the withdrawal of this notification's current revision; None for a
        withdrawal, which is never withdrawn itself."""
        return None if isinstance(self.key, WithdrawalKey) else withdrawal_of(self.key, self.revision)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST of one message (one aanleverkenmerk) to Digipoort."""

    id: int
    key: AnyKey
    aanleverkenmerk: str
    file: Path | None
    sha256: str | None
    started: datetime
    finished: datetime | None
    outcome: AttemptOutcome
    kenmerk: str | None
    foutcode: str | None
    foutbeschrijving: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    run_date: date
    started: datetime
    finished: datetime | None
    exit_code: int | None


_STATES_SQL = ", ".join(f"'{s}'" for s in JournalState)
_OUTCOMES_SQL = ", ".join(f"'{o}'" for o in AttemptOutcome)

#: Each entry moves the schema one version up; `PRAGMA user_version` says how many ran.
#: Never edit a released entry: append a new one.
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        employer_id TEXT NOT NULL,
        employee_id TEXT NOT NULL,
        dossier_id TEXT NOT NULL,
        due_date TEXT NOT NULL,
        deadline TEXT,
        state TEXT NOT NULL CHECK (state IN ({_STATES_SQL})),
        problems TEXT NOT NULL DEFAULT '[]',
        file TEXT,
        sha256 TEXT,
        content_sha256 TEXT,
        aanleverkenmerk TEXT UNIQUE,
        revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
        loonheffingennummer TEXT,
        berichtsoort TEXT,
        kenmerk TEXT UNIQUE,
        reason TEXT,
        submitted TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX notifications_state ON notifications (state);
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL REFERENCES notifications (key),
        aanleverkenmerk TEXT NOT NULL,
        file TEXT,
        sha256 TEXT,
        started TEXT NOT NULL,
        finished TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ({_OUTCOMES_SQL})),
        kenmerk TEXT,
        foutcode TEXT,
        foutbeschrijving TEXT,
        reason TEXT
    );
    CREATE INDEX attempts_key ON attempts (key);
    CREATE INDEX attempts_kenmerk ON attempts (kenmerk);
    CREATE TABLE statuses (
        kenmerk TEXT NOT NULL,
        code TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        description TEXT NOT NULL,
        foutcode TEXT,
        foutbeschrijving TEXT,
        details TEXT,
        received TEXT NOT NULL,
        PRIMARY KEY (kenmerk, code, timestamp)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        run_date TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        exit_code INTEGER,
        pid INTEGER NOT NULL
    );
    """,
    # 2: what `uwvcli recover` did, so that only Digipoort processes newer than it stop a sender.
    """
    CREATE TABLE recoveries (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        adopted INTEGER NOT NULL,
        parked INTEGER NOT NULL,
        unsent INTEGER NOT NULL,
        note TEXT NOT NULL
    );
    """,
    # 3: each run's row count per export file, so that an export that shrank is noticed.
    """
    CREATE TABLE export_rows (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        source TEXT NOT NULL,
        rows INTEGER NOT NULL CHECK (rows >= 0),
        unusable INTEGER NOT NULL CHECK (unusable >= 0),
        PRIMARY KEY (run_id, source)
    );
    """,
    # 4: corrections and withdrawals (issue 12).
    # A notification that is no longer due before it was submitted is `cancelled` (vervallen), no
    # longer `blocked` with a "withdrawn" problem: "withdrawn" (ingetrokken) now means a withdrawal
    # UWV accepted. The state CHECK is a table constraint, so the table is rebuilt (SQLite's
    # documented procedure, foreign keys off: see `_migrate`); its state list is written out here,
    # never taken from `JournalState`, so that this step means the same thing forever.
    # Each written revision keeps its facts (RULES 4.6; `domain.corrections`): `facts` without
    # personal data, `person_digest` an HMAC of the BSN and birth date under this journal's own
    # random `facts_key`. Rows of schema 1 get theirs from their outbox file (`record_facts`).
    # A withdrawal is a row of its own (key `<key>/intrekking/<n>`), `cause` saying why (JSON:
    # `domain.corrections.Cause` and a person's reason); the state `withdrawn` is a notification
    # whose withdrawal UWV accepted; `gone_reported` the day a gone dossier was reported.
    """
    CREATE TABLE notifications_v2 (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        employer_id TEXT NOT NULL,
        employee_id TEXT NOT NULL,
        dossier_id TEXT NOT NULL,
        due_date TEXT NOT NULL,
        deadline TEXT,
        state TEXT NOT NULL CHECK (state IN ('blocked', 'written', 'submitting', 'in_doubt', 'parked',
            'submitted', 'delivered', 'accepted', 'rejected', 'failed', 'refused', 'cancelled',
            'withdrawn')),
        problems TEXT NOT NULL DEFAULT '[]',
        file TEXT,
        sha256 TEXT,
        content_sha256 TEXT,
        aanleverkenmerk TEXT UNIQUE,
        revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
        loonheffingennummer TEXT,
        berichtsoort TEXT,
        kenmerk TEXT UNIQUE,
        reason TEXT,
        submitted TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        facts TEXT,
        person_digest TEXT,
        cause TEXT,
        gone_reported TEXT
    );
    INSERT INTO notifications_v2 SELECT id, key, kind, employer_id, employee_id, dossier_id, due_date,
        deadline, state, problems, file, sha256, content_sha256, aanleverkenmerk, revision,
        loonheffingennummer, berichtsoort, kenmerk, reason, submitted, created, updated, NULL, NULL,
        NULL, NULL FROM notifications;
    DROP TABLE notifications;
    ALTER TABLE notifications_v2 RENAME TO notifications;
    CREATE INDEX notifications_state ON notifications (state);
    UPDATE notifications SET state = 'cancelled',
        problems = replace(problems, '"code": "withdrawn"', '"code": "cancelled"')
        WHERE state = 'blocked' AND (problems LIKE '[{"code": "withdrawn"%'
            OR problems LIKE '["no longer due on %according to the exports%not sent"]');
    CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    INSERT INTO meta (name, value) VALUES ('facts_key', randomblob(32))
    """,
    # 5: indexes for the read paths (after step 4, which rebuilt the notifications table), so
    # that a run and `status --since` read only what they need however long the history grows
    # (issue 14): changes since a moment, files the outbox holds, whether an aanleverkenmerk was
    # ever attempted (asked for every message written).
    """
    CREATE INDEX notifications_updated ON notifications (updated);
    CREATE INDEX notifications_file ON notifications (file);
    CREATE INDEX attempts_file ON attempts (file);
    CREATE INDEX attempts_aanleverkenmerk ON attempts (aanleverkenmerk)
    """,
    # 6: indexes for the correction pass (RULES 4.6), so that it too reads what the exports and
    # the plan call for, not the history (issue 12 over issue 14): the notifications of a dossier
    # (a sent one is corrected or withdrawn only while its dossier is in the exports); the
    # submitted ones not yet reported gone, by submission (only recent ones are reported); the
    # withdrawals by state (a row is a withdrawal exactly when it has a `cause`, see
    # `record_written`); each employer's notifications by state (the safety brake's share).
    """
    CREATE INDEX notifications_dossier ON notifications (dossier_id, employer_id);
    CREATE INDEX notifications_unreported ON notifications (submitted) WHERE gone_reported IS NULL;
    CREATE INDEX notifications_withdrawals ON notifications (state, employer_id) WHERE cause IS NOT NULL;
    CREATE INDEX notifications_employer ON notifications (employer_id, state)
    """,
)
#: Up to this many sent keys are read into a set for the rules (`Journal.sent_lookup`).
SENT_IN_MEMORY = 100_000
#: Keys per `IN (...)` query when entries are read by key (well below SQLite's variable limit).
_KEYS_PER_QUERY = 500

_NOTIFICATION_COLUMNS = (
    "key, kind, employer_id, employee_id, dossier_id, due_date, deadline, state, problems, file, sha256, "
    "content_sha256, aanleverkenmerk, revision, loonheffingennummer, berichtsoort, kenmerk, reason, "
    "submitted, created, updated, facts, person_digest, cause, gone_reported"
)
_ATTEMPT_COLUMNS = (
    "id, key, aanleverkenmerk, file, sha256, started, finished, outcome, kenmerk, foutcode, "
    "foutbeschrijving, reason"
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _marks(values: Sized) -> str:
    """One `?` per value, for `IN (…)` and `VALUES (…)`."""
    return ", ".join("?" * len(values))


def _midnight(day: date) -> datetime:
    """The start of `day` on this machine's clock (as `status --since` has always read a day)."""
    return datetime(day.year, day.month, day.day).astimezone()


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("the journal stores timezone-aware moments only")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None


def _entry(row: sqlite3.Row) -> Entry:
    cause, cause_reason = _cause(row["cause"])
    return Entry(
        key=parse_key(row["key"]),
        kind=Kind(row["kind"]),
        employer_id=row["employer_id"],
        employee_id=row["employee_id"],
        dossier_id=row["dossier_id"],
        due_date=date.fromisoformat(row["due_date"]),
        deadline=_day(row["deadline"]),
        state=JournalState(row["state"]),
        problems=tuple(map(Problem.from_json, json.loads(row["problems"]))),
        file=_path(row["file"]),
        sha256=row["sha256"],
        content_sha256=row["content_sha256"],
        aanleverkenmerk=row["aanleverkenmerk"],
        revision=row["revision"],
        loonheffingennummer=row["loonheffingennummer"],
        berichtsoort=row["berichtsoort"],
        kenmerk=row["kenmerk"],
        reason=row["reason"],
        submitted=_moment(row["submitted"]),
        created=datetime.fromisoformat(row["created"]),
        updated=datetime.fromisoformat(row["updated"]),
        facts=StoredFacts(row["facts"], row["person_digest"]) if row["facts"] is not None else None,
        cause=cause,
        cause_reason=cause_reason,
        gone_reported=_day(row["gone_reported"]),
    )


def _cause(text: str | None) -> tuple[Cause | None, str | None]:
    """A withdrawal's cause and the reason a person gave (None, None: not a withdrawal)."""
    if not text:
        return None, None
    value = json.loads(text)
    try:
        cause = Cause(value.get("cause"))
    except ValueError:  # written by a newer uwvcli: a withdrawal all the same
        cause = Cause.REQUESTED
    return cause, value.get("reason")


def _attempt(row: sqlite3.Row) -> Attempt:
    return Attempt(
        id=row["id"],
        key=parse_key(row["key"]),
        aanleverkenmerk=row["aanleverkenmerk"],
        file=_path(row["file"]),
        sha256=row["sha256"],
        started=datetime.fromisoformat(row["started"]),
        finished=_moment(row["finished"]),
        outcome=AttemptOutcome(row["outcome"]),
        kenmerk=row["kenmerk"],
        foutcode=row["foutcode"],
        foutbeschrijving=row["foutbeschrijving"],
        reason=row["reason"],
    )


def unusable(path: Path, error: sqlite3.Error) -> JournalError:
    """What a person can do about an SQLite error on the journal (a full disk, a damaged file):
    the message names it; the transaction it interrupted was rolled back, so nothing is half-done."""
    text = str(error)
    if isinstance(error, sqlite3.OperationalError) and ("full" in text or "I/O" in text):
        return JournalError(
            f"{path}: cannot write the state database ({text}); nothing was half-done (the change was "
            "rolled back). Free space on its file system, then run the command again"
        )
    if isinstance(error, sqlite3.OperationalError) and "locked" in text:
        return JournalError(f"{path}: the state database is busy ({text}); try again later")
    return JournalError(
        f"{path}: the state database is damaged ({text}); nothing more was done. Keep the file for "
        "analysis, restore the newest backup of it (docs/state.md), and check it with `uwvcli check`"
    )


class _Connection(sqlite3.Connection):
    """Once the journal is open, every statement's SQLite error becomes a `JournalError` saying
    what to do (no traceback). While opening, `Journal.open` gives its own messages."""

    path: Path | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as error:
            if self.path is None:
                raise
            raise unusable(self.path, error) from None


@contextmanager
def _owner_only() -> Iterator[None]:
    """SQLite creates the -wal and -shm files itself: a umask makes sure nobody else may read
    them, whatever the user's own umask is."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


class SentKeys(Container[AnyKey]):
    """The keys in flight or sent (`NEVER_AGAIN`), looked up one at a time in the journal."""

    _STATES = ", ".join(f"'{s}'" for s in sorted(NEVER_AGAIN))
    _QUERY = f"SELECT 1 FROM notifications WHERE key = ? AND state IN ({_STATES})"

    def __init__(self, connection: sqlite3.Connection):
        self._db = connection

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, NotificationKey | WithdrawalKey):
            return False
        return self._db.execute(self._QUERY, (str(key),)).fetchone() is not None


class Journal:
    """The state database. Open with `Journal.open(path)` (a context manager)."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, created: bool):
        self.path = path
        self.created = created  # True when this open created the file (a fresh, empty state)
        self._db = connection
        self._depth = 0  # nesting of `transaction()`

    # ------------------------------------------------------------------ opening and schema

    @classmethod
    def _open(cls, path: Path) -> Journal:
        path = Path(path)
        created = not path.exists()
        connection: _Connection | None = None
        try:
            with _owner_only():
                if not path.parent.is_dir():
                    path.parent.mkdir(mode=0o700, parents=True)
                connection = sqlite3.connect(path, isolation_level=None, timeout=30.0, factory=_Connection)
                connection.row_factory = sqlite3.Row
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                connection.execute("PRAGMA synchronous=FULL")
                connection.execute("PRAGMA foreign_keys=ON")
            os.chmod(path, 0o600)
            if mode.lower() != "wal":
                raise JournalError(
                    f"{path}: SQLite refused write-ahead logging (mode {mode}); "
                    "put the state on a local file system"
                )
            journal = cls(path, connection, created=created)
            journal._migrate()
            connection.path = path
        except BaseException:
            if connection is not None:
                connection.close()
            raise
        return journal

    @classmethod
    def open(cls, path: Path, *, evidence: Iterable[Path] = ()) -> Journal:
        """Open (creating owner-only if needed) and migrate the journal at `path`.

        `evidence`: the folders whose content shows earlier work (the outbox, the recap folder;
        see `earlier_work`). A command that could send passes them: when the journal is missing,
        empty or knows nothing while one of them holds files, it raises `JournalLost` and creates
        nothing — every time, until a person restores the journal or runs `uwvcli recover`."""
        folders = tuple(evidence)
        path = Path(path)
        if folders and (not path.exists() or path.stat().st_size == 0):
            found = earlier_work(folders)
            if found is not None:
                raise _lost(path, found)
        journal = cls._opened(path)
        if folders and journal.is_fresh():
            found = earlier_work(folders)
            if found is not None:
                journal.close()
                raise _lost(path, found)
        return journal

    @classmethod
    def _opened(cls, path: Path) -> Journal:
        try:
            return cls._open(path)
        except sqlite3.OperationalError as error:
            if "full" in str(error):
                raise unusable(path, error) from None
            raise JournalError(
                f"{path}: cannot open the state database ({error}); check that its folder exists and that "
                "uwvcli may write there"
            ) from None
        except sqlite3.DatabaseError as error:
            raise JournalError(
                f"{path} cannot be used as uwvcli's state database ({error}); restore it from a backup "
                "or point paths.state elsewhere"
            ) from None
        except OSError as error:
            raise JournalError(
                f"{path}: {error.strerror}; uwvcli needs to create, read and write the state database there"
            ) from None

    def _migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS):
            return  # the usual case: no write lock needed, so `status` can open it during a run
        # A step may rebuild a table others refer to: foreign keys are off while the steps run
        # (the pragma is ignored inside a transaction) and checked before the commit.
        self._db.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.transaction():
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version > len(MIGRATIONS):
                    raise JournalError(
                        f"{self.path} was written by a newer uwvcli (schema {version}, this one knows "
                        f"{len(MIGRATIONS)}); upgrade uwvcli"
                    )
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    # one statement at a time: executescript() would commit halfway (no ";" inside them)
                    for statement in script.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {number}")
                if self._db.execute("PRAGMA foreign_key_check").fetchone() is not None:
                    raise JournalError(f"{self.path}: upgrading the state database broke its references")
        finally:
            self._db.execute("PRAGMA foreign_keys=ON")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE … COMMIT` (the write lock is taken before anything is read, so a
        read-then-write never works on stale data). Nested uses join the outer transaction, which
        lets a caller group many records into one commit."""
        if self._depth:
            self._depth += 1
            try:
                yield self._db
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back itself (a full disk)
                self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # ------------------------------------------------------------------ queries

    def entry(self, key: AnyKey) -> Entry | None:
        row = self._db.execute(
            f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE key = ?", (str(key),)
        )
        found = row.fetchone()
        return _entry(found) if found else None

    def entries(
        self,
        *,
        state: str | Iterable[str] | None = None,
        employer_id: str | None = None,
        kind: Kind | str | None = None,
        since: date | datetime | None = None,
    ) -> list[Entry]:
        """Notifications filtered on state(s), employer, kind and last change (`since`: changed
        on or after that moment or day), ordered by due date and key."""
        clauses: list[str] = []
        values: list[object] = []
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            clauses.append(f"state IN ({_marks(states)})")
            values.extend(str(s) for s in states)
        if employer_id is not None:
            clauses.append("employer_id = ?")
            values.append(employer_id)
        if kind is not None:
            clauses.append("kind = ?")
            values.append(str(kind))
        if since is not None:
            clauses.append("updated >= ?")
            moment = since if isinstance(since, datetime) else _midnight(since)
            values.append(_utc(moment if moment.tzinfo else moment.astimezone()))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications{where} ORDER BY due_date, key", values
        )
        return [_entry(r) for r in rows]

    def shown_since(self, since: date) -> list[Entry]:
        """What an overview of the recent past shows: every notification changed on or after
        `since`, and every one not settled (`SETTLED`) whenever it last changed, ordered by due
        date and key. Read through the indexes on `updated` and `state`, so the cost follows
        what is shown, not the history before `since`."""
        settled = sorted(SETTLED)
        rows = self._db.execute(
            f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE updated >= ? "
            f"UNION SELECT {_NOTIFICATION_COLUMNS} FROM notifications "
            f"WHERE state NOT IN ({_marks(settled)}) ORDER BY due_date, key",
            [_utc(_midnight(since)), *settled],
        )
        return [_entry(r) for r in rows]

    def settled_before(self, since: date) -> int:
        """How many settled notifications last changed before `since` (what `shown_since`
        leaves out), counted in the index on `updated`."""
        settled = sorted(SETTLED)
        (count,) = self._db.execute(
            f"SELECT count(*) FROM notifications WHERE updated < ? AND state IN ({_marks(settled)})",
            [_utc(_midnight(since)), *settled],
        ).fetchone()
        return int(count)

    def is_fresh(self) -> bool:
        """Nothing was ever recorded: no notification, no run, no recovery. (A journal that a
        reading command such as `status` created is fresh too.)"""
        row = self._db.execute(
            "SELECT EXISTS (SELECT 1 FROM notifications) OR EXISTS (SELECT 1 FROM runs) "
            "OR EXISTS (SELECT 1 FROM recoveries)"
        ).fetchone()
        return not row[0]

    def last_submission(self) -> datetime | None:
        """When the latest POST the journal knows of began (an attempt that never reached Digipoort
        does not count) or, if later, the latest `uwvcli recover` (a person accounted for what
        Digipoort had then); without either, when the first run began. Digipoort processes the
        journal does not know that are newer than this mean the journal is older than the truth."""
        row = self._db.execute(
            "SELECT max(moment) FROM (SELECT max(started) AS moment FROM attempts WHERE outcome != ? "
            "UNION ALL SELECT max(started) FROM recoveries)",
            (AttemptOutcome.NOT_SENT,),
        ).fetchone()
        if row[0] is None:
            row = self._db.execute("SELECT min(started) FROM runs").fetchone()
        return _moment(row[0])

    def entries_for(self, keys: Iterable[AnyKey]) -> dict[AnyKey, Entry]:
        """The entries of these keys (those the journal has), by key: read through the key's
        index, so the cost follows the keys asked for, not the journal's history."""
        texts = list(dict.fromkeys(map(str, keys)))
        found: dict[AnyKey, Entry] = {}
        for start in range(0, len(texts), _KEYS_PER_QUERY):
            part = texts[start : start + _KEYS_PER_QUERY]
            marks = _marks(part)
            rows = self._db.execute(
                f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE key IN ({marks})", part
            )
            for row in rows:
                entry = _entry(row)
                found[entry.key] = entry
        return found

    def entries_of_dossiers(self, dossier_ids: Iterable[str], *, state: Iterable[str]) -> list[Entry]:
        """The entries in these states of every dossier id given (any employer: the caller
        checks the pair), through the dossier index: the cost follows the dossiers asked for.
        (`+state`: never the state index, which SQLite would pick for a long list of ids and then
        walk every sent notification of the history.)"""
        states = [str(s) for s in state]
        state_marks = _marks(states)
        found: list[Entry] = []
        ids = iter(dossier_ids)
        while part := list(islice(ids, _KEYS_PER_QUERY)):
            rows = self._db.execute(
                f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE dossier_id IN "
                f"({_marks(part)}) AND +state IN ({state_marks})",
                [*part, *states],
            )
            found.extend(map(_entry, rows))
        return found

    def unreported_since(self, day: date, *, state: Iterable[str]) -> list[Entry]:
        """Entries in these states submitted on or after `day` (UTC) that were never reported
        gone (`record_gone`), through the partial index of the unreported ones (`+state`: not
        through the state index, which holds the whole history)."""
        states = [str(s) for s in state]
        rows = self._db.execute(
            f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE gone_reported IS NULL "
            f"AND submitted >= ? AND +state IN ({_marks(states)})",
            [day.isoformat(), *states],
        )
        return [_entry(r) for r in rows]

    def withdrawals(self, *, state: Iterable[str]) -> list[Entry]:
        """The withdrawals in these states, through the partial index of the withdrawals."""
        states = [str(s) for s in state]
        rows = self._db.execute(
            f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE cause IS NOT NULL "
            f"AND state IN ({_marks(states)})",
            states,
        )
        return [_entry(r) for r in rows]

    def count_sent(self, employer_ids: Iterable[str]) -> Counter[str]:
        """Per employer asked for: its notifications UWV has (`SENT`; withdrawals not counted),
        counted in SQL over the employer's index (the safety brake's share)."""
        states = sorted(SENT)
        marks = _marks(states)
        counts: Counter[str] = Counter()
        for employer_id in dict.fromkeys(employer_ids):
            every, withdrawals = self._db.execute(
                f"SELECT (SELECT count(*) FROM notifications WHERE employer_id = ? AND state IN ({marks})), "
                f"(SELECT count(*) FROM notifications WHERE cause IS NOT NULL AND +employer_id = ? "
                f"AND state IN ({marks}))",
                [employer_id, *states, employer_id, *states],
            ).fetchone()
            if every - withdrawals:
                counts[employer_id] = every - withdrawals
        return counts

    def is_empty(self) -> bool:
        """No notification was ever recorded."""
        return self._db.execute("SELECT 1 FROM notifications LIMIT 1").fetchone() is None

    def sent_keys(self) -> set[AnyKey]:
        """Keys in flight or sent: never to be built or sent again."""
        states = list(NEVER_AGAIN)
        rows = self._db.execute(f"SELECT key FROM notifications WHERE state IN ({_marks(states)})", states)
        return {parse_key(r[0]) for r in rows}

    def sent_lookup(self, in_memory: int = SENT_IN_MEMORY) -> Container[AnyKey]:
        """The keys of `sent_keys()` for the rules to look up, valid while the journal is open.
        Up to `in_memory` of them are read into a set (≈3 µs per key, then a look-up is free);
        a journal holding more is asked per key through the key's unique index (≈7 µs per
        look-up): what the rules look up is bounded by the exports, the history is not, so
        neither the time nor the memory of a run grows with the history."""
        states = list(NEVER_AGAIN)
        marks = _marks(states)
        found = self._db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM notifications WHERE state IN ({marks}) LIMIT ?)",
            [*states, in_memory + 1],
        ).fetchone()[0]
        return self.sent_keys() if found <= in_memory else SentKeys(self._db)

    def to_submit(self) -> list[Entry]:
        """Written messages waiting for their POST, predecessors first."""
        return sending_order(self.entries(state=JournalState.WRITTEN))

    def open_processes(self) -> list[Entry]:
        """Messages Digipoort has a process for and whose statuses are still worth following:
        `submitted`, and `delivered` (a 5xx may still come)."""
        return self.entries(state=(JournalState.SUBMITTED, JournalState.DELIVERED))

    def in_doubt(self) -> list[Entry]:
        """Messages that may or may not have reached Digipoort. `submitting` is included: under
        the run lock nothing is mid-POST when a run starts, so such a row is a crash's leftover."""
        return self.entries(state=(JournalState.IN_DOUBT, JournalState.SUBMITTING))

    def attempts(self, key: AnyKey) -> list[Attempt]:
        rows = self._db.execute(
            f"SELECT {_ATTEMPT_COLUMNS} FROM attempts WHERE key = ? ORDER BY id", (str(key),)
        )
        return [_attempt(r) for r in rows]

    def attempt(self, attempt_id: int) -> Attempt | None:
        row = self._db.execute(f"SELECT {_ATTEMPT_COLUMNS} FROM attempts WHERE id = ?", (attempt_id,))
        found = row.fetchone()
        return _attempt(found) if found else None

    def knows_kenmerk(self, kenmerk: str) -> bool:
        """True when any attempt or notification carries this Digipoort kenmerk (reconciliation
        adopts only kenmerken uwvcli does not know)."""
        return self.kenmerk_owner(kenmerk) is not None

    def kenmerk_owner(self, kenmerk: str) -> AnyKey | None:
        """The key of the notification (or attempt) that carries this Digipoort kenmerk."""
        row = self._db.execute(
            "SELECT key FROM notifications WHERE kenmerk = ? "
            "UNION ALL SELECT key FROM attempts WHERE kenmerk = ?",
            (kenmerk, kenmerk),
        ).fetchone()
        return parse_key(row[0]) if row is not None else None

    def was_attempted(self, aanleverkenmerk: str) -> bool:
        """True once a POST of this aanleverkenmerk was begun: that reference is then used up."""
        row = self._db.execute(
            "SELECT 1 FROM attempts WHERE aanleverkenmerk = ? AND outcome != ?",
            (aanleverkenmerk, AttemptOutcome.NOT_SENT),
        ).fetchone()
        return row is not None

    def references(self, path: Path) -> bool:
        """Whether a notification or an attempt points at exactly this file (their file indexes)."""
        text = str(path)
        row = self._db.execute(
            "SELECT 1 FROM notifications WHERE file = ? "
            "UNION ALL SELECT 1 FROM attempts WHERE file = ? LIMIT 1",
            (text, text),
        ).fetchone()
        return row is not None

    def referenced_files(self) -> set[Path]:
        """Every outbox file the journal points at: current ones and those of earlier attempts
        (kept for audit)."""
        rows = self._db.execute(
            "SELECT file FROM notifications WHERE file IS NOT NULL "
            "UNION SELECT file FROM attempts WHERE file IS NOT NULL"
        )
        return {Path(r[0]) for r in rows}

    def status_history(self, kenmerk: str) -> list[StatusRecord]:
        """All statuses of one process, oldest first (by timestamp, never by code)."""
        rows = self._db.execute(
            "SELECT code, timestamp, description, foutcode, foutbeschrijving, details FROM statuses "
            "WHERE kenmerk = ? ORDER BY timestamp, rowid",
            (kenmerk,),
        )
        return [
            StatusRecord(
                code=r["code"],
                timestamp=datetime.fromisoformat(r["timestamp"]),
                description=r["description"],
                foutcode=r["foutcode"],
                foutbeschrijving=r["foutbeschrijving"],
                details=r["details"],
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ building (prepare)

    def _require(self, key: AnyKey) -> Entry:
        found = self.entry(key)
        if found is None:
            raise StateConflict(f"the journal has no notification {key}")
        return found

    def _refuse_if_sent(self, key: AnyKey, action: str) -> Entry | None:
        current = self.entry(key)
        if current is not None and current.state in NEVER_AGAIN:
            raise StateConflict(f"{key} is already {current.state}; it cannot be {action} again")
        return current

    def _state(self, key: AnyKey) -> JournalState | None:
        row = self._db.execute("SELECT state FROM notifications WHERE key = ?", (str(key),)).fetchone()
        return JournalState(row[0]) if row else None

    def _insert_or_update(self, n: Notification, exists: bool, values: dict[str, object]) -> None:
        now = _now()
        base = {
            "kind": str(n.kind),
            "employer_id": n.employer_id,
            "employee_id": n.employee_id,
            "dossier_id": n.dossier_id,
            "due_date": n.due_date.isoformat(),
            "deadline": n.deadline.isoformat() if n.deadline else None,
            "updated": now,
            **values,
        }
        if not exists:
            row = {"key": str(n.key), "created": now, **base}
            columns = ", ".join(row)
            self._db.execute(
                f"INSERT INTO notifications ({columns}) VALUES ({_marks(row)})",
                list(row.values()),
            )
        else:
            assignments = ", ".join(f"{column} = ?" for column in base)
            self._db.execute(
                f"UPDATE notifications SET {assignments} WHERE key = ?", [*base.values(), str(n.key)]
            )

    def record_blocked(self, n: Notification) -> None:
        """The notification cannot be built; its problems are stored. A no-op when the journal
        already says exactly this (so a rerun changes nothing). Revision and aanleverkenmerk are
        kept: a rejected message that becomes blocked must not reuse its used-up reference."""
        with self.transaction():
            current = self._refuse_if_sent(n.key, "blocked")
            if (
                current is not None
                and current.state == JournalState.BLOCKED
                and current.problems == tuple(n.problems)
                and current.due_date == n.due_date
                and current.deadline == n.deadline
            ):
                return
            self._insert_or_update(
                n,
                current is not None,
                {
                    "state": JournalState.BLOCKED,
                    "problems": json.dumps([p.to_json() for p in n.problems]),
                    "file": None,
                    "sha256": None,
                    "reason": None,
                },
            )

    def record_written(
        self,
        n: Notification,
        *,
        file: Path,
        sha256: str,
        aanleverkenmerk: str,
        revision: int,
        loonheffingennummer: str | None,
        berichtsoort: str | None,
        content_sha256: str,
        facts: StoredFacts | None = None,
        cause: Cause | None = None,
        cause_reason: str | None = None,
    ) -> None:
        """A signed file for `n` is in the outbox and waits to be submitted; `facts` are its
        facts (`domain.corrections`), kept with it once it is submitted. A withdrawal, and only a
        withdrawal, has a `cause`: its index (schema 6) finds the withdrawals by it."""
        if isinstance(n.key, WithdrawalKey) != (cause is not None):
            raise ValueError(f"{n.key}: a withdrawal is recorded with its cause, a notification without one")
        with self.transaction():
            state = self._state(n.key)
            if state in NEVER_AGAIN:
                raise StateConflict(f"{n.key} is already {state}; it cannot be written again")
            if self.was_attempted(aanleverkenmerk):
                raise StateConflict(
                    f"{aanleverkenmerk} was already submitted once; "
                    f"a new message for {n.key} needs a new revision"
                )
            self._insert_or_update(
                n,
                state is not None,
                {
                    "state": JournalState.WRITTEN,
                    "problems": "[]",
                    "file": str(file),
                    "sha256": sha256,
                    "content_sha256": content_sha256,
                    "facts": facts.case if facts else None,
                    "person_digest": facts.person_digest if facts else None,
                    "cause": json.dumps({"cause": str(cause), "reason": cause_reason}) if cause else None,
                    "aanleverkenmerk": aanleverkenmerk,
                    "revision": revision,
                    "loonheffingennummer": loonheffingennummer,
                    "berichtsoort": berichtsoort,
                    "kenmerk": None,
                    "reason": None,
                    "submitted": None,
                },
            )

    def cancel(self, key: AnyKey, reason: Problem) -> Entry | None:
        """A notification that is no longer due (the export was corrected, the employer made
        inactive…) before it was ever submitted: it is cancelled (vervallen), never withdrawn —
        UWV never had it. Never attempted: the row goes; otherwise it stays as `cancelled` with
        `reason` as its problem, so its used-up revisions are remembered. Returns the entry as it
        was (its file is the caller's to remove)."""
        with self.transaction():
            current = self._refuse_if_sent(key, "cancelled")
            if current is None:
                return None
            attempted = self._db.execute("SELECT 1 FROM attempts WHERE key = ?", (str(key),)).fetchone()
            if attempted is None:
                self._db.execute("DELETE FROM notifications WHERE key = ?", (str(key),))
            elif current.state != JournalState.CANCELLED:
                self._db.execute(
                    "UPDATE notifications SET state = ?, problems = ?, file = NULL, sha256 = NULL, "
                    "updated = ? WHERE key = ?",
                    (JournalState.CANCELLED, json.dumps([reason.to_json()]), _now(), str(key)),
                )
            return current

    def facts_key(self) -> bytes:
        """This journal's own key for the personal facts' digests (made by schema 2)."""
        row = self._db.execute("SELECT value FROM meta WHERE name = 'facts_key'").fetchone()
        return bytes(row[0])

    def record_gone(self, key: AnyKey, day: date) -> None:
        """Its dossier left the exports and this was reported on `day` (once: RULES 4.6)."""
        with self.transaction():
            self._db.execute(
                "UPDATE notifications SET gone_reported = ? WHERE key = ? AND gone_reported IS NULL",
                (day.isoformat(), str(key)),
            )

    def record_facts(self, key: AnyKey, facts: StoredFacts) -> None:
        """Keep the facts of `key`'s current file, read back from it (a row of an older
        version has none). Only where none are known: facts once kept never change."""
        with self.transaction():
            self._db.execute(
                "UPDATE notifications SET facts = ?, person_digest = ? WHERE key = ? AND facts IS NULL",
                (facts.case, facts.person_digest, str(key)),
            )

    # ------------------------------------------------------------------ delivery (exactly once)

    def begin_attempt(self, key: AnyKey) -> int:
        """Commit the intent to POST `key`'s written file (state `submitting` and an attempt
        row) and return the attempt id. Must be called, and return, before the POST."""
        with self.transaction():
            current = self._require(key)
            if current.state != JournalState.WRITTEN or current.aanleverkenmerk is None:
                raise StateConflict(f"{key} is {current.state}, not written: it cannot be submitted")
            now = _now()
            cursor = self._db.execute(
                "INSERT INTO attempts (key, aanleverkenmerk, file, sha256, started, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(key),
                    current.aanleverkenmerk,
                    str(current.file) if current.file else None,
                    current.sha256,
                    now,
                    AttemptOutcome.PENDING,
                ),
            )
            self._set_state(key, JournalState.SUBMITTING, reason=None, now=now)
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def _open_attempt(self, attempt_id: int, *allowed: AttemptOutcome) -> Attempt:
        found = self.attempt(attempt_id)
        if found is None:
            raise StateConflict(f"the journal has no attempt {attempt_id}")
        if found.outcome not in (allowed or (AttemptOutcome.PENDING,)):
            raise StateConflict(
                f"attempt {attempt_id} of {found.key} already ended as {found.outcome}; not recorded again"
            )
        return found

    def _finish_attempt(self, attempt_id: int, outcome: AttemptOutcome, now: str, **values: object) -> None:
        assignments = "".join(f", {column} = ?" for column in values)
        self._db.execute(
            f"UPDATE attempts SET outcome = ?, finished = ?{assignments} WHERE id = ?",
            (outcome, now, *values.values(), attempt_id),
        )

    def _set_state(self, key: AnyKey, state: JournalState, *, now: str, **values: object) -> None:
        assignments = "".join(f", {column} = ?" for column in values)
        self._db.execute(
            f"UPDATE notifications SET state = ?, updated = ?{assignments} WHERE key = ?",
            (state, now, *values.values(), str(key)),
        )

    def record_accepted(self, attempt_id: int, kenmerk: str, timestamp: datetime) -> None:
        """Digipoort answered with a kenmerk: the message is submitted. A late answer to an
        attempt already marked in doubt is accepted too (it resolves the doubt)."""
        with self.transaction():
            attempt = self._open_attempt(attempt_id, AttemptOutcome.PENDING, AttemptOutcome.IN_DOUBT)
            now = _now()
            self._finish_attempt(attempt_id, AttemptOutcome.ACCEPTED, now, kenmerk=kenmerk)
            self._set_state(
                attempt.key,
                JournalState.SUBMITTED,
                now=now,
                kenmerk=kenmerk,
                submitted=_utc(timestamp),
                reason=None,
            )
        if attempt.file is not None:
            write_receipt(attempt.file, kenmerk)

    def record_fault(self, attempt_id: int, foutcode: str, foutbeschrijving: str) -> None:
        """Digipoort refused the message synchronously (a SOAP fault): `rejected`."""
        with self.transaction():
            attempt = self._open_attempt(attempt_id)
            now = _now()
            foutcode, foutbeschrijving = fault_text(foutcode) or "", fault_text(foutbeschrijving) or ""
            self._finish_attempt(
                attempt_id, AttemptOutcome.FAULT, now, foutcode=foutcode, foutbeschrijving=foutbeschrijving
            )
            self._set_state(
                attempt.key, JournalState.REJECTED, now=now, reason=f"{foutcode}: {foutbeschrijving}"
            )

    def record_not_sent(self, attempt_id: int, reason: str) -> None:
        """The request never reached Digipoort (or reconciliation proved it did not arrive):
        back to `written`, safe to submit again."""
        with self.transaction():
            attempt = self._open_attempt(attempt_id, AttemptOutcome.PENDING, AttemptOutcome.IN_DOUBT)
            now = _now()
            self._finish_attempt(attempt_id, AttemptOutcome.NOT_SENT, now, reason=reason)
            self._set_state(attempt.key, JournalState.WRITTEN, now=now, reason=None)

    def record_in_doubt(self, attempt_id: int, reason: str) -> None:
        """The attempt got no answer: it may have arrived. Never resent blindly."""
        with self.transaction():
            attempt = self._open_attempt(attempt_id)
            now = _now()
            self._finish_attempt(attempt_id, AttemptOutcome.IN_DOUBT, now, reason=reason)
            self._set_state(attempt.key, JournalState.IN_DOUBT, now=now, reason=reason)

    def adopt_kenmerk(self, key: AnyKey, kenmerk: str, *, reason: str | None = None) -> None:
        """Reconciliation found the process of an in-doubt (or crashed, or parked) attempt.
        `reason` says who decided, when it was not uwvcli itself (kept on the attempt and shown
        with the notification)."""
        with self.transaction():
            current = self._require(key)
            if current.state not in IN_FLIGHT:
                raise StateConflict(f"{key} is {current.state}, not in doubt: no kenmerk to adopt")
            if self.knows_kenmerk(kenmerk):
                raise StateConflict(f"kenmerk {kenmerk} already belongs to a message; not adopted for {key}")
            now = _now()
            attempt_id = self._undecided_attempt(key)
            if attempt_id is not None:
                decided = {"reason": reason} if reason is not None else {}
                self._finish_attempt(attempt_id, AttemptOutcome.ADOPTED, now, kenmerk=kenmerk, **decided)
            self._set_state(key, JournalState.SUBMITTED, now=now, kenmerk=kenmerk, reason=reason)
        if current.file is not None:
            write_receipt(current.file, kenmerk)

    def _undecided_attempt(self, key: AnyKey) -> int | None:
        """The latest attempt of `key` that got no answer (pending or in doubt), if any."""
        row = self._db.execute(
            "SELECT id FROM attempts WHERE key = ? AND outcome IN (?, ?) ORDER BY id DESC LIMIT 1",
            (str(key), AttemptOutcome.PENDING, AttemptOutcome.IN_DOUBT),
        ).fetchone()
        return row[0] if row is not None else None

    def resolve_by_hand(self, key: AnyKey, *, kenmerk: str | None) -> Entry:
        """A person checked Digipoort's process list (with Logius or in the UWV portal) for a
        message uwvcli could not settle itself: `kenmerk` is the process that is this message, or
        None when it never arrived. The same transitions reconciliation makes (`adopt_kenmerk`:
        `submitted`; `record_not_sent`: back to `written`, its aanleverkenmerk unused), checked and
        made in one transaction, the decision kept on the attempt. Returns the entry as it was."""
        with self.transaction():
            current = self._require(key)
            if current.state not in RESOLVABLE:
                raise StateConflict(
                    f"{key} is {current.state}: only a parked or in-doubt message can be resolved by hand"
                )
            if kenmerk is None:
                attempt_id = self._undecided_attempt(key)
                if attempt_id is None:
                    raise StateConflict(f"{key} is {current.state} but has no unanswered attempt to settle")
                self.record_not_sent(attempt_id, "resolved by hand: not received")
                return current
            owner = self.kenmerk_owner(kenmerk)
            if owner is not None:
                whose = "an earlier attempt of this message" if owner == key else owner
                raise StateConflict(f"kenmerk {kenmerk} already belongs to {whose}; not adopted for {key}")
            self.adopt_kenmerk(key, kenmerk, reason=f"resolved by hand: received as {kenmerk}")
            return current

    def park(self, key: AnyKey, reason: str) -> None:
        """In doubt and not reconcilable: a person must look (listed by `status`, in the recap)."""
        with self.transaction():
            current = self._require(key)
            if current.state not in IN_FLIGHT:
                raise StateConflict(f"{key} is {current.state}, not in doubt: it cannot be parked")
            now = _now()
            self._db.execute(  # an attempt a crash left open ends here: in doubt, like the message
                "UPDATE attempts SET outcome = ?, finished = ?, reason = ? WHERE key = ? AND outcome = ?",
                (AttemptOutcome.IN_DOUBT, now, reason, str(key), AttemptOutcome.PENDING),
            )
            self._set_state(key, JournalState.PARKED, now=now, reason=reason)

    def record_refused(self, key: AnyKey, reason: str) -> None:
        """The outbox file failed verification before the POST: not sent."""
        with self.transaction():
            current = self._require(key)
            if current.state != JournalState.WRITTEN:
                raise StateConflict(f"{key} is {current.state}, not written: it cannot be refused")
            self._set_state(key, JournalState.REFUSED, now=_now(), reason=reason)

    def add_statuses(self, kenmerk: str, statuses: Iterable[StatusRecord]) -> int:
        """Store statuses of a process; one already stored is ignored. Returns how many are new."""
        now = _now()
        with self.transaction():
            added = 0
            for s in statuses:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO statuses (kenmerk, code, timestamp, description, foutcode, "
                    "foutbeschrijving, details, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        kenmerk,
                        s.code,
                        _utc(s.timestamp),
                        fault_text(s.description) or "",
                        s.foutcode,
                        fault_text(s.foutbeschrijving),
                        s.details,  # shown only through findings(), which redacts
                        now,
                    ),
                )
                added += cursor.rowcount
            return added

    def set_outcome(self, key: AnyKey, state: str) -> None:
        """What the statuses say about a submitted message (delivered, accepted, rejected, failed,
        or back to submitted). A no-op when nothing changes."""
        target = JournalState(state)
        if target not in OUTCOMES:
            raise StateConflict(f"{target} is not an outcome of a submitted message")
        with self.transaction():
            current = self._require(key)
            if current.state not in OUTCOMES or current.kenmerk is None:
                raise StateConflict(
                    f"{key} is {current.state} without a kenmerk: Digipoort has no process to judge"
                )
            if current.state != target:
                now = _now()
                self._set_state(key, target, now=now)
                if target == JournalState.ACCEPTED and isinstance(key, WithdrawalKey):
                    self._db.execute(  # UWV no longer holds that revision: it may be sent again
                        "UPDATE notifications SET state = ?, updated = ? WHERE key = ? AND revision = ? "
                        f"AND state IN ({_marks(SENT)})",
                        (JournalState.WITHDRAWN, now, str(key.withdraws), key.revision, *SENT),
                    )

    # ------------------------------------------------------------------ runs

    def start_run(self, run_date: date) -> int:
        with self.transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (run_date, started, pid) VALUES (?, ?, ?)",
                (run_date.isoformat(), _now(), os.getpid()),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def finish_run(self, run_id: int, exit_code: int) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE runs SET finished = ?, exit_code = ? WHERE id = ?", (_now(), exit_code, run_id)
            )

    def undecided_since(self, berichtsoort: str, loonheffingennummer: str) -> datetime | None:
        """When the earliest attempt of this sender that got no answer (pending or in doubt: its
        message is submitting, in doubt or parked) began; None when there is none."""
        row = self._db.execute(
            "SELECT min(a.started) FROM attempts a JOIN notifications n ON n.key = a.key "
            "WHERE a.outcome IN (?, ?) AND n.berichtsoort = ? AND n.loonheffingennummer = ?",
            (AttemptOutcome.PENDING, AttemptOutcome.IN_DOUBT, berichtsoort, loonheffingennummer),
        ).fetchone()
        return _moment(row[0])

    def record_recovery(self, *, adopted: int, parked: int, unsent: int, note: str) -> None:
        """`uwvcli recover` rebuilt the journal: what it decided, so the journal is no longer fresh
        (the lost-journal guard is disarmed by this person's decision, never by itself)."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO recoveries (started, adopted, parked, unsent, note) VALUES (?, ?, ?, ?, ?)",
                (_now(), adopted, parked, unsent, note),
            )

    def runs(self) -> list[Run]:
        rows = self._db.execute("SELECT id, run_date, started, finished, exit_code FROM runs ORDER BY id")
        return [
            Run(
                r["id"],
                date.fromisoformat(r["run_date"]),
                datetime.fromisoformat(r["started"]),
                _moment(r["finished"]),
                r["exit_code"],
            )
            for r in rows
        ]

    def last_run_date(self, *, up_to: date, ignore: Container[int] = ()) -> date | None:
        """The latest run date, not after `up_to`, of a run that did something: one that ended
        with an exit code other than `ignore` (unusable, locked: nothing was done), or did not
        end (killed). Later run dates are previews (a future date never submits)."""
        found = None
        for run in self.runs():
            if (
                run.run_date <= up_to
                and run.exit_code not in ignore
                and (found is None or run.run_date > found)
            ):
                found = run.run_date
        return found

    def record_export_rows(self, run_id: int, counts: Iterable[tuple[str, int, int]]) -> None:
        """(source, rows, unusable) of each export this run read."""
        with self.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO export_rows (run_id, source, rows, unusable) VALUES (?, ?, ?, ?)",
                [(run_id, source, rows, unusable) for source, rows, unusable in counts],
            )

    def previous_export_rows(self, run_id: int) -> dict[str, int]:
        """Rows per export file as the latest run before `run_id` that read the exports counted them."""
        row = self._db.execute("SELECT max(run_id) FROM export_rows WHERE run_id < ?", (run_id,)).fetchone()
        if row[0] is None:
            return {}
        rows = self._db.execute("SELECT source, rows FROM export_rows WHERE run_id = ?", (row[0],))
        return {r["source"]: r["rows"] for r in rows}

"""Builders shared by the delivery tests: real signed outbox files and real journal rows, and a
small in-memory Digipoort for the unit tests of the send loop (the end-to-end tests use the real
simulator over HTTPS instead)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from uwvcli.app.credentials import load_credentials
from uwvcli.digipoort.addresses import berichtsoort_for
from uwvcli.digipoort.client import (
    AanleverResult,
    DigipoortFault,
    InDoubt,
    NotDelivered,
    Process,
    ResponseNotTrusted,
)
from uwvcli.domain.keys import aanleverkenmerk, parse_key
from uwvcli.domain.models import (
    Config,
    DigipoortSettings,
    Notification,
    PathSettings,
    Sender,
    State,
    StatusRecord,
)
from uwvcli.messages.signing import Credentials, sign_document
from uwvcli.state.journal import Journal
from uwvcli.state.outbox import Outbox

LHNR = "123456782L01"
SENDER = Sender(name="Testverzender BV", role="Intermediair")


def make_config(folder: Path, *, environment: str = "simulator", timeout: float = 5.0) -> Config:
    return Config(
        source=folder / "uwvcli.yaml",
        sender=SENDER,
        digipoort=DigipoortSettings(environment=environment, timeout_seconds=timeout),
        paths=PathSettings(dossiers=(), outbox=folder / "outbox", state=folder / "state" / "uwvcli.sqlite"),
        mail=None,
        employers={},
    )


def test_credentials(state_dir: Path) -> Credentials:
    """The sender of the test PKI (generated once per folder)."""
    return load_credentials(SENDER, environment="simulator", state_dir=state_dir)


test_credentials.__test__ = False  # type: ignore[attr-defined]  # a builder, not a test


def notification(key: str, *, employee_id: str = "1001", due: date = date(2026, 11, 27)) -> Notification:
    parsed = parse_key(key)
    return Notification(
        key=parsed,
        kind=parsed.kind,
        employer_id=parsed.employer_id,
        employee_id=employee_id,
        dossier_id=parsed.dossier_id,
        variant=parsed.variant,
        due_date=due,
        deadline=due + timedelta(days=7),
        state=State.DUE,
    )


def record_placeholder(
    journal: Journal, key: str, *, revision: int = 1, employee_id: str = "1001", **extra: object
) -> None:
    """`key` written at `revision` as the journal records it, its file a placeholder that is not
    there: for tests of what reads the journal (status, history, the report)."""
    reference = aanleverkenmerk(parse_key(key), revision)
    journal.record_written(
        notification(key, employee_id=employee_id),
        file=Path(f"/nonexistent/{reference}.xml"),
        sha256="0" * 64,
        aanleverkenmerk=reference,
        revision=revision,
        loonheffingennummer=LHNR,
        berichtsoort="UWV_TEST",
        content_sha256="0" * 64,
        **extra,  # type: ignore[arg-type]
    )


def reference(key: str) -> str:
    """The aanleverkenmerk of the notification with this key text."""
    return aanleverkenmerk(parse_key(key))


def write_message(
    config: Config,
    journal: Journal,
    credentials: Credentials,
    key: str,
    *,
    body: bytes | None = None,
    employee_id: str = "1001",
    due: date = date(2026, 11, 27),
) -> Path:
    """Sign `body` (a stand-in message unless given), put it in the outbox, journal it as written."""
    n = notification(key, employee_id=employee_id, due=due)
    kenmerk = reference(key)
    payload = (
        body or f"<Bericht><BerichtkenmerkIndiener>{kenmerk}</BerichtkenmerkIndiener></Bericht>".encode()
    )
    path, sha = Outbox(config.paths.outbox).write(kenmerk, sign_document(payload, credentials))
    journal.record_written(
        n,
        file=path,
        sha256=sha,
        aanleverkenmerk=kenmerk,
        revision=1,
        loonheffingennummer=LHNR,
        berichtsoort=berichtsoort_for(config.digipoort, n.kind),
        content_sha256=sha,
    )
    return path


# ---------------------------------------------------------------- an in-memory Digipoort


def lifecycle(start: datetime, *final: tuple[str, str | None]) -> list[StatusRecord]:
    """105, 100, 110, 301, 405 and the given final statuses, one second apart."""
    codes: list[tuple[str, str | None]] = [
        ("105", None),
        ("100", None),
        ("110", None),
        ("301", None),
        ("405", None),
    ]
    return [
        StatusRecord(
            code=code,
            timestamp=start + timedelta(seconds=i),
            description=f"omschrijving {code}",
            foutcode=foutcode,
            foutbeschrijving=f"Digipoort zegt: {foutcode}" if foutcode else None,
        )
        for i, (code, foutcode) in enumerate([*codes, *final])
    ]


@dataclass
class FakeDigipoort:
    """Behaves like Digipoort towards the send loop: starts a process per arriving aanleveren (no
    deduplication), lists processes, returns histories. `script[aanleverkenmerk]` is a list of
    behaviours consumed one per POST: ok, fault, unreachable, drop (arrives, answer lost), lost
    (never arrives, no answer), untrusted (arrives, answer fails verification)."""

    clock: datetime = field(default_factory=lambda: datetime.now(UTC))  # Digipoort's clock
    script: dict[str, list[str]] = field(default_factory=dict)
    final: tuple[tuple[str, str | None], ...] = (("400", None), ("500", None))
    received: list[str] = field(default_factory=list)  # aanleverkenmerken, one per arrival
    processes: dict[str, tuple[str, str, list[StatusRecord]]] = field(default_factory=dict)
    status_calls: int = 0
    posts: int = 0  # aanleveren requests, arrived or not
    on_post: Callable[[], None] | None = None  # called as each aanleveren starts (in its worker thread)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start_process(self, berichtsoort: str, lhnr: str, reference: str, at: datetime | None = None) -> str:
        with self._lock:
            kenmerk = f"K{len(self.processes) + 1:05d}"
            self.processes[kenmerk] = (berichtsoort, lhnr, lifecycle(at or self.clock, *self.final))
            self.received.append(reference)
            return kenmerk

    def aanleveren(self, *, berichtsoort, aanleverkenmerk, loonheffingennummer, rol, bestandsnaam, inhoud):
        assert b"Signature" not in inhoud, "the signature must be removed before the POST"
        assert rol == SENDER.role
        if self.on_post is not None:
            self.on_post()
        with self._lock:
            self.posts += 1
            steps = self.script.get(aanleverkenmerk)
            behaviour = steps.pop(0) if steps else "ok"
        if behaviour == "unreachable":
            raise NotDelivered("connection refused")
        if behaviour == "lost":
            raise InDoubt("read timeout")
        if behaviour == "fault":
            raise DigipoortFault("ALS100", "Het bericht voldoet niet aan de koppelvlakspecificatie.")
        kenmerk = self.start_process(berichtsoort, loonheffingennummer, aanleverkenmerk)
        if behaviour == "drop":
            raise InDoubt("connection reset after the request was sent")
        if behaviour == "untrusted":
            raise ResponseNotTrusted("signature does not verify")
        return AanleverResult(kenmerk=kenmerk, timestamp=self.clock)

    def get_processen(self, berichtsoort: str, loonheffingennummer: str) -> list[Process]:
        return [
            Process(kenmerk, b, lhnr, "LHnr")
            for kenmerk, (b, lhnr, _) in self.processes.items()
            if (b, lhnr) == (berichtsoort, loonheffingennummer)
        ]

    def get_statussen_proces(self, kenmerk: str) -> list[StatusRecord]:
        with self._lock:
            self.status_calls += 1
        if kenmerk not in self.processes:
            raise DigipoortFault("STS100", "onbekend kenmerk", operation="getStatussenProces")
        return list(self.processes[kenmerk][2])

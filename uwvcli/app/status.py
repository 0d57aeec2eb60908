"""`uwvcli status` as one use case: one row per notification the journal knows — its state, its
Digipoort references and the last status Digipoort reported, with its meaning.

Reads the journal only; never creates it, never contacts Digipoort. No personal data: a
notification is shown by its employer, personnel number, dossier and kind."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from uwvcli.digipoort.findings import findings
from uwvcli.domain.models import Config, Kind, StatusRecord
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK
from uwvcli.state.journal import Entry, Journal, JournalState

#: The stable field names of `--format json` and `--format csv` (documented in docs/delivery.md).
FIELDS = (
    "key",
    "employer_id",
    "employee_id",
    "dossier_id",
    "kind",
    "due_date",
    "deadline",
    "state",
    "aanleverkenmerk",
    "kenmerk",
    "submitted_at",
    "status_code",
    "status_at",
    "status_meaning",
    "status_text",
    "foutcode",
    "foutbeschrijving",
    "reason",
    "updated_at",
    "findings",
)

#: States a person has to act on (exit code 1).
ATTENTION = frozenset(
    {
        JournalState.BLOCKED,
        JournalState.IN_DOUBT,
        JournalState.PARKED,
        JournalState.REJECTED,
        JournalState.FAILED,
        JournalState.REFUSED,
    }
)


def overview(
    config: Config,
    *,
    employer_id: str | None = None,
    state: str | None = None,
    kind: Kind | None = None,
    since: date | None = None,
) -> list[dict[str, Any]]:
    """One row per notification, in the journal's order (due date, key). A state database that
    does not exist yet means nothing was done yet: an empty list, and no file is created."""
    if not config.paths.state.exists():
        return []
    with Journal.open(config.paths.state) as journal:
        entries = journal.entries(state=state, employer_id=employer_id, kind=kind, since=since)
        return [
            status_row(entry, last_status(journal.status_history(entry.kenmerk)) if entry.kenmerk else None)
            for entry in entries
        ]


def last_status(history: Iterable[StatusRecord]) -> StatusRecord | None:
    ordered = sorted(history, key=lambda s: s.timestamp)
    return ordered[-1] if ordered else None


def status_row(entry: Entry, last: StatusRecord | None) -> dict[str, Any]:
    """One notification as `status` lists it (`FIELDS`); `status KEY` shows it as `current`."""
    from uwvcli.digipoort import codes

    return {
        "key": str(entry.key),
        "employer_id": entry.employer_id,
        "employee_id": entry.employee_id,
        "dossier_id": entry.dossier_id,
        "kind": str(entry.kind),
        "due_date": entry.due_date.isoformat(),
        "deadline": entry.deadline.isoformat() if entry.deadline else None,
        "state": str(entry.state),
        "aanleverkenmerk": entry.aanleverkenmerk,
        "kenmerk": entry.kenmerk,
        "submitted_at": entry.submitted.isoformat() if entry.submitted else None,
        "status_code": last.code if last else None,
        "status_at": last.timestamp.isoformat() if last else None,
        "status_meaning": codes.describe(last.code, last.foutcode) if last else None,
        "status_text": last.description if last else None,
        "foutcode": last.foutcode if last else None,
        "foutbeschrijving": last.foutbeschrijving if last else None,
        "reason": entry.reason
        or ("; ".join(map(str, entry.problems)) if entry.problems else None)
        or gone_note(entry),
        "updated_at": entry.updated.isoformat(),
        "findings": findings(last.details) if last else [],
    }


def gone_note(entry: Entry) -> str | None:
    """RULES 4.6: a submitted notification whose dossier left the exports says so here too."""
    if entry.gone_reported is None:
        return None
    return (
        f"sent, and its dossier is no longer in the export (noticed {entry.gone_reported.isoformat()}): "
        f"if it was entered by mistake, withdraw it with `uwvcli withdraw {entry.key}`"
    )


def exit_code(rows: Iterable[dict[str, Any]]) -> int:
    """CONTRACT §1: 1 when a listed notification needs a person (`ATTENTION`), else 0."""
    return EXIT_ATTENTION if any(row["state"] in ATTENTION for row in rows) else EXIT_OK

"""`uwvcli explain --kenmerk` as a use case: one message's status history from the journal, with
the outcome it amounts to. (Explaining codes needs no use case: `digipoort.codes` is the table.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from uwvcli.digipoort import codes
from uwvcli.domain.models import Config, StatusRecord
from uwvcli.state.journal import Entry, Journal


@dataclass(frozen=True)
class History:
    kenmerk: str
    journal: Path  # the state database that was read (named when it knows nothing)
    entry: Entry | None = None  # the notification the kenmerk belongs to, when the journal knows it
    statuses: list[StatusRecord] = field(default_factory=list)

    @property
    def all_known(self) -> bool:
        """There is a history and every code in it is in uwvcli's table."""
        return bool(self.statuses) and all(
            codes.explain(code).known
            for status in self.statuses
            for code in (status.code, status.foutcode)
            if code
        )


def history(config: Config, kenmerk: str) -> History:
    """The statuses the journal holds for `kenmerk`, oldest first; looking never creates a journal."""
    state_path = config.paths.state
    if not state_path.exists():
        return History(kenmerk, state_path)
    with Journal.open(state_path) as journal:
        statuses = journal.status_history(kenmerk)
        entry = next((e for e in journal.entries() if e.kenmerk == kenmerk), None)
    return History(kenmerk, state_path, entry, statuses)


def latest_outcome(statuses: list[StatusRecord]) -> tuple[str | None, StatusRecord | None]:
    """What the latest decisive status says, as the delivery loop reads a history: a final
    outcome, `delivered` after a 400 without a verdict yet, or None while nothing is decided;
    with the status that decided it."""
    for status in reversed(statuses):
        decided = codes.outcome(status.code, status.foutcode)
        if decided is not None:
            return decided, status
    return None, None

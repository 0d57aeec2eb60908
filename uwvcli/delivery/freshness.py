"""Is the journal as new as what Digipoort has? A journal restored from an old backup does not
know what was sent after the backup, and would send all of it again. Digipoort knows: before the
first submission for a sender (a berichtsoort and loonheffingennummer) in a run, its process list
is compared with the journal. A process the journal does not know, newer than the journal's last
submission, stops that sender: the journal is older than the truth (docs/state.md, "A restored
backup"). An unknown process that an unanswered attempt of that sender may explain is left to
reconciliation (in doubt or parked), which already keeps it from being sent twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from uwvcli.domain.models import StatusRecord
from uwvcli.errors import UwvcliError

if TYPE_CHECKING:
    from uwvcli.digipoort.soap import Process
    from uwvcli.state.journal import Entry, Journal

STALE = (
    "the journal is older than what Digipoort has: restore the newest backup of the state database "
    "or run `uwvcli recover`"
)


class _Lister(Protocol):
    def get_processen(self, berichtsoort: str, loonheffingennummer: str) -> list[Process]: ...
    def get_statussen_proces(self, kenmerk: str) -> list[StatusRecord]: ...


def newer_unknown(
    listed: dict[str, datetime | None],
    since: datetime | None,
    explained_from: datetime | None,
) -> list[str]:
    """The unknown processes (kenmerk → first status, None when undatable) that show the journal
    is behind: newer than its last submission `since`, and not from `explained_from` on (the start
    of an unanswered attempt of the sender, clock skew included). Undatable ones count: when
    unsure, never send."""
    if since is None:
        return []
    return sorted(
        kenmerk
        for kenmerk, first in listed.items()
        if first is None or (first > since and (explained_from is None or first < explained_from))
    )


class Freshness:
    """One verdict per sender per send loop: None (go on) or why its messages are not sent."""

    def __init__(self, journal: Journal, client: _Lister, *, clock_skew: timedelta):
        self.journal = journal
        self.client = client
        self.clock_skew = clock_skew
        self._verdicts: dict[tuple[str, str], str | None] = {}

    def verdict(self, entry: Entry) -> str | None:
        if not entry.berichtsoort or not entry.loonheffingennummer:
            return None  # begin_attempt and the POST refuse such an entry themselves
        sender = (entry.berichtsoort, entry.loonheffingennummer)
        if sender not in self._verdicts:
            self._verdicts[sender] = self._compare(*sender)
        return self._verdicts[sender]

    def _compare(self, berichtsoort: str, loonheffingennummer: str) -> str | None:
        since = self.journal.last_submission()
        if since is None:
            return None
        try:
            listed = {
                p.kenmerk: _first_seen(self.client.get_statussen_proces(p.kenmerk))
                for p in self.client.get_processen(berichtsoort, loonheffingennummer)
                if not self.journal.knows_kenmerk(p.kenmerk)
            }
        except UwvcliError as error:
            return (
                f"not sent: Digipoort's process list could not be compared with the journal ({error}); "
                "goes on the next run"
            )
        undecided = self.journal.undecided_since(berichtsoort, loonheffingennummer)
        explained_from = undecided - self.clock_skew if undecided is not None else None
        unknown = newer_unknown(listed, since, explained_from)
        if not unknown:
            return None
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        return (
            f"not sent: Digipoort has {len(unknown)} process(es) for {berichtsoort} {loonheffingennummer} "
            f"newer than the journal's last submission that the journal does not know ({shown}): {STALE}"
        )


def _first_seen(history: list[StatusRecord]) -> datetime | None:
    return min((s.timestamp for s in history), default=None)

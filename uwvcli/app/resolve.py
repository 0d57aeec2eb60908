"""`uwvcli resolve` as one use case: record a person's answer for a parked (or in-doubt) message —
"received, as process K" or "never received" — through the journal, with the same transitions
reconciliation itself makes (`Journal.resolve_by_hand`), under the run lock. Never contacts
Digipoort."""

from __future__ import annotations

from dataclasses import dataclass

from uwvcli.app.recovery import evidence, open_journal
from uwvcli.domain.keys import AnyKey
from uwvcli.domain.models import Config
from uwvcli.errors import UwvcliError
from uwvcli.state.journal import Entry, StateConflict, earlier_work
from uwvcli.state.locking import run_lock

#: Pointed to by every refusal: where the keys and kenmerken to resolve are listed.
_WHERE_TO_LOOK = "`uwvcli status --state parked` lists the messages that wait for a decision"


@dataclass(frozen=True)
class Resolution:
    before: Entry
    after: Entry


def resolve(config: Config, key: AnyKey, *, kenmerk: str | None) -> Resolution:
    """Adopt `kenmerk` as the message's Digipoort process, or (None) mark it never received so the
    next run submits it once. Raises UwvcliError (exit 2) when nothing could be changed."""
    if (
        not config.paths.state.exists() and earlier_work(evidence(config)) is None
    ):  # else: the journal is lost
        raise UwvcliError(
            f"{config.paths.state}: there is no state database yet, so nothing to resolve; "
            f"check paths.state in {config.source}"
        )
    with run_lock(config.paths.state), open_journal(config) as journal:
        try:
            before = journal.resolve_by_hand(key, kenmerk=kenmerk)
        except StateConflict as conflict:
            raise UwvcliError(f"{conflict}. Nothing was changed; {_WHERE_TO_LOOK}") from None
        after = journal.entry(key)
    assert after is not None
    return Resolution(before, after)

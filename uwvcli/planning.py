"""From configuration and exports to the notifications of a run date: the one place where the
inputs meet the rules, so `due`, `check` and `run` see exactly the same thing.

Built for a million rows: the exports are loaded as records (tuples), the rules' pre-filter
(`rules.relevant`) keeps the employees that can yield anything on the run date, and only their
dossiers become `Dossier` objects and go through the rules. `Plan.dossiers` builds the others
only when asked for them (`run`'s message builder asks for a few; `due` for none)."""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from uwvcli import exports, rules
from uwvcli.exports import DossierRecord
from uwvcli.models import Config, Dossier, InputError, Notification

_DOSSIER_ID = exports.FIELD_POSITIONS["dossier_id"]


@dataclass(frozen=True)
class Plan:
    run_date: date
    notifications: list[Notification]
    already_sent: list[Notification]
    handover: list[Notification]
    input_errors: list[InputError]
    dossiers: Mapping[str, Dossier] = field(repr=False)


class DossiersById(Mapping[str, Dossier]):
    """Every usable dossier by dossier_id, made a `Dossier` on first use. Its index over a
    million records is only built when a dossier is looked up (counting needs none)."""

    def __init__(self, records: Sequence[DossierRecord]):
        self._records = records
        self._index: dict[str, DossierRecord] | None = None
        self._built: dict[str, Dossier] = {}

    def _by_id(self) -> dict[str, DossierRecord]:
        if self._index is None:
            self._index = {record[_DOSSIER_ID]: record for record in self._records}
        return self._index

    def __getitem__(self, dossier_id: str) -> Dossier:
        found = self._built.get(dossier_id)
        if found is None:
            found = self._built[dossier_id] = Dossier(*self._by_id()[dossier_id])
        return found

    def __contains__(self, dossier_id: object) -> bool:
        return dossier_id in self._by_id()

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id())

    def __len__(self) -> int:
        return len(self._records)  # dossier ids are unique: the loader drops every duplicate


def plan(
    config: Config, run_date: date, *, horizon: int = 0, sent_keys: Container[str] = frozenset()
) -> Plan:
    """Load every export named in the configuration and evaluate the rules on `run_date`."""
    records, export_errors = exports.load_records(
        config.paths.dossiers, config.employers, display_base=config.source.parent
    )
    dossiers = exports.to_dossiers(rules.relevant(config.employers, records, run_date))
    evaluation = rules.evaluate(config.employers, dossiers, run_date, horizon=horizon, sent_keys=sent_keys)
    return Plan(
        run_date=run_date,
        notifications=evaluation.notifications,
        already_sent=evaluation.already_sent,
        handover=evaluation.handover,
        input_errors=sorted(
            [*export_errors, *evaluation.input_errors],
            key=lambda e: (e.source, e.line if e.line is not None else -1),
        ),
        dossiers=DossiersById(records),
    )

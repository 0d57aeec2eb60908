"""From configuration and exports to the notifications of a run date: the one place where the
inputs meet the rules, so `due`, `check` and `run` see exactly the same thing.

Built for a million rows: the exports are loaded as a table of columns, the rules' pre-filter
(`prefilter.relevant`) keeps the employees that can yield anything on the run date, and only their
dossiers become `Dossier` objects and go through the rules. `Plan.dossiers` builds the others
only when asked for them (`run`'s message builder asks for a few; `due` for none)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from uwvcli.domain import prefilter, rules
from uwvcli.domain.keys import AnyKey
from uwvcli.domain.models import Config, Dossier, InputError, Notification
from uwvcli.inputs import exports
from uwvcli.inputs.exports import DossierTable


@dataclass(frozen=True, slots=True)
class ExportRows:
    """How many data rows one export file had, and how many of them could not be used: an export
    with none, or with none usable, is a broken HR export job, not a quiet day."""

    source: str  # the file as the user named it (relative to the configuration)
    rows: int
    unusable: int

    @property
    def usable(self) -> int:
        return self.rows - self.unusable


def export_warnings(
    counts: Sequence[ExportRows], previous: Mapping[str, int] | None = None
) -> list[tuple[str, str]]:
    """(file, what to look at) in the exports' row counts: an export without rows, one whose rows
    all fail, and (given the previous run's `previous` counts) one that shrank to less than half —
    each a sign that the HR export job broke, which a quiet run would hide."""
    found = []
    for count in counts:
        before = (previous or {}).get(count.source)
        if count.rows == 0:
            problem = (
                "the export has no rows (a header only, or nothing): check the HR export job that writes it"
            )
        elif count.usable == 0:
            problem = (
                f"none of its {count.rows} row(s) could be used: check the HR export job that writes it "
                "(the row errors say what is wrong)"
            )
        elif before is not None and count.rows * 2 < before:
            problem = (
                f"{count.rows} row(s), fewer than half of the {before} of the previous run: check that "
                "the HR export job wrote the whole export"
            )
        else:
            continue
        found.append((count.source, problem))
    return found


@dataclass(frozen=True)
class Plan:
    run_date: date
    notifications: list[Notification]
    already_sent: list[Notification]
    handover: list[Notification]
    input_errors: list[InputError]
    dossiers: Mapping[str, Dossier] = field(repr=False)
    warnings: list[InputError] = field(default_factory=list)  # rows used, but a field is ignored
    export_rows: tuple[ExportRows, ...] = ()  # per configured export, in the configuration's order


class DossiersById(Mapping[str, Dossier]):
    """Every usable dossier by dossier_id, made a `Dossier` when asked for. The index over a
    million rows is only built on the first look-up (counting needs none)."""

    def __init__(self, table: DossierTable):
        self._table = table
        self._positions: dict[str, int] | None = None
        self._built: dict[str, Dossier] = {}

    def _index(self) -> dict[str, int]:
        if self._positions is None:
            self._positions = self._table.positions()
        return self._positions

    def __getitem__(self, dossier_id: str) -> Dossier:
        found = self._built.get(dossier_id)
        if found is None:
            found = self._built[dossier_id] = self._table.dossier(self._index()[dossier_id])
        return found

    def __contains__(self, dossier_id: object) -> bool:
        return dossier_id in self._index()

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._table)


def plan(
    config: Config,
    run_date: date,
    *,
    horizon: int = 0,
    sent_keys: Container[AnyKey] = frozenset(),
    names: bool = True,
) -> Plan:
    """Load every export named in the configuration and evaluate the rules on `run_date`.
    `names=False` for a preview: the rules and the previews never use the employees' names
    (exports.NAMES), only the UWV message does, so `due` and `check` do not read them."""
    table, export_errors = exports.load_table(
        config.paths.dossiers, config.employers, display_base=config.source.parent, names=names
    )
    keep = prefilter.relevant(config.employers, table.column, run_date, horizon=horizon)
    dossiers = table.dossiers(keep)
    evaluation = rules.evaluate(config.employers, dossiers, run_date, horizon=horizon, sent_keys=sent_keys)
    input_errors = sorted(
        [*export_errors, *evaluation.input_errors],
        key=lambda e: (e.source, e.line if e.line is not None else -1),
    )
    return Plan(
        run_date=run_date,
        notifications=evaluation.notifications,
        already_sent=evaluation.already_sent,
        handover=evaluation.handover,
        input_errors=input_errors,
        dossiers=DossiersById(table),
        warnings=[*table.ignored_fields(), *table.invalid_emails()],
        export_rows=count_rows(config, table, export_errors, evaluation.input_errors),
    )


def count_rows(
    config: Config, table: DossierTable, errors: Sequence[InputError], kept_with_errors: Sequence[InputError]
) -> tuple[ExportRows, ...]:
    """Per configured export: its rows and how many of them cannot be used (each row once, however
    many problems it has). `errors` are rows the table left out; `kept_with_errors` are problems
    found across rows, whose rows the table holds and which count as unusable too."""
    sources = table.column("source")
    usable = Counter(sources)
    flagged = {(e.source, e.line) for e in kept_with_errors if e.line is not None}
    if flagged:  # rare: only then is every row's line looked at
        inside = {row for row in zip(sources, table.column("line"), strict=True) if row in flagged}
        usable.subtract(source for source, _ in inside)
    left_out = {(e.source, e.line) for e in errors if e.line is not None}
    unusable = Counter(source for source, _ in left_out | flagged)
    found = []
    for path in config.paths.dossiers:
        source = exports.display_name(path, config.source.parent)
        found.append(ExportRows(source, usable[source] + unusable[source], unusable[source]))
    return tuple(found)

"""From configuration and exports to the notifications of a run date: the one place where the
inputs meet the rules, so `due`, `check` and `run` see exactly the same thing."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import date

from uwvcli import exports, rules
from uwvcli.models import Config, Dossier, InputError, Notification


@dataclass(frozen=True)
class Plan:
    run_date: date
    notifications: list[Notification]
    already_sent: list[Notification]
    handover: list[Notification]
    input_errors: list[InputError]
    dossiers: Mapping[str, Dossier] = field(repr=False)


def plan(
    config: Config, run_date: date, *, horizon: int = 0, sent_keys: Container[str] = frozenset()
) -> Plan:
    """Load every export named in the configuration and evaluate the rules on `run_date`."""
    dossiers, export_errors = exports.load_dossiers(
        config.paths.dossiers, config.employers, display_base=config.source.parent
    )
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
        dossiers={d.dossier_id: d for d in dossiers},
    )

"""`uwvcli due` as one use case: the preview payroll staff use — what is due, late or blocked on a
date, and what comes up within the horizon. Changes nothing, creates no state."""

from __future__ import annotations

from datetime import date

from uwvcli.app import planning
from uwvcli.app.planning import Plan
from uwvcli.domain.keys import NotificationKey
from uwvcli.domain.models import Config, State
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK


def preview(config: Config, day: date, *, horizon: int) -> Plan:
    """The plan for `day` (no names: the preview shows ids only), knowing what was already sent."""
    return planning.plan(config, day, horizon=horizon, sent_keys=sent_keys_for_preview(config), names=False)


def sent_keys_for_preview(config: Config) -> frozenset[NotificationKey]:
    """Keys already sent, from the journal when there is one; a preview never creates state."""
    if not config.paths.state.exists():
        return frozenset()
    from uwvcli.state.journal import Journal

    with Journal.open(config.paths.state) as journal:
        return frozenset(journal.sent_keys())


def exit_code(plan: Plan) -> int:
    """CONTRACT §1: 1 when something needs attention — a blocked or late notification, or an
    export row that could not be read — else 0."""
    needs_attention = plan.input_errors or any(
        n.state in (State.BLOCKED, State.LATE) for n in plan.notifications
    )
    return EXIT_ATTENTION if needs_attention else EXIT_OK

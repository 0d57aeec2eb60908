"""`uwvcli due` as one use case: the preview payroll staff use — what is due, late or blocked on a
date, and what comes up within the horizon. Changes nothing, creates no state."""

from __future__ import annotations

from datetime import date

from uwvcli.app import planning
from uwvcli.app.planning import Plan
from uwvcli.domain.models import Config, State
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK


def preview(config: Config, day: date, *, horizon: int) -> Plan:
    """The plan for `day` (no names: the preview shows ids only), knowing what was already sent:
    from the journal when there is one (asked per key, never read whole); a preview never
    creates state."""
    if not config.paths.state.exists():
        return planning.plan(config, day, horizon=horizon, names=False)
    from uwvcli.state.journal import Journal

    with Journal.open(config.paths.state) as journal:
        return planning.plan(config, day, horizon=horizon, sent_keys=journal.sent_lookup(), names=False)


def exit_code(plan: Plan) -> int:
    """CONTRACT §1: 1 when something needs attention — a blocked or late notification, or an
    export row that could not be read — else 0."""
    needs_attention = plan.input_errors or any(
        n.state in (State.BLOCKED, State.LATE) for n in plan.notifications
    )
    return EXIT_ATTENTION if needs_attention else EXIT_OK

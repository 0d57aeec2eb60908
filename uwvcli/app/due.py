"""`uwvcli due` as one use case: the preview payroll staff use — what is due, late or blocked on a
date, and what comes up within the horizon. Changes nothing, creates no state."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from uwvcli.app import planning
from uwvcli.app.planning import Plan
from uwvcli.domain.keys import AnyKey
from uwvcli.domain.models import Config, Notification, State
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK


def preview(config: Config, day: date, *, horizon: int) -> Plan:
    """The plan for `day` (no names: the preview shows ids only), knowing what was already sent,
    with the withdrawals (RULES 4.6) waiting in the outbox first (CONTRACT §4 `action`)."""
    sent, withdrawals = _from_journal(config, day)
    plan = planning.plan(config, day, horizon=horizon, sent_keys=sent, names=False)
    return replace(plan, notifications=[*withdrawals, *plan.notifications]) if withdrawals else plan


def _from_journal(config: Config, day: date | None) -> tuple[frozenset[AnyKey], list[Notification]]:
    """What was sent, and the withdrawals written but not yet submitted (none without a journal)."""
    if not config.paths.state.exists():
        return frozenset(), []
    from uwvcli.state.journal import Journal, JournalState

    with Journal.open(config.paths.state) as journal:
        sent = frozenset(journal.sent_keys())
        if day is None:
            return sent, []
        unsent = journal.entries(state=(JournalState.WRITTEN, JournalState.BLOCKED, JournalState.REFUSED))
    withdrawals = [
        Notification(
            key=e.key,
            kind=e.kind,
            employer_id=e.employer_id,
            employee_id=e.employee_id,
            dossier_id=e.dossier_id,
            due_date=e.due_date,
            deadline=e.deadline,
            state=State.LATE if e.deadline is not None and day > e.deadline else State.DUE,
            variant=e.variant,
        )
        for e in unsent
        if e.is_withdrawal
    ]
    return sent, withdrawals


def exit_code(plan: Plan) -> int:
    """CONTRACT §1: 1 when something needs attention — a blocked or late notification, or an
    export row that could not be read — else 0."""
    needs_attention = plan.input_errors or any(
        n.state in (State.BLOCKED, State.LATE) for n in plan.notifications
    )
    return EXIT_ATTENTION if needs_attention else EXIT_OK

"""`uwvcli due` as one use case: the preview payroll staff use — what is due, late or blocked on a
date, and what comes up within the horizon. Changes nothing, creates no state.

With a journal, the preview also lists the withdrawals (RULES 4.6, CONTRACT §4 `action`): those
written and waiting in the outbox, and those the next `run` on that date would write — decided
by the run's own correction pass (`app.correction.decide`), which reads and never writes — each
with the replacement that follows it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from uwvcli.app import planning
from uwvcli.app.planning import Plan
from uwvcli.domain import problems
from uwvcli.domain.keys import WithdrawalKey
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Config, Notification, State
from uwvcli.domain.ordering import sending_order
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK

if TYPE_CHECKING:
    from uwvcli.state.journal import Journal


def preview(config: Config, day: date, *, horizon: int) -> Plan:
    """The plan for `day` (no names: the preview shows ids only), knowing what was already sent,
    with the withdrawals (RULES 4.6) first: those in the outbox and those the run would decide,
    then their replacements, then the rest (CONTRACT §4 `action`)."""
    if not config.paths.state.exists():
        return planning.plan(config, day, horizon=horizon, names=False)
    from uwvcli.state.journal import Journal  # the journal and the correction pass: only when there is one

    with Journal.open(config.paths.state) as journal:
        plan = planning.plan(config, day, horizon=horizon, sent_keys=journal.sent_lookup(), names=False)
        listed = _withdrawals(config, plan, journal, day)
    return replace(plan, notifications=[*listed, *plan.notifications]) if listed else plan


def _withdrawals(config: Config, plan: Plan, journal: Journal, day: date) -> list[Notification]:
    """What a run on `day` withdraws, in sending order: the withdrawals written and not yet
    submitted, those it decides (`correction.decide`, as the run calls it), those the safety brake
    would hold or whose sent file is unusable (blocked, with the run's words for it); then the
    replacement of each that the rules still produce: upcoming, as it goes once UWV has accepted
    the withdrawal (RULES 4.6), on the withdrawal's dates."""
    from uwvcli.app import correction  # builds messages: imported only with a journal

    entries = correction.known_entries(journal, plan, day)
    written = [
        e.as_notification(day) for e in entries.values() if e.is_withdrawal and e.state in correction.UNSENT
    ]
    decided = correction.decide(config, plan, entries, journal, Path.read_bytes, day, allow=False)
    braked = [
        replace(
            w.notification,
            state=State.BLOCKED,
            problems=(problems.withdrawals_braked(w.entry.employer_id, decided.braked[w.entry.employer_id]),),
        )
        for w in decided.held
    ]
    unusable = [
        replace(w.notification, state=State.BLOCKED, problems=(problems.cannot_withdraw(why),))
        for w, why in decided.cannot
    ]
    withdrawals = [*written, *(w.notification for w in decided.withdraw)]
    produced = {n.key: n for n in plan.already_sent}
    replacements = []
    for w in withdrawals:
        assert isinstance(w.key, WithdrawalKey)
        again = produced.get(w.key.withdraws)
        if again is None:
            continue  # withdrawn, nothing replaces it
        if again.state is not State.BLOCKED:  # sent once UWV accepted the withdrawal (RULES 4.6)
            waits = problems.waits_for(w.key, kind_label(w.kind, w.variant), w.dossier_id)
            again = replace(
                again,
                due_date=w.due_date,
                deadline=w.deadline,
                state=State.UPCOMING,
                problems=(waits,),
                waits_for=w.key,
            )
        replacements.append(again)
    return [*sending_order(withdrawals), *sending_order([*braked, *unusable]), *sending_order(replacements)]


def exit_code(plan: Plan) -> int:
    """CONTRACT §1: 1 when something needs attention — a blocked or late notification, or an
    export row that could not be read — else 0."""
    needs_attention = plan.input_errors or any(
        n.state in (State.BLOCKED, State.LATE) for n in plan.notifications
    )
    return EXIT_ATTENTION if needs_attention else EXIT_OK

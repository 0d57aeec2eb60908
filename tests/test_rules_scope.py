"""Scope, states, predecessors, werkhervattingen, overlaps and order (RULES §4.2, §5, §6, §8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rules_builders import employer, listed, run, ziekte, zwangerschap

from uwvcli.domain.models import Kind, State

ZM = "WG001/Z1/zw-ziekmelding"
PARTIAL = "WG001/Z1/werkhervatting/partial"
FULL = "WG001/Z1/werkhervatting/full"


def zw_sick(**fields: object):
    return ziekte("Z1", fields.pop("first_sick_day", date(2026, 3, 2)), vangnet_status="no_risk", **fields)


# ---------------------------------------------------------------- scope (RULES §5)


def test_nothing_is_in_scope_for_an_inactive_link_or_before_the_start_date() -> None:
    sick = zw_sick()
    assert run(sick, on=date(2026, 3, 2), found=(employer(active=False),)).notifications == []
    assert run(sick, on=date(2026, 3, 2), found=(employer(start_date=None),)).notifications == []
    later = employer(start_date=date(2026, 3, 3))  # the link goes live after the run date
    evaluation = run(sick, on=date(2026, 3, 2), found=(later,))
    assert evaluation.notifications == []


def test_an_unknown_employer_is_left_to_the_export_check() -> None:
    stranger = ziekte("Z1", date(2026, 3, 2), vangnet_status="no_risk", employer_id="WG999")
    evaluation = run(stranger, on=date(2026, 3, 2))
    assert (evaluation.notifications, evaluation.input_errors) == ([], [])


def test_a_disabled_kind_is_not_produced() -> None:
    sick = zw_sick(recovery_date=date(2026, 3, 20))
    only_werkhervatting_off = employer(disabled=(Kind.WERKHERVATTING,))
    assert list(listed(run(sick, on=date(2026, 3, 20), found=(only_werkhervatting_off,)))) == [ZM]
    # An employer who reports the sickness by hand reports the recovery by hand too.
    ziekmelding_off = employer(disabled=(Kind.ZW_ZIEKMELDING,))
    assert run(sick, on=date(2026, 3, 20), found=(ziekmelding_off,)).notifications == []


def test_what_was_due_before_the_start_date_is_handover_when_still_on_time_then() -> None:
    sick = zw_sick(first_sick_day=date(2026, 2, 20), recovery_date=date(2026, 3, 9))
    go_live = employer(start_date=date(2026, 3, 1))
    evaluation = run(sick, on=date(2026, 3, 10), found=(go_live,))
    assert [str(n.key) for n in evaluation.handover] == [ZM]  # deadline shift(2026-04-03) ≥ start
    assert list(listed(evaluation)) == [FULL]  # a later notification of an older dossier: ours
    assert listed(evaluation)[FULL].problems == ()  # a predecessor out of scope holds nothing up


def test_what_was_due_and_overdue_before_the_start_date_is_not_ours_at_all() -> None:
    old = ziekte("Z1", date(2025, 12, 1), sick_reason="bevalling")  # deadline 2025-12-04
    evaluation = run(old, on=date(2026, 3, 10), found=(employer(start_date=date(2026, 1, 1)),))
    assert (evaluation.notifications, evaluation.handover) == ([], [])


def test_handover_is_listed_before_go_live_too() -> None:
    sick = zw_sick(first_sick_day=date(2026, 2, 20))
    evaluation = run(sick, on=date(2026, 2, 25), found=(employer(start_date=date(2026, 3, 1)),))
    assert [str(n.key) for n in evaluation.handover] == [ZM]
    assert evaluation.notifications == []


# ---------------------------------------------------------------- states (RULES §6)


def test_state_follows_the_deadline() -> None:
    sick = ziekte("Z1", date(2026, 3, 2), sick_reason="bevalling")  # deadline 2026-03-05
    assert listed(run(sick, on=date(2026, 3, 5)))[ZM].state is State.DUE
    assert listed(run(sick, on=date(2026, 3, 6)))[ZM].state is State.LATE


def test_blocked_wins_over_late() -> None:
    sick = ziekte("Z1", date(2026, 3, 2), sick_reason="bevalling", bsn=None)
    report = listed(run(sick, on=date(2026, 4, 1)))[ZM]
    assert report.state is State.BLOCKED
    (problem,) = report.problems
    assert str(problem) == "BSN is missing: add it to the employee in the HR system (export field bsn)"


def test_upcoming_only_within_the_horizon_and_with_its_problems_filled_in() -> None:
    sick = zw_sick(first_sick_day=date(2026, 3, 10), birth_date=None)
    assert run(sick, on=date(2026, 3, 2)).notifications == []
    assert run(sick, on=date(2026, 3, 2), horizon=7).notifications == []
    upcoming = listed(run(sick, on=date(2026, 3, 2), horizon=8))[ZM]
    assert upcoming.state is State.UPCOMING
    assert len(upcoming.problems) == 1 and "birth date is missing" in str(upcoming.problems[0])


def test_sent_keys_are_not_listed_again_but_reported_as_already_sent() -> None:
    sick = zw_sick()
    evaluation = run(sick, on=date(2026, 3, 3), sent_keys={ZM})
    assert evaluation.notifications == []
    assert [str(n.key) for n in evaluation.already_sent] == [ZM]
    assert evaluation.already_sent[0].deadline == date(2026, 4, 13)


# ---------------------------------------------------------------- predecessors (RULES §6)


def test_a_blocked_predecessor_blocks_its_successor_with_waits_for() -> None:
    sick = zw_sick(
        partial_recovery_date=date(2026, 3, 9),  # no partial_daily_wage: the partial is blocked
        recovery_date=date(2026, 3, 16),
    )
    found = listed(run(sick, on=date(2026, 3, 16)))
    assert found[ZM].state is State.DUE
    assert found[PARTIAL].state is State.BLOCKED
    full = found[FULL]
    assert full.state is State.BLOCKED
    assert tuple(map(str, full.problems)) == (f"waits for {PARTIAL}",)
    assert str(full.waits_for) == PARTIAL


def test_a_predecessor_already_sent_does_not_hold_up_its_successor() -> None:
    sick = zw_sick(partial_recovery_date=date(2026, 3, 9), recovery_date=date(2026, 3, 16))
    found = listed(run(sick, on=date(2026, 3, 16), sent_keys={ZM, PARTIAL}))
    assert list(found) == [FULL]
    assert found[FULL].state is State.DUE
    assert found[FULL].waits_for is None


def test_a_blocked_ziekmelding_holds_up_the_werkhervatting_and_a_blocked_mla_its_herstel() -> None:
    sick = zw_sick(recovery_date=date(2026, 3, 16), bsn="123456789")  # fails the 11-check
    found = listed(run(sick, on=date(2026, 3, 16)))
    assert str(found[FULL].problems[-1]) == f"waits for {ZM}"
    long = ziekte("Z2", date(2025, 1, 6), recovery_date=date(2025, 11, 3), birth_date=None)
    found = listed(run(long, on=date(2025, 11, 3)))
    assert str(found["WG001/Z2/herstel-42e-weeksmelding"].waits_for) == "WG001/Z2/42e-weeksmelding"


# ---------------------------------------------------------------- werkhervatting (RULES §4.2)


def test_partial_and_full_werkhervatting_with_their_deadlines() -> None:
    sick = zw_sick(
        first_sick_day=date(2026, 1, 5),
        partial_recovery_date=date(2026, 3, 5),  # a Thursday: + 2 = Saturday → Monday
        partial_daily_wage=Decimal("84.50"),
        recovery_date=date(2026, 3, 16),
        recovery_reported_date=date(2026, 3, 19),
    )
    found = listed(run(sick, on=date(2026, 3, 20)))
    partial, full = found[PARTIAL], found[FULL]
    assert (partial.due_date, partial.deadline, partial.variant) == (
        date(2026, 3, 5),
        date(2026, 3, 9),
        "partial",
    )
    assert (full.due_date, full.deadline, full.variant) == (date(2026, 3, 16), date(2026, 3, 23), "full")
    assert full.first_ao_day == date(2026, 1, 5)


def test_werkhervatting_deadline_is_never_earlier_than_the_ziekmeldings() -> None:
    sick = zw_sick(
        first_sick_day=date(2026, 3, 2),
        partial_recovery_date=date(2026, 3, 4),
        partial_daily_wage=Decimal("50"),
        recovery_date=date(2026, 3, 6),
    )
    found = listed(run(sick, on=date(2026, 3, 6)))
    assert found[ZM].deadline == date(2026, 4, 13)
    assert found[PARTIAL].deadline == date(2026, 4, 13)
    assert found[FULL].deadline == date(2026, 4, 13)


def test_no_werkhervatting_without_a_ziekmelding() -> None:
    ordinary = ziekte("Z1", date(2026, 3, 2), recovery_date=date(2026, 3, 9))
    assert run(ordinary, on=date(2026, 3, 10)).notifications == []


def test_no_full_werkhervatting_when_the_recovery_lies_in_the_leave() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1))  # leave for the rules from 2026-06-04
    sick = ziekte("Z1", date(2026, 5, 25), recovery_date=date(2026, 6, 10))  # in the window
    found = listed(run(pregnancy, sick, on=date(2026, 6, 11)))
    assert ZM in found and FULL not in found
    fit_before_leave = ziekte("Z1", date(2026, 5, 25), recovery_date=date(2026, 6, 3))
    assert FULL in listed(run(pregnancy, fit_before_leave, on=date(2026, 6, 11)))


# ---------------------------------------------------------------- overlaps (RULES §8)


def test_an_overlapping_dossier_is_an_input_error_and_skipped() -> None:
    first = ziekte("Z1", date(2026, 3, 2), vangnet_status="no_risk")
    overlapping = ziekte("Z2", date(2026, 3, 9), vangnet_status="no_risk")
    evaluation = run(overlapping, first, on=date(2026, 3, 10))
    assert list(listed(evaluation)) == [ZM]
    (error,) = evaluation.input_errors
    assert (error.source, error.line, error.field) == (overlapping.source, overlapping.line, "first_sick_day")
    assert error.message.startswith("overlaps dossier Z1")
    assert "skipped" in error.message


def test_a_dossier_starting_before_the_previous_recovery_overlaps_and_on_it_does_not() -> None:
    first = ziekte("Z1", date(2026, 3, 2), recovery_date=date(2026, 3, 9))
    assert (
        run(first, ziekte("Z2", date(2026, 3, 8)), on=date(2026, 4, 1))
        .input_errors[0]
        .message.startswith("overlaps dossier Z1")
    )
    assert run(first, ziekte("Z2", date(2026, 3, 9)), on=date(2026, 4, 1)).input_errors == []


def test_overlaps_are_found_even_for_an_employer_whose_link_is_off() -> None:
    first = ziekte("Z1", date(2026, 3, 2))
    second = ziekte("Z2", date(2026, 3, 9))
    evaluation = run(first, second, on=date(2026, 3, 10), found=(employer(active=False),))
    assert len(evaluation.input_errors) == 1


# ---------------------------------------------------------------- order (CONTRACT §4, RULES §6)


def test_order_is_due_date_employer_dossier_then_kind_as_the_contract_says() -> None:
    """CONTRACT §4: due_date, employer_id, dossier_id, kind — the kind's public name as text, so
    on one day a werkhervatting is listed before its zw-ziekmelding (they are *sent* in RULES §6
    order all the same: see journal.sending_order)."""
    other = employer("WG000")
    sick = zw_sick(
        first_sick_day=date(2026, 3, 2),
        partial_recovery_date=date(2026, 3, 2),
        partial_daily_wage=Decimal("50"),
    )
    colleague = ziekte("A9", date(2026, 3, 2), employee="1002", vangnet_status="no_risk")
    elsewhere = ziekte("Z0", date(2026, 3, 2), employer_id="WG000", vangnet_status="no_risk")
    earlier = ziekte("Z9", date(2026, 3, 1), employee="1003", sick_reason="bevalling")
    evaluation = run(sick, colleague, elsewhere, earlier, on=date(2026, 3, 2), found=(employer(), other))
    assert [str(n.key) for n in evaluation.notifications] == [
        "WG001/Z9/zw-ziekmelding",
        "WG000/Z0/zw-ziekmelding",
        "WG001/A9/zw-ziekmelding",
        PARTIAL,
        ZM,
    ]


# ---------------------------------------------------------------- dates at the end of the calendar


def test_a_date_near_the_year_9999_skips_that_employees_rows_with_a_clear_error() -> None:
    typo = zwangerschap("P1", date(9999, 12, 30), employee="1001")
    sibling = ziekte("Z9", date(2026, 3, 2), employee="1001", vangnet_status="no_risk")
    other = ziekte("Z1", date(2026, 3, 2), employee="1002", vangnet_status="no_risk")
    evaluation = run(typo, sibling, other, on=date(2026, 3, 2), horizon=10**9)
    assert list(listed(evaluation)) == [ZM]  # the other employee is evaluated as usual
    assert sorted(e.line for e in evaluation.input_errors) == sorted([typo.line, sibling.line])
    assert all("year 9999" in e.message and "HR system" in e.message for e in evaluation.input_errors)

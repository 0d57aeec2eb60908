"""Properties of the rules that must hold for any dossiers and any run date (hypothesis)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from rules_builders import earliest_leave, employer, leave_days, ziekte, zwangerschap

from uwvcli.domain.models import Dossier, Kind, Notification, State, ZwReason
from uwvcli.domain.rules import evaluate
from uwvcli.domain.workdays import is_working_day

DAY = timedelta(days=1)
REASONS = ["overig", "overig", "overig", "zwangerschap", "bevalling", "orgaandonatie"]


@st.composite
def employee_dossiers(draw: st.DrawFn, employee: str, *, plain: bool = False) -> list[Dossier]:
    """One employee's ziekte dossiers as a non-overlapping sequence, and maybe a pregnancy.
    `plain`: ordinary sickness only (no safety net, no pregnancy, no end of employment)."""
    day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 6, 1)))
    first_day = day
    count = draw(st.integers(min_value=1, max_value=4))
    found = []
    for index in range(count):
        length = draw(st.integers(min_value=1, max_value=420))
        still_open = index == count - 1 and draw(st.booleans())
        recovery = None if still_open else day + timedelta(days=length)
        fields: dict[str, object] = {"recovery_date": recovery}
        if not plain:
            fields["sick_reason"] = draw(st.sampled_from(REASONS))
            fields["vangnet_status"] = draw(st.sampled_from(["none", "none", "no_risk", "sfb"]))
            if length > 1 and draw(st.booleans()):
                fields["partial_recovery_date"] = day + timedelta(days=draw(st.integers(0, length - 1)))
                fields["partial_daily_wage"] = draw(st.sampled_from([None, Decimal("84.50")]))
            if recovery is not None and draw(st.booleans()):
                fields["recovery_reported_date"] = recovery + timedelta(days=draw(st.integers(0, 5)))
            if draw(st.integers(0, 5)) == 0:
                fields["employment_end_date"] = day + timedelta(days=draw(st.integers(0, 500)))
            if draw(st.integers(0, 7)) == 0:
                fields["bsn"] = None
        found.append(ziekte(f"Z{employee}-{index}", day, employee=employee, **fields))
        if recovery is None:
            break
        # A negative gap now and then: an overlapping row, which must be skipped the same way
        # whatever the row order.
        day = recovery + timedelta(days=draw(st.integers(min_value=0 if plain else -5, max_value=60)))
    for pregnancy in range(draw(st.integers(min_value=0, max_value=0 if plain else 2))):
        expected = first_day + timedelta(days=draw(st.integers(min_value=-100, max_value=500)))
        leave = draw(st.sampled_from([None, -49, -42, -35, -28, -20]))
        found.append(
            zwangerschap(
                f"P{employee}-{pregnancy}",
                expected,
                employee=employee,
                multiple_birth=draw(st.booleans()),
                leave_start_date=None if leave is None else expected + timedelta(days=leave + 1),
            )
        )
    return found


@st.composite
def situations(draw: st.DrawFn, *, plain: bool = False) -> tuple[list[Dossier], date]:
    employees = draw(st.integers(min_value=1, max_value=4))
    dossiers = [d for n in range(employees) for d in draw(employee_dossiers(str(n), plain=plain))]
    run_date = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)))
    return dossiers, run_date


go_live = st.dates(min_value=date(2023, 6, 1), max_value=date(2026, 6, 1))


@settings(max_examples=150, deadline=None)
@given(situations(), go_live, st.integers(0, 60), st.randoms(use_true_random=False), st.booleans())
def test_the_order_of_the_rows_changes_nothing(
    situation: tuple[list[Dossier], date], start: date, horizon: int, rng: random.Random, some_sent: bool
) -> None:
    dossiers, run_date = situation
    employers = {"WG001": employer(start_date=start)}
    first = evaluate(employers, dossiers, run_date, horizon=horizon)
    sent = {n.key for n in first.notifications if rng.random() < 0.5} if some_sent else set()
    before = evaluate(employers, dossiers, run_date, horizon=horizon, sent_keys=sent)
    shuffled = list(dossiers)
    rng.shuffle(shuffled)
    assert evaluate(employers, shuffled, run_date, horizon=horizon, sent_keys=sent) == before


@settings(max_examples=150, deadline=None)
@given(situations(), go_live, st.integers(0, 60))
def test_dates_keys_and_states_are_consistent(
    situation: tuple[list[Dossier], date], start: date, horizon: int
) -> None:
    dossiers, run_date = situation
    evaluation = evaluate({"WG001": employer(start_date=start)}, dossiers, run_date, horizon=horizon)
    everything = evaluation.notifications + evaluation.already_sent + evaluation.handover
    keys = [n.key for n in everything]
    assert len(keys) == len(set(keys))
    for n in everything:
        if n.deadline is not None:
            assert n.due_date <= n.deadline, n.key
        if n.kind in (Kind.ZW_ZIEKMELDING, Kind.WERKHERVATTING):
            assert is_working_day(n.deadline), n.key  # the shifted deadlines
    for n in evaluation.notifications:
        assert start <= n.due_date <= run_date + timedelta(days=horizon)
        assert (n.state == "upcoming") == (n.due_date > run_date)
        if n.state == "blocked":
            assert n.problems
    assert [(n.due_date, n.employer_id, n.dossier_id) for n in evaluation.notifications] == sorted(
        (n.due_date, n.employer_id, n.dossier_id) for n in evaluation.notifications
    )


def expected_mlas(dossiers: list[Dossier], leave: tuple[date, date] | None = None) -> dict[str, date]:
    """The MLAs of RULES §4.3 by walking the calendar day by day: per dossier, the first of its
    days on which the chain has reached AO day 288 (an MLA is open only within its dossier).
    Days in `leave` ([start, end)) count neither as AO days nor as gap days."""

    def counts(day: date) -> bool:
        return leave is None or not leave[0] <= day < leave[1]

    expected: dict[str, date] = {}
    count = 0
    previous_recovery: date | None = None
    for dossier in sorted(dossiers, key=lambda d: d.first_sick_day):
        if previous_recovery is not None:
            gap = sum(
                map(
                    counts,
                    (
                        previous_recovery + n * DAY
                        for n in range((dossier.first_sick_day - previous_recovery).days)
                    ),
                )
            )
            if gap >= 28:
                count = 0
        day = dossier.first_sick_day
        horizon = dossier.recovery_date or date(2031, 1, 1)
        while day < horizon:
            if counts(day):
                count += 1
                if count >= 288 and dossier.dossier_id not in expected:
                    expected[dossier.dossier_id] = day
            day += DAY
        previous_recovery = dossier.recovery_date
    return expected


@settings(max_examples=200, deadline=None)
@given(employee_dossiers("1", plain=True))
def test_the_mla_is_due_on_ao_day_288_of_its_chain(dossiers: list[Dossier]) -> None:
    run_date = date(2030, 12, 31)  # every recovery lies before it
    evaluation = evaluate({"WG001": employer(start_date=date(2023, 1, 1))}, dossiers, run_date)
    found = {n.dossier_id: n.due_date for n in evaluation.notifications if n.kind is Kind.MLA}
    assert found == expected_mlas(dossiers)
    for n in evaluation.notifications:
        if n.kind is Kind.HERSTEL_MLA:
            assert n.due_date > found[n.dossier_id]


@st.composite
def sickness_around_a_leave_from_lmin(draw: st.DrawFn) -> tuple[list[Dossier], tuple[date, date]]:
    """Ordinary sickness of one employee and a pregnancy whose leave starts on Lmin itself (the
    window [Lmin, Lmin) is empty, RULES §3), the pregnancy placed around the sickness."""
    sickness = draw(employee_dossiers("1", plain=True))
    expected = sickness[0].first_sick_day + draw(st.integers(-60, 420)) * DAY
    multiple = draw(st.booleans())
    leave_start = earliest_leave(expected, multiple)
    pregnancy = zwangerschap(
        "P1-0", expected, employee="1", multiple_birth=multiple, leave_start_date=leave_start
    )
    return [*sickness, pregnancy], (leave_start, leave_start + leave_days(multiple))


@settings(max_examples=200, deadline=None)
@given(sickness_around_a_leave_from_lmin())
def test_an_empty_window_qualifies_nobody_and_the_leave_is_left_out_of_the_mla(situation) -> None:
    """RULES §3: with leave_start_date on Lmin there is no window, so ordinary sickness that runs
    into the leave never qualifies by "sick on Lmin": no zw-ziekmelding at all. Its MLAs fall on
    AO day 288 of the chain, leave days counting neither as AO days nor as gap days (§4.3)."""
    dossiers, leave = situation
    evaluation = evaluate({"WG001": employer(start_date=date(2023, 1, 1))}, dossiers, date(2030, 12, 31))
    assert not [n for n in evaluation.notifications if n.kind is Kind.ZW_ZIEKMELDING]
    found = {n.dossier_id: n.due_date for n in evaluation.notifications if n.kind is Kind.MLA}
    assert found == expected_mlas([d for d in dossiers if d.dossier_type == "ziekte"], leave)


def _caused_by_the_return(notification: Notification, dossier_id: str) -> bool:
    """The notifications a return itself causes (RULES §1): the full werkhervatting, the herstel."""
    return notification.dossier_id == dossier_id and (
        (notification.kind is Kind.WERKHERVATTING and notification.variant == "full")
        or notification.kind is Kind.HERSTEL_MLA
    )


@settings(max_examples=200, deadline=None)
@given(situations(), go_live, st.integers(0, 60), st.integers(1, 90), st.data())
def test_a_planned_return_adds_only_what_it_causes_due_on_its_date(
    situation: tuple[list[Dossier], date], start: date, horizon: int, ahead: int, data: st.DataObject
) -> None:
    """RULES §1: a planned return is not yet a return (every rule that asks "is the employee sick
    on D?" treats the dossier as open), but the notifications it causes exist all the same, due on
    the recovery_date: upcoming within the horizon, never due before it. So the same dossier with
    the return planned, or still open, gives the same evaluation except for its full werkhervatting
    and herstel, which appear upcoming on the planned date: the herstel whenever the open dossier
    has an MLA before that date, the full werkhervatting whenever it has a ziekmelding of a ZW
    recipient (and the return is in scope, and not after the employment nor in a leave)."""
    dossiers, run_date = situation
    employers = {"WG001": employer(start_date=start)}
    ziekte: dict[str, list[Dossier]] = {}
    for dossier in dossiers:
        if dossier.dossier_type == "ziekte":
            ziekte.setdefault(dossier.employee_id, []).append(dossier)
    employee = data.draw(st.sampled_from(sorted(ziekte)))
    last = max(ziekte[employee], key=lambda d: (d.first_sick_day, d.dossier_id))  # nothing after it
    returns = max(run_date, last.first_sick_day) + ahead * DAY
    partial = (
        last.partial_recovery_date
        if last.partial_recovery_date and last.partial_recovery_date < returns
        else None
    )
    others = [d for d in dossiers if d is not last]
    still_open = replace(last, recovery_date=None, recovery_reported_date=None, partial_recovery_date=partial)
    planned = replace(still_open, recovery_date=returns)
    without = evaluate(employers, [*others, still_open], run_date, horizon=horizon)
    with_plan = evaluate(employers, [*others, planned], run_date, horizon=horizon)

    assert with_plan.input_errors == without.input_errors
    for listed_with, listed_without in (
        (with_plan.notifications, without.notifications),
        (with_plan.already_sent, without.already_sent),
        (with_plan.handover, without.handover),
    ):
        assert [n for n in listed_with if not _caused_by_the_return(n, last.dossier_id)] == listed_without
        assert all(n.due_date == returns for n in listed_with if _caused_by_the_return(n, last.dossier_id))
    caused = {n.kind for n in with_plan.notifications if _caused_by_the_return(n, last.dossier_id)}
    assert all(
        n.state is State.UPCOMING
        for n in with_plan.notifications
        if _caused_by_the_return(n, last.dossier_id)
    )
    assert not [n for n in with_plan.already_sent if _caused_by_the_return(n, last.dossier_id)]

    own = {n.kind: n for n in without.notifications if n.dossier_id == last.dossier_id}
    end = last.employment_end_date
    possible = start <= returns <= run_date + horizon * DAY and (end is None or returns <= end)
    if possible and Kind.MLA in own and own[Kind.MLA].due_date < returns:
        assert Kind.HERSTEL_MLA in caused
    report = own.get(Kind.ZW_ZIEKMELDING)
    pregnant = any(d.dossier_type == "zwangerschap" and d.employee_id == employee for d in dossiers)
    if possible and not pregnant and report is not None and report.zw_reason is not ZwReason.ZIEK_UIT_DIENST:
        assert Kind.WERKHERVATTING in caused

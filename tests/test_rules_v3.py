"""RULES v3: planned returns in the preview (§1), the empty pregnancy window (§3), and the readings
that v3 wrote into the rules and that must keep working (§3, §4.1–§4.3, §7). Dates are worked out
by hand in each docstring (calendar of 2026: Easter Monday 6 April, King's Day Monday 27 April,
Whit Monday 25 May)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rules_builders import employer, legal_entity, run, ziekte, zwangerschap

from uwvcli.domain.models import Kind, Notification, OrgUnit, State, ZwReason
from uwvcli.domain.rules import Evaluation

FULL = (Kind.WERKHERVATTING, "full")


def of(evaluation: Evaluation, dossier_id: str) -> dict[tuple[Kind, str | None], Notification]:
    """The listed notifications of one dossier, by (kind, variant)."""
    return {(n.kind, n.variant): n for n in evaluation.notifications if n.dossier_id == dossier_id}


def dates(notification: Notification) -> tuple[date, date | None, State]:
    return notification.due_date, notification.deadline, notification.state


# ---------------------------------------------------------------- §1: a planned return


def test_a_planned_return_previews_the_full_werkhervatting_due_on_its_date() -> None:
    """RULES §1, §4.2: a recovery_date after the run date still produces the full werkhervatting,
    due on that date. No-risk sickness from Monday 2026-03-02, return planned for Wednesday
    2026-04-15. Ziekmelding: due 2026-03-02, deadline shift(2026-03-02 + 42) = Monday 2026-04-13.
    Full werkhervatting: due 2026-04-15, deadline max(shift(2026-04-17), 2026-04-13) = Friday
    2026-04-17. On 2026-04-01 with horizon 14 (through 2026-04-15) it is upcoming; with horizon 13
    (through 2026-04-14) and on 2026-04-14 itself it is not listed; on 2026-04-15 it is due."""
    sick = ziekte("Z1", date(2026, 3, 2), vangnet_status="no_risk", recovery_date=date(2026, 4, 15))
    preview = of(run(sick, on=date(2026, 4, 1), horizon=14), "Z1")
    assert dates(preview[(Kind.ZW_ZIEKMELDING, None)]) == (date(2026, 3, 2), date(2026, 4, 13), State.DUE)
    assert dates(preview[FULL]) == (date(2026, 4, 15), date(2026, 4, 17), State.UPCOMING)
    assert FULL not in of(run(sick, on=date(2026, 4, 1), horizon=13), "Z1")
    assert FULL not in of(run(sick, on=date(2026, 4, 14)), "Z1")  # never sent before its date
    assert dates(of(run(sick, on=date(2026, 4, 15)), "Z1")[FULL]) == (
        date(2026, 4, 15),
        date(2026, 4, 17),
        State.DUE,
    )


def test_a_planned_return_takes_its_reported_date_for_the_deadline() -> None:
    """RULES §4.2: deadline = shift(max(recovery_reported_date, recovery_date) + 2), also when the
    return is planned. Return planned for 2026-04-15, reported 2026-04-20 (Monday): deadline
    shift(2026-04-22) = Wednesday 2026-04-22."""
    sick = ziekte(
        "Z1",
        date(2026, 3, 2),
        vangnet_status="sfb",
        recovery_date=date(2026, 4, 15),
        recovery_reported_date=date(2026, 4, 20),
    )
    assert dates(of(run(sick, on=date(2026, 4, 1), horizon=30), "Z1")[FULL]) == (
        date(2026, 4, 15),
        date(2026, 4, 22),
        State.UPCOMING,
    )


def test_a_planned_return_keeps_the_dossier_sick_on_the_last_day_of_employment() -> None:
    """RULES §1: every rule that asks "is the employee sick on D?" treats the dossier as open.
    Ordinary sickness from 2026-03-02, employment ends Thursday 2026-04-30, return planned for
    2026-04-20. On 2026-04-10 (horizon 30) she counts as sick on 2026-04-30: ziek uit dienst,
    due 2026-04-30, deadline shift(2026-05-01) = Friday 2026-05-01, and no werkhervatting (no ZW
    recipient while employed). Once the return has happened (2026-04-20) she was not sick on the
    last day: nothing."""
    sick = ziekte(
        "Z1", date(2026, 3, 2), recovery_date=date(2026, 4, 20), employment_end_date=date(2026, 4, 30)
    )
    preview = of(run(sick, on=date(2026, 4, 10), horizon=30), "Z1")
    assert list(preview) == [(Kind.ZW_ZIEKMELDING, None)]
    report = preview[(Kind.ZW_ZIEKMELDING, None)]
    assert dates(report) == (date(2026, 4, 30), date(2026, 5, 1), State.UPCOMING)
    assert report.zw_reason is ZwReason.ZIEK_UIT_DIENST
    assert of(run(sick, on=date(2026, 4, 20), horizon=30), "Z1") == {}


def test_a_planned_return_on_lmin_keeps_the_dossier_sick_on_lmin_in_the_preview() -> None:
    """RULES §1, §3: E = 2026-07-01, no leave date: Lmin = 2026-07-02 − 42 = 2026-05-21, window
    [2026-05-21, 2026-06-04), leave [2026-06-04, 2026-09-10). Ordinary sickness from 2026-05-04,
    return planned for 2026-05-21 (= Lmin). On 2026-05-15 (horizon 10, through 2026-05-25) she is
    still sick on Lmin: ziekmelding due 2026-05-21, deadline shift(2026-05-24) = Tuesday
    2026-05-26 (Sunday, then Whit Monday); full werkhervatting due 2026-05-21, deadline
    max(shift(2026-05-23), 2026-05-26) = 2026-05-26. On 2026-05-21 the return has happened: she
    recovered on Lmin, so was never sick on it, and neither exists."""
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    sick = ziekte("Z1", date(2026, 5, 4), recovery_date=date(2026, 5, 21))
    preview = of(run(pregnancy, sick, on=date(2026, 5, 15), horizon=10), "Z1")
    report = preview[(Kind.ZW_ZIEKMELDING, None)]
    assert dates(report) == (date(2026, 5, 21), date(2026, 5, 26), State.UPCOMING)
    assert report.zw_reason is ZwReason.PREGNANCY_WINDOW
    assert dates(preview[FULL]) == (date(2026, 5, 21), date(2026, 5, 26), State.UPCOMING)
    assert of(run(pregnancy, sick, on=date(2026, 5, 21), horizon=10), "Z1") == {}


def test_a_planned_return_in_the_leave_gives_no_full_werkhervatting() -> None:
    """RULES §4.2: no full werkhervatting when recovery_date lies in the leave, planned or not.
    Same pregnancy (leave [2026-06-04, 2026-09-10)); sickness from 2026-05-29 (in the window:
    due 2026-05-29, deadline shift(2026-06-01) = 2026-06-01), return planned for 2026-06-10."""
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    sick = ziekte("Z1", date(2026, 5, 29), recovery_date=date(2026, 6, 10))
    preview = of(run(pregnancy, sick, on=date(2026, 5, 29), horizon=30), "Z1")
    assert list(preview) == [(Kind.ZW_ZIEKMELDING, None)]
    assert dates(preview[(Kind.ZW_ZIEKMELDING, None)]) == (date(2026, 5, 29), date(2026, 6, 1), State.DUE)


# ---------------------------------------------------------------- §3: the empty window


@pytest.mark.parametrize(
    ("multiple", "lmin", "first_sick_day"),
    [
        # Lmin = E + 1 − 42 = 2026-05-21; leave [2026-05-21, 2026-05-21 + 112) = […, 2026-09-10)
        (False, date(2026, 5, 21), date(2026, 5, 4)),
        # Lmin = E + 1 − 70 = 2026-04-23; leave [2026-04-23, 2026-04-23 + 140) = […, 2026-09-10)
        (True, date(2026, 4, 23), date(2026, 4, 6)),
    ],
)
def test_leave_from_lmin_leaves_no_window_and_no_ziekmelding(
    multiple: bool, lmin: date, first_sick_day: date
) -> None:
    """RULES §3 (the issue's example): E = 2026-07-01, leave_start_date = Lmin, ziekte overig
    from 17 days before Lmin, open. The window [Lmin, Lmin) is empty, so "sick on Lmin" does not
    qualify: no zw-ziekmelding, on Lmin or ever. The MLA is due when the chain reaches AO day 288
    with the leave days left out: AO days 1–17 before the leave, AO day 18 on 2026-09-10, AO day
    288 on 2026-09-10 + 270 = 2027-06-07; deadline 2027-06-14. (Before v3 a ziekmelding on Lmin
    suppressed this MLA.)"""
    pregnancy = zwangerschap("P1", date(2026, 7, 1), multiple_birth=multiple, leave_start_date=lmin)
    sick = ziekte("Z1", first_sick_day)
    assert of(run(pregnancy, sick, on=lmin, horizon=30), "Z1") == {}
    found = of(run(pregnancy, sick, on=date(2027, 6, 7)), "Z1")
    assert list(found) == [(Kind.MLA, None)]
    mla = found[(Kind.MLA, None)]
    assert dates(mla) == (date(2027, 6, 7), date(2027, 6, 14), State.DUE)
    assert mla.first_ao_day == first_sick_day
    # The WAZO application itself is lawful: L = Lmin lies in [Lmin, Lmax].
    wazo = of(run(pregnancy, sick, on=date(2026, 3, 1), horizon=60), "P1")[(Kind.WAZO, None)]
    assert wazo.problems == ()


def test_a_window_of_one_day_still_qualifies_by_sick_on_lmin() -> None:
    """RULES §3: with leave_start_date one day after Lmin the window is [2026-05-21, 2026-05-22):
    sick before it and still sick on 2026-05-21 qualifies; the report is due on Lmin with the
    4th-day term, shift(2026-05-24) = 2026-05-26, and the MLA (due on or after the ziekmelding) is
    suppressed (ZW 38(4))."""
    pregnancy = zwangerschap("P1", date(2026, 7, 1), leave_start_date=date(2026, 5, 22))
    sick = ziekte("Z1", date(2026, 5, 4))
    found = of(run(pregnancy, sick, on=date(2027, 7, 1)), "Z1")
    assert list(found) == [(Kind.ZW_ZIEKMELDING, None)]
    report = found[(Kind.ZW_ZIEKMELDING, None)]
    assert (report.due_date, report.deadline) == (date(2026, 5, 21), date(2026, 5, 26))
    assert report.zw_reason is ZwReason.PREGNANCY_WINDOW


def test_leave_before_lmin_leaves_no_window_either() -> None:
    """A leave_start_date before Lmin (2026-05-20; it blocks the WAZO application) is used as
    given for the other rules (docs/rules-decisions.md): the window [2026-05-21, 2026-05-20) has no
    day, so sickness from 2026-05-04 open on Lmin does not qualify by it either."""
    pregnancy = zwangerschap("P1", date(2026, 7, 1), leave_start_date=date(2026, 5, 20))
    sick = ziekte("Z1", date(2026, 5, 4))
    assert of(run(pregnancy, sick, on=date(2026, 5, 21), horizon=60), "Z1") == {}
    assert of(run(pregnancy, sick, on=date(2026, 3, 1), horizon=90), "P1")[(Kind.WAZO, None)].problems


# ---------------------------------------------------------------- what stays (now the rule)


def test_a_partial_return_before_lmin_goes_with_the_ziekmelding_on_lmin() -> None:
    """RULES §4.2: the partial werkhervatting is never due before, and never has a deadline
    earlier than, its ziekmelding. E = 2026-07-01, no leave date (Lmin 2026-05-21, window
    [2026-05-21, 2026-06-04)); ordinary sickness from 2026-05-04, partial return on Monday
    2026-05-11, open on Lmin. Ziekmelding: due 2026-05-21, deadline shift(2026-05-24) =
    2026-05-26. Partial: due max(2026-05-11, 2026-05-21) = 2026-05-21, deadline
    max(shift(2026-05-13), 2026-05-26) = 2026-05-26."""
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    sick = ziekte(
        "Z1", date(2026, 5, 4), partial_recovery_date=date(2026, 5, 11), partial_daily_wage=Decimal("84.50")
    )
    found = of(run(pregnancy, sick, on=date(2026, 5, 21)), "Z1")
    assert dates(found[(Kind.ZW_ZIEKMELDING, None)]) == (date(2026, 5, 21), date(2026, 5, 26), State.DUE)
    assert dates(found[(Kind.WERKHERVATTING, "partial")]) == (date(2026, 5, 21), date(2026, 5, 26), State.DUE)
    assert of(run(pregnancy, sick, on=date(2026, 5, 20)), "Z1") == {}  # nothing before Lmin


def test_the_zw_exception_suppresses_an_mla_only_once_the_ziekmelding_is_due() -> None:
    """RULES §4.3: sick from 2025-07-01 (ordinary), E = 2026-07-01 (Lmin 2026-05-21). AO day 288 =
    2025-07-01 + 287 = 2026-04-14, before the ziekmelding on Lmin: UWV did not know her then, so
    the MLA is sent (due 2026-04-14, deadline 2026-04-21). Sick from 2025-08-06 instead: AO day 288
    = 2026-05-20, still before Lmin: sent. Sick from 2025-08-08: AO day 288 = 2026-05-22, after the
    ziekmelding on 2026-05-21: suppressed."""
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    early = of(run(pregnancy, ziekte("Z1", date(2025, 7, 1)), on=date(2026, 6, 1)), "Z1")
    assert dates(early[(Kind.MLA, None)]) == (date(2026, 4, 14), date(2026, 4, 21), State.LATE)
    assert early[(Kind.ZW_ZIEKMELDING, None)].due_date == date(2026, 5, 21)
    just = of(run(pregnancy, ziekte("Z1", date(2025, 8, 6)), on=date(2026, 6, 1)), "Z1")
    assert just[(Kind.MLA, None)].due_date == date(2026, 5, 20)
    late = of(run(pregnancy, ziekte("Z1", date(2025, 8, 8)), on=date(2026, 6, 1)), "Z1")
    assert list(late) == [(Kind.ZW_ZIEKMELDING, None)]


def test_a_qualification_that_begins_after_the_employment_ended_is_ziek_uit_dienst() -> None:
    """RULES §3: E = 2026-07-01 (Lmin 2026-05-21); ordinary sickness from 2026-05-04, open; the
    employment ends Friday 2026-05-15, before Lmin. At the end she did not qualify, so 4.1's ziek
    uit dienst applies: due 2026-05-15, deadline shift(2026-05-16) = Monday 2026-05-18, and
    nothing after the end (no report on Lmin)."""
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    sick = ziekte("Z1", date(2026, 5, 4), employment_end_date=date(2026, 5, 15))
    found = of(run(pregnancy, sick, on=date(2026, 6, 1), horizon=400), "Z1")
    assert list(found) == [(Kind.ZW_ZIEKMELDING, None)]
    report = found[(Kind.ZW_ZIEKMELDING, None)]
    assert (report.due_date, report.deadline, report.zw_reason) == (
        date(2026, 5, 15),
        date(2026, 5, 18),
        ZwReason.ZIEK_UIT_DIENST,
    )


def _with_check_digits(country: str, bban: str) -> str:
    """An IBAN whose mod-97 check passes whatever the BBAN (ISO 13616's check-digit formula)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


@pytest.mark.parametrize(
    ("own", "entity", "blocked"),
    [
        ("NL91ABNA0417164300", "NL91ABNA0417164300", False),
        # mod 97 passes, but a Dutch IBAN is 18 characters (4 letters, 10 digits): not valid
        (_with_check_digits("NL", "ABNA041716430"), "NL91ABNA0417164300", True),
        (_with_check_digits("NL", "ABNA04171643001"), "NL91ABNA0417164300", True),
        (_with_check_digits("NL", "1234ABNA567890"), "NL91ABNA0417164300", True),
        # with direct_payment the legal entity's IBAN is carried and checked too
        ("NL91ABNA0417164300", _with_check_digits("NL", "ABNA041716430"), True),
    ],
)
def test_ibans_are_checked_in_full_and_both_go_with_direct_payment(
    own: str, entity: str, blocked: bool
) -> None:
    """RULES §7: an IBAN is checked by ISO 13616 in full (the country's length and format, and mod
    97); with direct_payment the message carries the employee's and the legal entity's IBAN, and
    both are checked. The MLA carries none."""
    assert _with_check_digits("NL", "ABNA0417164300") == "NL91ABNA0417164300"  # the formula
    units = (legal_entity("OE1", iban=entity), OrgUnit(id="OE2", name="Filiaal", parent="OE1"))
    sick = ziekte("Z1", date(2025, 1, 6), vangnet_status="no_risk", direct_payment=True, iban=own)
    found = of(run(sick, on=date(2025, 1, 6), found=(employer(units=units),)), "Z1")
    report = found[(Kind.ZW_ZIEKMELDING, None)]
    assert (report.state is State.BLOCKED) is blocked
    assert len(report.problems) == blocked

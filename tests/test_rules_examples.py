"""RULES §10's worked examples, and the ZW safety net around a pregnancy (RULES §2–§4.1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rules_builders import listed, run, ziekte, zwangerschap

from uwvcli.domain.models import State, ZwReason

# ---------------------------------------------------------------- RULES §10, verbatim


def test_example_long_sickness_gets_an_mla_on_ao_day_288() -> None:
    found = listed(run(ziekte("Z1", date(2025, 1, 6)), on=date(2025, 10, 20)))
    mla = found["WG001/Z1/42e-weeksmelding"]
    assert (mla.due_date, mla.deadline, mla.state) == (date(2025, 10, 20), date(2025, 10, 27), State.DUE)
    assert mla.first_ao_day == date(2025, 1, 6)
    assert mla.earlier_periods == ()
    assert list(found) == ["WG001/Z1/42e-weeksmelding"]  # not ZW: no ziekmelding


def test_example_two_dossiers_18_days_apart_form_one_chain() -> None:
    first = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 3, 3))
    second = ziekte("Z2", date(2025, 3, 21))
    found = listed(run(first, second, on=date(2025, 11, 7)))
    assert list(found) == ["WG001/Z2/42e-weeksmelding"]
    mla = found["WG001/Z2/42e-weeksmelding"]
    assert (mla.due_date, mla.deadline) == (date(2025, 11, 7), date(2025, 11, 14))
    assert mla.first_ao_day == date(2025, 1, 6)  # the chain's first day
    assert mla.earlier_periods == ((date(2025, 1, 6), date(2025, 3, 2)),)


def test_example_pregnancy_sickness_without_pregnancy_dossier_has_six_weeks_shifted() -> None:
    found = listed(run(ziekte("Z1", date(2026, 4, 2), sick_reason="zwangerschap"), on=date(2026, 4, 2)))
    report = found["WG001/Z1/zw-ziekmelding"]
    assert report.due_date == date(2026, 4, 2)
    assert report.deadline == date(2026, 5, 15)  # 14 May 2026 is Ascension Day
    assert report.zw_reason is ZwReason.ZWANGERSCHAP
    assert report.first_ao_day == date(2026, 4, 2)


def test_example_wazo_without_leave_date_assumes_the_earliest_lawful_start() -> None:
    found = listed(run(zwangerschap("P1", date(2026, 7, 1)), on=date(2026, 4, 22)))
    wazo = found["WG001/P1/wazo"]
    assert wazo.leave_start == date(2026, 5, 21)
    assert wazo.leave_start_assumed
    assert (wazo.due_date, wazo.deadline, wazo.state) == (date(2026, 4, 22), date(2026, 5, 7), State.DUE)
    assert "earliest lawful leave start assumed" in map(str, wazo.notes)


def test_example_sickness_in_the_window_is_reported_on_the_fourth_day_and_in_the_leave_not_at_all() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    in_window = ziekte("Z1", date(2026, 5, 29), recovery_date=date(2026, 6, 2))  # a Friday
    in_leave = ziekte("Z2", date(2026, 6, 5), recovery_date=date(2026, 6, 20))
    found = listed(run(pregnancy, in_window, in_leave, on=date(2026, 6, 25)))
    report = found["WG001/Z1/zw-ziekmelding"]
    assert (report.due_date, report.deadline) == (date(2026, 5, 29), date(2026, 6, 1))
    assert report.zw_reason is ZwReason.PREGNANCY_WINDOW
    assert not [key for key in found if key.startswith("WG001/Z2/")]


# ---------------------------------------------------------------- the safety net (RULES §3, §4.1)


def test_an_ordinary_sickness_is_not_reported_to_uwv() -> None:
    assert (
        run(
            ziekte("Z1", date(2026, 3, 2), recovery_date=date(2026, 3, 20)), on=date(2026, 4, 1)
        ).notifications
        == []
    )


def test_no_risk_and_sfb_employees_are_reported_with_six_weeks_to_go() -> None:
    for status in ("no_risk", "sfb"):
        found = listed(run(ziekte("Z1", date(2026, 3, 2), vangnet_status=status), on=date(2026, 3, 2)))
        report = found["WG001/Z1/zw-ziekmelding"]
        assert report.zw_reason is ZwReason.VANGNET
        assert report.deadline == date(2026, 4, 13)  # 2026-04-13 is a Monday: no shift


def test_bevalling_is_reported_on_the_fourth_day_and_orgaandonatie_within_six_weeks() -> None:
    birth = listed(run(ziekte("Z1", date(2026, 4, 30), sick_reason="bevalling"), on=date(2026, 5, 1)))
    assert birth["WG001/Z1/zw-ziekmelding"].deadline == date(2026, 5, 4)  # 3 May is a Sunday
    assert birth["WG001/Z1/zw-ziekmelding"].zw_reason is ZwReason.BEVALLING
    donation = listed(run(ziekte("Z1", date(2026, 3, 2), sick_reason="orgaandonatie"), on=date(2026, 3, 2)))
    assert donation["WG001/Z1/zw-ziekmelding"].deadline == date(2026, 4, 13)
    assert donation["WG001/Z1/zw-ziekmelding"].zw_reason is ZwReason.ORGAANDONATIE


def test_sick_before_the_window_and_still_sick_when_it_opens_is_reported_on_lmin() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1))  # Lmin 2026-05-21 (a Thursday)
    sick = ziekte("Z1", date(2026, 5, 4))
    evaluation = run(pregnancy, sick, on=date(2026, 5, 20), horizon=5)
    report = listed(evaluation)["WG001/Z1/zw-ziekmelding"]
    assert report.state is State.UPCOMING
    assert (report.due_date, report.deadline) == (date(2026, 5, 21), shift_expected := date(2026, 5, 26))
    assert shift_expected.weekday() == 1  # 24 May is a Sunday, 25 May Whit Monday
    assert report.first_ao_day == date(2026, 5, 4)
    assert report.zw_reason is ZwReason.PREGNANCY_WINDOW


def test_sick_before_the_window_but_recovered_on_lmin_is_not_reported() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    sick = ziekte("Z1", date(2026, 5, 4), recovery_date=date(2026, 5, 21))
    assert "WG001/Z1/zw-ziekmelding" not in listed(run(pregnancy, sick, on=date(2026, 6, 1)))


def test_pregnancy_sickness_after_the_leave_is_reported_on_the_fourth_day() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1))  # leave counted for the rules ends 2026-09-10
    after = ziekte("Z1", date(2026, 9, 10), sick_reason="zwangerschap")
    report = listed(run(pregnancy, after, on=date(2026, 9, 10)))["WG001/Z1/zw-ziekmelding"]
    assert report.deadline == date(2026, 9, 14)  # 13 September is a Sunday
    ordinary_after = ziekte("Z1", date(2026, 9, 10))
    assert "WG001/Z1/zw-ziekmelding" not in listed(run(pregnancy, ordinary_after, on=date(2026, 9, 10)))


def test_a_chosen_leave_start_moves_the_window_and_the_leave() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1), leave_start_date=date(2026, 5, 28))
    # Window [2026-05-21, 2026-05-28); leave [2026-05-28, 2026-09-17).
    in_window = ziekte("Z1", date(2026, 5, 22), recovery_date=date(2026, 5, 25))
    in_leave = ziekte("Z2", date(2026, 9, 16), recovery_date=date(2026, 9, 17), vangnet_status="no_risk")
    after_leave = ziekte("Z3", date(2026, 9, 17), vangnet_status="no_risk")
    found = listed(run(pregnancy, in_window, in_leave, after_leave, on=date(2026, 9, 18)))
    assert "WG001/Z1/zw-ziekmelding" in found
    assert not [key for key in found if key.startswith("WG001/Z2/")]
    assert found["WG001/Z3/zw-ziekmelding"].zw_reason is ZwReason.VANGNET


def test_pregnancy_rules_are_per_employee() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1), employee="1001")
    colleague = ziekte("Z1", date(2026, 5, 29), employee="1002")
    assert "WG001/Z1/zw-ziekmelding" not in listed(run(pregnancy, colleague, on=date(2026, 6, 1)))


# ---------------------------------------------------------------- ziek uit dienst (RULES §4.1)


def test_ziek_uit_dienst_without_other_reason_is_reported_from_the_last_day() -> None:
    sick = ziekte("Z1", date(2026, 3, 2), employment_end_date=date(2026, 3, 31))
    report = listed(run(sick, on=date(2026, 4, 1)))["WG001/Z1/zw-ziekmelding"]
    assert report.zw_reason is ZwReason.ZIEK_UIT_DIENST
    assert (report.due_date, report.deadline) == (date(2026, 3, 31), date(2026, 4, 1))
    assert report.employment_ends
    assert report.first_ao_day == date(2026, 3, 2)


def test_ziek_uit_dienst_of_a_zw_dossier_keeps_its_reason_with_the_earlier_deadline() -> None:
    sick = ziekte("Z1", date(2026, 3, 2), vangnet_status="no_risk", employment_end_date=date(2026, 3, 6))
    report = listed(run(sick, on=date(2026, 3, 2)))["WG001/Z1/zw-ziekmelding"]
    assert report.zw_reason is ZwReason.VANGNET
    assert report.due_date == date(2026, 3, 2)
    assert report.deadline == date(2026, 3, 9)  # shift(7 March, a Saturday), not 13 April
    assert report.employment_ends


def test_recovered_before_the_employment_ends_is_no_ziek_uit_dienst() -> None:
    sick = ziekte(
        "Z1", date(2026, 3, 2), recovery_date=date(2026, 3, 31), employment_end_date=date(2026, 3, 31)
    )
    assert run(sick, on=date(2026, 4, 2)).notifications == []


def test_nothing_else_is_produced_after_the_employment_ends() -> None:
    long_sick = ziekte("Z1", date(2025, 1, 6), employment_end_date=date(2025, 6, 30))
    found = listed(run(long_sick, on=date(2025, 12, 1)))
    assert list(found) == ["WG001/Z1/zw-ziekmelding"]  # no MLA on 2025-10-20
    zw = ziekte(
        "Z2",
        date(2026, 3, 2),
        vangnet_status="no_risk",
        employment_end_date=date(2026, 3, 13),
        partial_recovery_date=date(2026, 3, 9),
        partial_daily_wage=Decimal("50.00"),
        recovery_date=date(2026, 3, 20),
    )
    keys = list(listed(run(zw, on=date(2026, 3, 25))))
    assert keys == ["WG001/Z2/zw-ziekmelding", "WG001/Z2/werkhervatting/partial"]  # no full: after the end
    pregnant = zwangerschap("P1", date(2026, 9, 1), employment_end_date=date(2026, 5, 1))
    assert run(pregnant, on=date(2026, 8, 1)).notifications == []  # wazo due 2026-06-23


def test_sickness_starting_after_the_employment_ended_produces_nothing() -> None:
    sick = ziekte("Z1", date(2026, 4, 6), vangnet_status="no_risk", employment_end_date=date(2026, 4, 3))
    assert run(sick, on=date(2026, 4, 10)).notifications == []

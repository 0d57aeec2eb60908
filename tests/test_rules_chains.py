"""42-week chains, the MLA and its herstel (RULES §4.3, §4.4)."""

from __future__ import annotations

from datetime import date, timedelta

from rules_builders import employer, listed, run, ziekte, zwangerschap

from uwvcli.domain.models import Dossier, Kind, State

MLA = "42e-weeksmelding"
HERSTEL = "herstel-42e-weeksmelding"


def ao_day(n: int, *periods: tuple[date, date | None], leave: tuple[date, date] | None = None) -> date:
    """The n-th AO day along `periods` ([first, recovery) each, None = open), counted day by day
    and skipping leave days: the test's own count, independent of the code under test."""
    seen = 0
    for first, recovery in periods:
        day = first
        while recovery is None or day < recovery:
            if leave is None or not leave[0] <= day < leave[1]:
                seen += 1
                if seen == n:
                    return day
            day += timedelta(days=1)
    raise AssertionError("the periods have fewer AO days")


def mla_of(dossier: Dossier, *others: Dossier, on: date) -> list[tuple[str, date]]:
    evaluation = run(dossier, *others, on=on)
    return [(n.dossier_id, n.due_date) for n in evaluation.notifications if n.kind is Kind.MLA]


def test_a_gap_of_27_days_continues_the_chain() -> None:
    first = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 3, 3))
    second = ziekte("Z2", date(2025, 3, 3) + timedelta(days=27))
    expected = ao_day(288, (first.first_sick_day, first.recovery_date), (second.first_sick_day, None))
    assert mla_of(first, second, on=date(2026, 1, 1)) == [("Z2", expected)]
    assert expected == date(2025, 11, 16)


def test_a_gap_of_28_days_starts_a_new_chain() -> None:
    first = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 3, 3))
    second = ziekte("Z2", date(2025, 3, 3) + timedelta(days=28))
    assert mla_of(first, second, on=date(2026, 2, 1)) == [("Z2", date(2025, 3, 31) + timedelta(days=287))]


def test_a_chain_that_recovers_before_ao_day_288_has_no_mla() -> None:
    short = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 10, 20))  # AO days 1–287
    assert run(short, on=date(2026, 1, 1)).notifications == []


def test_recovery_after_an_mla_gives_a_herstel_and_sick_again_in_the_chain_a_new_mla() -> None:
    first = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 11, 3))
    again = ziekte("Z2", date(2025, 11, 20))  # 17 days later: same chain
    found = listed(run(first, again, on=date(2025, 11, 20)))
    assert found[f"WG001/Z1/{MLA}"].due_date == date(2025, 10, 20)
    herstel = found[f"WG001/Z1/{HERSTEL}"]
    assert (herstel.due_date, herstel.deadline, herstel.first_ao_day) == (
        date(2025, 11, 3),
        None,
        date(2025, 1, 6),
    )
    second_mla = found[f"WG001/Z2/{MLA}"]
    assert second_mla.due_date == date(2025, 11, 20)  # the new dossier's first_sick_day
    assert second_mla.deadline == date(2025, 11, 27)  # uwvcli's own term: never shifted
    assert second_mla.first_ao_day == date(2025, 1, 6)
    assert second_mla.earlier_periods == ((date(2025, 1, 6), date(2025, 11, 2)),)


def test_a_zw_dossier_suppresses_its_mla_and_herstel_but_the_mla_still_counts_as_open() -> None:
    zw = ziekte("Z1", date(2025, 1, 6), vangnet_status="no_risk", recovery_date=date(2025, 11, 3))
    found = listed(run(zw, on=date(2025, 11, 5)))
    assert f"WG001/Z1/{MLA}" not in found
    assert f"WG001/Z1/{HERSTEL}" not in found
    assert "WG001/Z1/werkhervatting/full" in found
    # The next (non-ZW) dossier of the chain gets its own MLA on its first day.
    next_one = ziekte("Z2", date(2025, 11, 10))
    assert mla_of(zw, next_one, on=date(2025, 11, 10)) == [("Z2", date(2025, 11, 10))]


def test_no_herstel_when_the_mla_kind_is_disabled_nor_when_herstel_itself_is() -> None:
    sick = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 11, 3))
    without_mla = listed(run(sick, on=date(2025, 11, 5), found=(employer(disabled=(Kind.MLA,)),)))
    assert without_mla == {}
    without_herstel = listed(run(sick, on=date(2025, 11, 5), found=(employer(disabled=(Kind.HERSTEL_MLA,)),)))
    assert list(without_herstel) == [f"WG001/Z1/{MLA}"]


def test_herstel_is_produced_even_when_its_mla_was_the_previous_systems() -> None:
    sick = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 11, 3))
    evaluation = run(sick, on=date(2025, 11, 5), found=(employer(start_date=date(2025, 10, 25)),))
    assert [str(n.key) for n in evaluation.handover] == [f"WG001/Z1/{MLA}"]  # deadline 2025-10-27 ≥ start
    herstel = listed(evaluation)[f"WG001/Z1/{HERSTEL}"]
    assert herstel.state is State.DUE
    assert herstel.problems == ()


def test_a_planned_return_after_the_run_date_keeps_the_dossier_open() -> None:
    planned = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 10, 15))
    before = listed(run(planned, on=date(2025, 10, 10), horizon=14))
    assert before[f"WG001/Z1/{MLA}"].state is State.UPCOMING  # the return is not yet a return
    assert f"WG001/Z1/{HERSTEL}" not in before
    assert run(planned, on=date(2025, 10, 16)).notifications == []  # returned on AO day 283


def test_a_planned_return_after_the_mla_previews_its_herstel_due_on_the_return() -> None:
    """RULES §1, §4.4: the herstel that a planned return causes exists all the same, due on the
    recovery_date. AO day 1 = 2025-01-06, so AO day 288 = 2025-01-06 + 287 = 2025-10-20 (the MLA);
    the return is planned for 2025-11-03, after it. On 2025-10-20 with horizon 30 (through
    2025-11-19) the herstel is upcoming, due 2025-11-03; on 2025-11-02 without a horizon it is not
    listed (never sent before its date); on 2025-11-03 it is due."""
    planned = ziekte("Z1", date(2025, 1, 6), recovery_date=date(2025, 11, 3))
    preview = listed(run(planned, on=date(2025, 10, 20), horizon=30))
    assert list(preview) == [f"WG001/Z1/{MLA}", f"WG001/Z1/{HERSTEL}"]
    herstel = preview[f"WG001/Z1/{HERSTEL}"]
    assert (herstel.due_date, herstel.deadline, herstel.state) == (date(2025, 11, 3), None, State.UPCOMING)
    assert list(listed(run(planned, on=date(2025, 11, 2)))) == [f"WG001/Z1/{MLA}"]
    assert f"WG001/Z1/{HERSTEL}" not in listed(run(planned, on=date(2025, 10, 20), horizon=13))
    after = listed(run(planned, on=date(2025, 11, 3)))
    assert after[f"WG001/Z1/{HERSTEL}"].state is State.DUE


def test_leave_days_count_neither_as_ao_days_nor_as_gap_days() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1))  # leave for the rules: [2026-06-04, 2026-09-10)
    leave = (date(2026, 6, 4), date(2026, 9, 10))
    before = ziekte("Z1", date(2025, 10, 6), recovery_date=date(2026, 5, 20))  # fit on Lmin − 1
    after = ziekte("Z2", date(2026, 9, 10))  # 113 calendar days later, 15 of them outside the leave
    expected = ao_day(
        288, (before.first_sick_day, before.recovery_date), (after.first_sick_day, None), leave=leave
    )
    assert mla_of(pregnancy, before, after, on=date(2026, 12, 1)) == [("Z2", expected)]
    assert expected == date(2026, 11, 10)


def test_sickness_starting_in_the_leave_counts_only_after_the_leave() -> None:
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    in_leave = ziekte("Z1", date(2026, 6, 10))
    assert mla_of(pregnancy, in_leave, on=date(2027, 7, 1)) == [
        ("Z1", date(2026, 9, 10) + timedelta(days=287))
    ]


def test_an_mla_due_before_a_dossier_enters_the_safety_net_is_sent() -> None:
    # Sick before the pregnancy window opens: ZW only from Lmin (2026-05-21); AO day 288 comes first.
    pregnancy = zwangerschap("P1", date(2026, 7, 1))
    sick = ziekte("Z1", date(2025, 7, 1))
    found = listed(run(pregnancy, sick, on=date(2026, 5, 21)))
    assert found[f"WG001/Z1/{MLA}"].due_date == date(2025, 7, 1) + timedelta(days=287)
    assert found["WG001/Z1/zw-ziekmelding"].due_date == date(2026, 5, 21)


def test_an_mla_is_not_produced_twice_in_one_dossier() -> None:
    very_long = ziekte("Z1", date(2024, 1, 2))
    assert mla_of(very_long, on=date(2026, 1, 1)) == [("Z1", date(2024, 1, 2) + timedelta(days=287))]

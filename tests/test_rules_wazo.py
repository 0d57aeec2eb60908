"""The WAZO application (RULES §2, §4.5)."""

from __future__ import annotations

from datetime import date

from rules_builders import listed, run, zwangerschap

from uwvcli.domain.models import State

WAZO = "WG001/P1/wazo"


def test_multiple_birth_moves_the_lawful_window_four_weeks_earlier() -> None:
    twins = zwangerschap("P1", date(2026, 7, 1), multiple_birth=True)
    wazo = listed(run(twins, on=date(2026, 4, 1)))[WAZO]
    assert wazo.leave_start == date(2026, 4, 23)  # E + 1 − 70
    assert wazo.deadline == date(2026, 4, 9)
    assert wazo.due_date == date(2026, 3, 26)  # L − 28 is earlier than E − 70 (2026-04-22)
    assert wazo.state is State.DUE
    assert wazo.leave_start_assumed
    assert listed(run(twins, on=date(2026, 4, 10)))[WAZO].state is State.LATE


def test_a_chosen_leave_start_is_applied_for() -> None:
    chosen = zwangerschap("P1", date(2026, 7, 1), leave_start_date=date(2026, 6, 4))  # Lmax
    wazo = listed(run(chosen, on=date(2026, 4, 22)))[WAZO]
    assert (wazo.leave_start, wazo.leave_start_assumed, wazo.notes) == (date(2026, 6, 4), False, ())
    assert wazo.deadline == date(2026, 5, 21)
    assert wazo.due_date == date(2026, 4, 22)  # E − 70 is earlier than L − 28 (2026-05-07)
    assert wazo.problems == ()


def test_a_leave_start_outside_the_lawful_window_blocks_the_application() -> None:
    for outside in (date(2026, 5, 20), date(2026, 6, 5)):  # Lmin − 1, Lmax + 1
        too_early_or_late = zwangerschap("P1", date(2026, 7, 1), leave_start_date=outside)
        wazo = listed(run(too_early_or_late, on=date(2026, 4, 22)))[WAZO]
        assert wazo.state is State.BLOCKED
        (problem,) = map(str, wazo.problems)
        assert problem.startswith("leave_start_date lies outside the lawful window")
        assert "2026" not in problem  # no dates that reveal the pregnancy's timing


def test_the_wazo_deadline_is_never_shifted() -> None:
    chosen_on_sunday = zwangerschap("P1", date(2026, 7, 1), leave_start_date=date(2026, 5, 31))
    deadline = listed(run(chosen_on_sunday, on=date(2026, 4, 22)))[WAZO].deadline
    assert deadline == date(2026, 5, 17)
    assert deadline.weekday() == 6  # a Sunday, and it stays one

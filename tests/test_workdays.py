"""ATW working days: the public holidays that move a statutory deadline, and `shift`."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from uwvcli.domain.workdays import LONGEST_SHIFT, atw_holidays, is_working_day, shift

# Published calendars (rijksoverheid.nl), written out by hand: the oracle for the computation.
HOLIDAYS_2025 = {
    date(2025, 1, 1),
    date(2025, 4, 18),  # Good Friday
    date(2025, 4, 21),  # Easter Monday
    date(2025, 4, 26),  # King's Day: 27 April 2025 is a Sunday
    date(2025, 5, 5),
    date(2025, 5, 29),  # Ascension Day
    date(2025, 6, 9),  # Whit Monday
    date(2025, 12, 25),
    date(2025, 12, 26),
}
HOLIDAYS_2026 = {
    date(2026, 1, 1),
    date(2026, 4, 3),
    date(2026, 4, 6),
    date(2026, 4, 27),
    date(2026, 5, 5),
    date(2026, 5, 14),
    date(2026, 5, 25),
    date(2026, 12, 25),
    date(2026, 12, 26),
}


def test_the_atw_holidays_of_2025_and_2026_match_the_published_calendars() -> None:
    assert atw_holidays(2025) == HOLIDAYS_2025
    assert atw_holidays(2026) == HOLIDAYS_2026


def test_ascension_day_on_liberation_day_is_one_holiday() -> None:
    assert date(2016, 5, 5) in atw_holidays(2016)
    assert len(atw_holidays(2016)) == 8


def test_liberation_day_is_a_holiday_every_year_not_only_every_fifth() -> None:
    # The `holidays` package has 5 May only in lustrum years; the ATW has it every year.
    for year in range(2021, 2031):
        assert date(year, 5, 5) in atw_holidays(year)
        if date(year, 5, 5).weekday() < 5:
            assert not is_working_day(date(year, 5, 5))


def test_kings_day_moves_to_the_26th_only_when_the_27th_is_a_sunday() -> None:
    assert date(2025, 4, 26) in atw_holidays(2025)  # 27 April 2025: Sunday
    assert date(2025, 4, 27) not in atw_holidays(2025)
    assert date(2031, 4, 26) in atw_holidays(2031)  # 27 April 2031: Sunday
    assert date(2032, 4, 27) in atw_holidays(2032)  # a Tuesday: no move
    assert date(2032, 4, 26) not in atw_holidays(2032)
    assert date(2024, 4, 27) in atw_holidays(2024)  # a Saturday: stays, and is no working day anyway
    assert date(2024, 4, 26) not in atw_holidays(2024)


def test_good_friday_and_whit_monday_are_no_working_days() -> None:
    assert not is_working_day(date(2026, 4, 3))  # Good Friday
    assert not is_working_day(date(2026, 5, 25))  # Whit Monday
    assert is_working_day(date(2026, 5, 26))


def test_shift_moves_over_the_easter_weekend_to_the_tuesday() -> None:
    assert shift(date(2026, 4, 3)) == date(2026, 4, 7)  # Good Friday → past Easter Monday
    assert shift(date(2026, 5, 14)) == date(2026, 5, 15)  # Ascension Day (RULES §10)
    assert shift(date(2025, 12, 25)) == date(2025, 12, 29)  # Christmas Thursday → Monday
    assert shift(date(2026, 6, 1)) == date(2026, 6, 1)  # a working day stays


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 20)))
def test_shift_gives_the_first_working_day_on_or_after_the_date(day: date) -> None:
    moved = shift(day)
    assert moved >= day
    assert is_working_day(moved)
    between = day
    while between < moved:
        assert not is_working_day(between)
        between += timedelta(days=1)


@given(st.integers(min_value=1900, max_value=2200))
def test_every_year_has_its_holidays_in_that_year(year: int) -> None:
    holidays = atw_holidays(year)
    assert len(holidays) in (8, 9)  # 8 when Ascension Day is 5 May (2016)
    assert {date(year, 1, 1), date(year, 5, 5), date(year, 12, 25), date(year, 12, 26)} <= holidays
    assert all(d.year == year for d in holidays)
    good_friday = min(d for d in holidays if d.month in (3, 4) and d.weekday() == 4)
    assert good_friday + timedelta(days=3) in holidays  # Easter Monday
    assert good_friday + timedelta(days=41) in holidays  # Ascension Day (a Thursday)
    assert good_friday + timedelta(days=52) in holidays  # Whit Monday


def test_no_shift_is_longer_than_longest_shift() -> None:
    """The pre-filter's margins count on LONGEST_SHIFT: five centuries of days, and the one
    stretch that reaches it (Good Friday 23 April 2038 to Wednesday 28 April: Easter Monday on the
    26th, King's Day on Tuesday the 27th)."""
    day, last = date(1900, 1, 1), date(2400, 12, 31)
    longest = timedelta(0)
    while day <= last:
        longest = max(longest, shift(day) - day)
        day += timedelta(days=1)
    assert longest == LONGEST_SHIFT
    assert shift(date(2038, 4, 23)) == date(2038, 4, 23) + LONGEST_SHIFT

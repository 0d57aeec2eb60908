"""Working days under the Algemene termijnenwet (ATW): the calendar that moves statutory
deadlines falling on a weekend or public holiday (RULES §1).

The `holidays` package's Dutch calendar is not the ATW's (it has 5 May only every fifth year and
no Good Friday), so the ATW list is computed here from Easter. Every function is pure; the
results are cached because the rules ask the same few thousand dates millions of times.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from dateutil.easter import easter

_DAY = timedelta(days=1)
_SUNDAY = 6
# The furthest `shift` moves a day: from Good Friday past Easter Monday and a King's Day on the
# Tuesday after it (Easter on 25 April: Friday 23 to Wednesday 28). No longer stretch of days
# without work exists in the ATW calendar (tests/test_workdays.py walks five centuries).
LONGEST_SHIFT = timedelta(days=5)


@cache
def atw_holidays(year: int) -> frozenset[date]:
    """The ATW public holidays of `year` that can fall on a weekday (Easter Sunday and Whit
    Sunday are Sundays anyway): New Year, Good Friday, Easter Monday, King's Day, Liberation
    Day (every year under the ATW), Ascension Day, Whit Monday and both Christmas days."""
    easter_sunday = easter(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == _SUNDAY:
        kings_day = date(year, 4, 26)
    return frozenset(
        {
            date(year, 1, 1),
            easter_sunday - timedelta(days=2),  # Good Friday
            easter_sunday + timedelta(days=1),  # Easter Monday
            kings_day,
            date(year, 5, 5),
            easter_sunday + timedelta(days=39),  # Ascension Day
            easter_sunday + timedelta(days=50),  # Whit Monday
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_working_day(day: date) -> bool:
    """Not a Saturday, a Sunday or an ATW public holiday."""
    return day.weekday() < 5 and day not in atw_holidays(day.year)


@cache
def shift(day: date) -> date:
    """`day` itself when it is a working day, else the next working day (ATW art. 1(1)).

    Only the rules that say so shift a deadline; the 42-week and WAZO deadlines never move."""
    while not is_working_day(day):
        day += _DAY
    return day

"""Working days in China: rectification deadlines and 复查 dates count them.

The State Council publishes each year's holidays and the weekend days worked in their
place (调休) only in the November before, so the calendar is data that a maintained
library (chinese_calendar) carries and updates. For a year it does not cover yet the
answer falls back to Monday–Friday and says so (``Deadline.calendar_known``), because
a deadline that silently ignores 春节 is worse than one that is marked approximate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar


def _known(day: dt.date) -> bool:
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is worked in China (holidays off, 调休 weekends on)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def calendar_known(day: dt.date) -> bool:
    """Whether the holiday arrangement for ``day``'s year is in the calendar we ship."""
    return _known(day)


@dataclass(frozen=True)
class Deadline:
    """A date computed on the working-day calendar, and whether every year it crossed was known."""

    date: dt.date
    calendar_known: bool

    @property
    def note(self) -> str | None:
        """A Chinese remark to print beside a date whose year's holidays are not yet known."""
        if self.calendar_known:
            return None
        return f"{self.date.year}年法定节假日安排未收录，期限按周一至周五计算，请人工核对"


def add_working_days(start: dt.date, days: int) -> Deadline:
    """The date ``days`` working days after ``start`` (``start`` itself not counted).

    ``days`` of 0 gives ``start`` if it is a working day, else the next one.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    known = _known(start)
    day = start
    if days == 0:
        while not is_working_day(day):
            day += dt.timedelta(days=1)
            known = known and _known(day)
        return Deadline(day, known)
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        known = known and _known(day)
        if is_working_day(day):
            counted += 1
    return Deadline(day, known)


def on_or_after_working_day(day: dt.date) -> Deadline:
    """``day`` moved forward to the first working day (a deadline never falls on a holiday)."""
    return add_working_days(day, 0)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count

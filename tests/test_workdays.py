import datetime as dt

from hypothesis import given, strategies as st

from hazardjudge import workdays


def test_national_day_and_adjusted_saturday():
    assert not workdays.is_working_day(dt.date(2026, 10, 1))
    # 2026-10-10 is a Saturday worked in place of the National Day holiday.
    assert workdays.is_working_day(dt.date(2026, 10, 10))


def test_deadline_skips_the_holiday_week():
    # 2026-09-30 (Wed) + 1 working day: 10-01..10-07 are off, 10-08 is worked.
    assert workdays.add_working_days(dt.date(2026, 9, 30), 1) == workdays.Deadline(dt.date(2026, 10, 8), True)


def test_zero_days_moves_a_holiday_forward():
    assert workdays.on_or_after_working_day(dt.date(2026, 10, 3)).date == dt.date(2026, 10, 8)
    assert workdays.on_or_after_working_day(dt.date(2026, 10, 9)).date == dt.date(2026, 10, 9)


def test_year_not_in_the_calendar_falls_back_to_weekdays_and_says_so():
    deadline = workdays.add_working_days(dt.date(2026, 12, 28), 10)
    assert not deadline.calendar_known
    assert deadline.date.weekday() < 5
    assert "未收录" in deadline.note


@given(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 60))
def test_deadline_is_a_working_day_and_counts_exactly(start, days):
    deadline = workdays.add_working_days(start, days)
    assert workdays.is_working_day(deadline.date)
    assert deadline.date >= start
    if days:
        assert workdays.working_days_between(start, deadline.date) == days

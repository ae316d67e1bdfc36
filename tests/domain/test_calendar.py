"""calendar: rest days (L4 art. 203, L14 CPL art. 85), the packaged holiday data, add_years."""

from datetime import date

import pytest

from arrears.domain.calendar import (
    HolidayCalendar,
    add_years,
    load_default_calendar,
    month_end,
    parse_holiday_csv,
    weekends_only_calendar,
)


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return load_default_calendar()


def test_default_calendar_covers_2020_to_2026(cal: HolidayCalendar) -> None:
    assert cal.published_years == frozenset(range(2020, 2027))
    assert load_default_calendar() is cal  # cached
    assert "cn_holidays.csv" in cal.source


@pytest.mark.parametrize(
    ("day", "rest"),
    [
        (date(2026, 10, 1), True),  # National Day (国务院办公厅关于2026年部分节假日安排的通知)
        (date(2026, 10, 7), True),
        (date(2026, 10, 10), False),  # Saturday, make-up working day
        (date(2026, 2, 14), False),  # Saturday, make-up working day (Spring Festival)
        (date(2026, 1, 4), False),  # Sunday, make-up working day (New Year)
        (date(2025, 9, 28), False),  # Sunday, make-up working day (National Day 2025)
        (date(2020, 2, 2), True),  # Spring Festival 2020, extended by a separate notice
        (date(2026, 3, 16), False),  # E3: a Monday
        (date(2028, 6, 10), True),  # E3: a Saturday (2028 not published: weekends only)
        (date(2026, 3, 17), False),  # an ordinary Tuesday
    ],
)
def test_rest_days(cal: HolidayCalendar, day: date, rest: bool) -> None:
    assert cal.is_rest_day(day) is rest


def test_holiday_rows_name_the_state_council_notice() -> None:
    from importlib import resources

    text = resources.files("arrears.domain").joinpath("data", "cn_holidays.csv").read_text("utf-8")
    assert "2026-10-01,holiday,国庆节,2026,国务院办公厅关于2026年部分节假日安排的通知" in text
    assert "2026-10-10,workday,国庆节调休上班,2026," in text


def test_next_working_day(cal: HolidayCalendar) -> None:
    assert cal.next_working_day_on_or_after(date(2026, 10, 1)) == date(2026, 10, 8)
    assert cal.next_working_day_on_or_after(date(2026, 10, 10)) == date(2026, 10, 10)
    # E7 (L14, CPL art. 85): a performance period ending Sunday 2026-05-31 ends Monday 2026-06-01.
    assert cal.next_working_day_on_or_after(date(2026, 5, 31)) == date(2026, 6, 1)


def test_e7_enforcement_deadline_two_years_on_is_a_thursday(cal: HolidayCalendar) -> None:
    """E7: "Enforcement must be applied for by 2028-06-01 (two years from that last day; a
    Thursday)." 2028 is not published, so the date is provisional."""
    deadline = cal.next_working_day_on_or_after(add_years(date(2026, 6, 1), 2))
    assert deadline == date(2028, 6, 1)
    assert deadline.weekday() == 3
    assert cal.is_provisional(deadline)


def test_provisional_years(cal: HolidayCalendar) -> None:
    assert not cal.is_provisional(date(2026, 12, 31))
    assert cal.is_provisional(date(2027, 1, 1))
    assert weekends_only_calendar().is_provisional(date(2026, 1, 1))


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2024, 2, 29), 3, date(2027, 2, 28)),  # E3: no 29 February in 2027 → month end
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2023, 3, 16), 3, date(2026, 3, 16)),
        (date(2026, 6, 1), 2, date(2028, 6, 1)),
    ],
)
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


def test_month_end() -> None:
    assert month_end(2024, 2) == date(2024, 2, 29)
    assert month_end(2026, 12) == date(2026, 12, 31)


def test_parse_holiday_csv_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        parse_holiday_csv("date,kind,name,year,source\n2026-01-01,party,x,2026,y\n", source="t")

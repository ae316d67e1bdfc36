"""Rest days and calendar arithmetic for limitation and court periods.

L4 (Civil Code art. 203) and L14 (CPL art. 85).

A period whose last day is a rest day (Saturday, Sunday or statutory holiday that is not a make-up
working day) ends on the next working day. Holidays are data published each year by the State
Council (``data/cn_holidays.csv``); a year not yet published counts weekends only and is marked
provisional.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources

HOLIDAY_FILE = "cn_holidays.csv"


def month_end(year: int, month: int) -> date:
    """Last day of a month."""
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def add_years(d: date, years: int) -> date:
    """The corresponding calendar day ``years`` later; the month's last day if there is none.

    Civil Code art. 201 ¶2 (L4): 29 February maps to 28 February in a common year.
    """
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return month_end(d.year + years, d.month)


@dataclass(frozen=True)
class HolidayCalendar:
    """Statutory holidays and make-up working days of the years the State Council has published."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    published_years: frozenset[int]
    source: str

    def is_rest_day(self, d: date) -> bool:
        """Saturday or Sunday unless a make-up working day, or a statutory holiday (L4)."""
        if d in self.workdays:
            return False
        return d in self.holidays or d.weekday() >= 5

    def next_working_day_on_or_after(self, d: date) -> date:
        """Where a period ending on ``d`` really ends (art. 203, CPL art. 85)."""
        while self.is_rest_day(d):
            d += timedelta(days=1)
        return d

    def is_provisional(self, d: date) -> bool:
        """True if ``d``'s year has no published holiday schedule: only weekends were counted."""
        return d.year not in self.published_years


def weekends_only_calendar(source: str = "weekends only") -> HolidayCalendar:
    """A calendar without holidays, every year provisional (tests, unknown future)."""
    return HolidayCalendar(frozenset(), frozenset(), frozenset(), source)


@cache
def load_default_calendar() -> HolidayCalendar:
    """The packaged mainland calendar (``data/cn_holidays.csv``), read once."""
    text = resources.files(__package__).joinpath("data", HOLIDAY_FILE).read_text(encoding="utf-8")
    return parse_holiday_csv(text, source=f"arrears/domain/data/{HOLIDAY_FILE}")


def parse_holiday_csv(text: str, *, source: str) -> HolidayCalendar:
    """Read rows ``date,kind,name,year,source`` (kind: holiday | workday)."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    years: set[int] = set()
    for row in csv.DictReader(io.StringIO(text)):
        day = date.fromisoformat(row["date"])
        kind = row["kind"]
        if kind == "holiday":
            holidays.add(day)
        elif kind == "workday":
            workdays.add(day)
        else:
            raise ValueError(f"unknown kind {kind!r} for {day} in {source}")
        years.add(int(row["year"]))
    return HolidayCalendar(frozenset(holidays), frozenset(workdays), frozenset(years), source)

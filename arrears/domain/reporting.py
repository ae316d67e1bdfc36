"""Report arithmetic: collection windows, the collection rate (收缴率) and aging buckets (账龄).

Pure functions of dates and Decimals; the services run the SQL and hand the sums in here.

Collection rate (LEGAL.md "Definitions"): for a *window* — the charges whose period starts in a
range of days, and the money applied up to an as-of date — the rate is collected ÷ billed. It is
kept as an exact Decimal and rounded half up to 0.1 % only for display (:func:`rate_percent`). With
nothing billed there is no rate (None, shown as "—"), never a division by zero.

Aging bucket: whole days from a charge's due date to the as-of date, for overdue charges only (a
charge due today or later is "upcoming", not arrears, and has no bucket). The buckets partition
1 day … ∞ without gaps or overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .calendar import add_years, month_end

ZERO = Decimal("0.00")
PERCENT_STEP = Decimal("0.1")


@dataclass(frozen=True)
class PeriodRange:
    """Charges whose ``period_start`` is in [start, end] (both days included)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period range ends before it starts: {self.start} – {self.end}")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Window:
    """What a collection figure covers: the charges of ``periods``, money applied up to ``as_of``."""

    periods: PeriodRange
    as_of: date


def month_range(year: int, month: int) -> PeriodRange:
    return PeriodRange(date(year, month, 1), month_end(year, month))


def month_window(as_of: date) -> Window:
    """The charges of the as-of date's month (the whole month), money applied up to ``as_of``."""
    return Window(month_range(as_of.year, as_of.month), as_of)


def year_to_date_window(as_of: date) -> Window:
    """The charges of 1 January to the end of the as-of month, money applied up to ``as_of``.

    Whole months: a charge of the current month counts from the month's first day (billed in
    advance for a later month, it does not count yet)."""
    return Window(PeriodRange(date(as_of.year, 1, 1), month_end(as_of.year, as_of.month)), as_of)


def last_year(window: Window) -> Window:
    """The same window one year earlier (29 February → 28 February), for the comparison."""
    start, end = window.periods.start, window.periods.end
    shifted_end = month_end(end.year - 1, end.month) if end == month_end(end.year, end.month) else add_years(end, -1)
    return Window(PeriodRange(add_years(start, -1), shifted_end), add_years(window.as_of, -1))


def collection_rate(collected: Decimal, billed: Decimal) -> Decimal | None:
    """collected ÷ billed, exact; None when nothing (or less than nothing) was billed."""
    if billed <= 0:
        return None
    return collected / billed


def rate_percent(rate: Decimal | None) -> Decimal | None:
    """The rate as a percentage rounded half up to 0.1 (0.98765 → 98.8); None stays None."""
    if rate is None:
        return None
    return (rate * 100).quantize(PERCENT_STEP, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AgingBucket:
    """Charges overdue by ``min_days`` … ``max_days`` days (None: no upper limit)."""

    code: str
    min_days: int
    max_days: int | None

    def due_range(self, as_of: date) -> tuple[date | None, date]:
        """(oldest, newest) due date in this bucket as of ``as_of``; oldest None means unbounded.

        Lets a database select a bucket with a plain date comparison on the due date."""
        newest = as_of - timedelta(days=self.min_days)
        oldest = None if self.max_days is None else as_of - timedelta(days=self.max_days)
        return oldest, newest


#: 1–30, 31–90, 91–180, 181–365 days, one to three years, more than three years (1,095 days).
AGING_BUCKETS: tuple[AgingBucket, ...] = (
    AgingBucket("d1_30", 1, 30),
    AgingBucket("d31_90", 31, 90),
    AgingBucket("d91_180", 91, 180),
    AgingBucket("d181_365", 181, 365),
    AgingBucket("y1_3", 366, 1095),
    AgingBucket("y3_plus", 1096, None),
)


def days_overdue(due_date: date, as_of: date) -> int:
    return (as_of - due_date).days


def bucket_of(due_date: date, as_of: date) -> AgingBucket | None:
    """The bucket of a charge due on ``due_date`` as of ``as_of``; None when it is not overdue."""
    days = days_overdue(due_date, as_of)
    for bucket in AGING_BUCKETS:
        if days >= bucket.min_days and (bucket.max_days is None or days <= bucket.max_days):
            return bucket
    return None

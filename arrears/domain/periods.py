"""Billing periods aligned to the calendar, due dates and period amounts (E1, E9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from .calendar import month_end
from .money import split_pro_rata, to_fen


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"

    @property
    def months(self) -> int:
        return _CYCLE_MONTHS[self]


_CYCLE_MONTHS = {
    BillingCycle.MONTHLY: 1,
    BillingCycle.QUARTERLY: 3,
    BillingCycle.HALF_YEARLY: 6,
    BillingCycle.YEARLY: 12,
}


class DueRule(StrEnum):
    DAY_OF_FIRST_MONTH = "day_of_first_month"
    PERIOD_END = "period_end"


@dataclass(frozen=True, order=True)
class Period:
    """A billing period, ``end`` inclusive.

    With a ``cycle`` the period must be the calendar-aligned one of that cycle (quarters start in
    Jan/Apr/Jul/Oct, half-years in Jan/Jul). ``cycle=None`` is a free date range (e.g. one
    owner's part of a period, E9).
    """

    start: date
    end: date
    cycle: BillingCycle | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends before it starts: {self.start} – {self.end}")
        if self.cycle is not None and (self.start, self.end) != _bounds(self.cycle, self.start):
            raise ValueError(f"{self.start} – {self.end} is not a calendar {self.cycle} period")

    @property
    def months(self) -> int:
        """Calendar months the period touches (a cycle's period: the cycle's months)."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """``2026-01``, ``2026Q1``, ``2026H1``, ``2026``; a free range shows its dates."""
        year, month = self.start.year, self.start.month
        match self.cycle:
            case BillingCycle.MONTHLY:
                return f"{year}-{month:02d}"
            case BillingCycle.QUARTERLY:
                return f"{year}Q{(month - 1) // 3 + 1}"
            case BillingCycle.HALF_YEARLY:
                return f"{year}H{(month - 1) // 6 + 1}"
            case BillingCycle.YEARLY:
                return f"{year}"
            case _:
                return f"{self.start.isoformat()}~{self.end.isoformat()}"

    def next(self) -> Period:
        """The following period of the same cycle."""
        if self.cycle is None:
            raise ValueError("a free date range has no next period")
        return period_containing(self.cycle, self.end + timedelta(days=1))


def period_containing(cycle: BillingCycle, day: date) -> Period:
    """The calendar-aligned period of ``cycle`` that contains ``day``."""
    return Period(*_bounds(cycle, day), cycle)


def _bounds(cycle: BillingCycle, day: date) -> tuple[date, date]:
    first_month = (day.month - 1) // cycle.months * cycle.months + 1
    start = date(day.year, first_month, 1)
    return start, month_end(day.year, first_month + cycle.months - 1)


def periods_through(cycle: BillingCycle, first_day: date, through_month: date) -> list[Period]:
    """Every period from the one containing ``first_day`` to the one containing the first day of
    ``through_month``'s month, in order; empty if that month is before ``first_day``'s period.

    Deterministic, so billing the same range twice yields the same periods (the billing run
    skips those already billed).
    """
    last = period_containing(cycle, through_month.replace(day=1))
    periods: list[Period] = []
    period = period_containing(cycle, first_day)
    while period.start <= last.start:
        periods.append(period)
        period = period.next()
    return periods


def due_date(period: Period, rule: DueRule, day: int | None) -> date:
    """Day ``day`` of the first month (clamped to that month's end), or the period's end (E1)."""
    if rule is DueRule.PERIOD_END:
        return period.end
    if day is None or not 1 <= day <= 31:
        raise ValueError(f"due day must be 1–31 for {rule}: {day!r}")
    last = month_end(period.start.year, period.start.month)
    return period.start.replace(day=min(day, last.day))


def period_amount(quantity: Decimal, rate: Decimal, months: int) -> Decimal:
    """Area (m², or 1 for a per-unit fee) × monthly rate × months, rounded once (E1)."""
    if quantity < 0 or rate < 0:
        raise ValueError("quantity and rate must not be negative")
    if months < 1:
        raise ValueError(f"months must be at least 1: {months}")
    return to_fen(quantity * rate * months)


def split_by_days(
    amount: Decimal, period: Period, parts: Sequence[tuple[date, date]]
) -> list[Decimal]:
    """Share a period's amount between date ranges (inclusive) by days, e.g. on a sale (E9).

    Parts covering the whole period sum exactly to ``amount``. For two parts (the E9 case) this
    is E9's rule: the first is ``amount × days / period days`` rounded half-up, the last takes
    the remainder. It is computed as a largest-remainder split by days, which gives exactly that
    for two parts and, for three or more, keeps every part within a fen of its exact share (the
    plain remainder rule could leave the last part negative, e.g. 0.03 over 6+6+6+6+7 days).
    Parts that do not cover the period (a gap nobody owes) are each just rounded half-up, with
    no remainder trick. Parts must lie in the period and must not overlap.
    """
    _check_parts(period, parts)
    days = [_days(p) for p in parts]
    if parts and sum(days) == period.days:
        return split_pro_rata(amount, [Decimal(d) for d in days])
    return [to_fen(amount * d / period.days) for d in days]


def _days(part: tuple[date, date]) -> int:
    return (part[1] - part[0]).days + 1


def _check_parts(period: Period, parts: Sequence[tuple[date, date]]) -> None:
    for start, end in parts:
        if not period.start <= start <= end <= period.end:
            raise ValueError(f"part {start} – {end} is not a date range inside {period.label}")
    ordered = sorted(parts)
    for (_, prev_end), (next_start, _) in pairwise(ordered):
        if next_start <= prev_end:
            raise ValueError("parts overlap")

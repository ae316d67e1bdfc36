"""periods: calendar-aligned billing periods, due dates, period amounts (E1), day splits (E9)."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.money import CENT, to_fen
from arrears.domain.periods import (
    BillingCycle,
    DueRule,
    Period,
    due_date,
    period_amount,
    period_containing,
    periods_through,
    split_by_days,
)

D = Decimal
Q = BillingCycle.QUARTERLY
M = BillingCycle.MONTHLY


def test_e1_billing_a_quarter() -> None:
    """E1: area 89.50 m² × 2.20 per m² per month; quarterly, due on the 15th of the quarter's
    first month. "Monthly amount 89.50 × 2.20 = 196.90; the Q1 2026 charge is 3 × 196.90 =
    590.70, due 2026-01-15." Rounded once, after multiplying by the months."""
    period = period_containing(Q, date(2026, 2, 20))
    assert (period.start, period.end, period.label) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
        "2026Q1",
    )
    assert period_amount(D("89.50"), D("2.20"), 1) == D("196.90")
    assert period_amount(D("89.50"), D("2.20"), period.months) == D("590.70")
    assert due_date(period, DueRule.DAY_OF_FIRST_MONTH, 15) == date(2026, 1, 15)


def test_period_amount_rounds_once_not_per_month() -> None:
    # 10.005 per month: per-month rounding would give 3 × 10.01 = 30.03; once gives 30.02 (30.015)
    assert period_amount(D("1"), D("10.005"), 3) == D("30.02")


def test_period_amount_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError):
        period_amount(D("-1"), D("2"), 1)
    with pytest.raises(ValueError):
        period_amount(D("1"), D("2"), 0)


@pytest.mark.parametrize(
    ("cycle", "day", "start", "end", "label", "months"),
    [
        (M, date(2026, 2, 10), date(2026, 2, 1), date(2026, 2, 28), "2026-02", 1),
        (M, date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29), "2024-02", 1),
        (Q, date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31), "2026Q4", 3),
        (
            BillingCycle.HALF_YEARLY,
            date(2026, 7, 1),
            date(2026, 7, 1),
            date(2026, 12, 31),
            "2026H2",
            6,
        ),
        (
            BillingCycle.HALF_YEARLY,
            date(2026, 6, 30),
            date(2026, 1, 1),
            date(2026, 6, 30),
            "2026H1",
            6,
        ),
        (BillingCycle.YEARLY, date(2026, 5, 5), date(2026, 1, 1), date(2026, 12, 31), "2026", 12),
    ],
)
def test_period_containing_is_calendar_aligned(
    cycle: BillingCycle, day: date, start: date, end: date, label: str, months: int
) -> None:
    period = period_containing(cycle, day)
    assert (period.start, period.end, period.label, period.months) == (start, end, label, months)
    assert period.cycle is cycle
    assert cycle.months == months
    assert period.days == (end - start).days + 1


def test_period_validates_alignment_and_order() -> None:
    with pytest.raises(ValueError, match="not a calendar"):
        Period(date(2026, 2, 1), date(2026, 4, 30), Q)
    with pytest.raises(ValueError, match="ends before"):
        Period(date(2026, 2, 2), date(2026, 2, 1))
    free = Period(date(2026, 3, 1), date(2026, 3, 10))
    assert free.label == "2026-03-01~2026-03-10"
    assert free.days == 10


def test_periods_order_by_start() -> None:
    assert period_containing(M, date(2026, 1, 5)) < period_containing(M, date(2026, 2, 5))


def test_periods_through_includes_both_ends() -> None:
    periods = periods_through(Q, date(2025, 11, 20), date(2026, 4, 30))
    assert [p.label for p in periods] == ["2025Q4", "2026Q1", "2026Q2"]


def test_periods_through_empty_when_before_start() -> None:
    assert periods_through(M, date(2026, 5, 1), date(2026, 4, 30)) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [(15, date(2026, 2, 15)), (31, date(2026, 2, 28)), (1, date(2026, 2, 1))],
)
def test_due_date_day_of_first_month_is_clamped(day: int, expected: date) -> None:
    period = period_containing(M, date(2026, 2, 1))
    assert due_date(period, DueRule.DAY_OF_FIRST_MONTH, day) == expected


def test_due_date_period_end() -> None:
    period = period_containing(Q, date(2026, 1, 1))
    assert due_date(period, DueRule.PERIOD_END, None) == date(2026, 3, 31)
    with pytest.raises(ValueError):
        due_date(period, DueRule.DAY_OF_FIRST_MONTH, None)
    with pytest.raises(ValueError):
        due_date(period, DueRule.DAY_OF_FIRST_MONTH, 32)


def test_e9_ownership_change_inside_a_period() -> None:
    """E9: 196.90 for March 2026; the new owner from 2026-03-11. "Old owner: 1–10 March = 10 of
    31 days → 196.90 × 10 / 31 = 63.516… → 63.52. New owner: the remainder … 133.38." """
    march = period_containing(M, date(2026, 3, 1))
    parts = [(date(2026, 3, 1), date(2026, 3, 10)), (date(2026, 3, 11), date(2026, 3, 31))]
    assert split_by_days(D("196.90"), march, parts) == [D("63.52"), D("133.38")]


def test_split_by_days_partial_cover_rounds_each_part() -> None:
    """Parts that do not cover the period are each rounded; no remainder goes to the last."""
    march = period_containing(M, date(2026, 3, 1))
    parts = [(date(2026, 3, 11), date(2026, 3, 31))]
    assert split_by_days(D("196.90"), march, parts) == [D("133.38")]  # 133.3838…
    parts = [(date(2026, 3, 1), date(2026, 3, 10))]
    assert split_by_days(D("196.90"), march, parts) == [D("63.52")]


def test_split_by_days_rejects_overlap_and_outside() -> None:
    march = period_containing(M, date(2026, 3, 1))
    with pytest.raises(ValueError, match="overlap"):
        split_by_days(
            D("1"),
            march,
            [(date(2026, 3, 1), date(2026, 3, 10)), (date(2026, 3, 10), date(2026, 3, 31))],
        )
    with pytest.raises(ValueError, match="inside"):
        split_by_days(D("1"), march, [(date(2026, 2, 28), date(2026, 3, 10))])


days_2020s = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
cycles = st.sampled_from(list(BillingCycle))


@settings(max_examples=100, deadline=None)
@given(cycle=cycles, a=days_2020s, b=days_2020s, c=days_2020s)
def test_billing_twice_adds_nothing(cycle: BillingCycle, a: date, b: date, c: date) -> None:
    """Property: the same range gives the same periods; overlapping ranges union without
    duplicates into exactly the periods of the combined range, contiguous and aligned."""
    first, mid, last = sorted((a, b, c))
    once = periods_through(cycle, first, last)
    assert once == periods_through(cycle, first, last)
    left = periods_through(cycle, first, mid)
    right = periods_through(cycle, mid, last)
    union = sorted(set(left) | set(right))
    assert union == once
    assert len(set(once)) == len(once)
    for p, q in pairwise(once):
        assert q.start == p.end + timedelta(days=1)
    assert once[0].start <= first <= once[0].end


@settings(max_examples=100, deadline=None)
@given(
    cycle=cycles,
    day=days_2020s,
    fen=st.integers(min_value=0, max_value=10**9),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=4),
)
def test_split_by_days_covering_parts_sum_to_amount(
    cycle: BillingCycle, day: date, fen: int, cuts: list[int]
) -> None:
    """Property (E9): parts covering the period sum exactly to the period amount."""
    period = period_containing(cycle, day)
    amount = D(fen) * CENT
    starts = sorted(
        {period.start} | {period.start + timedelta(days=c) for c in cuts if c < period.days}
    )
    ends = [s - timedelta(days=1) for s in starts[1:]] + [period.end]
    parts = list(zip(starts, ends, strict=True))
    shares = split_by_days(amount, period, parts)
    assert sum(shares) == amount
    assert all(share >= 0 for share in shares)


@settings(max_examples=200, deadline=None)
@given(
    cycle=cycles,
    day=days_2020s,
    fen=st.integers(min_value=0, max_value=10**9),
    cut=st.integers(1, 400),
)
def test_split_by_days_two_parts_is_round_then_remainder(
    cycle: BillingCycle, day: date, fen: int, cut: int
) -> None:
    """E9's wording for two parts: round the first half-up, the last takes the remainder."""
    period = period_containing(cycle, day)
    if cut >= period.days:
        return
    amount = D(fen) * CENT
    split = period.start + timedelta(days=cut)
    parts = [(period.start, split - timedelta(days=1)), (split, period.end)]
    first = to_fen(amount * cut / period.days)
    assert split_by_days(amount, period, parts) == [first, amount - first]


def test_split_by_days_many_small_parts_never_negative() -> None:
    march = period_containing(M, date(2026, 3, 1))
    bounds = [1, 7, 13, 19, 25]
    parts = [
        (date(2026, 3, b), date(2026, 3, e))
        for b, e in zip(bounds, [6, 12, 18, 24, 31], strict=True)
    ]
    shares = split_by_days(D("0.03"), march, parts)
    assert sum(shares) == D("0.03")
    assert min(shares) >= 0

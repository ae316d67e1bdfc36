"""reporting: collection windows, the collection rate (收缴率) and aging buckets (LEGAL.md definitions)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.reporting import (
    AGING_BUCKETS,
    PeriodRange,
    Window,
    bucket_of,
    collection_rate,
    last_year,
    month_window,
    rate_percent,
    year_to_date_window,
)

D = Decimal


def test_windows_cover_whole_months_and_money_up_to_the_as_of_date() -> None:
    assert month_window(date(2026, 11, 22)) == Window(PeriodRange(date(2026, 11, 1), date(2026, 11, 30)),
                                                      date(2026, 11, 22))
    assert year_to_date_window(date(2026, 11, 22)) == Window(PeriodRange(date(2026, 1, 1), date(2026, 11, 30)),
                                                             date(2026, 11, 22))


def test_last_year_keeps_month_ends_and_maps_29_february() -> None:
    leap = month_window(date(2028, 2, 29))
    assert last_year(leap) == Window(PeriodRange(date(2027, 2, 1), date(2027, 2, 28)), date(2027, 2, 28))
    after_leap = month_window(date(2029, 2, 10))
    assert last_year(after_leap).periods == PeriodRange(date(2028, 2, 1), date(2028, 2, 29))
    assert last_year(year_to_date_window(date(2026, 11, 22))) == Window(
        PeriodRange(date(2025, 1, 1), date(2025, 11, 30)), date(2025, 11, 22))


def test_a_range_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        PeriodRange(date(2026, 2, 1), date(2026, 1, 31))


def test_rate_is_exact_and_rounded_half_up_to_a_tenth_of_a_percent_only_for_display() -> None:
    rate = collection_rate(D("393.80"), D("590.70"))
    assert rate == D("393.80") / D("590.70")
    assert rate_percent(rate) == D("66.7")
    assert rate_percent(D("0.12345")) == D("12.3")
    assert rate_percent(D("0.12350")) == D("12.4")  # half up, not half even
    assert rate_percent(D("0.12250")) == D("12.3")
    assert rate_percent(collection_rate(D("0.00"), D("100.00"))) == D("0.0")
    assert rate_percent(collection_rate(D("100.00"), D("100.00"))) == D("100.0")


def test_nothing_billed_has_no_rate() -> None:
    assert collection_rate(D("0.00"), D("0.00")) is None
    assert collection_rate(D("50.00"), D("0.00")) is None
    assert rate_percent(None) is None


def test_buckets_by_days_from_the_due_date() -> None:
    today = date(2026, 11, 22)
    assert bucket_of(today, today) is None  # due today: upcoming, not arrears
    assert bucket_of(today + timedelta(days=5), today) is None
    expected = {1: "d1_30", 30: "d1_30", 31: "d31_90", 90: "d31_90", 91: "d91_180", 180: "d91_180",
                181: "d181_365", 365: "d181_365", 366: "y1_3", 1095: "y1_3", 1096: "y3_plus", 5000: "y3_plus"}
    for days, code in expected.items():
        bucket = bucket_of(today - timedelta(days=days), today)
        assert bucket is not None and bucket.code == code, days


amounts = st.decimals(min_value=D("0.00"), max_value=D("9999999.99"), places=2, allow_nan=False,
                      allow_infinity=False)


@given(collected=amounts, extra=amounts)
def test_rate_is_between_0_and_1_when_collected_does_not_exceed_billed(collected: Decimal, extra: Decimal) -> None:
    billed = collected + extra
    rate = collection_rate(collected, billed)
    if billed == 0:
        assert rate is None
    else:
        assert rate is not None and D(0) <= rate <= D(1)
        percent = rate_percent(rate)
        assert percent is not None and D("0.0") <= percent <= D("100.0")


@given(today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
       days=st.integers(min_value=-400, max_value=20000))
def test_buckets_partition_the_overdue_days(today: date, days: int) -> None:
    due = today - timedelta(days=days)
    holding = [b for b in AGING_BUCKETS if _in_range(due, *b.due_range(today))]
    bucket = bucket_of(due, today)
    if days <= 0:
        assert bucket is None and holding == []
    else:
        assert holding == [bucket]  # exactly one bucket, and the date bounds the SQL uses agree


def _in_range(due: date, oldest: date | None, newest: date) -> bool:
    return (oldest is None or due >= oldest) and due <= newest

"""statement: the statement engine as of a date (LEGAL definitions, L4–L7; E2, E3)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.allocation import AllocationPolicy, Component
from arrears.domain.calendar import HolidayCalendar, load_default_calendar
from arrears.domain.latefees import LateFeeTerms
from arrears.domain.money import CENT
from arrears.domain.statement import (
    AGING_BUCKETS,
    Application,
    ChargeFacts,
    aging_bucket,
    build_statement,
)

D = Decimal
P = Component.PRINCIPAL
F = Component.LATE_FEE
E2_TERMS = LateFeeTerms(rate_per_day=D("0.0005"))


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return load_default_calendar()


def make_charge(
    key: int = 1,
    *,
    quarter: int = 1,
    amount: str = "590.70",
    applications: tuple[Application, ...] = (),
    interruptions: tuple[date, ...] = (),
    is_cost: bool = False,
    due: date | None = None,
) -> ChargeFacts:
    """Charge E1 (590.70 for a 2026 quarter, due on the 15th of its first month)."""
    first_month = 3 * quarter - 2
    return ChargeFacts(
        key=key,
        label=f"2026Q{quarter}",
        fee_item="物业费",
        period_start=date(2026, first_month, 1),
        period_end=date(2026, first_month + 2, 28),
        due_date=due or date(2026, first_month, 15),
        amount=D(amount),
        is_cost=is_cost,
        applications=applications,
        interruptions=interruptions,
    )


def pay(
    on: date, amount: str, component: Component = P, source: str = "payment", **kw: object
) -> Application:
    return Application(on, component, D(amount), source, ref=f"R{on:%m%d}", **kw)  # type: ignore[arg-type]


def test_e2_statement_with_a_part_payment(cal: HolidayCalendar) -> None:
    """E2 on a statement as of 2026-04-15: late fee 17.58, outstanding principal 290.70. The Q2
    charge due that same day is upcoming, not arrears (overdue = due date before the as-of date).
    The part payment interrupts limitation (L5): 2026-02-14 + 3 years = 2029-02-14."""
    q1 = make_charge(1, applications=(pay(date(2026, 2, 14), "300.00"),))
    q2 = make_charge(2, quarter=2)
    s = build_statement([q2, q1], as_of=date(2026, 4, 15), terms=E2_TERMS, calendar=cal)
    line1, line2 = s.lines
    assert (line1.key, line1.paid, line1.outstanding, line1.days_overdue, line1.overdue) == (
        1,
        D("300.00"),
        D("290.70"),
        90,
        True,
    )
    assert line1.late_fee.accrued == D("17.58")
    assert line1.limitation.unmoved == date(2029, 2, 14)
    assert not line1.time_barred
    assert (line2.overdue, line2.days_overdue, line2.late_fee.accrued) == (False, 0, D(0))
    assert s.overdue_outstanding == D("290.70")
    assert s.upcoming_outstanding == D("590.70")
    assert s.total_outstanding == D("881.40")
    assert s.arrears == D("290.70")
    assert s.late_fee_outstanding == D("17.58")
    assert s.aging == {"0-30": 0, "31-90": D("290.70"), "91-180": 0, "181-365": 0, "365+": 0}
    assert s.policy is AllocationPolicy.PRINCIPAL_FIRST


def test_statement_as_of_an_earlier_date_ignores_later_applications(cal: HolidayCalendar) -> None:
    q1 = make_charge(1, applications=(pay(date(2026, 2, 14), "300.00"),))
    s = build_statement([q1], as_of=date(2026, 2, 13), terms=E2_TERMS, calendar=cal)
    assert (s.lines[0].paid, s.lines[0].outstanding, s.lines[0].applications) == (
        D(0),
        D("590.70"),
        (),
    )
    assert s.lines[0].limitation.unmoved == date(2029, 1, 16)


def test_voided_payment_counts_only_before_its_voiding(cal: HolidayCalendar) -> None:
    voided = pay(date(2026, 2, 14), "300.00", voided_on=date(2026, 3, 1))
    q1 = make_charge(1, applications=(voided,))
    before = build_statement([q1], as_of=date(2026, 2, 28), terms=E2_TERMS, calendar=cal)
    after = build_statement([q1], as_of=date(2026, 4, 15), terms=E2_TERMS, calendar=cal)
    assert before.lines[0].outstanding == D("290.70")
    assert after.lines[0].outstanding == D("590.70")
    assert after.lines[0].late_fee.accrued == D("26.58")  # E2 without the payment


def test_adjustments_credit_and_waivers(cal: HolidayCalendar) -> None:
    """Adjustments reduce principal (shown apart from payments) and stop late-fee accrual on that
    part; a late-fee adjustment is a waiver; credit reduces arrears, floored at 0."""
    apps = (
        pay(date(2026, 2, 14), "300.00", source="adjustment"),
        pay(date(2026, 4, 1), "5.00", component=F, source="adjustment"),
        pay(date(2026, 4, 2), "2.58", component=F),
    )
    q1 = make_charge(1, applications=apps)
    s = build_statement(
        [q1], as_of=date(2026, 4, 15), terms=E2_TERMS, calendar=cal, credit=D("500.00")
    )
    line = s.lines[0]
    assert (line.paid, line.adjusted, line.outstanding) == (D(0), D("300.00"), D("290.70"))
    assert (line.late_fee.accrued, line.late_fee.paid, line.late_fee.waived) == (
        D("17.58"),
        D("2.58"),
        D("5.00"),
    )
    assert line.late_fee.outstanding == D("10.00")
    assert s.arrears == 0
    assert s.credit == D("500.00")
    # a late-fee payment is still a payment applied to the charge: it interrupts limitation (L5)
    assert line.limitation.unmoved == date(2029, 4, 2)


def test_cost_charges_accrue_no_late_fee(cal: HolidayCalendar) -> None:
    costs = make_charge(9, amount="50.00", is_cost=True)
    s = build_statement([costs], as_of=date(2026, 6, 1), terms=E2_TERMS, calendar=cal)
    assert s.lines[0].late_fee.accrued == 0
    assert s.lines[0].overdue


def test_e3_time_barred_charge_stays_in_flagged(cal: HolidayCalendar) -> None:
    """E3 / L4: a charge due 2023-03-15 with no interruption is time-barred after 2026-03-16; it
    stays in the statement and in arrears, flagged."""
    old = make_charge(1, amount="196.90", due=date(2023, 3, 15))
    on_end = build_statement([old], as_of=date(2026, 3, 16), terms=E2_TERMS, calendar=cal)
    after = build_statement([old], as_of=date(2026, 3, 17), terms=E2_TERMS, calendar=cal)
    assert not on_end.lines[0].time_barred
    assert after.lines[0].time_barred
    assert after.time_barred_outstanding == D("196.90")
    assert after.arrears == D("196.90")
    assert after.aging["365+"] == D("196.90")


def test_e3_delivered_demand_keeps_the_charge_alive(cal: HolidayCalendar) -> None:
    """E3: a demand signed for on 2025-06-10 restarts the period: end 2028-06-12, provisional."""
    old = make_charge(1, amount="196.90", due=date(2023, 3, 15), interruptions=(date(2025, 6, 10),))
    s = build_statement([old], as_of=date(2026, 3, 17), terms=E2_TERMS, calendar=cal)
    assert not s.lines[0].time_barred
    assert (s.lines[0].limitation.end, s.lines[0].limitation.provisional) == (
        date(2028, 6, 12),
        True,
    )
    # an interruption recorded after the as-of date does not count as of that date
    early = build_statement([old], as_of=date(2025, 6, 9), terms=E2_TERMS, calendar=cal)
    assert early.lines[0].limitation.end == date(2026, 3, 16)


def test_lines_sorted_by_due_date_then_label(cal: HolidayCalendar) -> None:
    a = make_charge(1, quarter=2)
    b = ChargeFacts(
        2,
        "2026Q2 车位费",
        "车位管理费",
        date(2026, 4, 1),
        date(2026, 4, 30),
        date(2026, 4, 15),
        D("100.00"),
    )
    c = make_charge(3, quarter=1)
    s = build_statement([a, b, c], as_of=date(2026, 5, 1), terms=E2_TERMS, calendar=cal)
    assert [line.key for line in s.lines] == [3, 1, 2]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-30"),
        (1, "0-30"),
        (30, "0-30"),
        (31, "31-90"),
        (90, "31-90"),
        (91, "91-180"),
        (180, "91-180"),
        (181, "181-365"),
        (365, "181-365"),
        (366, "365+"),
    ],
)
def test_aging_bucket(days: int, bucket: str) -> None:
    assert aging_bucket(days) == bucket
    assert bucket in AGING_BUCKETS


def test_rejects_negative_credit_and_days(cal: HolidayCalendar) -> None:
    with pytest.raises(ValueError):
        aging_bucket(-1)
    with pytest.raises(ValueError):
        build_statement([], as_of=date(2026, 1, 1), terms=E2_TERMS, calendar=cal, credit=D("-1"))


fen = st.integers(min_value=1, max_value=80000).map(lambda n: D(n) * CENT)
app_dates = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
applications = st.builds(
    Application,
    on=app_dates,
    component=st.sampled_from([P, F]),
    amount=fen,
    source=st.sampled_from(["payment", "adjustment", "credit"]),
    ref=st.just("x"),
    voided_on=st.one_of(st.none(), app_dates),
)


@settings(max_examples=100, deadline=None)
@given(
    amounts=st.lists(fen, min_size=1, max_size=4),
    apps=st.lists(st.lists(applications, max_size=4), min_size=4, max_size=4),
    as_of=st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 12, 31)),
    credit=st.one_of(st.just(D("0.00")), fen),
)
def test_statement_amounts_are_never_negative(
    amounts: list[Decimal], apps: list[list[Application]], as_of: date, credit: Decimal
) -> None:
    """Property: outstanding principal and late fee, arrears and aging are never negative, and
    the totals add up (overdue + upcoming + fully-due-today-or-paid lines = total outstanding)."""
    cal = load_default_calendar()
    charges = [
        make_charge(i + 1, quarter=i + 1, amount=str(a), applications=tuple(apps[i]))
        for i, a in enumerate(amounts)
    ]
    s = build_statement(charges, as_of=as_of, terms=E2_TERMS, calendar=cal, credit=credit)
    for line in s.lines:
        assert 0 <= line.outstanding <= line.amount
        assert line.late_fee.outstanding >= 0
        assert line.days_overdue >= 0
    assert s.arrears >= 0
    assert all(v >= 0 for v in s.aging.values())
    assert sum(s.aging.values()) == s.overdue_outstanding
    assert s.overdue_outstanding + s.upcoming_outstanding == s.total_outstanding

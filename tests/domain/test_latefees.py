"""latefees: daily accrual on overdue principal, rounding once, the cap (L7, E2)."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.latefees import (
    LateFeeLine,
    LateFeeTerms,
    PrincipalReduction,
    accrued_late_fee,
    late_fee_due,
    late_fee_lines,
)
from arrears.domain.money import CENT

D = Decimal
E2_TERMS = LateFeeTerms(rate_per_day=D("0.0005"))  # 万分之五
E2_DUE = date(2026, 1, 15)
E2_PAYMENT = PrincipalReduction(on=date(2026, 2, 14), amount=D("300.00"))
E2_AS_OF = date(2026, 4, 15)


def test_e2_late_fee_with_a_part_payment() -> None:
    """E2: 590.70 due 2026-01-15, 0.05 % per day, 300.00 paid 2026-02-14, as of 2026-04-15.
    "2026-01-15 → 2026-02-14: 30 days on 590.70 → 8.8605; 2026-02-14 → 2026-04-15: 60 days on
    290.70 → 8.7210; Late fee 17.58 (17.5815 rounded once)." """
    lines = late_fee_lines(D("590.70"), E2_DUE, [E2_PAYMENT], E2_AS_OF, E2_TERMS)
    assert lines == [
        LateFeeLine(date(2026, 1, 15), date(2026, 2, 14), 30, D("590.70"), D("8.8605")),
        LateFeeLine(date(2026, 2, 14), date(2026, 4, 15), 60, D("290.70"), D("8.7210")),
    ]
    assert accrued_late_fee(D("590.70"), E2_DUE, [E2_PAYMENT], E2_AS_OF, E2_TERMS) == D("17.5815")
    fee = late_fee_due(D("590.70"), E2_DUE, [E2_PAYMENT], E2_AS_OF, E2_TERMS)
    assert (fee.accrued, fee.outstanding, fee.capped, fee.days) == (
        D("17.58"),
        D("17.58"),
        False,
        90,
    )


def test_e2_without_the_payment() -> None:
    """E2: "Without the payment: 90 days × 590.70 × 0.0005 = 26.5815 → 26.58." """
    assert accrued_late_fee(D("590.70"), E2_DUE, [], E2_AS_OF, E2_TERMS) == D("26.5815")
    assert late_fee_due(D("590.70"), E2_DUE, [], E2_AS_OF, E2_TERMS).accrued == D("26.58")


def test_e2_cap_at_the_charge_amount() -> None:
    """E2: "a charge of 100.00 at 0.3 % per day … unpaid for 400 days accrues 120.00, capped at
    the charge's amount: 100.00." """
    terms = LateFeeTerms(rate_per_day=D("0.003"))
    due = date(2025, 1, 1)
    as_of = due + timedelta(days=400)
    assert accrued_late_fee(D("100.00"), due, [], as_of, terms) == D("120.000")
    fee = late_fee_due(D("100.00"), due, [], as_of, terms)
    assert (fee.accrued, fee.capped, fee.outstanding, fee.days) == (
        D("100.00"),
        True,
        D("100.00"),
        400,
    )


def test_e2_a_late_fee_already_paid_counts_towards_the_cap() -> None:
    """E2: "A late fee already paid counts towards the cap." """
    terms = LateFeeTerms(rate_per_day=D("0.003"))
    due = date(2025, 1, 1)
    fee = late_fee_due(D("100.00"), due, [], due + timedelta(days=400), terms, paid=D("30.00"))
    assert (fee.accrued, fee.paid, fee.outstanding) == (D("100.00"), D("30.00"), D("70.00"))


def test_no_cap_and_custom_cap() -> None:
    due = date(2025, 1, 1)
    as_of = due + timedelta(days=400)
    uncapped = late_fee_due(D("100.00"), due, [], as_of, LateFeeTerms(D("0.003"), cap_ratio=None))
    assert (uncapped.accrued, uncapped.capped) == (D("120.00"), False)
    half = late_fee_due(D("100.00"), due, [], as_of, LateFeeTerms(D("0.003"), cap_ratio=D("0.5")))
    assert (half.accrued, half.capped) == (D("50.00"), True)


def test_no_clause_no_fee() -> None:
    """L7: only if the contract has a late-fee clause."""
    fee = late_fee_due(D("590.70"), E2_DUE, [], E2_AS_OF, LateFeeTerms(rate_per_day=None))
    assert (fee.accrued, fee.outstanding, fee.days) == (D(0), D(0), 0)


def test_nothing_accrues_on_or_before_the_due_date() -> None:
    assert accrued_late_fee(D("590.70"), E2_DUE, [], E2_DUE, E2_TERMS) == 0
    assert accrued_late_fee(D("590.70"), E2_DUE, [], E2_DUE - timedelta(days=3), E2_TERMS) == 0
    assert accrued_late_fee(D("590.70"), E2_DUE, [], E2_DUE + timedelta(days=1), E2_TERMS) == D(
        "0.29535"
    )


def test_reductions_after_as_of_are_ignored_and_before_due_reduce_from_start() -> None:
    later = PrincipalReduction(date(2026, 5, 1), D("590.70"))
    assert accrued_late_fee(D("590.70"), E2_DUE, [later], E2_AS_OF, E2_TERMS) == D("26.5815")
    early = PrincipalReduction(date(2026, 1, 10), D("290.70"))
    assert accrued_late_fee(
        D("590.70"), E2_DUE, [early], E2_DUE + timedelta(days=10), E2_TERMS
    ) == D("1.5000")


def test_full_payment_stops_accrual_after_the_payment_day() -> None:
    paid = PrincipalReduction(date(2026, 2, 14), D("590.70"))
    fee = late_fee_due(D("590.70"), E2_DUE, [paid], E2_AS_OF, E2_TERMS)
    assert (fee.accrued, fee.days) == (D("8.86"), 30)


def test_paid_and_waived_reduce_outstanding_never_below_zero() -> None:
    fee = late_fee_due(
        D("590.70"), E2_DUE, [], E2_AS_OF, E2_TERMS, paid=D("20.00"), waived=D("10.00")
    )
    assert (fee.accrued, fee.outstanding, fee.waived) == (D("26.58"), D("0.00"), D("10.00"))


reductions = st.lists(
    st.builds(
        PrincipalReduction,
        on=st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 6, 30)),
        amount=st.integers(min_value=1, max_value=40000).map(lambda n: D(n) * CENT),
    ),
    max_size=5,
)


@settings(max_examples=100, deadline=None)
@given(
    reds=reductions,
    a=st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 6, 30)),
    b=st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 6, 30)),
    rate=st.sampled_from([D("0.0005"), D("0.001"), D("0.003")]),
)
def test_accrued_late_fee_never_decreases_as_time_passes(
    reds: list[PrincipalReduction], a: date, b: date, rate: Decimal
) -> None:
    """Property (L7): with fixed reductions the fee accrued by a later date is never smaller,
    before and after rounding and capping."""
    early, late = sorted((a, b))
    terms = LateFeeTerms(rate)
    amount = D("590.70")
    assert accrued_late_fee(amount, E2_DUE, reds, early, terms) <= accrued_late_fee(
        amount, E2_DUE, reds, late, terms
    )
    fee_early = late_fee_due(amount, E2_DUE, reds, early, terms)
    fee_late = late_fee_due(amount, E2_DUE, reds, late, terms)
    assert fee_early.accrued <= fee_late.accrued <= amount
    assert fee_late.outstanding >= 0

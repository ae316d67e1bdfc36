"""courtfees: property case fee by cumulative bands, reduced fees, enforcement fee (L9, E5)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.courtfees import (
    Procedure,
    case_fee,
    case_fee_steps,
    court_fee,
    enforcement_fee,
)
from arrears.domain.money import CENT

D = Decimal

# E5 — Court fee estimate (L9): claim, case fee, simplified / small claims (half), payment order (one third)
E5 = [
    (D("8000.00"), D("50.00"), D("25.00"), D("16.67")),
    (D("12345.60"), D("108.64"), D("54.32"), D("36.21")),
    (D("64610.00"), D("1415.25"), D("707.63"), D("471.75")),
    (D("150000.00"), D("3300.00"), D("1650.00"), D("1100.00")),
]


@pytest.mark.parametrize(("claim", "full", "half", "third"), E5)
def test_e5_court_fee_table(claim: Decimal, full: Decimal, half: Decimal, third: Decimal) -> None:
    """E5: every row of the table, to the fen."""
    assert case_fee(claim) == full
    assert court_fee(claim, Procedure.ORDINARY).fee == full
    assert court_fee(claim, Procedure.SIMPLIFIED).fee == half
    assert court_fee(claim, Procedure.SMALL_CLAIMS).fee == half
    assert court_fee(claim, Procedure.SETTLEMENT).fee == half
    assert court_fee(claim, Procedure.PAYMENT_ORDER).fee == third
    assert court_fee(claim, "payment_order").full_fee == full


def test_e5_steps_of_12345_60() -> None:
    """E5 row 2: 50 for the first 10 000, then 2.5 % of 2 345.60 = 58.64."""
    steps = case_fee_steps(D("12345.60"))
    assert [(s.base, s.rate, s.fee) for s in steps] == [
        (D("10000"), None, D("50.00")),
        (D("2345.60"), D("0.025"), D("58.64000")),
    ]


def test_band_edges() -> None:
    """L9: up to 10 000 → 50; 2.5 % to 100 000; 2 % to 200 000; 1.5 % to 500 000; 1 % to 1 000 000."""
    assert case_fee(D("0.00")) == D("50.00")
    assert case_fee(D("10000.00")) == D("50.00")
    assert case_fee(D("10000.01")) == D("50.00")  # 0.00025 rounds away
    assert case_fee(D("100000.00")) == D("2300.00")
    assert case_fee(D("200000.00")) == D("4300.00")
    assert case_fee(D("500000.00")) == D("8800.00")
    assert case_fee(D("1000000.00")) == D("13800.00")
    assert case_fee(D("2000000.00")) == D("22800.00")  # 0.9 % above 1 000 000 (art. 13)


def test_enforcement_fee() -> None:
    """L9: enforcement up to 10 000 → 50; 10 000–500 000 → 1.5 % of that part."""
    assert enforcement_fee(D("8000.00")) == D("50.00")
    assert enforcement_fee(D("12345.60")) == D("85.18")  # 50 + 2345.60 × 1.5 % = 85.184
    assert enforcement_fee(D("500000.00")) == D("7400.00")
    assert enforcement_fee(D("600000.00")) == D("8400.00")  # 1 % above 500 000


def test_rejects_bad_claims() -> None:
    with pytest.raises(ValueError):
        case_fee(D("-1.00"))
    with pytest.raises(ValueError):
        case_fee(D("1.005"))
    with pytest.raises(ValueError):
        court_fee(D("100.00"), Procedure.ARBITRATION)


amounts = st.decimals(min_value=0, max_value=30_000_000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(amounts, amounts)
def test_fees_are_monotonic(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    for procedure in (Procedure.ORDINARY, Procedure.SIMPLIFIED, Procedure.PAYMENT_ORDER):
        assert court_fee(low, procedure).fee <= court_fee(high, procedure).fee
    assert enforcement_fee(low) <= enforcement_fee(high)


@settings(max_examples=300, deadline=None)
@given(amounts)
def test_reduced_fees_are_shares_of_the_full_fee(claim: Decimal) -> None:
    full = case_fee(claim)
    half = court_fee(claim, Procedure.SIMPLIFIED).fee
    third = court_fee(claim, Procedure.PAYMENT_ORDER).fee
    assert full == full.quantize(CENT) and half == half.quantize(CENT) and third == third.quantize(CENT)
    assert abs(half * 2 - full) <= CENT
    assert abs(third * 3 - full) <= 2 * CENT
    assert third <= half <= full
    assert full >= D("50.00")

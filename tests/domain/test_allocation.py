"""allocation: applying a payment (L6, Civil Code arts. 560–561; E4, E4b)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.allocation import (
    Allocation,
    AllocationPolicy,
    AllocationResult,
    Component,
    OpenCharge,
    allocate,
)
from arrears.domain.latefees import LateFeeTerms, late_fee_due
from arrears.domain.money import CENT

D = Decimal
P = Component.PRINCIPAL
F = Component.LATE_FEE
C = Component.COST
PF = AllocationPolicy.PRINCIPAL_FIRST
ST = AllocationPolicy.STATUTORY

JAN = OpenCharge(1, date(2026, 1, 31), D("200.00"))
FEB = OpenCharge(2, date(2026, 2, 28), D("200.00"))
MAR = OpenCharge(3, date(2026, 3, 31), D("200.00"))
E4_ON = date(2026, 3, 10)


def pairs(result: AllocationResult) -> list[tuple[int, Component, Decimal]]:
    return [(a.key, a.component, a.amount) for a in result.allocations]


def test_e4_due_before_not_due_earliest_first() -> None:
    """E4: "Due before the payment date come first, earliest first: January 200.00, February
    200.00; the remaining 50.00 goes to March (due later). Result: Jan 0, Feb 0, Mar 150.00." """
    result = allocate(D("450.00"), [MAR, FEB, JAN], on=E4_ON, policy=PF)
    assert pairs(result) == [(1, P, D("200.00")), (2, P, D("200.00")), (3, P, D("50.00"))]
    assert result.credit == 0


def test_e4_time_barred_is_the_lighter_burden() -> None:
    """E4: "Had January been time-barred on the payment date, February (the heavier burden)
    would come first." """
    jan_barred = OpenCharge(1, date(2026, 1, 31), D("200.00"), time_barred=True)
    result = allocate(D("450.00"), [jan_barred, FEB, MAR], on=E4_ON, policy=PF)
    assert pairs(result) == [(2, P, D("200.00")), (1, P, D("200.00")), (3, P, D("50.00"))]


def test_e4_designated_charge_first() -> None:
    """E4: "If the payer designated March: March 200.00 first, then January 200.00, then
    February 50.00." """
    result = allocate(D("450.00"), [JAN, FEB, MAR], on=E4_ON, policy=PF, designated=[3])
    assert pairs(result) == [(3, P, D("200.00")), (1, P, D("200.00")), (2, P, D("50.00"))]


def test_e4_same_due_date_shares_pro_rata() -> None:
    """E4: "Two charges with the same due date share a remainder pro rata." """
    a = OpenCharge(10, date(2026, 2, 28), D("200.00"))
    b = OpenCharge(11, date(2026, 2, 28), D("100.00"))
    result = allocate(D("250.00"), [JAN, a, b], on=E4_ON, policy=PF)
    assert pairs(result) == [(1, P, D("200.00")), (10, P, D("33.33")), (11, P, D("16.67"))]


def test_e4_overpayment_leaves_credit() -> None:
    """E4: "a payment larger than everything open leaves a credit balance"."""
    result = allocate(D("700.00"), [JAN, FEB, MAR], on=E4_ON, policy=PF)
    assert result.credit == D("100.00")
    assert sum(a.amount for a in result.allocations) == D("600.00")


def test_e4b_statutory_pays_late_fee_then_principal() -> None:
    """E4b: charge 100.00 due 2026-01-10, 0.1 % per day, 100.00 paid 2026-03-01, `statutory`:
    "Late fee to 2026-03-01 is 100.00 × 0.001 × 50 = 5.00, paid first; 95.00 goes to principal.
    Left: principal 5.00"."""
    due, on = date(2026, 1, 10), date(2026, 3, 1)
    fee = late_fee_due(D("100.00"), due, [], on, LateFeeTerms(D("0.001")))
    assert (fee.accrued, fee.days) == (D("5.00"), 50)
    charge = OpenCharge(1, due, D("100.00"), late_fee=fee.outstanding)
    result = allocate(D("100.00"), [charge], on=on, policy=ST)
    assert pairs(result) == [(1, F, D("5.00")), (1, P, D("95.00"))]
    assert result.credit == 0


def test_e4b_principal_first_leaves_the_late_fee_owed() -> None:
    """E4b: "Under `principal_first` the same payment clears the principal and leaves the late fee
    5.00 owed." """
    charge = OpenCharge(1, date(2026, 1, 10), D("100.00"), late_fee=D("5.00"))
    result = allocate(D("100.00"), [charge], on=date(2026, 3, 1), policy=PF)
    assert pairs(result) == [(1, P, D("100.00"))]


def test_principal_first_late_fees_last_earliest_first() -> None:
    jan = OpenCharge(1, date(2026, 1, 31), D("200.00"), late_fee=D("4.00"))
    feb = OpenCharge(2, date(2026, 2, 28), D("200.00"), late_fee=D("2.00"))
    result = allocate(D("603.00"), [feb, jan, MAR], on=E4_ON, policy=PF)
    assert pairs(result) == [
        (1, P, D("200.00")),
        (2, P, D("200.00")),
        (3, P, D("200.00")),
        (1, F, D("3.00")),
    ]


def test_statutory_each_due_charge_fee_then_principal_then_not_due() -> None:
    jan = OpenCharge(1, date(2026, 1, 31), D("200.00"), late_fee=D("4.00"))
    feb = OpenCharge(2, date(2026, 2, 28), D("200.00"), late_fee=D("2.00"))
    result = allocate(D("456.00"), [MAR, feb, jan], on=E4_ON, policy=ST)
    assert pairs(result) == [
        (1, F, D("4.00")),
        (1, P, D("200.00")),
        (2, F, D("2.00")),
        (2, P, D("200.00")),
        (3, P, D("50.00")),
    ]


@pytest.mark.parametrize("policy", list(AllocationPolicy))
def test_costs_come_first_under_both_policies(policy: AllocationPolicy) -> None:
    """L6 (art. 561): costs of enforcement first."""
    costs = OpenCharge(9, date(2026, 3, 1), D("50.00"), is_cost=True)
    jan = OpenCharge(1, date(2026, 1, 31), D("200.00"), late_fee=D("4.00"))
    result = allocate(D("100.00"), [jan, costs], on=E4_ON, policy=policy)
    assert pairs(result)[0] == (9, C, D("50.00"))


def test_designated_charge_components_follow_the_policy() -> None:
    jan = OpenCharge(1, date(2026, 1, 31), D("200.00"), late_fee=D("4.00"))
    mar = OpenCharge(3, date(2026, 3, 31), D("200.00"))
    st_result = allocate(D("100.00"), [mar, jan], on=E4_ON, policy=ST, designated=[1])
    assert pairs(st_result) == [(1, F, D("4.00")), (1, P, D("96.00"))]
    pf_result = allocate(D("203.00"), [mar, jan], on=E4_ON, policy=PF, designated=[1])
    assert pairs(pf_result) == [(1, P, D("200.00")), (1, F, D("3.00"))]


def test_charge_due_on_the_payment_date_counts_as_due() -> None:
    """Decision (L6): a debt due on the payment date is payable that day, so it ranks as due."""
    today = OpenCharge(5, E4_ON, D("100.00"))
    later = OpenCharge(6, date(2026, 3, 20), D("100.00"))
    older_not_due = OpenCharge(7, date(2026, 4, 1), D("100.00"))
    result = allocate(D("100.00"), [older_not_due, later, today], on=E4_ON, policy=PF)
    assert pairs(result) == [(5, P, D("100.00"))]


def test_merges_repeated_designation_and_skips_zero() -> None:
    paid_up = OpenCharge(4, date(2026, 1, 1), D("0.00"))
    result = allocate(D("150.00"), [paid_up, JAN], on=E4_ON, policy=PF, designated=[1, 1, 4])
    assert result.allocations == (Allocation(1, P, D("150.00")),)


@pytest.mark.parametrize("amount", [D("0"), D("-1.00")])
def test_rejects_non_positive_payments(amount: Decimal) -> None:
    with pytest.raises(ValueError, match="positive"):
        allocate(amount, [JAN], on=E4_ON, policy=PF)


def test_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="fen"):
        allocate(D("1.001"), [JAN], on=E4_ON, policy=PF)
    with pytest.raises(ValueError, match="unique"):
        allocate(D("1.00"), [JAN, JAN], on=E4_ON, policy=PF)
    with pytest.raises(ValueError, match="not open"):
        allocate(D("1.00"), [JAN], on=E4_ON, policy=PF, designated=[99])


fen = st.integers(min_value=0, max_value=50000).map(lambda n: D(n) * CENT)
open_charges = st.lists(
    st.builds(
        OpenCharge,
        key=st.just(0),
        due_date=st.dates(min_value=date(2025, 12, 1), max_value=date(2026, 6, 30)),
        principal=fen,
        late_fee=st.one_of(st.just(D("0.00")), fen),
        is_cost=st.booleans(),
        time_barred=st.booleans(),
    ),
    max_size=7,
).map(
    lambda cs: [
        OpenCharge(i, c.due_date, c.principal, c.late_fee, c.is_cost, c.time_barred)
        for i, c in enumerate(cs)
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    charges=open_charges,
    amount=st.integers(min_value=1, max_value=300000).map(lambda n: D(n) * CENT),
    policy=st.sampled_from(list(AllocationPolicy)),
    on=st.dates(min_value=date(2025, 12, 1), max_value=date(2026, 6, 30)),
    data=st.data(),
)
def test_allocation_invariants(
    charges: list[OpenCharge],
    amount: Decimal,
    policy: AllocationPolicy,
    on: date,
    data: st.DataObject,
) -> None:
    """Properties (L6): allocations plus credit sum exactly to the payment; nothing goes beyond
    a component's outstanding amount; no zero or duplicate allocations; credit only when
    everything is paid."""
    keys = [c.key for c in charges]
    designated = data.draw(st.lists(st.sampled_from(keys), max_size=3)) if keys else []
    result = allocate(amount, charges, on=on, policy=policy, designated=designated)
    assert sum(a.amount for a in result.allocations) + result.credit == amount
    assert result.credit >= 0
    seen = [(a.key, a.component) for a in result.allocations]
    assert len(seen) == len(set(seen))
    by_key = {c.key: c for c in charges}
    for a in result.allocations:
        charge = by_key[a.key]
        limit = charge.late_fee if a.component is Component.LATE_FEE else charge.principal
        assert 0 < a.amount <= limit
        assert (a.component is Component.COST) == (
            charge.is_cost and a.component is not Component.LATE_FEE
        )
    total_open = sum(c.principal + c.late_fee for c in charges)
    assert result.credit == max(amount - total_open, D(0))

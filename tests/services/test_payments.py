"""Payments through the database: application (E4), credit, reversal, idempotency, closed books."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.periods import DueRule
from arrears.persistence.models import Allocation, AuditEntry, Charge
from arrears.services import billing
from arrears.services.errors import ClosedPeriodError, ServiceError
from arrears.services.payments import PaymentInput, record_payment, reverse_payment
from arrears.services.statements import open_arrears, unit_statement
from tests.factories import ACTOR, make_community, make_ownership, make_schedule, make_unit

TODAY = dt.date(2026, 11, 22)


def _setup(session: Session, **community_kw: object):  # type: ignore[no-untyped-def]
    """Three monthly charges of 200.00 due at month end (E4): Jan, Feb, Mar 2026."""
    community = make_community(session, late_fee_rate_per_day=None, **community_kw)
    make_schedule(session, community, rate=Decimal("2.00"), due_rule=DueRule.PERIOD_END, due_day=None)
    unit = make_unit(session, community, area=Decimal("100.00"))
    record = make_ownership(session, unit)
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 3, 1), today=TODAY)
    charges = list(session.scalars(select(Charge).where(Charge.unit_id == unit.id).order_by(Charge.due_date)))
    return community, unit, record.parties[0].owner_id, charges


def _pay(session: Session, unit, payer_id: int, amount: str, on: dt.date, ref: str, designation=()) -> object:  # type: ignore[no-untyped-def]
    payment, _ = record_payment(
        session, ACTOR, unit.company_id,
        PaymentInput(unit.id, payer_id, ref, on, amount, designation=tuple(designation)), today=TODAY,
    )
    return payment


def test_e4_payment_applied_to_due_charges_first(session: Session) -> None:
    _, unit, payer, (jan, feb, mar) = _setup(session)
    _pay(session, unit, payer, "450.00", dt.date(2026, 3, 10), "R-1")
    assert [c.principal_outstanding for c in (jan, feb, mar)] == [Decimal("0.00"), Decimal("0.00"), Decimal("150.00")]


def test_e4_designated_period_first(session: Session) -> None:
    _, unit, payer, (jan, feb, mar) = _setup(session)
    _pay(session, unit, payer, "450.00", dt.date(2026, 3, 10), "R-1", designation=[mar.id])
    assert [c.principal_outstanding for c in (jan, feb, mar)] == [Decimal("0.00"), Decimal("150.00"), Decimal("0.00")]


def test_overpayment_leaves_credit_that_later_charges_consume(session: Session) -> None:
    community, unit, payer, charges = _setup(session)
    payment = _pay(session, unit, payer, "700.00", dt.date(2026, 3, 10), "R-1")
    assert payment.unapplied == Decimal("100.00")
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 4, 1), today=TODAY)
    april = session.scalar(select(Charge).where(Charge.unit_id == unit.id, Charge.period_label == "2026-04"))
    assert april is not None and april.principal_outstanding == Decimal("100.00")
    assert payment.unapplied == Decimal("0.00")
    allocation = session.scalar(select(Allocation).where(Allocation.charge_id == april.id))
    assert allocation is not None and allocation.applied_on == dt.date(2026, 4, 30)  # paid in time: no late fee


def test_same_receipt_twice_is_a_no_op_but_different_content_is_refused(session: Session) -> None:
    _, unit, payer, (jan, _, _) = _setup(session)
    _pay(session, unit, payer, "100.00", dt.date(2026, 3, 10), "R-1")
    _pay(session, unit, payer, "100.00", dt.date(2026, 3, 10), "R-1")
    assert jan.principal_outstanding == Decimal("100.00")
    with pytest.raises(ServiceError, match="different content"):
        _pay(session, unit, payer, "120.00", dt.date(2026, 3, 10), "R-1")


def test_reversal_reopens_the_charges_and_is_audited(session: Session) -> None:
    _, unit, payer, (jan, feb, _) = _setup(session)
    payment = _pay(session, unit, payer, "300.00", dt.date(2026, 3, 10), "R-1")
    reverse_payment(session, ACTOR, unit.company_id, payment.id, reason="bounced", today=TODAY)
    assert (jan.principal_outstanding, feb.principal_outstanding) == (Decimal("200.00"), Decimal("200.00"))
    assert all(a.voided_on == TODAY for a in payment.allocations)
    with pytest.raises(ServiceError):
        reverse_payment(session, ACTOR, unit.company_id, payment.id, reason="again", today=TODAY)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == payment.id)).all()
    assert {"payment.record", "payment.reverse"} <= set(actions)


def test_closed_books_refuse_back_dated_payments(session: Session) -> None:
    community, unit, payer, _ = _setup(session)
    company = community  # the company is reached through the unit
    from arrears.persistence.models import Company

    company = session.get(Company, unit.company_id)
    company.books_closed_through = dt.date(2026, 3, 31)
    with pytest.raises(ClosedPeriodError):
        _pay(session, unit, payer, "100.00", dt.date(2026, 3, 10), "R-9")


@pytest.mark.parametrize("amount", ["0", "-5", "1.234", "abc", ""])
def test_bad_amounts_are_refused(session: Session, amount: str) -> None:
    _, unit, payer, _ = _setup(session)
    with pytest.raises(ServiceError):
        _pay(session, unit, payer, amount, dt.date(2026, 3, 10), "R-1")


def test_fast_path_agrees_with_the_domain_statement(session: Session) -> None:
    community, unit, payer, _ = _setup(session)
    _pay(session, unit, payer, "250.00", dt.date(2026, 2, 10), "R-1")
    other = make_unit(session, community, area=Decimal("60.00"))
    make_ownership(session, other)
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 3, 1), today=TODAY)
    fast = open_arrears(session, community.company_id, TODAY)
    for u in (unit, other):
        statement = unit_statement(session, community.company_id, u.id, TODAY)
        for ownership_id, debtor_statement in statement.by_debtor.items():
            expected = debtor_statement.overdue_outstanding
            assert fast.get((u.id, ownership_id), Decimal("0.00")) == expected


def test_statutory_policy_pays_late_fee_first(session: Session) -> None:
    """E4b through the database: 100.00 due 2026-01-10 at 0.1 %/day, paid 100.00 on 2026-03-01."""
    community = make_community(session, late_fee_rate_per_day=Decimal("0.001"), allocation_policy="statutory")
    make_schedule(session, community, rate=Decimal("1.00"), due_day=10)
    unit = make_unit(session, community, area=Decimal("100.00"))
    payer = make_ownership(session, unit).parties[0].owner_id
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 1, 1), today=TODAY)
    [charge] = session.scalars(select(Charge).where(Charge.unit_id == unit.id)).all()
    _pay(session, unit, payer, "100.00", dt.date(2026, 3, 1), "R-1")
    assert (charge.late_fee_paid, charge.principal_outstanding) == (Decimal("5.00"), Decimal("5.00"))

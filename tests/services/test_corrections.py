"""Adjustments, charge reversals, cost charges and limitation interruptions through the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.allocation import Component
from arrears.domain.limitation import DeliveryResult
from arrears.persistence.enums import AdjustmentReason, FeeKind, InterruptionKind
from arrears.persistence.models import Charge, Company, FeeItem
from arrears.services import billing
from arrears.services.charges import post_charge
from arrears.services.corrections import add_adjustment, reverse_charge
from arrears.services.errors import ServiceError
from arrears.services.interruptions import record_interruption
from arrears.services.payments import PaymentInput, record_payment
from arrears.services.statements import unit_statement
from tests.factories import ACTOR, make_community, make_ownership, make_schedule, make_unit

TODAY = dt.date(2026, 11, 22)


@pytest.fixture
def billed(session: Session):  # type: ignore[no-untyped-def]
    community = make_community(session)
    make_schedule(session, community, valid_from=dt.date(2022, 1, 1))
    unit = make_unit(session, community, area=Decimal("100.00"))
    record = make_ownership(session, unit)
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2022, 3, 1), today=TODAY)
    charges = list(session.scalars(select(Charge).where(Charge.unit_id == unit.id).order_by(Charge.due_date)))
    return unit, record.parties[0].owner_id, charges


def test_principal_adjustment_reduces_outstanding_and_cannot_exceed_it(session: Session, billed) -> None:  # type: ignore[no-untyped-def]
    unit, _, (jan, *_) = billed
    add_adjustment(session, ACTOR, unit.company_id, jan.id, component=Component.PRINCIPAL, amount="20.00",
                   reason=AdjustmentReason.VACANCY_DISCOUNT, note="vacant 6 months", effective_on=TODAY)
    assert jan.principal_outstanding == Decimal("200.00")
    line = unit_statement(session, unit.company_id, unit.id, TODAY).statement.lines[0]
    assert (line.adjusted, line.outstanding) == (Decimal("20.00"), Decimal("200.00"))
    with pytest.raises(ServiceError, match="exceeds"):
        add_adjustment(session, ACTOR, unit.company_id, jan.id, component=Component.PRINCIPAL, amount="200.01",
                       reason=AdjustmentReason.SETTLEMENT, note="x", effective_on=TODAY)


def test_reversing_a_paid_charge_returns_the_money_to_credit(session: Session, billed) -> None:  # type: ignore[no-untyped-def]
    unit, payer, (jan, feb, mar) = billed
    payment, _ = record_payment(session, ACTOR, unit.company_id,
                                PaymentInput(unit.id, payer, "R-1", dt.date(2022, 1, 10), "220.00"), today=TODAY)
    assert jan.principal_outstanding == Decimal("0.00")
    reverse_charge(session, ACTOR, unit.company_id, jan.id, reason="billed in error", today=TODAY)
    assert payment.unapplied == Decimal("220.00")
    statement = unit_statement(session, unit.company_id, unit.id, TODAY).statement
    assert [line.label for line in statement.lines] == ["2022-02", "2022-03"]
    assert statement.credit == Decimal("220.00")


def test_cost_charge_is_paid_first_and_accrues_no_late_fee(session: Session, billed) -> None:  # type: ignore[no-untyped-def]
    unit, payer, (jan, *_) = billed
    company = session.get(Company, unit.company_id)
    costs = FeeItem(company_id=company.id, code="COSTS", name="诉讼费", kind=FeeKind.COST)
    session.add(costs)
    session.flush()
    cost, created = post_charge(session, ACTOR, unit.company_id, unit.id, fee_item_id=costs.id,
                                period_start=dt.date(2022, 4, 1), period_end=dt.date(2022, 4, 1),
                                label="costs", due_date=dt.date(2022, 4, 1), amount="50.00", today=TODAY)
    assert created and cost.kind == FeeKind.COST
    record_payment(session, ACTOR, unit.company_id,
                   PaymentInput(unit.id, payer, "R-2", dt.date(2022, 5, 1), "60.00"), today=TODAY)
    assert cost.principal_outstanding == Decimal("0.00")
    assert jan.principal_outstanding == Decimal("210.00")
    line = next(x for x in unit_statement(session, unit.company_id, unit.id, TODAY).statement.lines if x.key == cost.id)
    assert line.late_fee.accrued == Decimal("0.00")


def test_delivered_demand_restarts_limitation(session: Session, billed) -> None:  # type: ignore[no-untyped-def]
    """L4/L5: the 2022-01 charge (due 2022-01-15) is time-barred in 2026 unless a demand interrupted it."""
    unit, owner, (jan, feb, _) = billed
    before = unit_statement(session, unit.company_id, unit.id, TODAY).statement.lines
    assert before[0].time_barred and before[0].limitation.end == dt.date(2025, 1, 16)
    record_interruption(session, ACTOR, unit.company_id, unit.id, kind=InterruptionKind.DEMAND_DELIVERED,
                        occurred_on=dt.date(2024, 6, 10), proof_ref="EMS1234567890", charge_ids=[jan.id],
                        delivery=DeliveryResult.SIGNED_BY_OWNER, owner_id=owner, today=TODAY)
    after = unit_statement(session, unit.company_id, unit.id, TODAY).statement.lines
    assert not after[0].time_barred and after[0].limitation.end == dt.date(2027, 6, 10)
    assert after[1].time_barred  # February was not named by the demand


def test_undelivered_demand_is_refused(session: Session, billed) -> None:  # type: ignore[no-untyped-def]
    unit, owner, (jan, *_) = billed
    with pytest.raises(ServiceError, match="does not count"):
        record_interruption(session, ACTOR, unit.company_id, unit.id, kind=InterruptionKind.DEMAND_DELIVERED,
                            occurred_on=dt.date(2024, 6, 10), proof_ref="EMS1", charge_ids=[jan.id],
                            delivery=DeliveryResult.RETURNED_ADDRESS_UNKNOWN, today=TODAY)

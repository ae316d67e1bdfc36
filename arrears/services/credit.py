"""Posting allocations of a payment (or of a payer's credit) to the payer's open charges (L6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.allocation import AllocationPolicy, Component, OpenCharge, allocate
from arrears.domain.calendar import load_default_calendar
from arrears.domain.statement import build_statement
from arrears.persistence.enums import FeeKind
from arrears.persistence.models import Allocation, Charge, OwnershipParty, Payment, Unit

from .facts import load_unit_facts
from .statements import terms_of

ZERO = Decimal("0.00")


def allocate_payment(
    session: Session, payment: Payment, *, on: dt.date, designated: list[int] | None = None
) -> Decimal:
    """Apply `payment.unapplied` to the payer's open charges on the unit; return what is left."""
    if payment.unapplied <= 0:
        return payment.unapplied
    unit = session.get(Unit, payment.unit_id)
    assert unit is not None
    charges = _payer_charges(session, payment.unit_id, payment.payer_id)
    open_charges = _open_charges(session, unit, charges, on)
    if not open_charges:
        return payment.unapplied
    result = allocate(
        payment.unapplied,
        open_charges,
        on=on,
        policy=AllocationPolicy(unit.community.allocation_policy),
        designated=[key for key in (designated or []) if key in charges],
    )
    for allocation in result.allocations:
        charge = charges[allocation.key]
        applied_on = max(payment.received_on, min(charge.due_date, on))
        _post(session, payment, charge, allocation.component, allocation.amount, applied_on)
    payment.unapplied = result.credit
    session.flush()
    return result.credit


def apply_unit_credit(session: Session, unit_id: int, today: dt.date) -> None:
    """Let earlier credit balances on the unit pay newly posted charges, oldest money first."""
    payments = session.scalars(
        select(Payment)
        .where(Payment.unit_id == unit_id, Payment.unapplied > 0, Payment.reversed_on.is_(None))
        .order_by(Payment.received_on, Payment.id)
    ).all()
    for payment in payments:
        allocate_payment(session, payment, on=max(today, payment.received_on))


def _post(
    session: Session, payment: Payment, charge: Charge, component: Component, amount: Decimal, on: dt.date
) -> None:
    session.add(
        Allocation(payment_id=payment.id, charge_id=charge.id, component=component, amount=amount, applied_on=on)
    )
    if component == Component.LATE_FEE:
        charge.late_fee_paid += amount
    else:
        charge.principal_outstanding -= amount


def _payer_charges(session: Session, unit_id: int, payer_id: int) -> dict[int, Charge]:
    query = (
        select(Charge)
        .join(OwnershipParty, OwnershipParty.ownership_id == Charge.ownership_id)
        .where(Charge.unit_id == unit_id, OwnershipParty.owner_id == payer_id, Charge.reversed_on.is_(None))
        .order_by(Charge.due_date, Charge.id)
    )
    return {charge.id: charge for charge in session.scalars(query)}


def _open_charges(session: Session, unit: Unit, charges: dict[int, Charge], on: dt.date) -> list[OpenCharge]:
    """Outstanding principal from the cache; accrued late fee and limitation from the engine."""
    if not charges:
        return []
    session.flush()
    facts = [f for f in load_unit_facts(session, [unit.id])[unit.id].charges if f.key in charges]
    statement = build_statement(
        facts, as_of=on, terms=terms_of(unit.community), calendar=load_default_calendar(),
        policy=AllocationPolicy(unit.community.allocation_policy),
    )
    lines = {line.key: line for line in statement.lines}
    result = []
    for key, charge in charges.items():
        line = lines.get(key)
        late_fee = line.late_fee.outstanding if line is not None else ZERO
        if charge.principal_outstanding <= 0 and late_fee <= 0:
            continue
        result.append(
            OpenCharge(
                key=key,
                due_date=charge.due_date,
                principal=charge.principal_outstanding,
                late_fee=late_fee,
                is_cost=charge.kind == FeeKind.COST,
                time_barred=bool(line and line.time_barred),
            )
        )
    return result

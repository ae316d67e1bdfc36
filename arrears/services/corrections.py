"""Corrections are entries, never edits: charge reversals and approved adjustments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.allocation import Component
from arrears.domain.money import MoneyError, parse_money
from arrears.persistence.enums import AdjustmentReason
from arrears.persistence.models import Adjustment, Allocation, Charge, Payment, Reversal

from . import audit
from .actor import Actor
from .errors import N_, ServiceError, invalid_amount
from .tenancy import check_books_open, get_company, get_scoped


def reverse_charge(
    session: Session, actor: Actor, company_id: int, charge_id: int, *, reason: str, today: dt.date
) -> Charge:
    """Void a charge; money applied to it returns to the payers' credit for re-application."""
    charge = get_scoped(session, Charge, charge_id, company_id)
    if charge.reversed_on is not None:
        raise ServiceError(N_("charge %(id)s was already reversed"), id=charge.id)
    if not reason.strip():
        raise ServiceError(N_("a reason is required to reverse a charge"))
    check_books_open(get_company(session, company_id), today)
    session.add(Reversal(company_id=company_id, entity="charge", entity_id=charge.id,
                         effective_on=today, reason=reason.strip(), author=actor.name))
    allocations = session.scalars(
        select(Allocation).where(Allocation.charge_id == charge.id, Allocation.voided_on.is_(None))
    )
    for allocation in allocations:
        allocation.voided_on = today
        payment = session.get(Payment, allocation.payment_id)
        assert payment is not None
        payment.unapplied += allocation.amount
    for adjustment in session.scalars(
        select(Adjustment).where(Adjustment.charge_id == charge.id, Adjustment.voided_on.is_(None))
    ):
        adjustment.voided_on = today
    charge.reversed_on = today
    session.flush()
    audit.record(session, actor, "charge.reverse", "charge", charge.id, company_id=company_id,
                 message=reason.strip(), amount=str(charge.amount), period=charge.period_label)
    return charge


def add_adjustment(
    session: Session,
    actor: Actor,
    company_id: int,
    charge_id: int,
    *,
    component: Component,
    amount: Decimal | str,
    reason: AdjustmentReason,
    note: str,
    effective_on: dt.date,
) -> Adjustment:
    """An approved reduction of a charge's principal or a waiver of its late fee."""
    charge = get_scoped(session, Charge, charge_id, company_id)
    check_books_open(get_company(session, company_id), effective_on)
    if charge.reversed_on is not None:
        raise ServiceError(N_("a reversed charge cannot be adjusted"))
    try:
        value = parse_money(amount)
    except MoneyError as exc:
        raise invalid_amount(amount) from exc
    if value <= 0:
        raise ServiceError(N_("the adjustment must be greater than zero"))
    if not note.strip():
        raise ServiceError(N_("an adjustment needs a reason text"))
    if component == Component.PRINCIPAL:
        if value > charge.principal_outstanding:
            raise ServiceError(
                N_("the adjustment %(amount)s exceeds the outstanding principal %(outstanding)s"),
                amount=value, outstanding=charge.principal_outstanding,
            )
        charge.principal_outstanding -= value
    elif component != Component.LATE_FEE:
        raise ServiceError(N_("only principal or late fee can be adjusted"))
    adjustment = Adjustment(charge_id=charge.id, component=component, amount=value, reason=reason,
                            note=note.strip(), effective_on=effective_on, approved_by=actor.name)
    session.add(adjustment)
    session.flush()
    audit.record(session, actor, "adjustment.add", "adjustment", adjustment.id, company_id=company_id,
                 charge_id=charge.id, component=str(component), amount=str(value), reason=str(reason))
    return adjustment

"""Recording payments (applied at once, L6) and reversing them with a reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.money import MoneyError, parse_money
from arrears.persistence.models import Charge, Company, OwnershipParty, Ownership, Payment, Reversal, Unit

from . import audit
from .actor import Actor
from .credit import allocate_payment
from .errors import ServiceError
from .tenancy import check_books_open, get_scoped


@dataclass(frozen=True)
class PaymentInput:
    unit_id: int
    payer_id: int
    receipt_ref: str
    received_on: dt.date
    amount: Decimal | str
    method: str = "bank_transfer"
    designation: tuple[int, ...] = ()
    note: str | None = None


def record_payment(
    session: Session, actor: Actor, company_id: int, data: PaymentInput, *, today: dt.date,
    import_batch_id: int | None = None,
) -> tuple[Payment, bool]:
    """Post a payment and apply it; returns (payment, created). The same receipt twice is a no-op."""
    company = get_scoped_company(session, company_id)
    unit = get_scoped(session, Unit, data.unit_id, company_id)
    amount = _amount(data.amount)
    receipt_ref = data.receipt_ref.strip()
    if not receipt_ref:
        raise ServiceError("a receipt reference is required")
    existing = session.scalar(
        select(Payment).where(Payment.company_id == company_id, Payment.receipt_ref == receipt_ref)
    )
    if existing is not None:
        if (existing.unit_id, existing.payer_id, existing.received_on, existing.amount) != (
            unit.id, data.payer_id, data.received_on, amount,
        ):
            raise ServiceError(f"receipt {receipt_ref} is already recorded with different content")
        return existing, False
    if data.received_on > today:
        raise ServiceError("a payment cannot be dated in the future")
    check_books_open(company, data.received_on)
    _check_payer(session, unit.id, data.payer_id)
    designation = _designation(session, unit.id, data.designation)
    payment = Payment(
        company_id=company_id, unit_id=unit.id, payer_id=data.payer_id, receipt_ref=receipt_ref,
        received_on=data.received_on, amount=amount, method=data.method, designation=designation,
        note=data.note, created_by=actor.name, unapplied=amount, import_batch_id=import_batch_id,
    )
    session.add(payment)
    session.flush()
    allocate_payment(session, payment, on=data.received_on, designated=designation)
    audit.record(
        session, actor, "payment.record", "payment", payment.id, company_id=company_id,
        unit_id=unit.id, amount=str(amount), receipt_ref=receipt_ref, credit=str(payment.unapplied),
    )
    return payment, True


def reverse_payment(
    session: Session, actor: Actor, company_id: int, payment_id: int, *, reason: str, today: dt.date
) -> Payment:
    """Void a payment and its allocations from today; the charges it paid are open again."""
    payment = get_scoped(session, Payment, payment_id, company_id)
    if payment.reversed_on is not None:
        raise ServiceError(f"payment {payment.receipt_ref} was already reversed")
    if not reason.strip():
        raise ServiceError("a reason is required to reverse a payment")
    check_books_open(get_scoped_company(session, company_id), today)
    session.add(
        Reversal(company_id=company_id, entity="payment", entity_id=payment.id, effective_on=today,
                 reason=reason.strip(), author=actor.name)
    )
    for allocation in payment.allocations:
        if allocation.voided_on is not None:
            continue
        allocation.voided_on = today
        charge = session.get(Charge, allocation.charge_id)
        assert charge is not None
        if allocation.component == "late_fee":
            charge.late_fee_paid -= allocation.amount
        else:
            charge.principal_outstanding += allocation.amount
    payment.reversed_on = today
    payment.unapplied = Decimal("0.00")
    session.flush()
    audit.record(
        session, actor, "payment.reverse", "payment", payment.id, company_id=company_id,
        message=reason.strip(), amount=str(payment.amount), receipt_ref=payment.receipt_ref,
    )
    return payment


def get_scoped_company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise ServiceError(f"company {company_id} does not exist")
    return company


def _amount(value: Decimal | str) -> Decimal:
    try:
        amount = parse_money(value)
    except MoneyError as exc:
        raise ServiceError(str(exc)) from exc
    if amount <= 0:
        raise ServiceError("the amount must be greater than zero")
    return amount


def _check_payer(session: Session, unit_id: int, payer_id: int) -> None:
    is_party = session.scalar(
        select(OwnershipParty.id)
        .join(Ownership, Ownership.id == OwnershipParty.ownership_id)
        .where(Ownership.unit_id == unit_id, OwnershipParty.owner_id == payer_id)
        .limit(1)
    )
    if is_party is None:
        raise ServiceError("the payer is not an owner (or former owner) of this unit")


def _designation(session: Session, unit_id: int, charge_ids: tuple[int, ...]) -> list[int]:
    if not charge_ids:
        return []
    found = set(
        session.scalars(
            select(Charge.id).where(Charge.id.in_(charge_ids), Charge.unit_id == unit_id, Charge.reversed_on.is_(None))
        )
    )
    missing = [c for c in charge_ids if c not in found]
    if missing:
        raise ServiceError(f"designated charges {missing} are not open charges of this unit")
    return list(charge_ids)

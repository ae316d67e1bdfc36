"""Recording payments (applied at once, L6) and reversing them with a reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from arrears.persistence.models import Charge, Payment, Reversal, Unit

from . import audit
from .actor import Actor
from .errors import N_, ServiceError
from .payment_batch import PaymentInput, PaymentRowError, record_payments
from .tenancy import check_books_open, get_company, get_scoped

__all__ = ["PaymentInput", "record_payment", "reverse_payment"]


def record_payment(
    session: Session, actor: Actor, company_id: int, data: PaymentInput, *, today: dt.date,
    import_batch_id: int | None = None,
) -> tuple[Payment, bool]:
    """Post a payment and apply it at once (L6); returns (payment, created).

    The same receipt twice is a no-op; the same receipt with other content is an error.
    """
    get_scoped(session, Unit, data.unit_id, company_id)
    try:
        result = record_payments(session, actor, company_id, [data], today=today, import_batch_id=import_batch_id)
    except PaymentRowError as exc:
        if isinstance(exc.__cause__, ServiceError):  # e.g. ClosedPeriodError: keep its type
            raise exc.__cause__ from None
        raise ServiceError(exc.message, **exc.params) from exc
    payment = session.get(Payment, result.payment_ids[data.receipt_ref.strip()])
    assert payment is not None
    return payment, result.created == 1


def reverse_payment(
    session: Session, actor: Actor, company_id: int, payment_id: int, *, reason: str, today: dt.date
) -> Payment:
    """Void a payment and its allocations from today; the charges it paid are open again."""
    payment = get_scoped(session, Payment, payment_id, company_id)
    if payment.reversed_on is not None:
        raise ServiceError(N_("payment %(ref)s was already reversed"), ref=payment.receipt_ref)
    if not reason.strip():
        raise ServiceError(N_("a reason is required to reverse a payment"))
    check_books_open(get_company(session, company_id), today)
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

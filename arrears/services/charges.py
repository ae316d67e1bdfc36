"""Posting single charges outside the billing run: historical charges and awarded costs (L6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from arrears.domain.money import MoneyError, parse_money
from arrears.persistence.enums import ChargeSource, FeeKind
from arrears.persistence.models import Charge, FeeItem, Ownership, Unit

from . import audit, payment_batch
from .actor import Actor
from .errors import N_, ServiceError, invalid_amount
from .tenancy import check_books_open, get_company, get_scoped


def ownership_on(session: Session, unit_id: int, day: dt.date) -> Ownership | None:
    return session.scalar(
        select(Ownership).where(
            Ownership.unit_id == unit_id,
            Ownership.valid_from <= day,
            or_(Ownership.valid_to.is_(None), Ownership.valid_to >= day),
        )
    )


def post_charge(
    session: Session,
    actor: Actor,
    company_id: int,
    unit_id: int,
    *,
    fee_item_id: int,
    period_start: dt.date,
    period_end: dt.date,
    label: str,
    due_date: dt.date,
    amount: Decimal | str,
    today: dt.date,
    source: ChargeSource = ChargeSource.MANUAL,
    note: str | None = None,
) -> tuple[Charge, bool]:
    """Post one charge owed by whoever owned the unit at the period's start; the same charge
    twice is a no-op, the same key with another amount an error."""
    unit = get_scoped(session, Unit, unit_id, company_id)
    fee_item = get_scoped(session, FeeItem, fee_item_id, company_id)
    try:
        value = parse_money(amount)
    except MoneyError as exc:
        raise invalid_amount(amount) from exc
    if value <= 0:
        raise ServiceError(N_("a charge must be greater than zero"))
    if period_end < period_start:
        raise ServiceError(N_("the period ends before it starts"))
    record = ownership_on(session, unit.id, period_start)
    if record is None:
        raise ServiceError(N_("unit %(unit)s has no ownership record on %(date)s"),
                           unit=unit.code, date=period_start.isoformat())
    existing = session.scalar(
        select(Charge).where(
            Charge.unit_id == unit.id, Charge.fee_item_id == fee_item.id, Charge.period_start == period_start,
            Charge.ownership_id == record.id, Charge.reversed_on.is_(None),
        )
    )
    if existing is not None:
        if existing.amount != value or existing.due_date != due_date:
            raise ServiceError(N_("unit %(unit)s already has a %(label)s charge of %(amount)s"),
                               unit=unit.code, label=label, amount=existing.amount)
        return existing, False
    check_books_open(get_company(session, company_id), min(due_date, today))
    charge = Charge(
        company_id=company_id, unit_id=unit.id, ownership_id=record.id, fee_item_id=fee_item.id,
        kind=FeeKind(fee_item.kind), period_start=period_start, period_end=period_end, period_label=label,
        due_date=due_date, amount=value, principal_outstanding=value, source=source, note=note,
        created_by=actor.name,
    )
    session.add(charge)
    session.flush()
    audit.record(session, actor, "charge.post", "charge", charge.id, company_id=company_id,
                 unit_id=unit.id, amount=str(value), period=label, source=str(source))
    payment_batch.apply_credits(session, company_id, {unit.id}, today=today)
    return charge, True

"""Read models for lists: communities and units with their arrears, from the fast path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from arrears.persistence.models import Charge, Community, Owner, Ownership, OwnershipParty, Unit


@dataclass(frozen=True)
class CommunityRow:
    community: Community
    units: int
    arrears: Decimal
    units_in_arrears: int


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    owners: str
    arrears: Decimal
    oldest_due: dt.date | None


def _overdue(company_id: int, as_of: dt.date):  # type: ignore[no-untyped-def]
    return (
        select(
            Charge.unit_id,
            func.sum(Charge.principal_outstanding).label("arrears"),
            func.min(Charge.due_date).label("oldest_due"),
        )
        .where(
            Charge.company_id == company_id,
            Charge.principal_outstanding > 0,
            Charge.reversed_on.is_(None),
            Charge.due_date < as_of,
        )
        .group_by(Charge.unit_id)
        .subquery()
    )


def communities(session: Session, company_id: int, as_of: dt.date) -> list[CommunityRow]:
    overdue = _overdue(company_id, as_of)
    rows = session.execute(
        select(
            Community,
            func.count(Unit.id),
            func.coalesce(func.sum(overdue.c.arrears), 0),
            func.count(overdue.c.unit_id),
        )
        .outerjoin(Unit, Unit.community_id == Community.id)
        .outerjoin(overdue, overdue.c.unit_id == Unit.id)
        .where(Community.company_id == company_id)
        .group_by(Community.id)
        .order_by(Community.code)
    ).all()
    return [CommunityRow(c, n, Decimal(a), k) for c, n, a, k in rows]


def units(
    session: Session,
    company_id: int,
    as_of: dt.date,
    *,
    community_id: int | None = None,
    search: str = "",
    only_arrears: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[UnitRow], int]:
    overdue = _overdue(company_id, as_of)
    query = (
        select(Unit, overdue.c.arrears, overdue.c.oldest_due)
        .outerjoin(overdue, overdue.c.unit_id == Unit.id)
        .where(Unit.company_id == company_id)
    )
    if community_id:
        query = query.where(Unit.community_id == community_id)
    if only_arrears:
        query = query.where(overdue.c.arrears > 0)
    if search.strip():
        term = f"%{search.strip()}%"
        owner_units = (
            select(Ownership.unit_id)
            .join(OwnershipParty, OwnershipParty.ownership_id == Ownership.id)
            .join(Owner, Owner.id == OwnershipParty.owner_id)
            .where(Owner.company_id == company_id, or_(Owner.name.like(term), Owner.phone.like(term)))
        )
        query = query.where(or_(Unit.code.like(term), Unit.id.in_(owner_units)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Unit.community_id, Unit.code).limit(per_page).offset((page - 1) * per_page)
    ).all()
    names = current_owner_names(session, [u.id for u, _, _ in rows], as_of)
    return [UnitRow(u, names.get(u.id, ""), a or Decimal("0.00"), d) for u, a, d in rows], total


def current_owner_names(session: Session, unit_ids: list[int], on: dt.date) -> dict[int, str]:
    if not unit_ids:
        return {}
    rows = session.execute(
        select(Ownership.unit_id, Owner.name)
        .join(OwnershipParty, OwnershipParty.ownership_id == Ownership.id)
        .join(Owner, Owner.id == OwnershipParty.owner_id)
        .where(
            Ownership.unit_id.in_(unit_ids),
            Ownership.valid_from <= on,
            or_(Ownership.valid_to.is_(None), Ownership.valid_to >= on),
        )
        .order_by(Ownership.unit_id, OwnershipParty.position)
    )
    names: dict[int, list[str]] = {}
    for unit_id, name in rows:
        names.setdefault(unit_id, []).append(name)
    return {unit_id: "、".join(values) for unit_id, values in names.items()}

"""Read models for lists: communities and units with their arrears, from the fast path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from arrears.documents.xlsx import Column
from arrears.persistence.models import Charge, Community, Owner, Ownership, OwnershipParty, Unit
from arrears.services.errors import N_


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


def _overdue_conditions(company_id: int, as_of: dt.date) -> list[Any]:
    """Open, unreversed charges past their due date (read through the partial index on open charges)."""
    return [Charge.company_id == company_id, Charge.principal_outstanding > 0, Charge.reversed_on.is_(None),
            Charge.due_date < as_of]


def _overdue(company_id: int, as_of: dt.date, unit_ids: Any = None):  # type: ignore[no-untyped-def]
    """Overdue arrears and oldest due date per unit, of the company or only of ``unit_ids``."""
    query = (select(Charge.unit_id, func.sum(Charge.principal_outstanding).label("arrears"),
                    func.min(Charge.due_date).label("oldest_due"))
             .where(*_overdue_conditions(company_id, as_of)))
    if unit_ids is not None:
        query = query.where(Charge.unit_id.in_(unit_ids))
    return query.group_by(Charge.unit_id).subquery()


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


def _filter_units(query: Any, company_id: int, as_of: dt.date, community_id: int | None, search: str,
                  only_arrears: bool) -> Any:
    """The list's filters as WHERE terms on unit (no join), shared by the page, its count and the export."""
    query = query.where(Unit.company_id == company_id)
    if community_id:
        query = query.where(Unit.community_id == community_id)
    if only_arrears:
        query = query.where(Unit.id.in_(select(Charge.unit_id).where(*_overdue_conditions(company_id, as_of))))
    if search.strip():
        term = f"%{search.strip()}%"
        owner_units = (
            select(Ownership.unit_id)
            .join(OwnershipParty, OwnershipParty.ownership_id == Ownership.id)
            .join(Owner, Owner.id == OwnershipParty.owner_id)
            .where(Owner.company_id == company_id, or_(Owner.name.like(term), Owner.phone.like(term)))
        )
        query = query.where(or_(Unit.code.like(term), Unit.id.in_(owner_units)))
    return query


UNIT_ORDER = (Unit.community_id, Unit.sort_key, Unit.id)  # 1-2-301 before 1-10-101 (ix_unit_community_sort)


def _units_query(company_id: int, as_of: dt.date, community_id: int | None, search: str,
                 only_arrears: bool):  # type: ignore[no-untyped-def]
    """Every filtered unit with its overdue arrears (the export: one pass over all of them)."""
    overdue = _overdue(company_id, as_of)
    query = select(Unit, overdue.c.arrears, overdue.c.oldest_due).outerjoin(overdue, overdue.c.unit_id == Unit.id)
    return _filter_units(query, company_id, as_of, community_id, search, only_arrears).order_by(*UNIT_ORDER)


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
    """One page of units: the page's ids and the count come from unit alone, and the arrears are
    summed for those ids only, so a page costs the same at 100 units or 100,000."""
    filtered = _filter_units(select(Unit.id), company_id, as_of, community_id, search, only_arrears)
    total = session.scalar(select(func.count()).select_from(filtered.subquery())) or 0
    ids = list(session.scalars(filtered.order_by(*UNIT_ORDER).limit(per_page).offset((page - 1) * per_page)))
    if not ids:
        return [], total
    overdue = _overdue(company_id, as_of, ids)
    found = {unit.id: (unit, arrears, oldest) for unit, arrears, oldest in session.execute(
        select(Unit, overdue.c.arrears, overdue.c.oldest_due)
        .outerjoin(overdue, overdue.c.unit_id == Unit.id).where(Unit.id.in_(ids)))}
    names = current_owner_names(session, ids, as_of)
    return [UnitRow(u, names.get(u.id, ""), a or Decimal("0.00"), d)
            for u, a, d in (found[i] for i in ids)], total


UNIT_EXPORT_COLUMNS = (
    Column(N_("Community"), 24), Column(N_("Unit"), 14), Column(N_("Owner"), 24),
    Column(N_("Area (m²)"), 12), Column(N_("Arrears (CNY)"), 16, money=True),
    Column(N_("Oldest unpaid due date"), 16),
)
EXPORT_CHUNK = 500  # owner names are looked up per chunk: bounded IN lists on every database


def unit_export(session: Session, company_id: int, as_of: dt.date, *, community_id: int | None = None,
                search: str = "", only_arrears: bool = False) -> Iterator[tuple[Any, ...]]:
    """Every unit the list's filter matches (not only one page), in UNIT_EXPORT_COLUMNS order."""
    query = _units_query(company_id, as_of, community_id, search, only_arrears)
    result = session.execute(query)
    while chunk := result.fetchmany(EXPORT_CHUNK):
        names = current_owner_names(session, [u.id for u, _, _ in chunk], as_of)
        for unit, arrears, oldest_due in chunk:
            yield (unit.community.name, unit.code, names.get(unit.id, ""), unit.area,
                   arrears if arrears is not None else Decimal("0.00"), oldest_due)


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

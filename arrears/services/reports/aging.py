"""Arrears by aging bucket (账龄) and arrears at a past date, per community, in SQL.

Arrears follow LEGAL.md and the unit list (:mod:`arrears.services.portfolio`): the unpaid
principal of charges due before the as-of date (fees and costs; late fees never), from the cached
``principal_outstanding`` through the partial index of open charges. Unapplied credit is not netted:
credit is applied to a payer's open charges as soon as it exists, so it only remains when that
payer has nothing overdue.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from arrears.domain.allocation import Component
from arrears.domain.money import ZERO, to_fen
from arrears.domain.reporting import AGING_BUCKETS
from arrears.persistence.models import Adjustment, Allocation, Charge, Unit


def by_bucket(session: Session, company_id: int, as_of: dt.date) -> dict[int, dict[str, Decimal]]:
    """community id → bucket code → unpaid principal of its overdue charges as of ``as_of``
    (today: the cached balances are the current ones)."""
    whens = []
    for bucket in AGING_BUCKETS:
        oldest, newest = bucket.due_range(as_of)
        condition = Charge.due_date <= newest if oldest is None else Charge.due_date.between(oldest, newest)
        whens.append((condition, bucket.code))
    bucket_column = case(*whens, else_="").label("bucket")
    rows = session.execute(
        select(Unit.community_id, bucket_column, func.sum(Charge.principal_outstanding))
        .join(Unit, Unit.id == Charge.unit_id)
        .where(*_open(company_id), Charge.due_date < as_of)
        .group_by(Unit.community_id, bucket_column)
    )
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for community_id, code, amount in rows:
        if code and amount:
            result[int(community_id)][code] = to_fen(Decimal(amount))
    return dict(result)


def arrears_at(session: Session, company_id: int, on: dt.date) -> dict[int, Decimal]:
    """community id → arrears as of ``on`` (a past date or today), from the ledger.

    For the charges due before ``on``: what is unpaid now, plus what was paid or reduced after
    ``on`` (allocations applied and principal adjustments effective after it). The first term
    uses the partial index of open charges; the others only touch entries dated after ``on``.
    Equal to the unit list's arrears when ``on`` is today. Corrected ledger: reversed charges and
    voided entries are left out, as in statements.
    """
    due = [Charge.company_id == company_id, Charge.reversed_on.is_(None), Charge.due_date < on]
    result: dict[int, Decimal] = defaultdict(lambda: ZERO)
    queries = (
        select(Unit.community_id, func.sum(Charge.principal_outstanding))
        .join(Unit, Unit.id == Charge.unit_id)
        .where(*due, Charge.principal_outstanding > 0)
        .group_by(Unit.community_id),
        select(Unit.community_id, func.sum(Allocation.amount))
        .select_from(Allocation)
        .join(Charge, Charge.id == Allocation.charge_id).join(Unit, Unit.id == Charge.unit_id)
        .where(*due, Allocation.component != Component.LATE_FEE, Allocation.voided_on.is_(None),
               Allocation.applied_on > on)
        .group_by(Unit.community_id),
        select(Unit.community_id, func.sum(Adjustment.amount))
        .select_from(Adjustment)
        .join(Charge, Charge.id == Adjustment.charge_id).join(Unit, Unit.id == Charge.unit_id)
        .where(*due, Adjustment.component == Component.PRINCIPAL, Adjustment.voided_on.is_(None),
               Adjustment.effective_on > on)
        .group_by(Unit.community_id),
    )
    for query in queries:
        for community_id, amount in session.execute(query):
            if amount:
                result[int(community_id)] += to_fen(Decimal(amount))
    return {cid: amount for cid, amount in result.items() if amount}


def _open(company_id: int) -> list[Any]:
    """The partial index ix_charge_open's condition, so the planner can use it."""
    return [Charge.company_id == company_id, and_(Charge.principal_outstanding > 0, Charge.reversed_on.is_(None))]

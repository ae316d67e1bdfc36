"""What each ownership owes, for a whole company, in a few set-based queries.

Only open charges are read (`principal_outstanding > 0 AND reversed_on IS NULL`, the predicate of
the partial index `ix_charge_open`), so paid history is never scanned. Late fees never drive
stages: arrears are overdue principal less the owner's unapplied credit on that unit. Like
`statements.open_arrears`, this reads the cached outstanding amounts, so it is valid for an
`as_of` on or after the latest ledger entry (the nightly run).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from arrears.persistence.models import Charge, Ownership, OwnershipParty, Payment, Unit

ZERO = Decimal("0.00")
CHUNK = 2000


@dataclass(frozen=True)
class OwnershipDebt:
    """One ownership's overdue principal as of a date, less its owners' credit on the unit."""

    ownership_id: int
    outstanding: Decimal
    credit: Decimal
    oldest_due: dt.date
    overdue_periods: int

    @property
    def arrears(self) -> Decimal:
        return max(ZERO, self.outstanding - self.credit)


@dataclass(frozen=True)
class Place:
    """What a new case needs: the unit, its community and the ownership's first party."""

    unit_id: int
    community_id: int
    owner_id: int | None


@dataclass(frozen=True)
class OpenCharge:
    id: int
    ownership_id: int
    period: str
    due: dt.date
    outstanding: Decimal

    def frozen(self) -> dict[str, str | int]:
        """The form an action stores (evidence: never edited after it is sent)."""
        return {"id": self.id, "period": self.period, "due": self.due.isoformat(), "outstanding": str(self.outstanding)}


def _open(company_id: int):  # type: ignore[no-untyped-def]
    """The partial-index predicate of open charges, scoped to the company."""
    return and_(Charge.company_id == company_id, Charge.principal_outstanding > 0, Charge.reversed_on.is_(None))


def arrears_aggregate(company_id: int, as_of: dt.date):  # type: ignore[no-untyped-def]
    """The one aggregate: overdue open principal per ownership (also timed by the benchmark)."""
    return (
        select(Charge.ownership_id, func.sum(Charge.principal_outstanding).label("outstanding"),
               func.min(Charge.due_date).label("oldest_due"),
               func.count(func.distinct(Charge.period_start)).label("periods"))
        .where(_open(company_id), Charge.due_date < as_of)
        .group_by(Charge.ownership_id)
    )


def ownership_debts(session: Session, company_id: int, as_of: dt.date) -> dict[int, OwnershipDebt]:
    """Every ownership with overdue open principal: the one aggregate, less the owners' credit."""
    rows = session.execute(arrears_aggregate(company_id, as_of)).all()
    credits = owner_credit(session, company_id) if rows else {}
    return {
        ownership_id: OwnershipDebt(ownership_id, outstanding, credits.get(ownership_id, ZERO), oldest_due, periods)
        for ownership_id, outstanding, oldest_due, periods in rows
    }


def ownership_places(session: Session, company_id: int, ownership_ids: Iterable[int]) -> dict[int, Place]:
    """Unit, community and first party of some ownerships (one pass over the company if many)."""
    wanted = set(ownership_ids)
    if not wanted:
        return {}
    query = (select(Ownership.id, Ownership.unit_id, Unit.community_id, OwnershipParty.owner_id)
             .join(Unit, Unit.id == Ownership.unit_id)
             .outerjoin(OwnershipParty, and_(OwnershipParty.ownership_id == Ownership.id,
                                             OwnershipParty.position == 0))
             .where(Unit.company_id == company_id))
    if len(wanted) <= CHUNK:
        query = query.where(Ownership.id.in_(sorted(wanted)))
    return {row[0]: Place(row[1], row[2], row[3]) for row in session.execute(query).all() if row[0] in wanted}


def owner_credit(session: Session, company_id: int) -> dict[int, Decimal]:
    """Unapplied money of non-reversed payments by a party of each ownership on its unit.

    Credit stays with the payer on the unit it was paid for (see `facts.credit_as_of`).
    """
    rows = session.execute(
        select(OwnershipParty.ownership_id, func.sum(Payment.unapplied))
        .join(Ownership, Ownership.id == OwnershipParty.ownership_id)
        .join(Payment, and_(Payment.unit_id == Ownership.unit_id, Payment.payer_id == OwnershipParty.owner_id))
        .where(Payment.company_id == company_id, Payment.unapplied > 0, Payment.reversed_on.is_(None))
        .group_by(OwnershipParty.ownership_id)
    )
    return {ownership_id: total for ownership_id, total in rows}


def open_overdue_charges(session: Session, company_id: int, as_of: dt.date,
                         ownership_ids: Iterable[int]) -> dict[int, list[OpenCharge]]:
    """The open overdue charges of some ownerships (oldest first), for the actions' evidence.

    Many ownerships (a first run): one pass over the company's open charges beats long IN lists."""
    wanted = set(ownership_ids)
    result: dict[int, list[OpenCharge]] = defaultdict(list)
    if not wanted:
        return result
    query = (select(Charge.id, Charge.ownership_id, Charge.period_label, Charge.due_date,
                    Charge.principal_outstanding)
             .where(_open(company_id), Charge.due_date < as_of)
             .order_by(Charge.ownership_id, Charge.due_date, Charge.id))
    if len(wanted) > CHUNK:
        batches = [query]
    else:
        batches = [query.where(Charge.ownership_id.in_(sorted(wanted)))]
    for batch in batches:
        for row in session.execute(batch).all():
            if row[1] in wanted:
                result[row[1]].append(OpenCharge(*row))
    return result


@dataclass(frozen=True)
class DueSoon:
    """Open charges of one ownership falling due on one day (a pre-due notice names them)."""

    ownership_id: int
    unit_id: int
    community_id: int
    owner_id: int | None
    due: dt.date
    charges: Sequence[OpenCharge]

    @property
    def amount(self) -> Decimal:
        return sum((c.outstanding for c in self.charges), ZERO)


def due_soon(session: Session, company_id: int, first: dt.date, last: dt.date) -> list[DueSoon]:
    """Unpaid charges due between `first` and `last` inclusive, grouped by ownership and due date."""
    rows = session.execute(
        select(Charge.id, Charge.ownership_id, Charge.period_label, Charge.due_date, Charge.principal_outstanding,
               Ownership.unit_id, Unit.community_id, OwnershipParty.owner_id)
        .join(Ownership, Ownership.id == Charge.ownership_id)
        .join(Unit, Unit.id == Ownership.unit_id)
        .outerjoin(OwnershipParty, and_(OwnershipParty.ownership_id == Charge.ownership_id,
                                        OwnershipParty.position == 0))
        .where(_open(company_id), Charge.due_date >= first, Charge.due_date <= last)
        .order_by(Charge.ownership_id, Charge.due_date, Charge.id)
    )
    groups: dict[tuple[int, dt.date], list[OpenCharge]] = defaultdict(list)
    where: dict[int, tuple[int, int, int | None]] = {}
    for r in rows:
        groups[(r.ownership_id, r.due_date)].append(
            OpenCharge(r.id, r.ownership_id, r.period_label, r.due_date, r.principal_outstanding))
        where[r.ownership_id] = (r.unit_id, r.community_id, r.owner_id)
    return [DueSoon(oid, *where[oid], due, charges) for (oid, due), charges in groups.items()]

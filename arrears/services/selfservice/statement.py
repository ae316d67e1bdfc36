"""What an owner sees behind their link: their own statement of the unit and whom to contact.

Only the ownership records the owner is a party of are shown (``by_debtor`` of the unit's
statement): charges of a previous or later owner of the same unit never appear.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.money import ZERO
from arrears.domain.statement import Statement
from arrears.persistence.escalation import CollectionCase
from arrears.persistence.models import Company, Owner, Ownership, OwnershipParty, Unit
from arrears.persistence.workspace import OwnerLink

from ..statements import unit_statement


@dataclass(frozen=True)
class Contact:
    name: str
    address: str
    phone: str
    collections_contact: str


@dataclass(frozen=True)
class Span:
    """One ownership record of the owner on the unit, with its statement."""

    valid_from: dt.date
    valid_to: dt.date | None
    statement: Statement | None


@dataclass(frozen=True)
class OwnerView:
    owner_name: str
    language: str
    unit: str
    as_of: dt.date
    contact: Contact
    spans: tuple[Span, ...]

    @property
    def arrears(self) -> Decimal:
        return sum((s.statement.arrears for s in self.spans if s.statement is not None), ZERO)

    @property
    def late_fee(self) -> Decimal:
        return sum((s.statement.late_fee_outstanding for s in self.spans if s.statement is not None), ZERO)


def contact_of(company: Company) -> Contact:
    return Contact(company.name, company.address, company.phone or "",
                   company.collections_contact or company.phone or "")


def owner_view(session: Session, link: OwnerLink, as_of: dt.date) -> OwnerView:
    owner = session.get(Owner, link.owner_id)
    unit = session.get(Unit, link.unit_id)
    company = session.get(Company, link.company_id)
    assert owner is not None and unit is not None and company is not None
    ownership_ids = _ownerships_of(session, owner.id, unit.id)
    result = unit_statement(session, link.company_id, unit.id, as_of)
    records = {o.id: o for o in session.scalars(select(Ownership).where(Ownership.id.in_(ownership_ids)))}
    spans = tuple(Span(records[i].valid_from, records[i].valid_to, result.by_debtor.get(i))
                  for i in sorted(ownership_ids, key=lambda i: records[i].valid_from))
    return OwnerView(owner.name, owner.language or "zh_CN", f"{unit.community.name} {unit.code}", as_of,
                     contact_of(company), spans)


def owner_arrears(session: Session, company_id: int, case: CollectionCase, as_of: dt.date) -> Decimal:
    """The arrears of the case's ownership as of a day — what the owner's page shows for it."""
    statement = unit_statement(session, company_id, case.unit_id, as_of).by_debtor.get(case.ownership_id)
    return statement.arrears if statement is not None else ZERO


def _ownerships_of(session: Session, owner_id: int, unit_id: int) -> list[int]:
    return list(session.scalars(
        select(Ownership.id).join(OwnershipParty, OwnershipParty.ownership_id == Ownership.id)
        .where(Ownership.unit_id == unit_id, OwnershipParty.owner_id == owner_id)))

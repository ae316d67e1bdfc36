"""Ownership over time: records of a unit never overlap; a change after billing reposts charges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.models import Charge, Owner, Ownership, OwnershipParty, Unit

from . import audit, billing
from .actor import Actor
from .corrections import reverse_charge
from .errors import N_, ServiceError
from .tenancy import get_scoped


def overlaps(records: Sequence[Ownership], valid_from: dt.date, valid_to: dt.date | None) -> Ownership | None:
    for record in records:
        ends_before = valid_to is not None and valid_to < record.valid_from
        starts_after = record.valid_to is not None and valid_from > record.valid_to
        if not (ends_before or starts_after):
            return record
    return None


def add_ownership(
    session: Session,
    actor: Actor,
    company_id: int,
    unit_id: int,
    owner_ids: Sequence[int],
    *,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    note: str | None = None,
) -> Ownership:
    """Add an ownership record (co-owners are jointly liable, L1); overlapping records are refused."""
    unit = get_scoped(session, Unit, unit_id, company_id)
    if not owner_ids:
        raise ServiceError(N_("an ownership record names at least one owner"))
    if valid_to is not None and valid_to < valid_from:
        raise ServiceError(N_("the ownership ends before it starts"))
    for owner_id in owner_ids:
        get_scoped(session, Owner, owner_id, company_id)
    existing = session.scalars(select(Ownership).where(Ownership.unit_id == unit.id)).all()
    clash = overlaps(existing, valid_from, valid_to)
    if clash is not None:
        raise ServiceError(
            N_("unit %(unit)s: ownership from %(start)s overlaps the record from %(other)s"),
            unit=unit.code, start=valid_from.isoformat(), other=clash.valid_from.isoformat(),
        )
    record = Ownership(unit_id=unit.id, valid_from=valid_from, valid_to=valid_to, note=note)
    for position, owner_id in enumerate(owner_ids):
        record.parties.append(OwnershipParty(owner_id=owner_id, position=position))
    session.add(record)
    session.flush()
    audit.record(session, actor, "ownership.add", "ownership", record.id, company_id=company_id,
                 unit_id=unit.id, owners=list(owner_ids), valid_from=valid_from, valid_to=valid_to)
    return record


def transfer(
    session: Session,
    actor: Actor,
    company_id: int,
    unit_id: int,
    new_owner_ids: Sequence[int],
    *,
    from_date: dt.date,
    today: dt.date,
) -> Ownership:
    """Record a sale from `from_date`: close the current record, open the new one, and repost the
    charges already billed for days from `from_date` on, split by days (E9)."""
    unit = get_scoped(session, Unit, unit_id, company_id)
    current = session.scalar(
        select(Ownership).where(
            Ownership.unit_id == unit.id,
            Ownership.valid_from < from_date,
            (Ownership.valid_to.is_(None)) | (Ownership.valid_to >= from_date),
        )
    )
    if current is None:
        raise ServiceError(N_("unit %(unit)s has no ownership record that runs over %(date)s"),
                           unit=unit.code, date=from_date.isoformat())
    if current.valid_to is not None:
        raise ServiceError(N_("only the open-ended (current) ownership record can be transferred"))
    affected = session.scalars(
        select(Charge).where(
            Charge.ownership_id == current.id, Charge.period_end >= from_date, Charge.reversed_on.is_(None)
        )
    ).all()
    for charge in affected:
        reverse_charge(session, actor, company_id, charge.id, reason=f"ownership change from {from_date}", today=today)
    current.valid_to = from_date - dt.timedelta(days=1)
    session.flush()
    record = add_ownership(session, actor, company_id, unit.id, new_owner_ids, valid_from=from_date)
    if affected:
        through = max(c.period_end for c in affected)
        first = min(c.period_start for c in affected)
        billing.bill_unit_periods(session, unit, first, through, today)  # re-applies credit too
    return record

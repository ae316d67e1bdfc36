"""Limitation interruptions (L5): delivered demands, acknowledgements, filings — with proof."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.limitation import DeliveryResult, counts_as_delivered
from arrears.persistence.enums import InterruptionKind
from arrears.persistence.models import Charge, Interruption, InterruptionCharge, Unit

from . import audit
from .actor import Actor
from .errors import N_, ServiceError
from .tenancy import get_scoped


def record_interruption(
    session: Session,
    actor: Actor,
    company_id: int,
    unit_id: int,
    *,
    kind: InterruptionKind,
    occurred_on: dt.date,
    proof_ref: str,
    charge_ids: Sequence[int],
    today: dt.date,
    owner_id: int | None = None,
    delivery: DeliveryResult | None = None,
    owner_gave_contact: bool = True,
    proof_note: str | None = None,
    source: str = "manual",
    import_batch_id: int | None = None,
) -> tuple[Interruption, bool]:
    """Record the event for the charges it names; the same event twice is a no-op."""
    unit = get_scoped(session, Unit, unit_id, company_id)
    if occurred_on > today:
        raise ServiceError(N_("an interruption cannot be dated in the future"))
    if not proof_ref.strip():
        raise ServiceError(N_("every interruption needs a proof reference (L5)"))
    if kind == InterruptionKind.DEMAND_DELIVERED:
        if delivery is None or not counts_as_delivered(delivery, owner_gave_contact=owner_gave_contact):
            raise ServiceError(N_("this delivery result does not count as a delivered demand (L5)"))
    if not charge_ids:
        raise ServiceError(N_("an interruption must name the charges it covers"))
    charges = session.scalars(select(Charge.id).where(Charge.id.in_(charge_ids), Charge.unit_id == unit.id)).all()
    missing = sorted(set(charge_ids) - set(charges))
    if missing:
        raise ServiceError(N_("charges %(ids)s are not charges of unit %(unit)s"),
                           ids=", ".join(map(str, missing)), unit=unit.code)
    existing = session.scalar(
        select(Interruption).where(
            Interruption.unit_id == unit.id, Interruption.kind == kind,
            Interruption.occurred_on == occurred_on, Interruption.proof_ref == proof_ref.strip(),
        )
    )
    if existing is not None:
        return existing, False
    event = Interruption(
        company_id=company_id, unit_id=unit.id, owner_id=owner_id, kind=kind, occurred_on=occurred_on,
        proof_ref=proof_ref.strip(), proof_note=proof_note, source=source, import_batch_id=import_batch_id,
        created_by=actor.name,
    )
    event.charges = [InterruptionCharge(charge_id=charge_id) for charge_id in sorted(set(charge_ids))]
    session.add(event)
    session.flush()
    audit.record(session, actor, "interruption.record", "interruption", event.id, company_id=company_id,
                 unit_id=unit.id, kind=str(kind), occurred_on=occurred_on, charges=sorted(set(charge_ids)))
    return event, True

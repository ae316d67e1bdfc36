"""Disputes: an owner contests the debt; escalation beyond reminders pauses until it is resolved.

Resolution records the outcome; a fee adjustment is posted as credit entries on the disputed
charges (corrections are entries, never edits). Any dispute, even a resolved one, keeps the case
off the payment-order route later (L10: the claim must be undisputed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from arrears.domain.allocation import Component
from arrears.persistence.enums import AdjustmentReason, DisputeCategory, DisputeOutcome
from arrears.persistence.escalation import CollectionCase, Dispute, MediationSession
from arrears.persistence.models import Charge

from .. import audit
from ..actor import Actor
from ..corrections import add_adjustment
from ..errors import N_, ServiceError
from .cases import get_case, get_case_child

SOURCES = ("staff", "owner")


def open_dispute(
    session: Session, actor: Actor, company_id: int, case_id: int, *, category: DisputeCategory | str,
    description: str, today: dt.date, source: str = "staff",
) -> Dispute:
    """Record a dispute; only one may be open per case at a time."""
    case = get_case(session, company_id, case_id, lock=True)
    kind = _category(category)
    if not (description or "").strip():
        raise ServiceError(N_("a dispute needs a description"))
    if source not in SOURCES:
        raise ServiceError(N_("unknown dispute source %(source)s"), source=source)
    current = _open_dispute_of(session, case.id)
    if current is not None:
        raise ServiceError(N_("case %(case)s already has an open dispute (%(id)s); resolve it first"),
                           case=case.id, id=current.id)
    dispute = Dispute(case_id=case.id, category=kind, description=description.strip(), source=source,
                      opened_on=today, opened_by=actor.name, adjustment_ids=[])
    session.add(dispute)
    session.flush()
    audit.record(session, actor, "dispute.open", "dispute", dispute.id, company_id=company_id,
                 case_id=case.id, category=str(kind), source=source)
    return dispute


def add_mediation_session(
    session: Session, actor: Actor, company_id: int, dispute_id: int, *, held_on: dt.date, mediator: str,
    participants: str, summary: str, today: dt.date,
) -> MediationSession:
    dispute, _ = get_case_child(session, Dispute, dispute_id, company_id)
    if dispute.resolved_on is not None:
        raise ServiceError(N_("dispute %(id)s is resolved; no more sessions can be added"), id=dispute.id)
    if held_on > today:
        raise ServiceError(N_("a mediation session cannot be dated in the future"))
    fields = {"mediator": mediator, "participants": participants, "summary": summary}
    for name, value in fields.items():
        if not (value or "").strip():
            raise ServiceError(N_("a mediation session needs %(field)s"), field=name)
    record = MediationSession(dispute_id=dispute.id, held_on=held_on, mediator=mediator.strip(),
                              participants=participants.strip(), summary=summary.strip(),
                              recorded_by=actor.name)
    session.add(record)
    session.flush()
    session.refresh(dispute, ["sessions"])
    audit.record(session, actor, "dispute.mediation", "mediation_session", record.id, company_id=company_id,
                 dispute_id=dispute.id, held_on=held_on, mediator=record.mediator)
    return record


def resolve_dispute(
    session: Session, actor: Actor, company_id: int, dispute_id: int, *, outcome: DisputeOutcome | str,
    note: str, today: dt.date, credits: Sequence[tuple[int, Decimal]] = (),
) -> Dispute:
    """Close the dispute. FEE_ADJUSTED posts `credits` [(charge_id, amount)] as principal
    adjustments (reason DISPUTE_CREDIT) on the case's own charges, all or none."""
    dispute, case = get_case_child(session, Dispute, dispute_id, company_id)
    result = _outcome(outcome)
    if dispute.resolved_on is not None:
        raise ServiceError(N_("dispute %(id)s is already resolved"), id=dispute.id)
    if not (note or "").strip():
        raise ServiceError(N_("a resolution needs a note"))
    if today < dispute.opened_on:
        raise ServiceError(N_("a dispute cannot be resolved before it was opened"))
    if result == DisputeOutcome.FEE_ADJUSTED and not credits:
        raise ServiceError(N_("a fee adjustment needs at least one credit"))
    if result != DisputeOutcome.FEE_ADJUSTED and credits:
        raise ServiceError(N_("credits are only posted when the fee is adjusted"))
    adjustment_ids = _post_credits(session, actor, company_id, case, dispute, credits, note.strip(), today)
    dispute.resolved_on = today
    dispute.resolved_by = actor.name
    dispute.outcome = result
    dispute.resolution_note = note.strip()
    dispute.adjustment_ids = adjustment_ids
    session.flush()
    audit.record(session, actor, "dispute.resolve", "dispute", dispute.id, company_id=company_id,
                 message=dispute.resolution_note, case_id=case.id, outcome=str(result),
                 adjustment_ids=adjustment_ids)
    return dispute


def disputed_case_ids(session: Session, company_id: int) -> set[int]:
    """Cases with an unresolved dispute: the sweep caps them at the reminder stages."""
    rows = session.scalars(
        select(Dispute.case_id)
        .join(CollectionCase, CollectionCase.id == Dispute.case_id)
        .where(CollectionCase.company_id == company_id, Dispute.resolved_on.is_(None))
    )
    return set(rows)


def ever_disputed(session: Session, case_id: int) -> bool:
    """Whether the case ever had a dispute, whatever its outcome (blocks the payment order, L10)."""
    return bool(session.scalar(select(exists().where(Dispute.case_id == case_id))))


def _post_credits(
    session: Session, actor: Actor, company_id: int, case: CollectionCase, dispute: Dispute,
    credits: Sequence[tuple[int, Decimal]], note: str, today: dt.date,
) -> list[int]:
    """All credits or none: a refused one rolls the earlier ones back (savepoint)."""
    charge_ids = [charge_id for charge_id, _ in credits]
    if len(set(charge_ids)) != len(charge_ids):
        raise ServiceError(N_("each charge may be credited only once per resolution"))
    if not credits:
        return []
    for charge_id in charge_ids:
        charge = session.get(Charge, charge_id)
        if charge is None or charge.company_id != company_id or (charge.unit_id, charge.ownership_id) != (
                case.unit_id, case.ownership_id):
            raise ServiceError(N_("charge %(id)s is not a charge of this case"), id=charge_id)
    ids: list[int] = []
    with session.begin_nested():
        for charge_id, amount in credits:
            adjustment = add_adjustment(
                session, actor, company_id, charge_id, component=Component.PRINCIPAL, amount=amount,
                reason=AdjustmentReason.DISPUTE_CREDIT, note=f"dispute {dispute.id}: {note}",
                effective_on=today,
            )
            ids.append(adjustment.id)
    return ids


def _open_dispute_of(session: Session, case_id: int) -> Dispute | None:
    return session.scalar(select(Dispute).where(Dispute.case_id == case_id, Dispute.resolved_on.is_(None)))


def _category(value: DisputeCategory | str) -> DisputeCategory:
    try:
        return DisputeCategory(value)
    except ValueError:
        raise ServiceError(N_("unknown dispute category %(category)s"), category=value) from None


def _outcome(value: DisputeOutcome | str) -> DisputeOutcome:
    try:
        return DisputeOutcome(value)
    except ValueError:
        raise ServiceError(N_("unknown dispute outcome %(outcome)s"), outcome=value) from None

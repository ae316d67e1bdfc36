"""Review of a run's prepared batch: who gets what, on which channel and why; approve or remove.

Only PREPARED actions can be decided: an approved action may already be in a message, and a sent
demand is evidence that is never edited (frozen, L5). A bulk decision is all-or-nothing: if one
selected row can no longer be decided, nothing changes and the user is told which one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.base import utcnow
from arrears.persistence.enums import ActionStatus
from arrears.persistence.models import (
    CollectionCase,
    Community,
    EscalationAction,
    EscalationRun,
    Owner,
    Unit,
)
from arrears.services import audit
from arrears.services.actor import Actor
from arrears.services.errors import N_, NotFound, ServiceError
from arrears.services.tenancy import get_scoped

from . import holds


@dataclass(frozen=True)
class BatchRow:
    """One prepared (or already decided) action of a run, with what the reviewer needs to see."""

    action: EscalationAction
    unit: Unit
    community: Community
    owner: Owner
    case: CollectionCase | None

    @property
    def decidable(self) -> bool:
        return self.action.status == ActionStatus.PREPARED


def get_run(session: Session, company_id: int, run_id: int) -> EscalationRun:
    return get_scoped(session, EscalationRun, run_id, company_id)


def list_batch(session: Session, company_id: int, run_id: int) -> list[BatchRow]:
    """The run's actions, PREPARED first, then by community, unit and id."""
    get_run(session, company_id, run_id)
    rows = session.execute(
        select(EscalationAction, Unit, Community, Owner, CollectionCase)
        .join(Unit, Unit.id == EscalationAction.unit_id)
        .join(Community, Community.id == Unit.community_id)
        .join(Owner, Owner.id == EscalationAction.owner_id)
        .outerjoin(CollectionCase, CollectionCase.id == EscalationAction.case_id)
        .where(EscalationAction.company_id == company_id, EscalationAction.run_id == run_id)
        .order_by(Community.code, Unit.sort_key, Unit.code, EscalationAction.id)
    ).all()
    result = [BatchRow(*row) for row in rows]
    result.sort(key=lambda row: not row.decidable)  # stable: keeps the order within each group
    return result


def approve_actions(session: Session, actor: Actor, company_id: int, action_ids: Sequence[int]) -> int:
    """Approve the selected PREPARED actions; returns how many changed."""
    actions = _prepared(session, company_id, action_ids)
    now = utcnow()
    for action in actions:
        action.status = ActionStatus.APPROVED
        action.decided_by, action.decided_at = actor.name, now
        audit.record(session, actor, "escalation_action.approve", "escalation_action", action.id,
                     company_id=company_id, key=action.key)
    session.flush()
    return len(actions)


def remove_actions(session: Session, actor: Actor, company_id: int, action_ids: Sequence[int],
                   reason: str) -> int:
    """Remove the selected PREPARED actions from the batch, with a reason; returns how many."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(N_("a reason is required to remove actions from the batch"))
    actions = _prepared(session, company_id, action_ids)
    now = utcnow()
    for action in actions:
        action.status = ActionStatus.REMOVED
        action.decided_by, action.decided_at = actor.name, now
        action.removed_reason = reason
        audit.record(session, actor, "escalation_action.remove", "escalation_action", action.id,
                     company_id=company_id, key=action.key, reason=reason)
    session.flush()
    return len(actions)


def approve_run(session: Session, actor: Actor, company_id: int, run_id: int) -> int:
    """Approve every action of the run that is still PREPARED; returns how many."""
    get_run(session, company_id, run_id)
    ids = session.scalars(
        select(EscalationAction.id).where(
            EscalationAction.company_id == company_id, EscalationAction.run_id == run_id,
            EscalationAction.status == ActionStatus.PREPARED,
        )
    ).all()
    count = approve_actions(session, actor, company_id, ids) if ids else 0
    audit.record(session, actor, "escalation_run.approve", "escalation_run", run_id,
                 company_id=company_id, approved=count)
    return count


def hold_actions(session: Session, actor: Actor, company_id: int, action_ids: Sequence[int], *,
                 reason: str, ends_on: dt.date, today: dt.date) -> int:
    """Put the cases of the selected actions on hold (holds.place_hold) and take their actions
    out of the batch; returns how many actions were removed. Pre-due notices have no case."""
    actions = _prepared(session, company_id, action_ids)
    if any(action.case_id is None for action in actions):
        raise ServiceError(N_("a pre-due notice has no case to hold; remove it instead"))
    for case_id in sorted({action.case_id for action in actions if action.case_id is not None}):
        holds.place_hold(session, actor, company_id, case_id, reason=reason, ends_on=ends_on, today=today)
    still = [a.id for a in actions if a.status == ActionStatus.PREPARED]  # place_hold may remove them
    if still:
        remove_actions(session, actor, company_id, still, reason)
    return len(actions)


def _prepared(session: Session, company_id: int, action_ids: Sequence[int]) -> list[EscalationAction]:
    ids = sorted({int(i) for i in action_ids})
    if not ids:
        raise ServiceError(N_("select at least one row"))
    actions = session.scalars(
        select(EscalationAction).where(EscalationAction.id.in_(ids)).order_by(EscalationAction.id)
    ).all()
    found = {a.id: a for a in actions if a.company_id == company_id}
    for action_id in ids:
        action = found.get(action_id)
        if action is None:
            raise NotFound(N_("%(kind)s %(id)s not found"), kind="EscalationAction", id=action_id)
        if action.status != ActionStatus.PREPARED:
            raise ServiceError(
                N_("action %(id)s is already %(status)s and can no longer be changed"),
                id=action_id, status=action.status.value,
            )
    return [found[i] for i in ids]


__all__ = ["BatchRow", "approve_actions", "approve_run", "get_run", "hold_actions", "list_batch",
           "remove_actions"]

"""Collection-case housekeeping: responsible person, next-action date, notes; and the company
scoping every pause (hold, dispute, plan) goes through, since those rows hang off a case."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.escalation import CollectionCase
from arrears.persistence.models import Membership

from .. import audit
from ..actor import Actor
from ..errors import N_, NotFound, ServiceError
from ..tenancy import get_scoped


class _Unset(Enum):
    UNSET = "unset"


#: "Leave this field as it is" (None means "clear it").
UNSET = _Unset.UNSET


class _CaseChild(Protocol):
    case_id: int


C = TypeVar("C", bound=_CaseChild)


def get_case(session: Session, company_id: int, case_id: int, *, lock: bool = False) -> CollectionCase:
    """The company's case; `lock` serialises concurrent pauses of one case (PostgreSQL row lock),
    which is what keeps "one open dispute / one active plan per case" true under concurrency."""
    case = get_scoped(session, CollectionCase, case_id, company_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        session.execute(select(CollectionCase.id).where(CollectionCase.id == case.id).with_for_update())
    return case


def get_case_child(session: Session, model: type[C], object_id: int, company_id: int) -> tuple[C, CollectionCase]:
    """A hold, dispute or plan of the company (they carry no company_id: their case does)."""
    obj = session.get(model, object_id)
    case = session.get(CollectionCase, obj.case_id) if obj is not None else None
    if obj is None or case is None or case.company_id != company_id:
        raise NotFound(N_("%(kind)s %(id)s not found"), kind=model.__name__, id=object_id)
    return obj, case


def update_case(
    session: Session,
    actor: Actor,
    company_id: int,
    case_id: int,
    *,
    responsible_user_id: int | None | _Unset = UNSET,
    next_action_on: dt.date | None | _Unset = UNSET,
    notes: str | None | _Unset = UNSET,
) -> CollectionCase:
    """Assign the case, set its next-action date (work queue) or its notes; UNSET leaves a field."""
    case = get_case(session, company_id, case_id)
    changes: dict[str, Any] = {}
    if responsible_user_id is not UNSET:
        if responsible_user_id is not None:
            _check_member(session, company_id, responsible_user_id)
        changes["responsible_user_id"] = responsible_user_id
    if next_action_on is not UNSET:
        if next_action_on is not None and not isinstance(next_action_on, dt.date):
            raise ServiceError(N_("the next action date is not a date"))
        changes["next_action_on"] = next_action_on
    if notes is not UNSET:
        changes["notes"] = (notes or "").strip() or None
    changed = {key: value for key, value in changes.items() if getattr(case, key) != value}
    if not changed:
        return case
    for key, value in changed.items():
        setattr(case, key, value)
    session.flush()
    audit.record(session, actor, "case.update", "collection_case", case.id, company_id=company_id,
                 **changed)
    return case


def _check_member(session: Session, company_id: int, user_id: int) -> None:
    member = session.scalar(
        select(Membership.id).where(Membership.company_id == company_id, Membership.user_id == user_id)
    )
    if member is None:
        raise ServiceError(N_("user %(id)s is not a member of this company"), id=user_id)

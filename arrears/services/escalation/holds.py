"""Holds: a person pauses one case, with a reason and an end date (issue 3 §3)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from arrears.persistence.enums import CaseStatus
from arrears.persistence.escalation import CaseHold, CollectionCase

from .. import audit
from ..actor import Actor
from ..errors import N_, ServiceError
from .cases import get_case, get_case_child

#: A hold is a pause, not a way to park a case for good: longer needs a fresh decision.
MAX_HOLD_DAYS = 365


def place_hold(
    session: Session, actor: Actor, company_id: int, case_id: int, *, reason: str, ends_on: dt.date,
    today: dt.date,
) -> CaseHold:
    """Pause the case from today through `ends_on` (inclusive)."""
    case = get_case(session, company_id, case_id)
    if case.status != CaseStatus.OPEN:
        raise ServiceError(N_("case %(id)s is closed; only an open case can be held"), id=case.id)
    if not (reason or "").strip():
        raise ServiceError(N_("a hold needs a reason"))
    if ends_on < today:
        raise ServiceError(N_("a hold cannot end before today"))
    if ends_on > today + dt.timedelta(days=MAX_HOLD_DAYS):
        raise ServiceError(N_("a hold may last at most %(days)s days"), days=MAX_HOLD_DAYS)
    hold = CaseHold(case_id=case.id, reason=reason.strip(), author=actor.name, starts_on=today,
                    ends_on=ends_on)
    session.add(hold)
    session.flush()
    audit.record(session, actor, "hold.place", "case_hold", hold.id, company_id=company_id,
                 message=hold.reason, case_id=case.id, ends_on=ends_on)
    return hold


def release_hold(session: Session, actor: Actor, company_id: int, hold_id: int, *, today: dt.date) -> CaseHold:
    """End a hold early: the case is no longer held from `today` on (tonight's run moves it)."""
    hold, case = get_case_child(session, CaseHold, hold_id, company_id)
    if hold.released_on is not None:
        raise ServiceError(N_("hold %(id)s was already released"), id=hold.id)
    if hold.ends_on < today:
        raise ServiceError(N_("hold %(id)s already ended on %(date)s"), id=hold.id, date=hold.ends_on.isoformat())
    if today < hold.starts_on:
        raise ServiceError(N_("a hold cannot be released before it starts"))
    hold.released_on = today
    hold.released_by = actor.name
    session.flush()
    audit.record(session, actor, "hold.release", "case_hold", hold.id, company_id=company_id,
                 case_id=case.id, released_on=today)
    return hold


def held_case_ids(session: Session, company_id: int, as_of: dt.date) -> set[int]:
    """Cases with a hold covering `as_of` that had not been released by then."""
    rows = session.scalars(
        select(CaseHold.case_id)
        .join(CollectionCase, CollectionCase.id == CaseHold.case_id)
        .where(
            CollectionCase.company_id == company_id,
            CaseHold.starts_on <= as_of,
            CaseHold.ends_on >= as_of,
            or_(CaseHold.released_on.is_(None), CaseHold.released_on > as_of),
        )
    )
    return set(rows)

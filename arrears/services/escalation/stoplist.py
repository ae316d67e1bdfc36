"""The stop list (L17): owners who must not be contacted, on one channel or on all of them.

Every channel honours it; the outbox checks it when it queues a message and again at send time
(a message queued before the stop is cancelled and falls back to a channel that is not stopped).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Channel
from arrears.persistence.models import ContactStop, Owner

from .. import audit
from ..actor import Actor
from ..errors import N_, ServiceError
from ..tenancy import get_scoped

#: `None` in a stop set means "every channel".
Stops = set[Channel | None]


def add_stop(session: Session, actor: Actor, company_id: int, owner_id: int, *,
             channel: Channel | None = None, reason: str) -> ContactStop:
    """Stop contacting an owner (on `channel`, or on every channel). An active identical stop is
    returned as it is, so a double click adds nothing."""
    get_scoped(session, Owner, owner_id, company_id)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(N_("a reason is required to stop contacting an owner"))
    existing = session.scalar(select(ContactStop).where(
        ContactStop.owner_id == owner_id, ContactStop.lifted_on.is_(None),
        ContactStop.channel.is_(None) if channel is None else ContactStop.channel == channel))
    if existing is not None:
        return existing
    stop = ContactStop(company_id=company_id, owner_id=owner_id, channel=channel, reason=reason,
                       created_by=actor.name)
    session.add(stop)
    session.flush()
    audit.record(session, actor, "contact_stop.add", "contact_stop", stop.id, company_id=company_id,
                 owner_id=owner_id, channel=channel.value if channel else None, reason=reason)
    return stop


def lift_stop(session: Session, actor: Actor, company_id: int, stop_id: int, *,
              today: dt.date) -> ContactStop:
    stop = get_scoped(session, ContactStop, stop_id, company_id)
    if stop.lifted_on is not None:
        raise ServiceError(N_("this stop was already lifted on %(date)s"), date=stop.lifted_on.isoformat())
    stop.lifted_on = today
    stop.lifted_by = actor.name
    session.flush()
    audit.record(session, actor, "contact_stop.lift", "contact_stop", stop.id, company_id=company_id,
                 owner_id=stop.owner_id, channel=stop.channel.value if stop.channel else None)
    return stop


def stopped_channels(session: Session, owner_ids: Iterable[int]) -> dict[int, Stops]:
    """Active stops per owner; owners without any are absent. `None` in a set = all channels."""
    ids = list(set(owner_ids))
    result: dict[int, Stops] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(select(ContactStop.owner_id, ContactStop.channel).where(
            ContactStop.owner_id.in_(ids[start:start + 500]), ContactStop.lifted_on.is_(None)))
        for owner_id, channel in rows:
            result.setdefault(owner_id, set()).add(channel)
    return result


def is_stopped(stops: Stops, channel: Channel) -> bool:
    return None in stops or channel in stops

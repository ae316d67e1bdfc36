"""Append to the audit log inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from arrears.persistence.models import AuditEntry

from .actor import Actor


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    company_id: int | None,
    message: str | None = None,
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        company_id=company_id,
        user_id=actor.user_id,
        actor=actor.name,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail={key: _jsonable(value) for key, value in detail.items()},
        message=message,
    )
    session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)

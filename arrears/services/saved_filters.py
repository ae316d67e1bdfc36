"""Saved filters: a user's named query strings on a list page (e.g. the work queue, list "cases").

Only the list's known parameters are stored (anything else, and the page number, is dropped), so
a saved filter cannot smuggle unrelated input; the list validates the parameters again on use.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.workspace import SavedFilter

from . import audit
from .actor import Actor
from .errors import N_, NotFound, ServiceError

MAX_NAME = 80
MAX_QUERY = 2000
MAX_PER_LIST = 50


def list_filters(session: Session, company_id: int, user_id: int, list_name: str) -> list[SavedFilter]:
    """The user's saved filters on one list, by name."""
    return list(session.scalars(
        select(SavedFilter).where(SavedFilter.company_id == company_id, SavedFilter.user_id == user_id,
                                  SavedFilter.list_name == list_name)
        .order_by(SavedFilter.name, SavedFilter.id)
    ))


def clean_query(query: str, allowed: Sequence[str]) -> str:
    """The query string with only `allowed` parameters that have a value, in a stable order."""
    pairs = [(key, value.strip()) for key, value in parse_qsl(query or "", keep_blank_values=False)
             if key in allowed and value.strip()]
    order = {key: n for n, key in enumerate(allowed)}
    return urlencode(sorted(pairs, key=lambda pair: order[pair[0]]))


def save_filter(session: Session, actor: Actor, company_id: int, user_id: int, list_name: str, *, name: str,
                query: str, allowed: Sequence[str]) -> SavedFilter:
    """Keep the list's current filter under `name` (1 to 80 characters, unique for the user and list)."""
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(N_("give the filter a name"))
    if len(name) > MAX_NAME:
        raise ServiceError(N_("a filter name has at most %(count)s characters"), count=MAX_NAME)
    cleaned = clean_query(query, allowed)
    if len(cleaned) > MAX_QUERY:
        raise ServiceError(N_("this filter is too long to be saved"))
    existing = list_filters(session, company_id, user_id, list_name)
    if any(f.name.casefold() == name.casefold() for f in existing):
        raise ServiceError(N_("you already have a filter named %(name)s"), name=name)
    if len(existing) >= MAX_PER_LIST:
        raise ServiceError(N_("you can keep at most %(count)s filters on this list"), count=MAX_PER_LIST)
    saved = SavedFilter(company_id=company_id, user_id=user_id, list_name=list_name, name=name, query=cleaned)
    session.add(saved)
    session.flush()
    audit.record(session, actor, "saved_filter.create", "saved_filter", saved.id, company_id=company_id,
                 list_name=list_name, name=name, query=cleaned)
    return saved


def delete_filter(session: Session, actor: Actor, company_id: int, user_id: int, filter_id: int) -> None:
    """Delete one of the user's own saved filters (another user's is not found)."""
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.company_id != company_id or saved.user_id != user_id:
        raise NotFound(N_("%(kind)s %(id)s not found"), kind="SavedFilter", id=filter_id)
    audit.record(session, actor, "saved_filter.delete", "saved_filter", saved.id, company_id=company_id,
                 list_name=saved.list_name, name=saved.name, query=saved.query)
    session.delete(saved)
    session.flush()


__all__ = ["MAX_NAME", "clean_query", "delete_filter", "list_filters", "save_filter"]

"""Tenant scoping: every lookup names the company, and another company's object is 'not found'."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy.orm import Session

from arrears.persistence.models import Company

from . import audit
from .actor import Actor
from .errors import N_, ClosedPeriodError, NotFound, ServiceError

T = TypeVar("T")


def get_scoped(session: Session, model: type[T], object_id: int, company_id: int) -> T:
    """Fetch a company-owned row, or raise NotFound for missing rows and other tenants' rows."""
    obj = session.get(model, object_id)
    if obj is None or getattr(obj, "company_id", None) != company_id:
        raise NotFound(N_("%(kind)s %(id)s not found"), kind=model.__name__, id=object_id)
    return obj


def check_books_open(company: Company, on: dt.date) -> None:
    if company.books_closed_through is not None and on <= company.books_closed_through:
        raise ClosedPeriodError(
            N_("books are closed through %(through)s; an entry dated %(date)s is refused"),
            through=company.books_closed_through.isoformat(), date=on.isoformat(),
        )


def get_company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(N_("company %(id)s not found"), id=company_id)
    return company


def close_books(session: Session, actor: Actor, company_id: int, *, through: dt.date) -> Company:
    """Close the books through a day; reopening closed months is not allowed."""
    company = get_company(session, company_id)
    if company.books_closed_through is not None and through < company.books_closed_through:
        raise ServiceError(N_("books are already closed through %(through)s"),
                           through=company.books_closed_through.isoformat())
    company.books_closed_through = through
    audit.record(session, actor, "books.close", "company", company.id, company_id=company.id, through=through)
    return company

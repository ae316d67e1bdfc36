"""Tenant scoping: every lookup names the company, and another company's object is 'not found'."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy.orm import Session

from arrears.persistence.models import Company

from . import audit
from .actor import Actor
from .errors import ClosedPeriodError, NotFound, ServiceError

T = TypeVar("T")


def get_scoped(session: Session, model: type[T], object_id: int, company_id: int) -> T:
    """Fetch a company-owned row, or raise NotFound for missing rows and other tenants' rows."""
    obj = session.get(model, object_id)
    if obj is None or getattr(obj, "company_id", None) != company_id:
        raise NotFound(f"{model.__name__} {object_id}")
    return obj


def check_books_open(company: Company, on: dt.date) -> None:
    if company.books_closed_through is not None and on <= company.books_closed_through:
        raise ClosedPeriodError(
            f"books are closed through {company.books_closed_through.isoformat()}; "
            f"an entry dated {on.isoformat()} is refused"
        )


def close_books(session: Session, actor: Actor, company_id: int, *, through: dt.date) -> Company:
    """Close the books through a day; reopening closed months is not allowed."""
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(f"company {company_id}")
    if company.books_closed_through is not None and through < company.books_closed_through:
        raise ServiceError(f"books are already closed through {company.books_closed_through.isoformat()}")
    company.books_closed_through = through
    audit.record(session, actor, "books.close", "company", company.id, company_id=company.id, through=through)
    return company

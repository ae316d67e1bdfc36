"""Tenant scoping: every lookup names the company, and another company's object is 'not found'."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy.orm import Session

from arrears.persistence.models import Company

from .errors import ClosedPeriodError, NotFound

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

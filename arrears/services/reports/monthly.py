"""The monthly collection report per community: billed in the month, collected on the month's
charges, the rate, earlier arrears recovered in the month and arrears at the month's end.

The month's window is the charges whose period starts in the month, with money applied up to the
month's last day (or today, for the current month); see :mod:`.collection` for exactly what
counts. Arrears are those overdue on that same day (:func:`.aging.arrears_at`). The PDF is printed
in Chinese, like every document of the app.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.documents import render_pdf
from arrears.domain.calendar import month_end
from arrears.domain.money import ZERO
from arrears.domain.reporting import Window, month_range
from arrears.persistence.models import Community

from ..errors import N_, ServiceError
from ..tenancy import get_company
from . import aging, collection
from .collection import Collection

FIRST_YEAR = 2000
TEMPLATE = "collection_report.html"


@dataclass(frozen=True)
class MonthlyRow:
    community_id: int | None  # None: the totals row
    code: str
    name: str
    figures: Collection
    arrears: Decimal  # overdue and unpaid on ``MonthlyReport.as_of``

    @property
    def billed(self) -> Decimal:
        return self.figures.billed

    @property
    def collected(self) -> Decimal:
        return self.figures.collected

    @property
    def recovered(self) -> Decimal:
        return self.figures.recovered

    @property
    def percent(self) -> Decimal | None:
        return self.figures.percent


@dataclass(frozen=True)
class MonthlyReport:
    company_name: str
    year: int
    month: int
    window: Window
    rows: tuple[MonthlyRow, ...]
    total: MonthlyRow

    @property
    def as_of(self) -> dt.date:
        """The day money is counted to and arrears are taken on: month end, or today."""
        return self.window.as_of

    @property
    def complete(self) -> bool:
        """False while the month is still running (figures as of today)."""
        return self.window.as_of == self.window.periods.end


def check_month(year: int, month: int, today: dt.date) -> None:
    """A report exists for a month from 2000 up to the current month."""
    if not 1 <= month <= 12:
        raise ServiceError(N_("the month must be 1 to 12, not %(month)s"), month=month)
    if year < FIRST_YEAR or (year, month) > (today.year, today.month):
        raise ServiceError(N_("choose a month from %(first)s up to the current month"), first=FIRST_YEAR)


def monthly_report(session: Session, company_id: int, year: int, month: int, *, today: dt.date) -> MonthlyReport:
    """The report of one month for every community of the company (and their totals)."""
    check_month(year, month, today)
    company = get_company(session, company_id)
    periods = month_range(year, month)
    window = Window(periods, min(month_end(year, month), today))
    figures = collection.by_community(session, company_id, [window])[0]
    arrears = aging.arrears_at(session, company_id, window.as_of)
    communities = session.scalars(
        select(Community).where(Community.company_id == company_id).order_by(Community.code)).all()
    rows = tuple(MonthlyRow(c.id, c.code, c.name, figures.get(c.id, Collection()), arrears.get(c.id, ZERO))
                 for c in communities)
    total = MonthlyRow(None, "", "", collection.total(figures), sum(arrears.values(), ZERO))
    return MonthlyReport(company.name, year, month, window, rows, total)


def report_pdf(report: MonthlyReport, *, created: dt.datetime | None = None) -> bytes:
    """The report as a PDF (A4, Chinese, templates/documents/collection_report.html)."""
    title = f"{report.year}年{report.month}月物业服务费收缴情况报表"
    return render_pdf(TEMPLATE, {"company_name": report.company_name, "report": report, "title": title},
                      title=title, author=report.company_name, created=created)

"""Reports: the monthly collection report per community, on screen, in Excel and as PDF.

The PDF is printed in Chinese like every document of the app; the page and the Excel sheet follow
the UI language.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, Response, abort, flash, g, render_template, request, send_file
from flask_babel import gettext as _

from arrears.documents.xlsx import Column
from arrears.services.errors import ServiceError
from arrears.services.reports import monthly
from arrears.services.timezone import company_today

from .access import STAFF, allow, current_company_id
from .downloads import xlsx_response
from .forms import InputError, parse_int
from .messages import error_text
from .transaction import db

bp = Blueprint("reports", __name__, url_prefix="/reports")
PDF = "application/pdf"


@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    today = _today()
    try:
        year, month = _month(today)
        report = monthly.monthly_report(db(), current_company_id(), year, month, today=today)
    except (InputError, ServiceError) as exc:
        flash(error_text(exc) if isinstance(exc, ServiceError) else str(exc), "error")
        report = monthly.monthly_report(db(), current_company_id(), today.year, today.month, today=today)
        return render_template("web/reports/index.html", report=report, today=today), 400
    return render_template("web/reports/index.html", report=report, today=today)


@bp.get("/collection.xlsx")
@allow(STAFF)
def collection_xlsx():  # type: ignore[no-untyped-def]
    report = _report()
    columns = [Column(_("Community"), 24), Column(_("Code"), 12), Column(_("Billed in the month (CNY)"), 18, True),
               Column(_("Collected on the month's charges (CNY)"), 22, True), Column(_("Collection rate (%)"), 14),
               Column(_("Recovered earlier arrears (CNY)"), 20, True),
               Column(_("Arrears on %(date)s (CNY)", date=report.as_of.isoformat()), 20, True)]
    rows = [[row.name, row.code, row.billed, row.collected, row.percent, row.recovered, row.arrears]
            for row in report.rows]
    total = report.total
    rows.append([_("Total"), "", total.billed, total.collected, total.percent, total.recovered, total.arrears])
    stem = f"collection-{report.year}-{report.month:02d}"
    return xlsx_response(stem, _("Collection %(year)d-%(month)02d", year=report.year, month=report.month),
                         columns, rows, today=report.as_of)


@bp.get("/collection.pdf")
@allow(STAFF)
def collection_pdf():  # type: ignore[no-untyped-def]
    report = _report()
    data = monthly.report_pdf(report)
    return send_file(io.BytesIO(data), mimetype=PDF, as_attachment=True, max_age=0,
                     download_name=f"collection-{report.year}-{report.month:02d}.pdf")


def _today() -> dt.date:
    return company_today(g.membership.company)


def _month(today: dt.date) -> tuple[int, int]:
    """The chosen year and month from the query string; the current month by default."""
    args = request.args
    year = parse_int(args["year"], _("Year")) if args.get("year") else today.year
    month = parse_int(args["month"], _("Month")) if args.get("month") else today.month
    return year, month


def _report() -> monthly.MonthlyReport:
    """The report of the requested month; bad input answers 400 with the reason as plain text."""
    today = _today()
    try:
        year, month = _month(today)
        return monthly.monthly_report(db(), current_company_id(), year, month, today=today)
    except InputError as exc:
        abort(Response(str(exc), status=400, mimetype="text/plain"))
    except ServiceError as exc:
        abort(Response(error_text(exc), status=400, mimetype="text/plain"))

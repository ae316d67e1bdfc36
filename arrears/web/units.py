"""Units: the list with arrears, and a unit's statement as of any date."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from arrears.persistence.models import Community, Payment
from arrears.services import portfolio
from arrears.services.errors import NotFound
from arrears.services.statements import unit_statement
from arrears.services.timezone import company_today

from .access import STAFF, allow, current_company_id
from .downloads import xlsx_response
from .forms import InputError, parse_date
from .transaction import db

bp = Blueprint("units", __name__, url_prefix="/units")
PER_PAGE = 50


@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    """The units list; a search that finds exactly one unit (and no other filter) opens that unit."""
    company_id = current_company_id()
    today = company_today(g.membership.company)
    communities = db().scalars(
        select(Community).where(Community.company_id == company_id).order_by(Community.code)
    ).all()
    page = max(request.args.get("page", 1, type=int), 1)
    community_id, search, only_arrears = _filters()
    rows, total = portfolio.units(
        db(), company_id, today, community_id=community_id, search=search,
        only_arrears=only_arrears, page=page, per_page=PER_PAGE,
    )
    if total == 1 and search.strip() and not community_id and not only_arrears:
        return redirect(url_for("units.show", unit_id=rows[0].unit.id))
    return render_template(
        "web/units/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
        communities=communities, community_id=community_id, search=search, only_arrears=only_arrears,
        today=today,
    )


@bp.get("/export.xlsx")
@allow(STAFF)
def export():  # type: ignore[no-untyped-def]
    """Every unit the list's filter matches, as an Excel sheet."""
    today = company_today(g.membership.company)
    community_id, search, only_arrears = _filters()
    rows = portfolio.unit_export(db(), current_company_id(), today, community_id=community_id,
                                 search=search, only_arrears=only_arrears)
    return xlsx_response("units", _("Units"), portfolio.UNIT_EXPORT_COLUMNS, rows, today=today)


def _filters() -> tuple[int | None, str, bool]:
    """The list's filter from the query string: community, search text, only units in arrears."""
    return (request.args.get("community", type=int), request.args.get("q", ""),
            request.args.get("arrears") == "1")


@bp.get("/<int:unit_id>")
@allow(STAFF)
def show(unit_id: int):  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    today = company_today(g.membership.company)
    try:
        as_of = parse_date(request.args.get("as_of"), default=today, field=_("Statement as of"))
    except InputError as exc:
        flash(str(exc), "error")
        as_of = today
    try:
        result = unit_statement(db(), company_id, unit_id, as_of)
    except NotFound:
        abort(404)
    payments = db().scalars(
        select(Payment).where(Payment.unit_id == unit_id).order_by(Payment.received_on.desc(), Payment.id.desc())
    ).all()
    return render_template("web/units/show.html", result=result, st=result.statement, as_of=as_of,
                           today=today, payments=payments)

"""The start page: the accountant's dashboard (collection rates, aging, the case funnel, the last
escalation run and deadlines coming up); lawyers start on their legal cases."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from arrears.domain.reporting import AGING_BUCKETS
from arrears.services.reports import dashboard
from arrears.services.timezone import company_today

from .access import EVERYONE, STAFF, allow, current_company_id, has_role
from .transaction import db

bp = Blueprint("home", __name__)


@bp.get("/")
@allow(EVERYONE)
def index():  # type: ignore[no-untyped-def]
    if not has_role(STAFF):  # a lawyer starts on the legal cases assigned to them
        return redirect(url_for("legal.mine"))
    today = company_today(g.membership.company)
    board = dashboard.build(db(), current_company_id(), today)
    return render_template("web/home.html", board=board, today=today, buckets=AGING_BUCKETS)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return {"status": "ok"}


healthz._public = True  # type: ignore[attr-defined]

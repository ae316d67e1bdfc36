"""The start page: the company's communities and their arrears today."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from arrears.services import portfolio
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
    rows = portfolio.communities(db(), current_company_id(), today)
    return render_template("web/home.html", rows=rows, today=today)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return {"status": "ok"}


healthz._public = True  # type: ignore[attr-defined]

"""Billing runs from the web, for managers; the run goes on in the background with progress."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from arrears.persistence.models import Community
from arrears.services import billing
from arrears.services.jobs import start_job

from .access import MANAGERS, allow, current_actor, current_company_id
from .transaction import db, runtime

bp = Blueprint("billing", __name__, url_prefix="/billing")


@bp.route("/", methods=["GET", "POST"])
@allow(MANAGERS)
def run():  # type: ignore[no-untyped-def]
    communities = db().scalars(
        select(Community).where(Community.company_id == current_company_id()).order_by(Community.code)
    ).all()
    if request.method == "GET":
        return render_template("web/billing/run.html", communities=communities)
    try:
        through = dt.datetime.strptime(request.form.get("through", ""), "%Y-%m").date()
    except ValueError:
        flash(_("Enter the last month to bill as YYYY-MM."), "error")
        return render_template("web/billing/run.html", communities=communities), 400
    code = request.form.get("community") or None
    if code and code not in {c.code for c in communities}:
        flash(_("Unknown community."), "error")
        return render_template("web/billing/run.html", communities=communities), 400
    company_id, actor = current_company_id(), current_actor()
    today = _today()

    def work(session, progress):  # type: ignore[no-untyped-def]
        result = billing.run_billing(session, actor, company_id=company_id, through=through, today=today,
                                     community_code=code, progress=progress)
        return {"created": result.created, "amount": str(result.amount), "units": result.units,
                "warnings": result.warnings[:50], "warning_count": len(result.warnings)}

    job_id = start_job(runtime(), company_id, "billing", actor.name, work)
    return redirect(url_for("jobs.show", job_id=job_id))


def _today() -> dt.date:
    from flask import g

    from arrears.services.timezone import company_today

    return company_today(g.membership.company)

"""The small-claims ceilings per province (L11): an administrator's editor with history.

Ceilings are data with a source and a checked-on date; a row is never edited: replacing it adds a
new row naming the old one, which is retired (both stay in the history). Rows checked more than 13
months before today are flagged: routing warns about them for a filing today.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from arrears.domain.routing import is_stale
from arrears.services.errors import NotFound, ServiceError
from arrears.services.legal import ceilings
from arrears.services.timezone import company_today

from .access import ADMINS, allow, current_actor
from .downloads import xlsx_response
from .forms import InputError, parse_date
from .labels import label
from .messages import error_text
from .transaction import db

bp = Blueprint("ceilings", __name__, url_prefix="/ceilings")


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"ADMINS": ADMINS}


@bp.get("/")
@allow(ADMINS)
def index():  # type: ignore[no-untyped-def]
    return _render_index()


@bp.get("/export.xlsx")
@allow(ADMINS)
def export():  # type: ignore[no-untyped-def]
    """The rows the list shows (current, or with ``history=1`` all of them), as an Excel sheet."""
    rows = ceilings.ceiling_export(db(), _today(), label, include_retired=request.args.get("history") == "1")
    return xlsx_response("small-claims-ceilings", _("Small-claims ceilings"), ceilings.CEILING_EXPORT_COLUMNS,
                         rows, today=_today())


@bp.post("/")
@allow(ADMINS)
def add():  # type: ignore[no-untyped-def]
    form = request.form
    try:
        row = ceilings.add_ceiling(db(), current_actor(), **_fields(form))
    except InputError as exc:
        flash(str(exc), "error")
        return _render_index(status=400)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_index(status=400)
    _flash_warnings(row)
    flash(_("Ceiling added."), "success")
    return redirect(url_for("ceilings.show", ceiling_id=row.id))


@bp.post("/seed")
@allow(ADMINS)
def seed():  # type: ignore[no-untyped-def]
    count = ceilings.seed_ceilings(db())
    flash(_("%(count)d published ceilings loaded.", count=count), "success")
    return redirect(url_for("ceilings.index"))


@bp.get("/<int:ceiling_id>")
@allow(ADMINS)
def show(ceiling_id: int):  # type: ignore[no-untyped-def]
    return _render_show(ceiling_id)


@bp.post("/<int:ceiling_id>/replace")
@allow(ADMINS)
def replace(ceiling_id: int):  # type: ignore[no-untyped-def]
    try:
        row = ceilings.replace_ceiling(db(), current_actor(), ceiling_id, **_fields(request.form))
    except NotFound:
        abort(404)
    except InputError as exc:
        flash(str(exc), "error")
        return _render_show(ceiling_id, status=400)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_show(ceiling_id, status=400)
    _flash_warnings(row)
    flash(_("Ceiling replaced; the previous row is kept in the history."), "success")
    return redirect(url_for("ceilings.show", ceiling_id=row.id))


@bp.post("/<int:ceiling_id>/retire")
@allow(ADMINS)
def retire(ceiling_id: int):  # type: ignore[no-untyped-def]
    try:
        ceilings.retire_ceiling(db(), current_actor(), ceiling_id, reason=request.form.get("reason", ""))
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_show(ceiling_id, status=400)
    flash(_("Ceiling retired: routing no longer uses it."), "success")
    return redirect(url_for("ceilings.show", ceiling_id=ceiling_id))


def _fields(form: Any) -> dict[str, Any]:
    return {
        "province": form.get("province", ""), "amount": form.get("amount", ""),
        "wage_figure": form.get("wage_figure", ""),
        "effective_from": parse_date(form.get("effective_from"), field=_("Effective from")),
        "checked_on": parse_date(form.get("checked_on"), field=_("Checked on")),
        "source": form.get("source", ""), "basis": form.get("basis") or None,
    }


def _flash_warnings(row: Any) -> None:
    for warning in ceilings.warnings_for(row):
        flash(_(warning), "error")


def _render_index(*, status: int = 200):  # type: ignore[no-untyped-def]
    history = request.args.get("history") == "1"
    rows = ceilings.list_ceilings(db(), include_retired=history)
    today = _today()
    return render_template("web/ceilings/index.html", rows=rows, history=history, today=today,
                           stale={row.id for row in rows if is_stale(ceilings.to_domain(row), today)},
                           warnings={row.id: ceilings.warnings_for(row) for row in rows},
                           form=request.form if status >= 400 else {}), status


def _render_show(ceiling_id: int, *, status: int = 200):  # type: ignore[no-untyped-def]
    try:
        chain = ceilings.history(db(), ceiling_id)
    except NotFound:
        abort(404)
    row = chain[0]
    today = _today()
    later = [r for r in ceilings.list_ceilings(db(), row.province, include_retired=True) if r.replaces_id == row.id]
    return render_template("web/ceilings/show.html", row=row, chain=chain, replaced_by=later, today=today,
                           stale=is_stale(ceilings.to_domain(row), today), warnings=ceilings.warnings_for(row),
                           form=request.form if status >= 400 else {}), status


def _today() -> dt.date:
    return company_today(g.membership.company)


__all__ = ["bp"]

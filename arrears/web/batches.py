"""Run history and the review of a run's prepared batch: approve, remove or hold rows, then queue.

Review before sending: nothing prepared leaves before a person approved it (rows that need no
approval are created approved by the run). Bulk decisions go through a confirmation that says
how many rows will change. Sending itself happens in the scheduler, after commit.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from arrears.persistence.base import utcnow
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation import outbox, queries, review
from arrears.services.timezone import company_today

from .access import STAFF, WRITERS, allow, current_actor, current_company_id
from .downloads import xlsx_response
from .forms import InputError, parse_date
from .labels import label
from .messages import error_text
from .transaction import db

bp = Blueprint("batches", __name__, url_prefix="/runs")
PER_PAGE = 30
DECISIONS = ("approve", "remove", "hold", "approve_all")


@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = queries.run_history(db(), current_company_id(), page=page, per_page=PER_PAGE)
    waiting = queries.approved_waiting(db(), current_company_id())
    return render_template("web/batches/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           keys=queries.RUN_COUNT_KEYS, approved_waiting=waiting)


@bp.get("/export.xlsx")
@allow(STAFF)
def export():  # type: ignore[no-untyped-def]
    """The whole run history as an Excel sheet."""
    rows = queries.run_export(db(), current_company_id(), label)
    return xlsx_response("runs", _("Escalation runs"), queries.RUN_EXPORT_COLUMNS, rows,
                         today=company_today(g.membership.company))


@bp.get("/<int:run_id>")
@allow(STAFF)
def show(run_id: int):  # type: ignore[no-untyped-def]
    return _render_batch(run_id)


@bp.post("/<int:run_id>/decide")
@allow(WRITERS)
def decide(run_id: int):  # type: ignore[no-untyped-def]
    """The first POST shows which rows will change and asks for a reason (remove, hold) and an end
    date (hold); the confirmed POST (confirm=1) changes them. Approving one row needs no confirmation."""
    company_id = current_company_id()
    form = request.form
    decision, ids = _decision(form)
    if decision not in DECISIONS:
        flash(_("Choose approve, remove or hold."), "error")
        return _render_batch(run_id, status=400)
    try:
        rows = review.list_batch(db(), company_id, run_id)
    except NotFound:
        abort(404)
    if decision == "approve_all":
        ids = [row.action.id for row in rows if row.decidable]
    selected = [row for row in rows if row.action.id in set(ids)]
    if not selected:
        flash(_("Select at least one row that is still waiting for a decision."), "error")
        return _render_batch(run_id, status=400)
    confirmed = form.get("confirm") == "1" or (decision == "approve" and "row" in form)
    if not confirmed:
        return _confirm(run_id, decision, selected)
    try:
        reason = form.get("reason", "").strip()
        if decision in ("remove", "hold") and not reason:
            raise InputError(_("Give a reason."))
        ends_on = parse_date(form.get("ends_on"), field=_("Hold until")) if decision == "hold" else None
        count = _apply(decision, company_id, run_id, [row.action.id for row in selected], reason, ends_on)
    except InputError as exc:
        flash(str(exc), "error")
        return _confirm(run_id, decision, selected, status=400)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _confirm(run_id, decision, selected, status=400)
    flash(_("%(count)d rows changed.", count=count), "success")
    return redirect(url_for("batches.show", run_id=run_id))


@bp.post("/queue")
@allow(WRITERS)
def queue():  # type: ignore[no-untyped-def]
    """Turn approved actions into outbox messages; the scheduler sends them within minutes."""
    try:
        count = outbox.queue_approved(db(), current_actor(), current_company_id(), now=utcnow())
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(_safe_next(request.form.get("next")) or url_for("batches.index"))
    flash(_("%(count)d messages queued for sending.", count=count), "success")
    return redirect(_safe_next(request.form.get("next")) or url_for("batches.index"))


def _apply(decision: str, company_id: int, run_id: int, ids: list[int], reason: str,
           ends_on: dt.date | None) -> int:
    session, actor = db(), current_actor()
    if decision == "approve_all":
        return review.approve_run(session, actor, company_id, run_id)
    if decision == "approve":
        return review.approve_actions(session, actor, company_id, ids)
    if decision == "remove":
        return review.remove_actions(session, actor, company_id, ids, reason)
    assert ends_on is not None
    return review.hold_actions(session, actor, company_id, ids, reason=reason, ends_on=ends_on,
                               today=company_today(g.membership.company))


def _render_batch(run_id: int, *, status: int = 200):  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    try:
        run = review.get_run(db(), company_id, run_id)
        rows = review.list_batch(db(), company_id, run_id)
    except NotFound:
        abort(404)
    summary = queries.run_counts(db(), company_id, run)
    return render_template("web/batches/show.html", run=run, rows=rows, summary=summary,
                           keys=queries.RUN_COUNT_KEYS,
                           approved_waiting=queries.approved_waiting(db(), company_id),
                           today=company_today(g.membership.company)), status


def _confirm(run_id: int, decision: str, rows: list[review.BatchRow], *, status: int = 200):  # type: ignore[no-untyped-def]
    form = request.form
    return render_template("web/batches/confirm.html", run=review.get_run(db(), current_company_id(), run_id),
                           decision=decision, rows=rows, reason=form.get("reason", ""),
                           ends_on=form.get("ends_on", ""), today=company_today(g.membership.company)), status


def _decision(form) -> tuple[str, list[int]]:  # type: ignore[no-untyped-def]
    """A per-row button sends row=<decision>:<id>; the bulk form sends decision and action_id boxes."""
    row = form.get("row", "")
    if row:
        decision, _sep, action_id = row.partition(":")
        return decision, _ids([action_id])
    # The "approve every prepared row" button is sent alongside the decision <select>'s value.
    decisions = form.getlist("decision")
    decision = "approve_all" if "approve_all" in decisions else (decisions[0] if decisions else "")
    return decision, _ids(form.getlist("action_id"))


def _ids(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values if v]
    except ValueError:
        return []


def _safe_next(target: str | None) -> str | None:
    return target if target and target.startswith("/") and not target.startswith("//") else None

"""Collection cases: the accountant's work queue and a case's page with its forms.

Each form calls one service (holds, disputes, plans, cases.update_case); bad input re-shows the
case with the error and changes nothing (the request's transaction is rolled back on 4xx).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from arrears.domain.identity import mask_id
from arrears.persistence.enums import DisputeCategory, DisputeOutcome
from arrears.persistence.models import CaseHold, Community, Dispute, PaymentPlan
from arrears.services.errors import NotFound
from arrears.services.escalation import cases, disputes, holds, plans, queries
from arrears.services.timezone import company_today

from .access import STAFF, WRITERS, allow, current_actor, current_company_id
from .actions import perform
from .forms import InputError, parse_amount, parse_date, parse_int
from .transaction import db

bp = Blueprint("cases", __name__, url_prefix="/cases")
PER_PAGE = 50
MAX_INSTALMENTS = 36


@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    today = _today()
    args = request.args
    paused = {"1": True, "0": False}.get(args.get("paused", ""))
    responsible = args.get("responsible", "")
    filters = queries.QueueFilter(
        community_id=args.get("community", type=int),
        stage_code=args.get("stage") or None,
        responsible_user_id=0 if responsible == "none" else (int(responsible) if responsible.isdigit() else None),
        paused=paused,
    )
    page = max(args.get("page", 1, type=int), 1)
    rows, total = queries.work_queue(db(), company_id, today, filters, page=page, per_page=PER_PAGE)
    communities = db().scalars(
        select(Community).where(Community.company_id == company_id).order_by(Community.code)).all()
    return render_template(
        "web/cases/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE, today=today,
        communities=communities, stages=queries.stage_codes(db(), company_id),
        users=queries.company_users(db(), company_id), filters=filters, responsible=responsible,
        paused=args.get("paused", ""),
    )


@bp.get("/<int:case_id>")
@allow(STAFF)
def show(case_id: int):  # type: ignore[no-untyped-def]
    return _render(case_id)


@bp.post("/<int:case_id>/update")
@allow(WRITERS)
def update(case_id: int):  # type: ignore[no-untyped-def]
    form = request.form

    def act() -> Any:
        responsible = form.get("responsible_user_id", "")
        if responsible and not responsible.isdigit():
            raise InputError(_("Choose a responsible person from the list."))
        next_on = form.get("next_action_on", "")
        return cases.update_case(
            db(), current_actor(), current_company_id(), case_id,
            responsible_user_id=int(responsible) if responsible else None,
            next_action_on=parse_date(next_on, field=_("Next action on")) if next_on else None,
            notes=form.get("notes", ""),
        )

    return _do(case_id, "update", act, _("Case updated."))


@bp.post("/<int:case_id>/holds")
@allow(WRITERS)
def place_hold(case_id: int):  # type: ignore[no-untyped-def]
    form = request.form
    return _do(case_id, "hold", lambda: holds.place_hold(
        db(), current_actor(), current_company_id(), case_id, reason=form.get("reason", ""),
        ends_on=parse_date(form.get("ends_on"), field=_("Hold until")), today=_today(),
    ), _("The case is on hold."))


@bp.post("/<int:case_id>/holds/<int:hold_id>/release")
@allow(WRITERS)
def release_hold(case_id: int, hold_id: int):  # type: ignore[no-untyped-def]
    _child(CaseHold, hold_id, case_id)
    return _do(case_id, "hold", lambda: holds.release_hold(
        db(), current_actor(), current_company_id(), hold_id, today=_today()), _("Hold released."))


@bp.post("/<int:case_id>/disputes")
@allow(WRITERS)
def open_dispute(case_id: int):  # type: ignore[no-untyped-def]
    form = request.form
    return _do(case_id, "dispute", lambda: disputes.open_dispute(
        db(), current_actor(), current_company_id(), case_id, category=_choice(form.get("category"), DisputeCategory),
        description=form.get("description", ""), today=_today(),
        source="owner" if form.get("source") == "owner" else "staff",
    ), _("Dispute recorded; escalation beyond reminders is paused until it is resolved."))


@bp.post("/<int:case_id>/disputes/<int:dispute_id>/sessions")
@allow(WRITERS)
def add_session(case_id: int, dispute_id: int):  # type: ignore[no-untyped-def]
    _child(Dispute, dispute_id, case_id)
    form = request.form
    return _do(case_id, f"session-{dispute_id}", lambda: disputes.add_mediation_session(
        db(), current_actor(), current_company_id(), dispute_id,
        held_on=parse_date(form.get("held_on"), field=_("Held on")), mediator=form.get("mediator", ""),
        participants=form.get("participants", ""), summary=form.get("summary", ""), today=_today(),
    ), _("Mediation session recorded."))


@bp.post("/<int:case_id>/disputes/<int:dispute_id>/resolve")
@allow(WRITERS)
def resolve_dispute(case_id: int, dispute_id: int):  # type: ignore[no-untyped-def]
    _child(Dispute, dispute_id, case_id)
    form = request.form
    return _do(case_id, f"resolve-{dispute_id}", lambda: disputes.resolve_dispute(
        db(), current_actor(), current_company_id(), dispute_id,
        outcome=_choice(form.get("outcome"), DisputeOutcome), note=form.get("note", ""), today=_today(),
        credits=_credits(form),
    ), _("Dispute resolved."))


@bp.post("/<int:case_id>/plans")
@allow(WRITERS)
def create_plan(case_id: int):  # type: ignore[no-untyped-def]
    form = request.form
    return _do(case_id, "plan", lambda: plans.create_plan(
        db(), current_actor(), current_company_id(), case_id,
        agreed_on=parse_date(form.get("agreed_on"), field=_("Agreed on")), instalments=_instalments(form),
        grace_days=parse_int(form.get("grace_days"), _("Grace days")), note=form.get("note") or None, today=_today(),
    ), _("Payment plan recorded; the case is paused while instalments are kept."))


@bp.post("/<int:case_id>/plans/<int:plan_id>/cancel")
@allow(WRITERS)
def cancel_plan(case_id: int, plan_id: int):  # type: ignore[no-untyped-def]
    _child(PaymentPlan, plan_id, case_id)
    return _do(case_id, f"cancel-{plan_id}", lambda: plans.cancel_plan(
        db(), current_actor(), current_company_id(), plan_id, reason=request.form.get("reason", ""),
        today=_today()), _("Payment plan cancelled."))


# ---------------------------------------------------------------- helpers


def _do(case_id: int, form_name: str, act: Callable[[], Any], success: str):  # type: ignore[no-untyped-def]
    """Run one service call; on bad input re-show the case page with the error (nothing changed)."""
    return perform(act, success, refused=lambda: _render(case_id, open_form=form_name, status=400),
                   done=lambda: redirect(url_for("cases.show", case_id=case_id)))


def _render(case_id: int, *, open_form: str = "", status: int = 200):  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    try:
        detail = queries.case_detail(db(), company_id, case_id)
    except NotFound:
        abort(404)
    today = _today()
    return render_template(
        "web/cases/show.html", d=detail, c=detail.case, today=today, masked_id=mask_id(detail.owner.id_number),
        users=queries.company_users(db(), company_id), categories=list(DisputeCategory),
        outcomes=list(DisputeOutcome), open_form=open_form, form=request.form if status >= 400 else {},
        ever_disputed=bool(detail.disputes),
        default_hold_end=today + dt.timedelta(days=30),
    ), status


def _child(model: Any, object_id: int, case_id: int) -> None:
    """A hold, dispute or plan must belong to the case in the URL (which must be the company's)."""
    try:
        cases.get_case(db(), current_company_id(), case_id)
    except NotFound:
        abort(404)
    obj = db().get(model, object_id)
    if obj is None or obj.case_id != case_id:
        abort(404)


def _choice(value: str | None, enum: Any) -> Any:
    try:
        return enum(value or "")
    except ValueError:
        raise InputError(_("Choose a value from the list.")) from None


def _instalments(form: Any) -> list[tuple[dt.date, Decimal]]:
    """Rows of date + amount; completely empty rows are ignored, half-filled ones are an error."""
    rows = []
    for due, amount in zip(form.getlist("due_on"), form.getlist("amount")):
        if not due.strip() and not amount.strip():
            continue
        rows.append((parse_date(due, field=_("Instalment due on")), parse_amount(amount)))
    if not rows:
        raise InputError(_("Enter at least one instalment (date and amount)."))
    if len(rows) > MAX_INSTALMENTS:
        raise InputError(_("A plan has at most %(count)d instalments.", count=MAX_INSTALMENTS))
    return rows


def _credits(form: Any) -> list[tuple[int, Decimal]]:
    """Credit lines (charge + amount) for a fee adjustment; empty amounts are skipped."""
    credits = []
    for charge_id, amount in zip(form.getlist("credit_charge_id"), form.getlist("credit_amount")):
        if not amount.strip():
            continue
        if not charge_id.isdigit():
            raise InputError(_("Choose a charge for each credit."))
        credits.append((int(charge_id), parse_amount(amount)))
    return credits


def _today() -> dt.date:
    return company_today(g.membership.company)

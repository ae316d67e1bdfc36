"""Collection cases: the accountant's work queue (filters, sorting, saved filters, bulk actions, Excel
export) and a case's page with its forms.

Each form calls one service (holds, disputes, plans, cases.update_case); bad input re-shows the
case with the error and changes nothing (the request's transaction is rolled back on 4xx).
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from arrears.documents.xlsx import Column
from arrears.domain.identity import mask_id
from arrears.persistence.enums import DisputeCategory, DisputeOutcome
from arrears.persistence.models import Building, CaseHold, Community, Dispute, PaymentPlan
from arrears.services import audit, saved_filters
from arrears.services.documents import registry
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation import bulk, cases, disputes, holds, plans, queries
from arrears.services.timezone import company_today

from .access import STAFF, WRITERS, allow, current_actor, current_company_id, has_role
from .actions import perform
from .documents import LETTERS_JOB
from .render_jobs import start_render_job
from .downloads import xlsx_response
from .forms import InputError, parse_amount, parse_date, parse_int
from .messages import error_text
from .transaction import db

bp = Blueprint("cases", __name__, url_prefix="/cases")
PER_PAGE = 50
MAX_INSTALMENTS = 36
LIST_NAME = "cases"  # saved filters of this list
#: The work queue's parameters (the only ones a saved filter keeps), in the order links show them.
QUERY_KEYS = ("q", "community", "building", "amount_min", "amount_max", "age_min", "stage", "paused",
              "responsible", "sort", "dir")
PAUSED_CHOICES = ("1", "0", *queries.PAUSE_KINDS)  # any pause / not paused / held / disputed / on a plan
MAX_TEXT = 100
MAX_DAYS = 36_500
MAX_SELECTED = 1000  # ticked rows; more is "all matching the filter"
INLINE_PRINT = 5  # up to this many letters render in the request; more in a background job
DONE_KEY, DONE_KEEP = "bulk_done", 20  # confirmations already carried out (resubmits change nothing)
#: Approving prepared actions from the queue needs the same roles as approving them in a run's
#: batch review (batches.decide).
APPROVE_ROLES = WRITERS


@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    """The work queue: filtered, sorted and paged in SQL; invalid parameters are ignored with a message."""
    company_id = current_company_id()
    today = _today()
    query = _parse_query(request.args)
    for error in query.errors:
        flash(error, "error")
    result = queries.work_queue(db(), company_id, today, query.filters, page=query.page, per_page=PER_PAGE)
    communities = db().scalars(
        select(Community).where(Community.company_id == company_id).order_by(Community.code)).all()
    buildings = (queries.community_buildings(db(), company_id, query.filters.community_id)
                 if query.filters.community_id else [])
    return render_template(
        "web/cases/index.html", rows=result.rows, total=result.total, page=result.page, per_page=PER_PAGE,
        today=today, communities=communities, buildings=buildings, stages=query.stages, users=query.users,
        filters=query.filters, args=query.args, query_string=urlencode(query.args),
        sorts=queries.QUEUE_SORTS, saved=saved_filters.list_filters(db(), company_id, g.user.id, LIST_NAME),
        bulk_actions=bulk.ACTIONS, default_hold_end=today + dt.timedelta(days=30),
    )


@bp.get("/export.xlsx")
@allow(STAFF)
def export():  # type: ignore[no-untyped-def]
    """Every case the filter matches (not only one page), streamed into a write-only workbook."""
    query = _parse_query(request.args)
    if query.errors:  # export exactly what was asked or nothing
        for error in query.errors:
            flash(error, "error")
        return redirect(url_for("cases.index", **query.args))
    today = _today()
    rows = queries.export_rows(db(), current_company_id(), today, query.filters)
    audit.record(db(), current_actor(), "cases.export", "collection_case", None,
                 company_id=current_company_id(), query=urlencode(query.args))
    return xlsx_response(_("work-queue"), _("Work queue"), _export_columns(), (_export_cells(r, today) for r in rows),
                         today=today)


@bp.post("/filters")
@allow(STAFF)
def save_filter():  # type: ignore[no-untyped-def]
    """Keep the current query string under a name (only the list's own parameters are stored)."""
    form = request.form
    query = form.get("query", "")
    try:
        saved_filters.save_filter(db(), current_actor(), current_company_id(), g.user.id, LIST_NAME,
                                  name=form.get("name", ""), query=query, allowed=QUERY_KEYS)
    except ServiceError as exc:
        flash(error_text(exc), "error")
    else:
        flash(_("Filter saved."), "success")
    return redirect(url_for("cases.index") + ("?" + saved_filters.clean_query(query, QUERY_KEYS) if query else ""))


@bp.post("/filters/<int:filter_id>/delete")
@allow(STAFF)
def delete_filter(filter_id: int):  # type: ignore[no-untyped-def]
    try:
        saved_filters.delete_filter(db(), current_actor(), current_company_id(), g.user.id, filter_id)
    except NotFound:
        abort(404)
    flash(_("Filter deleted."), "success")
    return redirect(url_for("cases.index"))


@bp.post("/bulk")
@allow(WRITERS)
def bulk_action():  # type: ignore[no-untyped-def]
    """Bulk hold / assign / approve / print: the first POST shows exactly how many rows change and
    how many are skipped and why; the confirmed POST (confirm=1 with the plan's fingerprint) does it
    in this request's transaction. A confirmation already carried out is not carried out again."""
    form = request.form
    action = form.get("action", "")
    back = url_for("cases.index") + ("?" + form.get("query", "") if form.get("query") else "")
    if action not in bulk.ACTIONS:
        flash(_("Choose a bulk action."), "error")
        return redirect(back)
    if action == "approve" and not has_role(APPROVE_ROLES):
        abort(403)
    try:
        case_ids = _selected_cases(form)
        responsible = _responsible_choice(form) if action == "assign" else None
        plan = bulk.plan(db(), current_company_id(), action, case_ids, today=_today(), responsible_user_id=responsible)
    except InputError as exc:
        flash(str(exc), "error")
        return redirect(back)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(back)
    if form.get("confirm") != "1":
        return _bulk_confirm(plan, case_ids, responsible)
    token = form.get("token", "")
    if token and token in session.get(DONE_KEY, []):
        flash(_("This bulk action was already carried out; nothing was changed again."), "info")
        return redirect(back)
    try:
        ends_on = parse_date(form.get("ends_on"), field=_("Hold until")) if action == "hold" else None
        done = bulk.execute(db(), current_actor(), current_company_id(), action, case_ids,
                            fingerprint=form.get("fingerprint", ""), today=_today(), responsible_user_id=responsible,
                            reason=form.get("reason", ""), ends_on=ends_on)
    except (InputError, ServiceError) as exc:
        flash(str(exc) if isinstance(exc, InputError) else error_text(exc), "error")
        fresh = bulk.plan(db(), current_company_id(), action, case_ids, today=_today(), responsible_user_id=responsible)
        return _bulk_confirm(fresh, case_ids, responsible, status=400)
    session[DONE_KEY] = [*session.get(DONE_KEY, [])[-(DONE_KEEP - 1):], token]
    if action == "print":
        return _print(done, back)
    flash(_("%(count)d rows changed.", count=done.changes), "success")
    return redirect(back)


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
    from .owner_requests import case_panel  # the owners' links and requests (self-service)

    return render_template(
        "web/cases/show.html", d=detail, c=detail.case, today=today, masked_id=mask_id(detail.owner.id_number),
        owner_panel=case_panel(detail.case),
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


# ---------------------------------------------------------------- work queue helpers


@dataclass(frozen=True)
class _Query:
    filters: queries.QueueFilter
    args: dict[str, str]  # the valid parameters, for links, the pager, saved filters and the export
    errors: list[str]
    page: int
    stages: list[str]
    users: list[Any]


def _parse_query(args: Mapping[str, str]) -> _Query:
    """The queue's parameters, each checked; an invalid one is left out and explained (never a crash)."""
    company_id = current_company_id()
    errors: list[str] = []
    kept: dict[str, str] = {}
    values: dict[str, Any] = {}

    def take(key: str, parse: Callable[[str], Any]) -> None:
        raw = (args.get(key) or "").strip()
        if not raw:
            return
        try:
            values[key] = parse(raw)
            kept[key] = raw
        except InputError as exc:
            errors.append(str(exc))

    stages = queries.stage_order(db(), company_id)
    users = queries.company_users(db(), company_id)
    take("q", lambda raw: raw[:MAX_TEXT])
    take("community", lambda raw: _pick(raw, _community_ids(company_id), _("Community")))
    take("building", lambda raw: _pick(raw, _building_ids(company_id, values.get("community")), _("Building")))
    take("amount_min", lambda raw: _amount(raw, _("Arrears from")))
    take("amount_max", lambda raw: _amount(raw, _("Arrears up to")))
    take("age_min", lambda raw: _days(raw, _("Days overdue at least")))
    take("stage", lambda raw: _choose(raw, stages, _("Stage")))
    take("paused", lambda raw: _choose(raw, PAUSED_CHOICES, _("Hold state")))
    take("responsible", lambda raw: raw if raw == "none" else _pick(raw, {u.id for u in users},
                                                                   _("Responsible person")))
    take("sort", lambda raw: _choose(raw, queries.QUEUE_SORTS, _("Sort")))
    take("dir", lambda raw: _choose(raw, ("asc", "desc"), _("Sort order")))
    low, high = values.get("amount_min"), values.get("amount_max")
    if low is not None and high is not None and low > high:
        errors.append(_("Arrears from is above Arrears up to; the amount filter was ignored."))
        for key in ("amount_min", "amount_max"):
            values.pop(key), kept.pop(key)
    page = 1
    if (args.get("page") or "").strip():
        try:
            page = max(parse_int(args.get("page"), _("Page")), 1)
        except InputError as exc:
            errors.append(str(exc))
    paused = values.get("paused")
    responsible = values.get("responsible")
    filters = queries.QueueFilter(
        community_id=values.get("community"), building_id=values.get("building"), stage_code=values.get("stage"),
        responsible_user_id=0 if responsible == "none" else responsible,
        paused={"1": True, "0": False}.get(paused or ""), pause_kind=paused if paused in queries.PAUSE_KINDS else None,
        min_arrears=low if "amount_min" in values else None, max_arrears=high if "amount_max" in values else None,
        min_age_days=values.get("age_min"), text=values.get("q"), sort=values.get("sort", "next"),
        descending=values.get("dir") == "desc",
    )
    return _Query(filters, kept, errors, page, stages, users)


def _pick(raw: str, allowed: set[int], field: str) -> int:
    if not raw.isdigit() or int(raw) not in allowed:
        raise InputError(_("%(field)s: choose a value from the list; %(value)s was ignored.", field=field, value=raw))
    return int(raw)


def _choose(raw: str, allowed: Sequence[str], field: str) -> str:
    if raw not in allowed:
        raise InputError(_("%(field)s: choose a value from the list; %(value)s was ignored.", field=field, value=raw))
    return raw


def _amount(raw: str, field: str) -> Decimal:
    try:
        amount = parse_amount(raw)
    except InputError as exc:
        raise InputError(f"{field}: {exc}") from None
    if amount < 0:
        raise InputError(_("%(field)s: the amount cannot be negative.", field=field))
    return amount


def _days(raw: str, field: str) -> int:
    days = parse_int(raw, field)
    if not 0 <= days <= MAX_DAYS:
        raise InputError(_("%(field)s: enter a whole number of days from 0 to %(max)d.", field=field, max=MAX_DAYS))
    return days


def _community_ids(company_id: int) -> set[int]:
    return set(db().scalars(select(Community.id).where(Community.company_id == company_id)))


def _building_ids(company_id: int, community_id: int | None) -> set[int]:
    query = select(Building.id).join(Community, Community.id == Building.community_id).where(
        Community.company_id == company_id)
    if community_id:
        query = query.where(Building.community_id == community_id)
    return set(db().scalars(query))


def _export_columns() -> list[Column]:
    return [Column(_("Community"), 18), Column(_("Building"), 10), Column(_("Unit"), 12), Column(_("Owner(s)"), 24),
            Column(_("Arrears (CNY)"), 14, money=True), Column(_("Oldest unpaid due date"), 14),
            Column(_("Days overdue"), 10), Column(_("Stage"), 14), Column(_("Paused because"), 30),
            Column(_("Responsible person"), 16), Column(_("Next action"), 12)]


def _export_cells(row: queries.ExportRow, today: dt.date) -> list[Any]:
    paused = []
    if row.held:
        paused.append(_("on hold: %(reason)s", reason=row.hold_reason or ""))
    if row.disputed:
        paused.append(_("disputed"))
    if row.on_plan:
        paused.append(_("payment plan"))
    days = (today - row.oldest_due).days if row.oldest_due else None
    return [row.community, row.building, row.unit, "、".join(row.owners), row.arrears, row.oldest_due, days,
            row.stage_code or "", "; ".join(paused), row.responsible or "", row.next_action_on]


def _selected_cases(form: Any) -> list[int]:
    """The ticked rows of the page, or (scope=all) every case the carried filter matches."""
    if form.get("scope") == "all":
        query = _parse_query(MultiDict(parse_qsl(form.get("query", ""))))
        if query.errors:
            raise InputError(query.errors[0])
        return queries.matching_case_ids(db(), current_company_id(), _today(), query.filters)
    raw = form.getlist("case_id")
    if any(not value.isdigit() for value in raw):
        raise InputError(_("Select rows from the list."))
    if len(raw) > MAX_SELECTED:
        raise InputError(_("Select at most %(count)d rows, or all rows matching the filter.", count=MAX_SELECTED))
    return [int(value) for value in raw]


def _responsible_choice(form: Any) -> int | None:
    value = form.get("responsible_user_id", "")
    if value == "none":
        return None
    if not value.isdigit():
        raise InputError(_("Choose a responsible person from the list."))
    return int(value)


def _bulk_confirm(plan: bulk.BulkPlan, case_ids: list[int], responsible: int | None, *, status: int = 200):  # type: ignore[no-untyped-def]
    form = request.form
    company_id = current_company_id()
    return render_template(
        "web/cases/bulk_confirm.html", plan=plan, action=plan.action, scope=form.get("scope", ""),
        case_ids=case_ids if form.get("scope") != "all" else [], query=form.get("query", ""),
        responsible=responsible, users=queries.company_users(db(), company_id),
        reason=form.get("reason", ""), ends_on=form.get("ends_on", "") or (_today() + dt.timedelta(days=30)).isoformat(),
        token=secrets.token_urlsafe(16), inline_max=INLINE_PRINT,
    ), status


def _print(plan: bulk.BulkPlan, back: str):  # type: ignore[no-untyped-def]
    """A handful of letters render now (one PDF, or a ZIP); more go to a background job with progress."""
    company_id, actor = current_company_id(), current_actor()
    requests = bulk.letter_requests(db(), company_id, plan.action_ids)
    if len(requests) > INLINE_PRINT:
        job_id = start_render_job(company_id, LETTERS_JOB, actor, lambda _session: requests,
                                  zip_name=f"letters-cases-{_today().isoformat()}.zip", entity="collection_case",
                                  entity_id=None, cases=len(plan.case_ids))
        flash(_("Printing %(count)d letters; the ZIP is ready for download when the work is done.",
                count=len(requests)), "info")
        return redirect(url_for("jobs.show", job_id=job_id))
    try:
        rendered = [registry.render(db(), document) for document in requests]
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(back)
    if len(rendered) == 1:
        built, pdf = rendered[0]
        name, data, mimetype = built.filename, pdf, "application/pdf"
    else:
        name, mimetype = f"letters-cases-{_today().isoformat()}.zip", "application/zip"
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for n, (built, pdf) in enumerate(rendered, start=1):
                archive.writestr(f"{n:03d}-{built.filename}", pdf)
        data = out.getvalue()
    audit.record(db(), actor, "documents.downloaded", "collection_case", None, company_id=company_id,
                 filename=name, size=len(data), action_ids=plan.action_ids)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)


def _today() -> dt.date:
    return company_today(g.membership.company)

"""Public arrears notices (L16): list, generate as of a date, check, approve (managers), print the
approved PDF, record the take-down, correct; and the public check page ``/n/<hash>`` that the QR
code on a printed notice opens (whether that notice is current — nothing personal)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from arrears.persistence.models import Community, NoticeStatus, PublicNotice
from arrears.services.documents import notices
from arrears.services.errors import NotFound, ServiceError
from arrears.services.timezone import company_today

from .access import (
    MANAGERS,
    STAFF,
    WRITERS,
    allow,
    current_actor,
    current_company_id,
    has_role,
    public,
)
from .actions import perform
from .downloads import xlsx_response
from .forms import InputError, parse_date
from .labels import label
from .messages import error_text
from .transaction import db, runtime

bp = Blueprint("notices", __name__, url_prefix="/notices")
public_bp = Blueprint("notice_check", __name__)


@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    community_id = request.args.get("community", type=int)
    rows = notices.list_notices(db(), company_id, community_id=community_id)
    return render_template("web/notices/index.html", rows=rows, communities=_communities(),
                           names=_community_names(), community_id=community_id, today=_today(),
                           status_of=notices.public_status)


@bp.get("/export.xlsx")
@allow(STAFF)
def export():  # type: ignore[no-untyped-def]
    """Every notice the list's filter matches, as an Excel sheet."""
    rows = notices.notice_export(db(), current_company_id(), _today(), label,
                                 community_id=request.args.get("community", type=int))
    return xlsx_response("public-notices", _("Public arrears notices"), notices.NOTICE_EXPORT_COLUMNS, rows,
                         today=_today())


@bp.get("/new")
@allow(WRITERS)
def new():  # type: ignore[no-untyped-def]
    return _render_new()


@bp.post("/new")
@allow(WRITERS)
def generate():  # type: ignore[no-untyped-def]
    form = request.form
    try:
        community_id = int(form.get("community_id", ""))
        as_of = parse_date(form.get("as_of"), field=_("As of"))
        notice = notices.generate_notice(db(), current_actor(), current_company_id(), community_id,
                                         as_of=as_of, today=_today())
    except ValueError:
        flash(_("Choose a community from the list."), "error")
        return _render_new(status=400)
    except NotFound:
        abort(404)
    except InputError as exc:
        flash(str(exc), "error")
        return _render_new(status=400)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_new(status=400)
    flash(_("Draft notice generated. Check it; a manager approves it before it can be printed."), "success")
    return redirect(url_for("notices.show", notice_id=notice.id))


@bp.get("/<int:notice_id>")
@allow(STAFF)
def show(notice_id: int):  # type: ignore[no-untyped-def]
    return _render_show(notice_id)


@bp.post("/<int:notice_id>/approve")
@allow(MANAGERS)
def approve(notice_id: int):  # type: ignore[no-untyped-def]
    return _do(notice_id, lambda: notices.approve_notice(
        db(), current_actor(), current_company_id(), notice_id, today=_today(),
        public_base_url=runtime().settings.public_base_url,
    ), _("Notice approved: it can be printed and posted."))


@bp.get("/<int:notice_id>/pdf")
@allow(STAFF)
def pdf(notice_id: int):  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    notice = _notice(notice_id)
    if notice.approved_at is None:
        abort(403)  # a draft is never printed (L16: a manager approves before posting)
    try:
        filename, data = notices.notice_pdf(db(), company_id, notice.id)
    except NotFound:
        abort(404)
    except ServiceError:
        abort(403)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
    })


@bp.post("/check-payments")
@allow(WRITERS)
def check_payments():  # type: ignore[no-untyped-def]
    marked = notices.mark_takedowns(db(), current_company_id(), today=_today(), actor=current_actor())
    if marked:
        flash(_("%(count)d notices list a unit that has paid: take them down.", count=len(marked)), "error")
    else:
        flash(_("No posted notice lists a unit that has paid since."), "success")
    return redirect(url_for("notices.index"))


@bp.post("/<int:notice_id>/taken-down")
@allow(WRITERS)
def taken_down(notice_id: int):  # type: ignore[no-untyped-def]
    return _do(notice_id, lambda: notices.confirm_takedown(
        db(), current_actor(), current_company_id(), notice_id, today=_today(),
    ), _("Take-down recorded."))


@bp.post("/<int:notice_id>/correct")
@allow(WRITERS)
def correct(notice_id: int):  # type: ignore[no-untyped-def]
    form = request.form
    company_id = current_company_id()

    def act() -> Any:
        as_of = parse_date(form.get("as_of"), field=_("As of")) if form.get("as_of") else None
        return notices.generate_corrected_notice(db(), current_actor(), company_id, notice_id, today=_today(),
                                                 as_of=as_of)

    _notice(notice_id)
    try:
        corrected = act()
    except NotFound:
        abort(404)
    except InputError as exc:
        flash(str(exc), "error")
        return _render_show(notice_id, status=400)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_show(notice_id, status=400)
    flash(_("Corrected draft generated; the old notice is superseded. A manager approves the correction."),
          "success")
    return redirect(url_for("notices.show", notice_id=corrected.id))


@bp.post("/<int:notice_id>/withdraw")
@allow(MANAGERS)
def withdraw(notice_id: int):  # type: ignore[no-untyped-def]
    return _do(notice_id, lambda: notices.withdraw_notice(
        db(), current_actor(), current_company_id(), notice_id, reason=request.form.get("reason", ""),
        today=_today(),
    ), _("Notice withdrawn."))


# ---------------------------------------------------------------- the public check page


@public_bp.get("/n/<string:content_hash>")
@public
def check(content_hash: str):  # type: ignore[no-untyped-def]
    """Whether the notice with this hash is current: community, as-of date and status only."""
    today = dt.datetime.now(ZoneInfo(runtime().settings.timezone)).date()
    found = notices.verify_status(db(), content_hash, today=today)
    if found is None:
        abort(404)
    response = Response(render_template("web/notices/check.html", found=found))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- helpers


def _do(notice_id: int, act: Callable[[], Any], success: str):  # type: ignore[no-untyped-def]
    _notice(notice_id)
    return perform(act, success, refused=lambda: _render_show(notice_id, status=400),
                   done=lambda: redirect(url_for("notices.show", notice_id=notice_id)))


def _notice(notice_id: int) -> PublicNotice:
    try:
        return notices.get_notice(db(), current_company_id(), notice_id)
    except NotFound:
        abort(404)


def _render_show(notice_id: int, *, status: int = 200):  # type: ignore[no-untyped-def]
    notice = _notice(notice_id)
    today = _today()
    community = db().get(Community, notice.community_id)
    related = {n.id: n for n in db().scalars(select(PublicNotice).where(
        PublicNotice.id.in_([i for i in (notice.replaces_id, notice.superseded_by_id) if i])))}
    return render_template(
        "web/notices/show.html", n=notice, community=community, today=today,
        public_status=notices.public_status(notice, today), related=related, draft=notice.status == NoticeStatus.DRAFT,
        can_approve=has_role(MANAGERS), can_write=has_role(WRITERS),
        verify_url=notices.verification_url(runtime().settings.public_base_url, notice.content_hash),
        form=request.form if status >= 400 else {},
    ), status


def _render_new(*, status: int = 200):  # type: ignore[no-untyped-def]
    form = request.form if status >= 400 else {}
    return render_template("web/notices/new.html", communities=_communities(), form=form,
                           default_as_of=_today()), status


def _communities() -> list[Community]:
    return list(db().scalars(select(Community).where(Community.company_id == current_company_id())
                             .order_by(Community.code)))


def _community_names() -> dict[int, str]:
    return {c.id: f"{c.code} · {c.name}" for c in _communities()}


def _today() -> dt.date:
    return company_today(g.membership.company)

"""The owners' self-service pages, reached without an account through a signed link (public).

``GET /o/<token>`` shows only the check form until the owner has typed the last four digits of
their phone or ID number; a success keeps the link's id in the session for 30 minutes. Every
request re-reads the link, so revoking or expiry takes effect at once. A token that is bad in
any way answers the same 404. Responses are never cached and send no referrer (the token is in
the URL). A failed check is committed before the refusal is shown: the counter is what stops
guessing, so it must survive the error status.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from arrears.persistence.base import utcnow
from arrears.persistence.enums import DisputeCategory
from arrears.persistence.models import Company, Owner
from arrears.persistence.workspace import OwnerLink, OwnerRequestKind, OwnerRequestStatus
from arrears.services.errors import ServiceError
from arrears.services.selfservice import links, requests
from arrears.services.selfservice.statement import owner_view
from arrears.services.timezone import company_today

from .access import public
from .forms import InputError, parse_int
from .messages import error_text
from .transaction import db, runtime

bp = Blueprint("selfservice", __name__, url_prefix="/o")
VERIFIED_FOR = dt.timedelta(minutes=30)
_SESSION_KEY = "owner_link"


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/<token>")
@public
def open_link(token: str):  # type: ignore[no-untyped-def]
    link = _link(token)
    if not _verified(link):
        return _check_form(token)
    _use_owner_language(link)
    return _page(token, link)


@bp.post("/<token>/check")
@public
def check(token: str):  # type: ignore[no-untyped-def]
    link = _link(token, lock=True)
    try:
        links.verify(db(), link, request.form.get("digits", ""), now=utcnow(), remote_addr=request.remote_addr)
    except links.LinkLocked as exc:
        db().commit()
        return _check_form(token, error=error_text(exc), status=429)
    except links.CheckFailed as exc:
        db().commit()
        return _check_form(token, error=error_text(exc), status=400)
    session.pop(_SESSION_KEY, None)
    session[_SESSION_KEY] = {"id": link.id, "until": (utcnow() + VERIFIED_FOR).isoformat()}
    return redirect(url_for(".open_link", token=token))


@bp.post("/<token>/dispute")
@public
def dispute(token: str):  # type: ignore[no-untyped-def]
    link = _verified_link(token)
    upload = request.files.get("photo")
    photo = None
    if upload is not None and upload.filename:
        photo = requests.Photo(upload.filename, upload.stream.read(requests.MAX_PHOTO + 1))
    return _act(token, link, lambda: requests.submit_dispute(
        db(), link, category=request.form.get("category", ""), text=request.form.get("text", ""), photo=photo,
        now=utcnow(), remote_addr=request.remote_addr), _("Thank you. Your dispute was sent; we will reply."))


@bp.post("/<token>/plan")
@public
def plan(token: str):  # type: ignore[no-untyped-def]
    link = _verified_link(token)
    return _act(token, link, lambda: requests.submit_plan(
        db(), link, instalments=parse_int(request.form.get("instalments"), _("Instalments")), now=utcnow(),
        remote_addr=request.remote_addr), _("Thank you. Your proposal was sent; we will reply with a schedule."))


@bp.post("/<token>/requests/<int:request_id>/confirm")
@public
def confirm(token: str, request_id: int):  # type: ignore[no-untyped-def]
    link = _verified_link(token)
    today = _today(link)
    return _act(token, link, lambda: requests.confirm_plan(db(), link, request_id, today=today, now=utcnow()),
                _("Your payment plan is agreed. Please pay each instalment on time."))


@bp.post("/<token>/requests/<int:request_id>/withdraw")
@public
def withdraw(token: str, request_id: int):  # type: ignore[no-untyped-def]
    link = _verified_link(token)
    return _act(token, link, lambda: requests.withdraw(db(), link, request_id, now=utcnow()),
                _("Your request was withdrawn."))


@bp.post("/<token>/leave")
@public
def leave(token: str):  # type: ignore[no-untyped-def]
    session.pop(_SESSION_KEY, None)
    return redirect(url_for(".open_link", token=token))


# --------------------------------------------------------------------------- helpers


def _link(token: str, *, lock: bool = False) -> OwnerLink:
    """The usable link, or 404 (every reason alike); 429 while this address is throttled."""
    now = utcnow()
    if links.address_throttled(db(), request.remote_addr, now=now):
        abort(429)
    try:
        return links.resolve(db(), links.signer_from(runtime().settings), token, now=now, lock=lock)
    except links.LinkRefused:
        abort(404)


def _verified(link: OwnerLink) -> bool:
    state = session.get(_SESSION_KEY)
    if not isinstance(state, dict) or state.get("id") != link.id:
        return False
    try:
        until = dt.datetime.fromisoformat(str(state.get("until")))
    except ValueError:
        return False
    return until > utcnow()


def _verified_link(token: str) -> OwnerLink:
    link = _link(token)
    if not _verified(link):
        abort(403)
    _use_owner_language(link)
    return link


def _use_owner_language(link: OwnerLink) -> None:
    """The owner's language unless they chose one with the switch (session "lang" wins)."""
    owner = db().get(Owner, link.owner_id)
    g.user_locale = owner.language if owner is not None else None


def _today(link: OwnerLink) -> dt.date:
    company = db().get(Company, link.company_id)
    assert company is not None
    return company_today(company)


def _check_form(token: str, *, error: str = "", status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("web/selfservice/check.html", token=token, error=error), status


def _page(token: str, link: OwnerLink, *, status: int = 200, form: Any = None):  # type: ignore[no-untyped-def]
    today = _today(link)
    items = requests.requests_of_link(db(), link)
    return render_template(
        "web/selfservice/page.html", token=token, view=owner_view(db(), link, today), today=today,
        items=items, categories=list(DisputeCategory), form=form or {},
        plan_open=any(r.kind == OwnerRequestKind.PLAN and r.status in requests.OPEN for r in items),
        offered=OwnerRequestStatus.OFFERED, submitted=OwnerRequestStatus.SUBMITTED,
        schedule=requests.offered_schedule, min_instalments=requests.MIN_INSTALMENTS,
        max_instalments=requests.MAX_INSTALMENTS, max_text=requests.MAX_TEXT,
    ), status


def _act(token: str, link: OwnerLink, act: Any, success: str):  # type: ignore[no-untyped-def]
    """One service call: success → flash and back to the page; refusal → the page with the reason (400)."""
    try:
        act()
    except InputError as exc:
        flash(str(exc), "error")
        return _page(token, link, status=400, form=request.form)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _page(token, link, status=400, form=request.form)
    flash(success, "success")
    return redirect(url_for(".open_link", token=token))

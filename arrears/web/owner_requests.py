"""Owner requests made through self-service links, triaged by staff before anything pauses.

Staff (STAFF) read; writers (WRITERS) accept a dispute (it becomes a case dispute), reject a
request with a note the owner sees, offer a schedule for a plan proposal, and issue or revoke
the owners' links (from the case page's panel).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from arrears.domain.money import split_pro_rata
from arrears.persistence.base import utcnow
from arrears.persistence.escalation import CollectionCase
from arrears.persistence.models import Owner, OwnershipParty, Unit
from arrears.persistence.workspace import OwnerLink, OwnerRequest, OwnerRequestStatus
from arrears.services.errors import NotFound, ServiceError
from arrears.services.selfservice import links, requests
from arrears.services.selfservice.statement import owner_arrears
from arrears.services.tenancy import get_scoped
from arrears.services.timezone import company_today

from .access import STAFF, WRITERS, allow, current_actor, current_company_id
from .actions import perform
from .forms import InputError, parse_amount, parse_date, parse_int
from .transaction import db, runtime

bp = Blueprint("owner_requests", __name__, url_prefix="/requests")

@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    wanted = request.args.get("status", "")
    status = OwnerRequestStatus(wanted) if wanted in {s.value for s in OwnerRequestStatus} else None
    rows = requests.list_requests(db(), current_company_id(), status=status)
    return render_template("web/owner_requests/index.html", rows=rows, status=wanted,
                           statuses=list(OwnerRequestStatus), owners=_names(rows), units=_units(rows))


@bp.get("/<int:request_id>")
@allow(STAFF)
def show(request_id: int):  # type: ignore[no-untyped-def]
    return _render(request_id)


@bp.post("/<int:request_id>/accept")
@allow(WRITERS)
def accept(request_id: int):  # type: ignore[no-untyped-def]
    _request(request_id)
    return perform(lambda: requests.accept_dispute(db(), current_actor(), current_company_id(), request_id,
                                                   today=_today(), now=utcnow(),
                                                   note=request.form.get("note", "")),
                   _("The dispute was accepted; escalation of the case is now limited."),
                   refused=lambda: _render(request_id, status=400), done=lambda: _back(request_id))


@bp.post("/<int:request_id>/reject")
@allow(WRITERS)
def reject(request_id: int):  # type: ignore[no-untyped-def]
    _request(request_id)
    return perform(lambda: requests.reject_request(db(), current_actor(), current_company_id(), request_id,
                                                   note=request.form.get("note", ""), now=utcnow()),
                   _("The request was rejected."), refused=lambda: _render(request_id, status=400),
                   done=lambda: _back(request_id))


@bp.post("/<int:request_id>/offer")
@allow(WRITERS)
def offer(request_id: int):  # type: ignore[no-untyped-def]
    _request(request_id)
    return perform(lambda: requests.offer_plan(db(), current_actor(), current_company_id(), request_id,
                                               instalments=_instalments(request.form), today=_today(),
                                               now=utcnow(), note=request.form.get("note", "")),
                   _("The schedule was offered; the owner must confirm it through their link."),
                   refused=lambda: _render(request_id, status=400), done=lambda: _back(request_id))


@bp.get("/<int:request_id>/photo")
@allow(STAFF)
def photo(request_id: int):  # type: ignore[no-untyped-def]
    try:
        stored = requests.photo_of(db(), current_company_id(), request_id)
    except ServiceError:
        abort(404)
    return send_file(io.BytesIO(stored.data), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.filename, max_age=0)


@bp.post("/links")
@allow(WRITERS)
def issue_link():  # type: ignore[no-untyped-def]
    case = _case(request.form.get("case_id", type=int))
    return perform(lambda: links.issue_link(db(), current_actor(), current_company_id(),
                                            parse_int(request.form.get("owner_id"), _("Owner")), case.unit_id,
                                            now=utcnow(), days=parse_int(request.form.get("days") or
                                                                         str(links.DEFAULT_DAYS), _("Days"))),
                   _("A new link was issued."), refused=lambda: _case_page(case.id),
                   done=lambda: _case_page(case.id))


@bp.post("/links/<int:link_id>/revoke")
@allow(WRITERS)
def revoke_link(link_id: int):  # type: ignore[no-untyped-def]
    case = _case(request.form.get("case_id", type=int))
    try:
        link = get_scoped(db(), OwnerLink, link_id, current_company_id())
    except NotFound:
        abort(404)
    if link.unit_id != case.unit_id:
        abort(404)
    return perform(lambda: links.revoke_link(db(), current_actor(), current_company_id(), link_id, now=utcnow()),
                   _("The link was revoked; it no longer opens anything."), refused=lambda: _case_page(case.id),
                   done=lambda: _case_page(case.id))


# --------------------------------------------------------------------------- the case page's panel


def case_panel(case: CollectionCase) -> dict[str, Any]:
    """What templates/web/owner_requests/_case_panel.html shows: the case owners' links for the
    unit (with URLs for writers) and their requests."""
    company_id = current_company_id()
    owner_ids = list(db().scalars(select(OwnershipParty.owner_id).where(
        OwnershipParty.ownership_id == case.ownership_id).order_by(OwnershipParty.position)))
    owners = [o for o in (db().get(Owner, i) for i in owner_ids) if o is not None]
    now, signer = utcnow(), links.signer_from(runtime().settings)
    rows = []
    for owner in owners:
        for link in links.owner_links(db(), company_id, owner.id, case.unit_id):
            state = links.link_state(link, now)
            rows.append({"link": link, "owner": owner, "state": state,
                         "url": signer.url(link) if state in ("active", "locked") else ""})
    return {"owners": owners, "links": rows, "requests": requests.requests_for_case(db(), company_id, case),
            "default_days": links.DEFAULT_DAYS}


# --------------------------------------------------------------------------- helpers


def _render(request_id: int, *, status: int = 200):  # type: ignore[no-untyped-def]
    item = _request(request_id)
    owner = db().get(Owner, item.owner_id)
    unit = db().get(Unit, item.unit_id)
    today = _today()
    arrears, proposal = Decimal("0.00"), []
    case = db().get(CollectionCase, item.case_id) if item.case_id else None
    if case is not None:
        arrears = owner_arrears(db(), current_company_id(), case, today)
        proposal = _proposal(arrears, item.instalments or 2, today)
    return render_template("web/owner_requests/show.html", r=item, owner=owner, unit=unit, case=case,
                           arrears=arrears, proposal=proposal, schedule=requests.offered_schedule(item),
                           form=request.form if status >= 400 else {}, today=today), status


def _proposal(arrears: Decimal, count: int, today: dt.date) -> list[tuple[dt.date, Decimal]]:
    """Equal monthly instalments (30 days apart) that add up to the arrears exactly."""
    if arrears <= 0:
        return []
    parts = split_pro_rata(arrears, [Decimal(1)] * count)
    return [(today + dt.timedelta(days=30 * (n + 1)), part) for n, part in enumerate(parts)]


def _instalments(form: Any) -> list[tuple[dt.date, Decimal]]:
    rows = []
    for due, amount in zip(form.getlist("due_on"), form.getlist("amount")):
        if not due.strip() and not amount.strip():
            continue
        rows.append((parse_date(due, field=_("Instalment due on")), parse_amount(amount)))
    if not rows:
        raise InputError(_("Enter at least one instalment."))
    return rows


def _request(request_id: int) -> OwnerRequest:
    try:
        return requests.get_request(db(), current_company_id(), request_id)
    except NotFound:
        abort(404)


def _case(case_id: int | None) -> CollectionCase:
    if case_id is None:
        abort(404)
    try:
        return get_scoped(db(), CollectionCase, case_id, current_company_id())
    except NotFound:
        abort(404)


def _case_page(case_id: int):  # type: ignore[no-untyped-def]
    return redirect(url_for("cases.show", case_id=case_id) + "#owner-links")


def _back(request_id: int):  # type: ignore[no-untyped-def]
    return redirect(url_for(".show", request_id=request_id))


def _names(rows: list[OwnerRequest]) -> dict[int, str]:
    ids = {r.owner_id for r in rows}
    return {o.id: o.name for o in (db().get(Owner, i) for i in ids) if o is not None}


def _units(rows: list[OwnerRequest]) -> dict[int, str]:
    ids = {r.unit_id for r in rows}
    return {u.id: f"{u.community.name} {u.code}" for u in (db().get(Unit, i) for i in ids) if u is not None}


def _today() -> dt.date:
    return company_today(g.membership.company)

"""Legal cases (issue 5) from the web: open a legal case from a legal-ready collection case (what
stands against each charge, the proposed route with its reasons and court fees), the managers'
list with a summary and bulk filing, a legal case's page (timeline, deadlines, one form per
lifecycle step, documents), and the lawyers' workspace.

Access:
- managers (and admins) see and act on every legal case of the current company; auditors read them;
- a lawyer sees ONLY the legal cases assigned to them, across the companies that instruct them
  (their LAWYER memberships): opening such a case makes its company the current one; any other
  case answers 404 (scope by assignment, not by the current company);
- accountants have no legal pages.
Every download (court documents, packets, drafted applications) is audited as ``legal.download``.
A filing packet renders in a background job (worker processes), never inside the request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.enums import LegalRoute, LegalState, Role
from arrears.persistence.legal import LegalCase, LegalEvent
from arrears.persistence.models import (
    BackgroundJob,
    CollectionCase,
    Community,
    Membership,
    Owner,
    StoredFile,
    Unit,
    User,
)
from arrears.services import audit
from arrears.services.documents import registry
from arrears.services.errors import NotFound, ServiceError
from arrears.services.legal import cases as legal_cases
from arrears.services.legal import claims as legal_claims
from arrears.services.legal import deadlines as legal_deadlines
from arrears.services.legal import events as legal_events
from arrears.services.legal import lawyers as legal_lawyers
from arrears.services.legal import routing as legal_routing
from arrears.services.legal import summary as legal_summary
from arrears.services.tenancy import get_scoped
from arrears.services.timezone import company_today

from .access import (
    LAWYERS,
    MANAGERS,
    act_for,
    allow,
    companies_with_role,
    current_actor,
    current_company_id,
    has_role,
    membership_in,
)
from .actions import perform
from .downloads import xlsx_response
from .forms import InputError, parse_amount, parse_date
from .labels import label
from .messages import error_text
from .render_jobs import start_render_job
from .transaction import db

bp = Blueprint("legal", __name__, url_prefix="/legal")

READERS = MANAGERS | frozenset({Role.AUDITOR})  # the company's legal cases (auditors read only)
CASE_ROLES = READERS | LAWYERS  # a lawyer: only the cases assigned to them
PDF = "application/pdf"
PACKET_JOB = "legal_packet"  # kind "legal_packet:<legal case id>"; not a documents.job_file kind
BULK_JOB = "legal_packets"  # kind "legal_packets:<user id>": many packets in one ZIP
MAX_UPLOAD = 20 * 1024 * 1024
PACKET_ROUTES = {LegalRoute.PAYMENT_ORDER: "payment_order", LegalRoute.SMALL_CLAIMS: "small_claims",
                 LegalRoute.SIMPLIFIED: "lawsuit", LegalRoute.ORDINARY: "lawsuit",
                 LegalRoute.ARBITRATION: "arbitration"}
CLOSED = frozenset({LegalState.PAID, LegalState.DELETED, LegalState.WITHDRAWN, LegalState.DISMISSED})
# drafted documents of a legal case (subject = the legal case), rendered inline
DOCUMENTS = {
    "enforcement_application": _l("Enforcement application"),
    "dishonest_list_application": _l("Dishonest-debtor-list application"),
    "deletion_request": _l("Deletion request"),
    "mediation_settlement": _l("Mediation settlement summary"),
}


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"LEGAL_READERS": READERS, "LAWYERS": LAWYERS, "is_lawyer_anywhere": _is_lawyer_anywhere,
            "legal_case_of": _legal_case_of}


def _legal_case_of(collection_case_id: int) -> LegalCase | None:
    """The open legal case of a collection case (for its page), if any."""
    return db().scalar(select(LegalCase).where(LegalCase.collection_case_id == collection_case_id,
                                               LegalCase.closed_on.is_(None)))


def _is_lawyer_anywhere() -> bool:
    return getattr(g, "user", None) is not None and bool(companies_with_role(LAWYERS))


# ---------------------------------------------------------------- lists


@bp.get("/")
@allow(READERS)
def index():  # type: ignore[no-untyped-def]
    """All legal cases of the company (filter by state) and the summary."""
    company_id = current_company_id()
    state = _state_filter()
    cases = legal_summary.company_cases(db(), company_id, state)
    summary = legal_summary.summary(db(), company_id)
    return render_template("web/legal/index.html", cases=cases, rows=_rows(cases), summary=summary,
                           states=list(LegalState), state=state.value if state else "", today=_today(),
                           mine=False)


@bp.get("/export.xlsx")
@allow(READERS)
def export():  # type: ignore[no-untyped-def]
    """The company's legal cases the list's filter matches, as an Excel sheet."""
    company_id = current_company_id()
    cases = legal_summary.company_cases(db(), company_id, _state_filter())
    rows = legal_summary.legal_case_export(db(), cases, {company_id: g.membership.company.name}, label)
    return xlsx_response("legal-cases", _("Legal cases"), legal_summary.LEGAL_EXPORT_COLUMNS, rows, today=_today())


@bp.get("/mine/export.xlsx")
@allow(LAWYERS, any_membership=True)
def mine_export():  # type: ignore[no-untyped-def]
    """The lawyer's assigned cases (every instructing company), as an Excel sheet."""
    cases = _assigned_cases()
    rows = legal_summary.legal_case_export(db(), cases, _company_names(cases), label)
    return xlsx_response("my-legal-cases", _("My legal cases"), legal_summary.LEGAL_EXPORT_COLUMNS, rows,
                         today=_today())


def _state_filter() -> LegalState | None:
    """The list's state filter; an unknown value means no filter."""
    try:
        return LegalState(request.args.get("state", "")) if request.args.get("state") else None
    except ValueError:
        return None


@bp.get("/mine")
@allow(LAWYERS, any_membership=True)
def mine():  # type: ignore[no-untyped-def]
    """A lawyer's workspace: the cases assigned to them in every company that instructs them."""
    cases = _assigned_cases()
    today = _today()
    deadlines = legal_deadlines.deadlines(db(), lawyer_user_id=g.user.id, today=today)
    bulk_jobs = list(db().scalars(select(BackgroundJob).where(BackgroundJob.kind == f"{BULK_JOB}:{g.user.id}")
                                  .order_by(BackgroundJob.id.desc()).limit(10)))
    return render_template("web/legal/mine.html", cases=cases, rows=_rows(cases), deadlines=deadlines,
                           today=today, bulk_jobs=bulk_jobs, companies=_company_names(cases))


# ---------------------------------------------------------------- opening legal cases


@bp.get("/open/<int:case_id>")
@allow(MANAGERS)
def open_form(case_id: int):  # type: ignore[no-untyped-def]
    return _render_open(case_id)


@bp.post("/open/<int:case_id>")
@allow(MANAGERS)
def open_case(case_id: int):  # type: ignore[no-untyped-def]
    form = request.form
    try:
        lawyer_id = _lawyer_choice(form.get("lawyer_user_id", ""), current_company_id(), required=False)
        legal_case = legal_cases.open_legal_case(
            db(), current_actor(), current_company_id(), case_id, today=_today(), lawyer_user_id=lawyer_id,
            include_time_barred=form.get("include_time_barred") == "1",
            claim_late_fees=form.get("claim_late_fees") == "1",
            until_actual_payment=form.get("until_actual_payment") == "1",
            late_fee_basis=form.get("late_fee_basis") or "contract",
        )
    except NotFound:
        abort(404)
    except InputError as exc:
        flash(str(exc), "error")
        return _render_open(case_id, status=400)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_open(case_id, status=400)
    flash(_("Legal case opened."), "success")
    return redirect(url_for("legal.show", legal_case_id=legal_case.id))


@bp.get("/bulk")
@allow(MANAGERS)
def bulk():  # type: ignore[no-untyped-def]
    return _render_bulk()


@bp.post("/bulk")
@allow(MANAGERS)
def bulk_open():  # type: ignore[no-untyped-def]
    """The first POST says how many legal cases will be opened; the confirmed one (confirm=1) opens them."""
    company_id = current_company_id()
    form = request.form
    try:
        ids = [int(v) for v in form.getlist("case_id") if v]
    except ValueError:
        ids = []
    community_id = form.get("community", type=int)
    if not ids:
        flash(_("Select at least one collection case."), "error")
        return _render_bulk(community_id, status=400)
    try:
        lawyer_id = _lawyer_choice(form.get("lawyer_user_id", ""), company_id, required=True)
    except InputError as exc:
        flash(str(exc), "error")
        return _render_bulk(community_id, status=400)
    cases = [c for c in _ready_cases(company_id, community_id) if c.id in set(ids)]
    if len(cases) != len(set(ids)):
        abort(404)  # another company's case, or one that is not legal-ready
    if form.get("confirm") != "1":
        lawyer = db().get(User, lawyer_id)
        return render_template("web/legal/bulk_confirm.html", cases=cases, lawyer=lawyer,
                               community_id=community_id, units=_units(cases))
    try:
        result = legal_cases.open_many(db(), current_actor(), company_id, [c.id for c in cases], today=_today(),
                                        lawyer_user_id=lawyer_id)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_bulk(community_id, status=400)
    flash(_("%(count)d legal cases opened.", count=len(result.created)), "success")
    for case_id, why in result.skipped:
        flash(_("Collection case %(id)s was not opened: %(why)s", id=case_id, why=why), "error")
    return redirect(url_for("legal.index"))


# ---------------------------------------------------------------- a legal case


@bp.get("/<int:legal_case_id>")
@allow(CASE_ROLES, any_membership=True)
def show(legal_case_id: int):  # type: ignore[no-untyped-def]
    return _render_case(_case(legal_case_id))


@bp.post("/<int:legal_case_id>/lawyer")
@allow(MANAGERS)
def assign(legal_case_id: int):  # type: ignore[no-untyped-def]
    case = _case(legal_case_id, write=True)
    return _do(case, "lawyer", lambda: legal_cases.assign_lawyer(
        db(), current_actor(), case.company_id, case.id,
        lawyer_user_id=_lawyer_choice(request.form.get("lawyer_user_id", ""), case.company_id, required=True),
        today=_today()), _("Lawyer assigned."))


@bp.post("/<int:legal_case_id>/steps/<step>")
@allow(CASE_ROLES, any_membership=True)
def step(legal_case_id: int, step: str):  # type: ignore[no-untyped-def]
    """One lifecycle step (route, filing, mediation, order, objection, title, enforcement, …)."""
    case = _case(legal_case_id, write=True)
    if step not in STEPS:
        abort(404)
    service, parse, message = STEPS[step]

    def act() -> Any:
        kwargs = parse(request.form, case)
        return service(db(), current_actor(), case.company_id, case.id, today=_today(), **kwargs)

    return _do(case, step, act, str(message))


@bp.get("/<int:legal_case_id>/events/<int:event_id>/file")
@allow(CASE_ROLES, any_membership=True)
def event_file(legal_case_id: int, event_id: int):  # type: ignore[no-untyped-def]
    """An uploaded court document (filing receipt, judgement, order) of the case's timeline."""
    case = _case(legal_case_id)
    if has_role(frozenset({Role.AUDITOR})):
        abort(403)
    event = db().get(LegalEvent, event_id)
    if event is None or event.legal_case_id != case.id or event.file_id is None:
        abort(404)
    stored = db().get(StoredFile, event.file_id)
    if stored is None or stored.company_id != case.company_id:
        abort(404)
    return _send(case, stored.data, stored.filename, stored.content_type, what="court_document",
                 event_id=event.id, file_id=stored.id)


@bp.get("/<int:legal_case_id>/documents/<kind>")
@allow(MANAGERS | LAWYERS, any_membership=True)
def document(legal_case_id: int, kind: str):  # type: ignore[no-untyped-def]
    """A drafted application (enforcement, dishonest list, deletion) or the mediation settlement, as PDF."""
    case = _case(legal_case_id, write=True)
    if kind not in DOCUMENTS:
        abort(404)
    try:
        built, pdf = registry.render(db(), registry.DocumentRequest(kind, case.company_id, case.id))
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("legal.show", legal_case_id=case.id))
    return _send(case, pdf, built.filename, PDF, what=kind)


@bp.get("/<int:legal_case_id>/editable.docx")
@allow(MANAGERS | LAWYERS, any_membership=True)
def editable(legal_case_id: int):  # type: ignore[no-untyped-def]
    """The main filing document of the case's route (complaint, payment-order or arbitration
    application) as an editable .docx, from the same data as the packet's PDF (issue 5 §9)."""
    from arrears.documents import DOCX
    from arrears.services.documents.packet import packet_kinds

    case = _case(legal_case_id, write=True)
    if (case.route or case.proposed_route) is None:
        flash(_("Confirm the route before preparing the packet."), "error")
        return redirect(url_for("legal.show", legal_case_id=case.id))
    options = _packet_options(case)
    strings = {k: (v.isoformat() if isinstance(v, dt.date) else ("true" if v is True else "false" if v is False
                                                                   else str(v))) for k, v in options.items()}
    kind = packet_kinds(options["route"])[0]
    try:
        built, data = registry.render_docx(
            db(), registry.DocumentRequest(kind, case.company_id, case.collection_case_id, strings))
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("legal.show", legal_case_id=case.id))
    return _send(case, data, built.filename, DOCX, what=f"{kind}_docx")


@bp.post("/<int:legal_case_id>/packet")
@allow(MANAGERS | LAWYERS, any_membership=True)
def packet(legal_case_id: int):  # type: ignore[no-untyped-def]
    """Render the filing packet (every document as PDF, the packet as one PDF, a ZIP) in the background."""
    from arrears.services.documents.packet import build_packet

    case = _case(legal_case_id, write=True)
    route = case.route or case.proposed_route
    if route is None:
        flash(_("Confirm the route before preparing the packet."), "error")
        return redirect(url_for("legal.show", legal_case_id=case.id))
    company_id, case_id, actor = case.company_id, case.id, current_actor()
    options = _packet_options(case)
    try:
        build_packet(db(), company_id, case.collection_case_id, **options)  # refuse before a job
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("legal.show", legal_case_id=case.id))
    stem = f"legal-{case_id}-{options['route']}-{options['as_of'].isoformat()}"
    collection_case_id = case.collection_case_id
    start_render_job(company_id, f"{PACKET_JOB}:{case_id}", actor,
                     lambda session: build_packet(session, company_id, collection_case_id, **options),
                     zip_name=f"{stem}.zip", joined_name=f"{stem}-packet.pdf", entity="legal_case",
                     entity_id=case_id, route=options["route"])
    flash(_("The packet is being prepared; it can be downloaded here when the work is done."), "info")
    return redirect(url_for("legal.show", legal_case_id=case.id, _anchor="packets"))


@bp.post("/mine/packets")
@allow(LAWYERS, any_membership=True)
def bulk_packets():  # type: ignore[no-untyped-def]
    """All packets of the selected assigned cases (one company) as one ZIP with a CSV index."""
    from arrears.services.documents.packet import build_packet

    try:
        ids = {int(v) for v in request.form.getlist("legal_case_id") if v}
    except ValueError:
        ids = set()
    cases = [c for c in _assigned_cases() if c.id in ids and (c.route or c.proposed_route)]
    if not cases:
        flash(_("Select at least one case with a route."), "error")
        return redirect(url_for("legal.mine"))
    if len({c.company_id for c in cases}) > 1:
        flash(_("Select cases of one company at a time."), "error")
        return redirect(url_for("legal.mine"))
    company_id, actor = cases[0].company_id, current_actor()
    membership = membership_in(company_id)
    assert membership is not None
    act_for(membership)
    zip_name = f"packets-{len(cases)}-{_today().isoformat()}.zip"
    plan = [(c.collection_case_id, _packet_options(c)) for c in cases]
    try:
        for collection_case_id, options in plan:
            build_packet(db(), company_id, collection_case_id, **options)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("legal.mine"))

    def list_requests(session: Session) -> list[Any]:
        return [r for collection_case_id, options in plan
                for r in build_packet(session, company_id, collection_case_id, **options)]

    start_render_job(company_id, f"{BULK_JOB}:{g.user.id}", actor, list_requests, zip_name=zip_name,
                     entity="legal_case", entity_id=cases[0].id, legal_case_ids=[c.id for c in cases])
    flash(_("%(count)d packets are being prepared as one ZIP.", count=len(cases)), "info")
    return redirect(url_for("legal.mine", _anchor="packets"))


@bp.get("/jobs/<int:job_id>/<any(zip, pdf):what>")
@allow(MANAGERS | LAWYERS, any_membership=True)
def job_file(job_id: int, what: str):  # type: ignore[no-untyped-def]
    """The ZIP or one-PDF packet a legal packet job produced (for the case's people only)."""
    job = db().get(BackgroundJob, job_id)
    if job is None or job.status != "done":
        abort(404)
    kind, _sep, ref = job.kind.partition(":")
    if kind == PACKET_JOB and ref.isdigit():
        case = _case(int(ref), write=True)
    elif kind == BULK_JOB and ref == str(g.user.id):
        case = None
    else:
        abort(404)
    file_id = (job.result or {}).get("file_id" if what == "zip" else "pdf_file_id")
    stored = db().get(StoredFile, int(file_id)) if file_id else None
    if stored is None or stored.company_id != job.company_id:
        abort(404)
    if case is None:
        allowed = set((job.result or {}).get("legal_case_ids", []))
        if not allowed or not allowed <= {c.id for c in _assigned_cases()}:
            abort(404)  # reassigned since
        audit.record(db(), current_actor(), "legal.download", "background_job", job.id, company_id=job.company_id,
                     filename=stored.filename, size=len(stored.data), file_id=stored.id)
        return send_file(io.BytesIO(stored.data), mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.filename, max_age=0)
    return _send(case, stored.data, stored.filename, stored.content_type, what=f"packet_{what}", job_id=job.id,
                 file_id=stored.id)


# ---------------------------------------------------------------- lifecycle steps: form → service kwargs


def _text(form: Any, name: str, label: str, *, required: bool = True) -> str | None:
    value = (form.get(name) or "").strip()
    if required and not value:
        raise InputError(_("%(field)s: required.", field=label))
    return value or None


def _date(form: Any, name: str, label: str, *, required: bool = True) -> dt.date | None:
    value = form.get(name)
    if not value and not required:
        return None
    return parse_date(value, field=label)


def _money(form: Any, name: str, *, default: str | None = None) -> Decimal:
    value = (form.get(name) or "").strip()
    if not value and default is not None:
        return Decimal(default)
    return parse_amount(value)


def _upload(name: str = "file") -> tuple[str, str, bytes] | None:
    """An uploaded court document as (filename, content type, bytes), or None when none was sent."""
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return None
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(_("The file is larger than 20 MB."))
    if not data:
        raise InputError(_("The file is empty."))
    return upload.filename, upload.mimetype or "application/octet-stream", data


def _choice(value: str | None, enum: Any) -> Any:
    try:
        return enum(value or "")
    except ValueError:
        raise InputError(_("Choose a value from the list.")) from None


def _note(form: Any) -> str | None:
    return (form.get("note") or "").strip() or None


def _p_route(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"route": _choice(form.get("route"), LegalRoute), "reason": (form.get("reason") or "").strip()}


def _p_filing(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"court": _text(form, "court", _("Court")), "case_number": _text(form, "case_number", _("Case number")),
            "filed_on": _date(form, "filed_on", _("Filed on")), "document": _upload(), "note": _note(form)}


def _p_mediation(form: Any, case: LegalCase) -> dict[str, Any]:
    outcome = _pick(form.get("outcome"), MEDIATION_OUTCOMES)
    kwargs: dict[str, Any] = {
        "stage": _pick(form.get("stage"), MEDIATION_STAGES), "outcome": outcome, "on": _date(form, "on", _("Date")),
        "mediator": (form.get("mediator") or "").strip() or None, "document": _upload(), "note": _note(form)}
    if outcome == "settled":
        kwargs.update(terms=_text(form, "terms", _("Settlement terms")),
                      effective_on=_date(form, "effective_on", _("Effective on"), required=False),
                      principal=_money(form, "principal"), late_fee=_money(form, "late_fee", default="0"),
                      costs=_money(form, "costs", default="0"),
                      performance_deadline=_date(form, "performance_deadline", _("Performance deadline")))
    return kwargs


def _p_order(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"issued_on": _date(form, "issued_on", _("Issued on")),
            "served_on": _date(form, "served_on", _("Served on"), required=False), "document": _upload(),
            "note": _note(form)}


def _p_objection(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"objection_on": _date(form, "on", _("Objection raised on")), "document": _upload(), "note": _note(form)}


def _p_convert(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"on": _date(form, "on", _("Date")), "route": _choice(form.get("route") or "simplified", LegalRoute),
            "case_number": (form.get("case_number") or "").strip() or None, "document": _upload(),
            "note": _note(form)}


def _p_title(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"kind": _pick(form.get("kind"), TITLE_KINDS),
            "effective_on": _date(form, "effective_on", _("Effective on")),
            "principal": _money(form, "principal"), "late_fee": _money(form, "late_fee", default="0"),
            "costs": _money(form, "costs", default="0"),
            "performance_deadline": _date(form, "performance_deadline", _("Performance deadline")),
            "document": _upload(), "note": _note(form)}


def _p_enforcement(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"court": _text(form, "court", _("Court")), "case_number": _text(form, "case_number", _("Case number")),
            "applied_on": _date(form, "applied_on", _("Applied on")), "document": _upload(), "note": _note(form)}


def _p_ground(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"text": _text(form, "text", _("Ground"))}


def _p_on(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"on": _date(form, "on", _("Date")), "document": _upload(), "note": _note(form)}


def _p_listing(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"listed_on": _date(form, "on", _("Date")), "document": _upload(), "note": _note(form)}


def _p_deleted(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"deleted_on": _date(form, "on", _("Date")), "document": _upload(), "note": _note(form)}


def _p_reason(form: Any, case: LegalCase) -> dict[str, Any]:
    return {"on": _date(form, "on", _("Date")), "reason": _text(form, "reason", _("Reason")), "document": _upload()}


def _pick(value: str | None, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(_("Choose a value from the list."))
    return str(value)


MEDIATION_STAGES = ("pre_suit", "in_suit")
MEDIATION_OUTCOMES = ("started", "settled", "failed")
TITLE_KINDS = ("judgement", "mediation_document", "payment_order", "award")

# step → (service function, form parser, success message); each step is ONE service call
STEPS: dict[str, tuple[Callable[..., LegalCase], Callable[[Any, LegalCase], dict[str, Any]], Any]] = {
    "route": (legal_events.set_route, _p_route, _l("Route recorded.")),
    "filing": (legal_events.record_filing, _p_filing,
               _l("Filing recorded; limitation is interrupted for the claimed charges.")),
    "mediation": (legal_events.record_mediation, _p_mediation, _l("Mediation recorded.")),
    "payment_order": (legal_events.record_payment_order, _p_order, _l("Payment order recorded.")),
    "objection": (legal_events.record_objection, _p_objection, _l("Objection recorded.")),
    "decline": (legal_events.decline_conversion, _p_on, _l("The lawsuit was declined; the case ends.")),
    "convert": (legal_events.convert_to_lawsuit, _p_convert, _l("The case continues as a lawsuit.")),
    "title": (legal_events.record_title, _p_title, _l("Title recorded; the performance deadline is tracked.")),
    "enforcement": (legal_events.record_enforcement, _p_enforcement, _l("Enforcement application recorded.")),
    "dishonest_ground": (legal_events.record_dishonest_ground, _p_ground, _l("Ground recorded.")),
    "dishonest_apply": (legal_events.apply_dishonest, _p_on, _l("Dishonest-debtor-list application recorded.")),
    "listing": (legal_events.record_listing, _p_listing, _l("Listing recorded.")),
    "deletion_request": (legal_events.request_deletion, _p_on, _l("Deletion request recorded.")),
    "deletion": (legal_events.record_deletion, _p_deleted, _l("Deletion recorded.")),
    "withdraw": (legal_events.withdraw, _p_reason, _l("Case withdrawn.")),
    "dismiss": (legal_events.dismiss, _p_reason, _l("Dismissal recorded.")),
}


# ---------------------------------------------------------------- helpers


def _case(legal_case_id: int, *, write: bool = False) -> LegalCase:
    """The legal case if the user may see it (write: act on it), else 404 (403 for an auditor writing).

    Managers and auditors: cases of the current company. Lawyers: cases assigned to them in any
    company where they are a LAWYER member; that company becomes the current one."""
    case = db().get(LegalCase, legal_case_id)
    if case is None:
        abort(404)
    current = g.membership
    if case.company_id == current.company_id and Role(current.role) in READERS:
        if write and Role(current.role) not in MANAGERS:
            abort(403)
        return case
    membership = membership_in(case.company_id)
    if membership is not None and Role(membership.role) == Role.LAWYER and case.lawyer_user_id == g.user.id:
        if membership.company_id != current.company_id:
            act_for(membership)
        return case
    abort(404)


def _assigned_cases() -> list[LegalCase]:
    """The signed-in lawyer's cases: assigned to them, in companies where they are a LAWYER member."""
    companies = companies_with_role(LAWYERS)
    if not companies:
        return []
    return [c for c in legal_lawyers.lawyer_cases(db(), g.user.id) if c.company_id in companies]


def _do(case: LegalCase, form_name: str, act: Callable[[], Any], success: str):  # type: ignore[no-untyped-def]
    return perform(act, success, refused=lambda: _render_case(case, open_form=form_name, status=400),
                   done=lambda: redirect(url_for("legal.show", legal_case_id=case.id)))


def _render_case(case: LegalCase, *, open_form: str = "", status: int = 200):  # type: ignore[no-untyped-def]
    session = db()
    today = _today()
    unit = session.get(Unit, case.unit_id)
    collection = session.get(CollectionCase, case.collection_case_id)
    owner = session.get(Owner, collection.owner_id) if collection is not None else None
    lawyer = session.get(User, case.lawyer_user_id) if case.lawyer_user_id else None
    deadlines = legal_deadlines.case_deadlines(case, today)
    figures = _figures(case, today)
    packets = list(session.scalars(select(BackgroundJob).where(
        BackgroundJob.company_id == case.company_id, BackgroundJob.kind == f"{PACKET_JOB}:{case.id}")
        .order_by(BackgroundJob.id.desc()).limit(10)))
    candidate, candidate_reasons = False, ()
    if case.state == LegalState.ENFORCEMENT_APPLIED:
        candidate, candidate_reasons = legal_events.dishonest_check(session, case, today)
    manager = has_role(MANAGERS) and g.membership.company_id == case.company_id
    lawyer_here = case.lawyer_user_id == g.user.id and has_role(LAWYERS)
    return render_template(
        "web/legal/show.html", case=case, unit=unit, collection=collection, owner=owner, lawyer=lawyer,
        community=session.get(Community, unit.community_id) if unit else None,
        events=case.events, deadlines=deadlines, figures=figures, packets=packets, today=today,
        can_act=manager or lawyer_here, manager=manager, lawyers=_lawyers(case.company_id) if manager else [],
        routes=list(LegalRoute), documents=_documents_for(case, candidate), candidate=candidate, candidate_reasons=candidate_reasons, open_form=open_form, closed=case.state in CLOSED,
        form=request.form if status >= 400 else {}, packet_route=PACKET_ROUTES.get(case.route or case.proposed_route)
        if (case.route or case.proposed_route) else None,
    ), status


AFTER_TITLE = frozenset({LegalState.TITLE_EFFECTIVE, LegalState.ENFORCEMENT_APPLIED, LegalState.DISHONEST_APPLIED,
                         LegalState.LISTED})
LISTING = frozenset({LegalState.DISHONEST_APPLIED, LegalState.LISTED, LegalState.DELETION_REQUESTED,
                     LegalState.DELETED})


def _documents_for(case: LegalCase, candidate: bool) -> dict[str, Any]:
    """The drafted documents that apply to the case as it stands (the builders refuse the others)."""
    wanted = set()
    if case.state in AFTER_TITLE:
        wanted.add("enforcement_application")
    if candidate or case.state in LISTING:
        wanted.add("dishonest_list_application")
    if case.state in LISTING or (case.paid_in_full_on is not None and case.listed_on is not None):
        wanted.add("deletion_request")
    if any(e.kind == "mediation_settled" for e in case.events):
        wanted.add("mediation_settlement")
    return {kind: title for kind, title in DOCUMENTS.items() if kind in wanted}


def _figures(case: LegalCase, today: dt.date) -> Any:
    """Awarded, recovered, unpaid and the delay interest (L14, E7) as of today."""
    return legal_deadlines.case_figures(db(), case.company_id, case.id, as_of=today)


def _render_open(case_id: int, *, status: int = 200):  # type: ignore[no-untyped-def]
    """What stands against each charge, the claim, and the route proposed for it."""
    company_id = current_company_id()
    today = _today()
    try:
        collection = get_scoped(db(), CollectionCase, case_id, company_id)
    except NotFound:
        abort(404)
    values = request.form if status >= 400 else request.args
    include = values.get("include_time_barred") == "1"
    late_fees = values.get("claim_late_fees", "1") == "1"
    basis = values.get("late_fee_basis") or "contract"
    claims = legal_claims
    standing = claims.charge_standing(db(), company_id, case_id, as_of=today)
    refusal = None
    try:
        claims.check_ready(db(), collection, today)
    except ServiceError as exc:
        refusal = error_text(exc)
    try:
        claim = claims.build_claim(db(), company_id, collection, as_of=today, include_time_barred=include,
                                   claim_late_fees=late_fees, late_fee_basis=basis)
    except ServiceError as exc:  # an unknown basis, or no LPR on record: show the contract-rate claim
        flash(error_text(exc), "error")
        basis = "contract"
        claim = claims.build_claim(db(), company_id, collection, as_of=today, include_time_barred=include,
                                   claim_late_fees=late_fees)
    proposal, proposal_error = None, None
    try:
        proposal = legal_routing.propose(db(), company_id, case_id, claim=claim.total, filing_date=today)
    except ServiceError as exc:
        proposal_error = error_text(exc)
    return render_template(
        "web/legal/open.html", collection=collection, standing=standing, claim=claim, proposal=proposal,
        proposal_error=proposal_error, refusal=refusal, lawyers=_lawyers(company_id), today=today,
        include_time_barred=include, claim_late_fees=late_fees, late_fee_basis=basis,
        supplementary=claims.supplementary_demand_offered(standing),
        unit=db().get(Unit, collection.unit_id), owner=db().get(Owner, collection.owner_id),
        form=request.form if status >= 400 else {},
    ), status


def _ready_cases(company_id: int, community_id: int | None) -> list[CollectionCase]:
    """Open collection cases of the community with a delivered demand past its deadline and no open legal case."""
    today = _today()
    query = (select(CollectionCase).where(
        CollectionCase.company_id == company_id, CollectionCase.demand_deadline.is_not(None),
        CollectionCase.demand_deadline < today, CollectionCase.closed_on.is_(None),
        ~CollectionCase.id.in_(select(LegalCase.collection_case_id).where(LegalCase.closed_on.is_(None))))
        .order_by(CollectionCase.id))
    if community_id:
        query = query.where(CollectionCase.community_id == community_id)
    return list(db().scalars(query))


def _render_bulk(community_id: int | None = None, *, status: int = 200):  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    community_id = community_id or request.args.get("community", type=int)
    communities = list(db().scalars(select(Community).where(Community.company_id == company_id)
                                    .order_by(Community.code)))
    cases = _ready_cases(company_id, community_id) if community_id else []
    return render_template("web/legal/bulk.html", communities=communities, community_id=community_id, cases=cases,
                           units=_units(cases), lawyers=_lawyers(company_id), today=_today()), status


def _units(cases: list[CollectionCase]) -> dict[int, tuple[Unit | None, Owner | None]]:
    return {c.id: (db().get(Unit, c.unit_id), db().get(Owner, c.owner_id)) for c in cases}


def _rows(cases: list[LegalCase]) -> dict[int, tuple[Unit | None, User | None]]:
    return {c.id: (db().get(Unit, c.unit_id), db().get(User, c.lawyer_user_id) if c.lawyer_user_id else None)
            for c in cases}


def _company_names(cases: list[LegalCase]) -> dict[int, str]:
    return {m.company_id: m.company.name for m in g.user.memberships}


def _lawyers(company_id: int) -> list[User]:
    """LAWYER members of the company (whom a case can be assigned to)."""
    return list(db().scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id, Membership.role == Role.LAWYER, User.is_active.is_(True))
        .order_by(User.display_name)))


def _lawyer_choice(value: str, company_id: int, *, required: bool) -> int | None:
    if not value:
        if required:
            raise InputError(_("Choose a lawyer from the list."))
        return None
    if not value.isdigit() or int(value) not in {u.id for u in _lawyers(company_id)}:
        raise InputError(_("Choose a lawyer from the list."))
    return int(value)


def _packet_options(case: LegalCase) -> dict[str, Any]:
    route = case.route or case.proposed_route
    assert route is not None
    return {"route": PACKET_ROUTES[LegalRoute(route)], "as_of": case.claim_as_of,
            "claim_late_fees": case.claim_late_fees, "until_actual_payment": case.until_actual_payment,
            "late_fee_basis": case.late_fee_basis or "contract"}


def _send(case: LegalCase, data: bytes, filename: str, content_type: str, **detail: Any):  # type: ignore[no-untyped-def]
    """Send a file as a download and audit it (legal.download, committed with the request)."""
    audit.record(db(), current_actor(), "legal.download", "legal_case", case.id, company_id=case.company_id,
                 filename=filename, size=len(data), sha256=hashlib.sha256(data).hexdigest(), **detail)
    return send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True, download_name=filename, max_age=0)


def _today() -> dt.date:
    return company_today(g.membership.company)


__all__ = ["bp"]

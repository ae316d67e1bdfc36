"""Documents as PDF from the web (issue 4): the letters of a reviewed batch and a case's filing
packet render in the background (worker processes, progress on the job page) into a ZIP kept as
a stored file; single documents (one letter, a case's statement of account) render inline.

Access: letters are for WRITERS; filing packets for managers and lawyers; a statement of account
for both. Every download is audited.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, request, send_file, url_for
from flask_babel import gettext as _

from arrears.persistence.models import (
    BackgroundJob,
    CollectionCase,
    EscalationAction,
    StoredFile,
)
from arrears.services import audit
from arrears.services.documents import registry
from arrears.services.documents.batch import (
    LETTER_KINDS,
    PRINTABLE,
    letter_requests,
)
from arrears.services.errors import NotFound, ServiceError
from arrears.services.tenancy import get_scoped
from arrears.services.timezone import company_today

from .access import (
    MANAGERS,
    WRITERS,
    allow,
    current_actor,
    current_company_id,
    has_role,
)
from .forms import InputError, parse_date
from .messages import error_text
from .render_jobs import start_render_job
from .transaction import db

bp = Blueprint("documents", __name__, url_prefix="/documents")

# Lawyers get packets and statements through the legal cases assigned to them (arrears.web.legal),
# never for any collection case of the company.
PACKET_ROLES = MANAGERS
STATEMENT_ROLES = WRITERS
LETTERS_JOB, PACKET_JOB = "render_letters", "render_packet"
JOB_ROLES = {LETTERS_JOB: WRITERS, PACKET_JOB: PACKET_ROLES}
ROUTES = ("payment_order", "small_claims", "lawsuit", "arbitration")
PDF = "application/pdf"


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"PACKET_ROLES": PACKET_ROLES, "STATEMENT_ROLES": STATEMENT_ROLES, "PACKET_ROUTES": ROUTES,
            "DOCUMENT_JOBS": JOB_ROLES}


# ---------------------------------------------------------------- batches (background jobs)


@bp.post("/runs/<int:run_id>/letters")
@allow(WRITERS)
def run_letters(run_id: int):  # type: ignore[no-untyped-def]
    """Print the letters of a reviewed batch: one PDF per approved reminder or demand, in a ZIP."""
    company_id, actor = current_company_id(), current_actor()
    try:
        count = len(letter_requests(db(), company_id, run_id))  # refuse before starting a job
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("batches.show", run_id=run_id))
    job_id = start_render_job(company_id, LETTERS_JOB, actor, lambda session: letter_requests(session, company_id, run_id),
                              zip_name=f"letters-batch-{run_id}.zip", entity="escalation_run", entity_id=run_id)
    flash(_("Printing %(count)d letters; the ZIP is ready for download when the work is done.", count=count), "info")
    return redirect(url_for("jobs.show", job_id=job_id))


@bp.post("/cases/<int:case_id>/packet")
@allow(PACKET_ROLES)
def case_packet(case_id: int):  # type: ignore[no-untyped-def]
    """The filing packet of a case for a route: every document, the whole packet as one PDF, a ZIP."""
    from arrears.services.documents.packet import build_packet

    company_id, actor = current_company_id(), current_actor()
    try:
        get_scoped(db(), CollectionCase, case_id, company_id)
    except NotFound:
        abort(404)
    form = request.form
    route = form.get("route", "")
    try:
        if route not in ROUTES:
            raise InputError(_("Choose a filing route."))
        as_of = parse_date(form.get("as_of"), default=company_today(g.membership.company), field=_("As of"))
        options = {"claim_late_fees": form.get("claim_late_fees") == "1",
                   "until_actual_payment": form.get("until_actual_payment") == "1"}
        build_packet(db(), company_id, case_id, route=route, as_of=as_of, **options)  # refuse before a job
    except InputError as exc:
        flash(str(exc), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    stem = f"case-{case_id}-{route}-{as_of.isoformat()}"
    job_id = start_render_job(
        company_id, PACKET_JOB, actor,
        lambda session: build_packet(session, company_id, case_id, route=route, as_of=as_of, **options),
        zip_name=f"{stem}.zip", joined_name=f"{stem}-packet.pdf", entity="collection_case", entity_id=case_id,
        route=route, as_of=as_of.isoformat())
    return redirect(url_for("jobs.show", job_id=job_id))


@bp.get("/jobs/<int:job_id>/<any(zip, pdf):what>")
@allow(WRITERS | PACKET_ROLES)
def job_file(job_id: int, what: str):  # type: ignore[no-untyped-def]
    """The ZIP (or the one-PDF packet) a document job produced."""
    job = db().get(BackgroundJob, job_id)
    if job is None or job.company_id != current_company_id() or job.kind not in JOB_ROLES:
        abort(404)
    if not has_role(JOB_ROLES[job.kind]):
        abort(403)
    file_id = (job.result or {}).get("file_id" if what == "zip" else "pdf_file_id")
    if job.status != "done" or not file_id:
        abort(404)
    stored = db().get(StoredFile, int(file_id))
    if stored is None or stored.company_id != job.company_id:
        abort(404)
    return _send(stored.data, stored.filename, stored.content_type, entity="background_job", entity_id=job.id,
                 file_id=stored.id, job_kind=job.kind)


# ---------------------------------------------------------------- single documents (inline)


@bp.get("/actions/<int:action_id>/letter")
@allow(WRITERS)
def action_letter(action_id: int):  # type: ignore[no-untyped-def]
    """One letter (reminder or demand) of an approved action, as PDF."""
    company_id = current_company_id()
    try:
        action = get_scoped(db(), EscalationAction, action_id, company_id)
    except NotFound:
        abort(404)
    kind = LETTER_KINDS.get(action.action)
    if kind is None:
        abort(404)
    if action.status not in PRINTABLE:
        flash(_("Only approved letters can be printed."), "error")
        return redirect(url_for("batches.show", run_id=action.run_id) if action.run_id else url_for("batches.index"))
    return _render_inline(registry.DocumentRequest(kind, company_id, action.id), entity="escalation_action",
                          entity_id=action.id, back=url_for("batches.show", run_id=action.run_id)
                          if action.run_id else url_for("batches.index"))


@bp.get("/cases/<int:case_id>/statement")
@allow(STATEMENT_ROLES)
def case_statement(case_id: int):  # type: ignore[no-untyped-def]
    """The statement of account of a case as of a date (default today), as PDF."""
    company_id = current_company_id()
    try:
        get_scoped(db(), CollectionCase, case_id, company_id)
        as_of = parse_date(request.args.get("as_of"), default=company_today(g.membership.company), field=_("As of"))
    except NotFound:
        abort(404)
    except InputError as exc:
        flash(str(exc), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    document = registry.DocumentRequest("statement_of_account", company_id, case_id, {"as_of": as_of.isoformat()})
    return _render_inline(document, entity="collection_case", entity_id=case_id,
                          back=url_for("cases.show", case_id=case_id))


# ---------------------------------------------------------------- helpers


def _render_inline(document: registry.DocumentRequest, *, entity: str, entity_id: int, back: str):  # type: ignore[no-untyped-def]
    try:
        built, pdf = registry.render(db(), document)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(back)
    return _send(pdf, built.filename, PDF, entity=entity, entity_id=entity_id, kind=document.kind)


def _send(data: bytes, filename: str, content_type: str, *, entity: str, entity_id: int, **detail: Any):  # type: ignore[no-untyped-def]
    """Send a file as a download and audit it (the audit entry commits with the request)."""
    audit.record(db(), current_actor(), "documents.downloaded", entity, entity_id, company_id=current_company_id(),
                 filename=filename, size=len(data), **detail)
    return send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True, download_name=filename,
                     max_age=0)


__all__ = ["bp"]

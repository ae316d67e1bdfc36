"""Printed letters and delivery results: letter batches (PDF + mailing-list CSV), postal results
with tracking number and a scan of the signed receipt, messages whose send outcome is unknown,
and the stop list.

A demand counts as delivered only with a recorded result from the L5 delivery table; recording
it (delivery.record_delivery) also records the limitation interruption for the charges it named.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from arrears.domain.escalation import Channel
from arrears.domain.limitation import DeliveryResult
from arrears.persistence.base import utcnow
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation import delivery as deliveries
from arrears.services.escalation import letters, outbox, queries, stoplist
from arrears.services.timezone import company_today

from .access import MANAGERS, STAFF, WRITERS, allow, current_actor, current_company_id
from .downloads import xlsx_response
from .forms import InputError, parse_date
from .labels import label
from .messages import error_text
from .transaction import db

bp = Blueprint("deliveries", __name__, url_prefix="/deliveries")
MAX_SCAN_BYTES = 10 * 1024 * 1024
SCAN_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    return _render_index(200)


@bp.get("/letters/awaiting.xlsx")
@allow(STAFF)
def export_awaiting():  # type: ignore[no-untyped-def]
    """Every letter still awaiting a delivery result, as an Excel sheet."""
    rows = queries.letter_export(db(), current_company_id(), label)
    return xlsx_response("letters-awaiting-result", _("Letters awaiting a delivery result"),
                         queries.LETTER_EXPORT_COLUMNS, rows, today=_today())


@bp.post("/letters/batch")
@allow(WRITERS)
def make_batch():  # type: ignore[no-untyped-def]
    try:
        batch = letters.make_letter_batch(db(), current_actor(), current_company_id(), now=utcnow())
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_index(400)
    if batch is None:
        flash(_("No letter can be printed now (the contact caps may have deferred some)."), "info")
        return redirect(url_for("deliveries.index"))
    flash(_("Letter batch with %(count)d letters made: print the PDF and hand the mailing list to the post office.",
            count=batch.letter_count), "success")
    return redirect(url_for("deliveries.batch", batch_id=batch.id))


@bp.get("/letters/<int:batch_id>")
@allow(STAFF)
def batch(batch_id: int):  # type: ignore[no-untyped-def]
    try:
        letter_batch, rows = queries.batch_letters(db(), current_company_id(), batch_id)
    except NotFound:
        abort(404)
    return render_template("web/deliveries/batch.html", batch=letter_batch, rows=rows,
                           results=list(DeliveryResult), today=_today())


@bp.get("/letters/<int:batch_id>/letters.xlsx")
@allow(STAFF)
def export_batch(batch_id: int):  # type: ignore[no-untyped-def]
    """The letters of a batch with their latest delivery result, as an Excel sheet."""
    try:
        rows = list(queries.letter_export(db(), current_company_id(), label, batch_id=batch_id))
    except NotFound:
        abort(404)
    return xlsx_response(f"letter-batch-{batch_id}", _("Letter batch #%(id)d", id=batch_id),
                         queries.LETTER_EXPORT_COLUMNS, rows, today=_today())


@bp.get("/letters/<int:batch_id>/letters.pdf")
@allow(STAFF)  # reading evidence, like the scans: every member of the company
def batch_pdf(batch_id: int):  # type: ignore[no-untyped-def]
    return _batch_file(batch_id, "pdf")


@bp.get("/letters/<int:batch_id>/mailing-list.csv")
@allow(STAFF)  # reading evidence, like the scans: every member of the company
def batch_csv(batch_id: int):  # type: ignore[no-untyped-def]
    return _batch_file(batch_id, "csv")


@bp.get("/files/<int:file_id>")
@allow(STAFF)
def file(file_id: int):  # type: ignore[no-untyped-def]
    """A stored file of the company (e.g. a scan of a signed receipt), as an attachment."""
    try:
        stored = queries.stored_file(db(), current_company_id(), file_id)
    except NotFound:
        abort(404)
    return _send(stored)


@bp.route("/messages/<int:message_id>/delivery", methods=["GET", "POST"])
@allow(WRITERS)
def delivery(message_id: int):  # type: ignore[no-untyped-def]
    """Enter the result of a letter (or hand delivery): result, date, tracking number, signer, scan."""
    company_id = current_company_id()
    try:
        row = queries.message_row(db(), company_id, message_id)
    except NotFound:
        abort(404)
    if request.method == "GET":
        return _render_delivery(row, {})
    form = request.form
    try:
        result = _result(form.get("result"))
        occurred_on = parse_date(form.get("occurred_on"), field=_("Date of the result"))
        if occurred_on > _today():
            raise InputError(_("The date of the result cannot be in the future."))
        deliveries.record_delivery(
            db(), current_actor(), company_id, message_id, result=result, occurred_on=occurred_on,
            today=_today(), tracking_number=form.get("tracking_number", "").strip() or None,
            signed_by=form.get("signed_by", "").strip() or None, note=form.get("note", "").strip() or None,
            proof=_scan(), source="manual",
        )
    except InputError as exc:
        flash(str(exc), "error")
        return _render_delivery(row, form), 400
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_delivery(row, form), 400
    flash(_("Delivery result recorded."), "success")
    back = row.message.letter_batch_id
    return redirect(url_for("deliveries.batch", batch_id=back) if back else url_for("deliveries.index"))


@bp.post("/messages/<int:message_id>/resolve")
@allow(WRITERS)
def resolve(message_id: int):  # type: ignore[no-untyped-def]
    """A person decides a message whose outcome is unknown: it was sent; it was not (the next channel
    takes over); or it was not and should go again on the same channel as a new message. Never by itself."""
    form = request.form
    choice = form.get("was_sent", "")
    was_sent = {"sent": True, "not_sent": False, "resend": False}.get(choice)
    try:
        queries.message_row(db(), current_company_id(), message_id)
        if was_sent is None:
            raise InputError(_("Say whether the message was sent."))
        if not form.get("note", "").strip():
            raise InputError(_("Add a note saying how you know."))
        outbox.resolve_unknown(db(), current_actor(), current_company_id(), message_id, was_sent=was_sent,
                               note=form.get("note", "").strip(), now=utcnow(), requeue=choice == "resend")
    except NotFound:
        abort(404)
    except InputError as exc:
        flash(str(exc), "error")
        return _render_index(400)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_index(400)
    flash(_("Message resolved."), "success")
    return redirect(url_for("deliveries.index"))


@bp.get("/stops")
@allow(WRITERS)
def stops():  # type: ignore[no-untyped-def]
    return _render_stops(200)


@bp.post("/stops")
@allow(MANAGERS)
def stop_add():  # type: ignore[no-untyped-def]
    form = request.form
    try:
        owner_id = int(form.get("owner_id", "").strip())
    except ValueError:
        flash(_("Enter the owner's number."), "error")
        return _render_stops(400)
    try:
        channel = Channel(form["channel"]) if form.get("channel") else None
    except ValueError:
        flash(_("Choose a channel from the list."), "error")
        return _render_stops(400)
    try:
        stoplist.add_stop(db(), current_actor(), current_company_id(), owner_id, channel=channel,
                          reason=form.get("reason", ""))
    except NotFound:
        flash(_("No owner %(id)d in this company.", id=owner_id), "error")
        return _render_stops(400)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_stops(400)
    flash(_("Owner added to the stop list."), "success")
    return redirect(_safe_next(form.get("next")) or url_for("deliveries.stops"))


@bp.post("/stops/<int:stop_id>/lift")
@allow(MANAGERS)
def stop_lift(stop_id: int):  # type: ignore[no-untyped-def]
    try:
        stoplist.lift_stop(db(), current_actor(), current_company_id(), stop_id, today=_today())
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_stops(400)
    flash(_("Stop lifted."), "success")
    return redirect(url_for("deliveries.stops"))


# ---------------------------------------------------------------- helpers


def _batch_file(batch_id: int, kind: str):  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    try:
        letter_batch, _rows = queries.batch_letters(db(), company_id, batch_id)
        stored = queries.stored_file(db(), company_id,
                                     letter_batch.pdf_file_id if kind == "pdf" else letter_batch.csv_file_id)
    except NotFound:
        abort(404)
    return _send(stored)


def _send(stored: Any):  # type: ignore[no-untyped-def]
    return send_file(io.BytesIO(stored.data), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.filename, max_age=0)


def _scan() -> tuple[str, str, bytes] | None:
    upload = request.files.get("proof")
    if upload is None or not upload.filename:
        return None
    name = upload.filename
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in SCAN_TYPES:
        raise InputError(_("The scan must be a PDF, JPEG or PNG file."))
    data = upload.read(MAX_SCAN_BYTES + 1)
    if not data:
        raise InputError(_("The uploaded scan is empty."))
    if len(data) > MAX_SCAN_BYTES:
        raise InputError(_("The scan is larger than 10 MB."))
    return name, SCAN_TYPES[suffix], data


def _result(value: str | None) -> DeliveryResult:
    try:
        return DeliveryResult(value or "")
    except ValueError:
        raise InputError(_("Choose a result from the list.")) from None


def _render_delivery(row: queries.LetterRow, form: Any) -> str:
    return render_template("web/deliveries/delivery.html", row=row, results=list(DeliveryResult), form=form,
                           today=_today())


def _render_index(status: int):  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    return render_template(
        "web/deliveries/index.html", batches=queries.letter_batches(db(), company_id),
        waiting=queries.letters_waiting_for_batch(db(), company_id),
        awaiting=queries.letters_awaiting_result(db(), company_id),
        unknown=queries.unknown_messages(db(), company_id), today=_today(),
    ), status


def _render_stops(status: int):  # type: ignore[no-untyped-def]
    return render_template("web/deliveries/stops.html", rows=queries.stop_list(db(), current_company_id()),
                           channels=list(Channel), form=request.form), status


def _safe_next(target: str | None) -> str | None:
    return target if target and target.startswith("/") and not target.startswith("//") else None


def _today() -> dt.date:
    return company_today(g.membership.company)


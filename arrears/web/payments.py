"""Recording a payment for a unit (applied at once) and reversing one with a reason."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from arrears.persistence.models import Payment, Unit
from arrears.services.errors import NotFound, ServiceError
from arrears.services.payments import PaymentInput, record_payment, reverse_payment
from arrears.services.statements import unit_statement
from arrears.services.tenancy import get_scoped
from arrears.services.timezone import company_today

from .access import WRITERS, allow, current_actor, current_company_id
from .forms import InputError, parse_date
from .messages import error_text
from .transaction import db

bp = Blueprint("payments", __name__, url_prefix="/units/<int:unit_id>/payments")


def _unit(unit_id: int) -> Unit:
    try:
        return get_scoped(db(), Unit, unit_id, current_company_id())
    except NotFound:
        abort(404)


@bp.route("/new", methods=["GET", "POST"])
@allow(WRITERS)
def new(unit_id: int):  # type: ignore[no-untyped-def]
    unit = _unit(unit_id)
    today = company_today(g.membership.company)
    result = unit_statement(db(), current_company_id(), unit.id, today)
    if request.method == "GET":
        return render_template("web/payments/new.html", unit=unit, result=result, today=today, form={})
    form = request.form
    try:
        data = PaymentInput(
            unit_id=unit.id,
            payer_id=int(form.get("payer_id", "0") or 0),
            receipt_ref=form.get("receipt_ref", ""),
            received_on=parse_date(form.get("received_on"), field=_("Date received")),
            amount=form.get("amount", ""),
            method=form.get("method", "bank_transfer"),
            designation=tuple(int(v) for v in form.getlist("designation")),
            note=form.get("note") or None,
        )
        payment, created = record_payment(db(), current_actor(), current_company_id(), data, today=today)
    except InputError as exc:
        flash(str(exc), "error")
        return render_template("web/payments/new.html", unit=unit, result=result, today=today, form=form), 400
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return render_template("web/payments/new.html", unit=unit, result=result, today=today, form=form), 400
    if created:
        flash(_("Payment %(ref)s recorded and applied.", ref=payment.receipt_ref), "success")
    else:
        flash(_("Receipt %(ref)s was already recorded; nothing changed.", ref=payment.receipt_ref), "info")
    return redirect(url_for("units.show", unit_id=unit.id))


@bp.post("/<int:payment_id>/reverse")
@allow(WRITERS)
def reverse(unit_id: int, payment_id: int):  # type: ignore[no-untyped-def]
    unit = _unit(unit_id)
    try:
        payment = get_scoped(db(), Payment, payment_id, current_company_id())
        if payment.unit_id != unit.id:
            abort(404)
        reverse_payment(db(), current_actor(), current_company_id(), payment.id,
                        reason=request.form.get("reason", ""), today=company_today(g.membership.company))
    except NotFound:
        abort(404)
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("units.show", unit_id=unit.id))
    flash(_("Payment %(ref)s reversed.", ref=payment.receipt_ref), "success")
    return redirect(url_for("units.show", unit_id=unit.id))

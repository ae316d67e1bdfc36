"""JSON API, version 1. Same sign-in and company scoping as the web pages."""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request

from arrears.services.errors import NotFound
from arrears.services.statement_json import statement_to_json
from arrears.services.statements import unit_statement
from arrears.services.timezone import company_today

from .access import STAFF, allow, current_company_id
from .forms import InputError, parse_date
from .transaction import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/units/<int:unit_id>/statement")
@allow(STAFF)
def statement(unit_id: int):  # type: ignore[no-untyped-def]
    try:
        as_of = parse_date(request.args.get("as_of"), default=company_today(g.membership.company), field="as_of")
    except InputError as exc:
        abort(400, description=str(exc))
    try:
        result = unit_statement(db(), current_company_id(), unit_id, as_of)
    except NotFound:
        abort(404)
    return jsonify(statement_to_json(result))

"""Import upload with a dry-run preview."""

from __future__ import annotations

from flask import Blueprint, render_template

from .access import WRITERS, allow

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.get("/")
@allow(WRITERS)
def upload():  # type: ignore[no-untyped-def]
    return render_template("web/imports/upload.html")

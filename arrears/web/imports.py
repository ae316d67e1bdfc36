"""Import upload with a dry-run preview: upload → checked and counted (nothing written) →
the user confirms → the stored copy of the same file is imported for real."""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from arrears.services.imports import ImportReport, run_import, template_workbook
from arrears.services.timezone import company_today

from .access import WRITERS, allow, current_actor, current_company_id
from .transaction import db

bp = Blueprint("imports", __name__, url_prefix="/imports")

ALLOWED = (".xlsx", ".zip")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/", methods=["GET", "POST"])
@allow(WRITERS)
def upload():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("web/imports/upload.html")
    upload_file = request.files.get("file")
    name = secure_filename(upload_file.filename or "") if upload_file else ""
    suffix = Path(name).suffix.lower()
    if upload_file is None or suffix not in ALLOWED:
        flash(_("Choose an .xlsx workbook or a .zip of .csv files."), "error")
        return render_template("web/imports/upload.html"), 400
    _sweep()
    token = secrets.token_urlsafe(32)
    path = _folder() / f"{token}{suffix}"
    upload_file.save(path)
    meta = {"company_id": current_company_id(), "user_id": g.user.id, "filename": upload_file.filename, "suffix": suffix}
    _meta_path(token).write_text(json.dumps(meta), encoding="utf-8")
    report = _run(path, dry_run=True)
    return render_template("web/imports/preview.html", report=report, filename=meta["filename"], token=token,
                           messages=_messages(report))


@bp.post("/confirm")
@allow(WRITERS)
def confirm():  # type: ignore[no-untyped-def]
    token = request.form.get("token", "")
    meta = _stored(token)
    path = _folder() / f"{token}{meta['suffix']}"
    report = _run(path, dry_run=False)
    if not report.ok:
        return render_template("web/imports/preview.html", report=report, filename=meta["filename"], token=None,
                               messages=_messages(report)), 400
    _discard(token, meta)
    if report.batch_id is None:
        flash(_("Nothing new: everything in %(file)s is already recorded.", file=meta["filename"]), "info")
    else:
        new = sum(c.get("new", 0) for c in report.counts.values())
        flash(_("%(file)s imported: %(count)d new rows.", file=meta["filename"], count=new), "success")
    return redirect(url_for("imports.upload"))


@bp.get("/template.xlsx")
@allow(WRITERS)
def template():  # type: ignore[no-untyped-def]
    from io import BytesIO

    return send_file(BytesIO(template_workbook()), mimetype=XLSX, as_attachment=True,
                     download_name="arrears-import-template.xlsx")


def _run(path: Path, *, dry_run: bool) -> ImportReport:
    today = company_today(g.membership.company)
    return run_import(db(), current_actor(), current_company_id(), path, today=today, dry_run=dry_run)


def _messages(report: ImportReport) -> list[dict[str, Any]]:
    """Errors then warnings, in the user's language."""
    chinese = str(get_locale()).startswith("zh")
    rows = []
    for level, issues in (("error", report.errors), ("warning", report.warnings)):
        for issue in issues:
            rows.append({"level": level, "sheet": issue.sheet, "row": issue.row, "column": issue.column,
                         "message": issue.message_zh if chinese else issue.message_en})
    return rows


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _meta_path(token: str) -> Path:
    return _folder() / f"{token}.json"


def _stored(token: str) -> dict[str, Any]:
    """The upload's metadata; only its uploader, in the same company, may confirm it."""
    if not _TOKEN.fullmatch(token) or not _meta_path(token).exists():
        abort(404)
    meta = json.loads(_meta_path(token).read_text(encoding="utf-8"))
    if meta.get("company_id") != current_company_id() or meta.get("user_id") != g.user.id:
        abort(404)
    if meta.get("suffix") not in ALLOWED:
        abort(404)
    return meta


def _sweep(max_age: float = 86400) -> None:
    """Forget uploads nobody confirmed within a day."""
    limit = time.time() - max_age
    for path in _folder().iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _discard(token: str, meta: dict[str, Any]) -> None:
    for path in (_folder() / f"{token}{meta['suffix']}", _meta_path(token)):
        path.unlink(missing_ok=True)

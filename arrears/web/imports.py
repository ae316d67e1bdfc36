"""Import upload with a dry-run preview: upload → checked and counted (nothing written) →
the user confirms → the stored copy of the same file is imported for real, as a background job
with progress (/jobs/<id>).

The preview stays in the request: a generated workbook of 5,000 units, 15,000 charges and 2,500
payments previews in about 4 s on SQLite and 8 s on PostgreSQL. Confirming claims the stored
upload by renaming its metadata file (atomic), so a token confirmed twice starts one job only.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from arrears.services.imports import ImportIssue, ImportReport, run_import, template_workbook
from arrears.services.jobs import start_job
from arrears.services.timezone import company_today

from .access import WRITERS, allow, current_actor, current_company_id
from .transaction import db, runtime

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
    """Start the import of the previewed upload in the background; show its progress page."""
    token = request.form.get("token", "")
    claimed = _claimed_path(token)
    if _TOKEN.fullmatch(token) and claimed.exists() and not _meta_path(token).exists():
        return _already_started(token)
    meta = _stored(token)
    try:
        _meta_path(token).rename(claimed)
    except FileNotFoundError:  # another request claimed it a moment ago
        return _already_started(token)
    folder, upload = _folder(), _folder() / f"{token}{meta['suffix']}"
    company_id, actor = current_company_id(), current_actor()
    today, wording = company_today(g.membership.company), _wording()

    def work(session: Session, progress: Callable[[int, int], None]) -> dict[str, Any]:
        try:
            report = run_import(session, actor, company_id, upload, today=today, steps=progress)
        finally:
            _discard(folder, token, meta)
        if not report.ok:
            raise ImportRejected(_failure_text(report, wording))
        return _result(report, wording)

    try:
        job_id = start_job(runtime(), company_id, "import", actor.name, work)
    except Exception:
        claimed.rename(_meta_path(token))  # nothing started: the user may confirm again
        raise
    meta["job_id"] = job_id
    _write_claim(claimed, meta)
    return redirect(url_for("jobs.show", job_id=job_id))


class ImportRejected(Exception):
    """The file no longer passes its checks (the data changed since the preview): nothing imported."""


@bp.get("/template.xlsx")
@allow(WRITERS)
def template():  # type: ignore[no-untyped-def]
    from io import BytesIO

    return send_file(BytesIO(template_workbook()), mimetype=XLSX, as_attachment=True,
                     download_name="arrears-import-template.xlsx")


def _already_started(token: str):  # type: ignore[no-untyped-def]
    """A second confirm of the same upload: show the job the first one started."""
    meta = _owned(_read_claim(_claimed_path(token)))
    if meta.get("job_id"):
        return redirect(url_for("jobs.show", job_id=meta["job_id"]))
    flash(_("This import has already been started."), "info")
    return redirect(url_for("jobs.index"))


def _wording() -> dict[str, str]:
    """Texts the job needs, translated now: the job's thread has no request and no locale."""
    return {
        "locale": str(get_locale()),
        "cell": _("%(sheet)s, row %(row)s, column %(column)s: %(message)s"),
        "row": _("%(sheet)s, row %(row)s: %(message)s"),
        "sheet": _("%(sheet)s: %(message)s"),
        "head": _("Nothing was imported. Errors in the file: %(count)s."),
        "more": _("and %(count)s more"),
    }


def _issue_text(issue: ImportIssue, wording: dict[str, str]) -> str:
    message = issue.message_zh if wording["locale"].startswith("zh") else issue.message_en
    key = "sheet" if issue.row is None else ("row" if issue.column is None else "cell")
    return wording[key] % {"sheet": issue.sheet, "row": issue.row, "column": issue.column, "message": message}


def _failure_text(report: ImportReport, wording: dict[str, str], shown: int = 5) -> str:
    """The job's message: how many errors, then the first few located by sheet, row and column."""
    parts = [_issue_text(issue, wording) for issue in report.errors[:shown]]
    if len(report.errors) > shown:
        parts.append(wording["more"] % {"count": len(report.errors) - shown})
    return wording["head"] % {"count": len(report.errors)} + " " + "; ".join(parts)


def _result(report: ImportReport, wording: dict[str, str]) -> dict[str, Any]:
    """What the job page shows: rows imported and already recorded, and the file's warnings."""
    return {
        "imported": sum(c.get("new", 0) for c in report.counts.values()),
        "unchanged": sum(c.get("unchanged", 0) for c in report.counts.values()),
        "sheets": {sheet: dict(counts) for sheet, counts in report.counts.items()},
        "batch_id": report.batch_id,
        "warning_count": len(report.warnings),
        "warnings": [_issue_text(issue, wording) for issue in report.warnings[:50]],
    }


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


def _claimed_path(token: str) -> Path:
    """The metadata of an upload whose import was started (its name cannot be a token's)."""
    return _folder() / f"{token}.claimed.json"


def _stored(token: str) -> dict[str, Any]:
    """The upload's metadata; only its uploader, in the same company, may confirm it."""
    if not _TOKEN.fullmatch(token) or not _meta_path(token).exists():
        abort(404)
    return _owned(json.loads(_meta_path(token).read_text(encoding="utf-8")))


def _owned(meta: dict[str, Any]) -> dict[str, Any]:
    if meta.get("company_id") != current_company_id() or meta.get("user_id") != g.user.id:
        abort(404)
    if meta.get("suffix") not in ALLOWED:
        abort(404)
    return meta


def _read_claim(path: Path) -> dict[str, Any]:
    """A claimed upload's metadata; being written or already removed reads as not yours (404)."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        abort(404)
    return meta if isinstance(meta, dict) else {}


def _write_claim(path: Path, meta: dict[str, Any]) -> None:
    """Note the job's id in the claim, unless the job already finished and removed it."""
    try:
        with path.open("r+", encoding="utf-8") as handle:  # never re-creates a removed claim
            handle.truncate()
            handle.write(json.dumps(meta))
    except FileNotFoundError:
        pass


def _sweep(max_age: float = 86400) -> None:
    """Forget uploads nobody confirmed within a day."""
    limit = time.time() - max_age
    for path in _folder().iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _discard(folder: Path, token: str, meta: dict[str, Any]) -> None:
    """Remove the upload and its metadata (runs in the job's thread, hence the folder)."""
    for name in (f"{token}{meta['suffix']}", f"{token}.json", f"{token}.claimed.json"):
        (folder / name).unlink(missing_ok=True)

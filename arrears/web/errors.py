"""Error pages in the user's language; JSON for the API.

Every page says what happened, what the user can do about it and links home. The page is
rendered with the same layout as the rest of the site (language switch included); if rendering
that layout fails (a broken database session behind a 500), a bare page still answers.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = exc.code or 500
        if request.path.startswith("/api/"):
            return jsonify(error=exc.name, message=exc.description, status=exc.code), exc.code
        response = _page(code)
        for name, value in exc.get_headers():  # Allow (405), Retry-After (429)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        return _page(400, title=_("The form expired; please try again."),
                     hint=_("Go back, reload the page and send the form again."))


def _page(code: int, *, title: str | None = None, hint: str | None = None) -> Response:
    known = _texts()
    default_title, default_hint = known.get(code, known[500] if code >= 500 else known[400])
    title, hint = title or default_title, hint or default_hint
    if code >= 500:
        _forget_failed_transaction()
    try:
        body = render_template("web/error.html", code=code, title=title, hint=hint)
    except Exception:  # noqa: BLE001 - the error page itself must not fail
        log.exception("error page %s could not be rendered", code)
        body = f"<!doctype html><title>{code}</title><h1>{code}</h1><p>{escape(title)}</p><p><a href=\"/\">/</a></p>"
    return Response(body, status=code, mimetype="text/html")


def _forget_failed_transaction() -> None:
    """Roll back a session an exception left half-done, so the layout can still read the user."""
    session = g.get("db_session")
    if session is not None:
        try:
            session.rollback()
        except Exception:  # noqa: BLE001
            log.exception("rollback before the error page failed")


def _texts() -> dict[int, tuple[str, str]]:
    """(title, what to do) per status code, in the current language."""
    return {
        400: (_("The request was not understood."),
              _("Check what you entered and try again. If you followed a link, it may be incomplete.")),
        403: (_("You are not allowed to do this."),
              _("Your role in this company does not include this page. Ask an administrator if you need it, "
                "or switch to another company if you work for several.")),
        404: (_("Not found."),
              _("The address may be mistyped, or the record belongs to another company or no longer exists. "
                "Search for the unit or case from the overview.")),
        405: (_("This action is not available here."),
              _("Use the buttons and forms on the page instead of typing the address.")),
        413: (_("The file is too large."),
              _("Files of up to %(size)d MB can be uploaded. Split the workbook or compress the scans and try again.",
                size=_upload_limit_mb()) if _upload_limit_mb() else
              _("Split the workbook or compress the scans and try again.")),
        429: (_("Too many attempts; please wait and try again."),
              _("For your protection this link is paused for a while. Wait a few minutes, then open it again.")),
        500: (_("Something went wrong on our side."),
              _("Nothing was saved by the failed request. Try again in a moment; if it happens again, tell your "
                "administrator the time and what you were doing.")),
    }


def _upload_limit_mb() -> int:
    return int((current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024))

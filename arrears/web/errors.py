"""Error pages in the user's language; JSON for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return jsonify(error=exc.name, message=exc.description, status=exc.code), exc.code
        return render_template("web/error.html", code=exc.code, title=_titles().get(exc.code or 500, exc.name)), exc.code

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        return render_template("web/error.html", code=400, title=_("The form expired; please try again.")), 400


def _titles() -> dict[int, str]:
    return {
        400: _("The request was not understood."),
        403: _("You are not allowed to do this."),
        404: _("Not found."),
        405: _("This action is not available here."),
        413: _("The file is too large."),
        429: _("Too many attempts; please wait and try again."),
        500: _("Something went wrong on our side."),
    }

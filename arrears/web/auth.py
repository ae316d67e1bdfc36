"""Sign in and out, switch company, choose language."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from arrears.services import users
from arrears.services.users import LoginThrottled

from .access import EVERYONE, allow, public
from .i18n import SUPPORTED
from .transaction import db, runtime

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("web/auth/login.html")
    settings = runtime().settings
    username = request.form.get("username", "")
    try:
        user = users.authenticate(
            db(), username, request.form.get("password", ""),
            remote_addr=request.remote_addr,
            now=dt.datetime.now(dt.timezone.utc),
            max_failures=settings.login_max_failures,
            window=dt.timedelta(minutes=settings.login_window_minutes),
        )
    except LoginThrottled:
        db().commit()
        flash(_("Too many failed sign-ins for this name. Please wait %(minutes)d minutes.",
                minutes=settings.login_window_minutes), "error")
        return render_template("web/auth/login.html", username=username), 429
    db().commit()  # keep the attempt even though the response below is an error
    if user is None:
        flash(_("Wrong user name or password."), "error")
        return render_template("web/auth/login.html", username=username), 401
    session.clear()
    session["user_id"] = user.id
    session.permanent = True
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
@public
def logout():  # type: ignore[no-untyped-def]
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.route("/company", methods=["POST"])
@allow(EVERYONE)
def switch_company():  # type: ignore[no-untyped-def]
    company_id = request.form.get("company_id", type=int)
    if company_id not in {m.company_id for m in g.user.memberships}:
        abort(404)
    session["company_id"] = company_id
    return redirect(url_for("home.index"))


@bp.route("/language", methods=["POST"])
@public
def set_language():  # type: ignore[no-untyped-def]
    lang = request.form.get("lang")
    if lang in SUPPORTED:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes home."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")



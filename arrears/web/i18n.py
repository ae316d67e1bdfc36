"""Flask-Babel: zh_CN by default, English second; the user's or session's choice wins."""

from __future__ import annotations

from babel import Locale
from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

SUPPORTED = ("zh_CN", "en")


def select_locale() -> str:
    chosen = session.get("lang") or getattr(g, "user_locale", None)
    if chosen in SUPPORTED:
        return _babel_name(chosen)
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"]) if request else None
    if best and best.startswith("en"):
        return "en"
    return _babel_name("zh_CN")


def _babel_name(code: str) -> str:
    # Babel parses zh_CN as zh_Hans_CN; the catalogue folder is named to match what gettext seeks.
    return str(Locale.parse(code))


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, timezone_selector=lambda: app.config["BABEL_DEFAULT_TIMEZONE"])
    app.jinja_env.globals["get_locale"] = get_locale

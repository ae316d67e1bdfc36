"""create_app(): configuration, extensions, blueprints, CLI and error pages — the one wiring place."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from arrears.config import Settings
from arrears.persistence.db import make_engine, make_session_factory
from arrears.services.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None, *, instance_path: str | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        "arrears",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=instance_path,
        instance_relative_config=True,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure or settings.is_production,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "arrears" / "translations"),
        WTF_CSRF_TIME_LIMIT=None,
    )
    engine = make_engine(settings.resolved_database_url(app.instance_path))
    app.extensions["arrears"] = Runtime(settings, engine, make_session_factory(engine))

    from arrears.web import register_web

    register_web(app)

    from arrears.cli import register_cli

    register_cli(app)
    return app

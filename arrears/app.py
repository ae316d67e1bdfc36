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
    _register_serve(app)
    return app


def _register_serve(app: Flask) -> None:
    """`flask arrears serve` (waitress, web only) and `flask arrears scheduler` (the jobs).

    They live here, the one wiring place: the CLI layer may not import the scheduler. Web workers
    never run jobs; `make run` starts both processes side by side.
    """
    import click

    from arrears.cli import arrears_cli

    @arrears_cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True)
    @click.option("--threads", default=8, show_default=True)
    def serve_command(host: str, port: int, threads: int) -> None:
        """Serve the web app with waitress (no scheduled jobs: run `arrears scheduler` beside it)."""
        from waitress import serve

        click.echo(f"arrears is running on http://{host}:{port}/ (Ctrl+C to stop)")
        serve(app, host=host, port=port, threads=threads)

    @arrears_cli.command("scheduler")
    def scheduler_command() -> None:
        """Run the scheduled jobs in the foreground until SIGTERM or Ctrl+C."""
        import logging

        from arrears.scheduler import run_scheduler

        state: Runtime = app.extensions["arrears"]
        if not state.settings.scheduler_enabled:
            click.echo("the scheduler is disabled (ARREARS_SCHEDULER=0); not starting it")
            return
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("arrears").setLevel(logging.INFO)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # our jobs log their own start/end
        click.echo(f"scheduler running in {state.settings.timezone} (SIGTERM or Ctrl+C to stop)")
        run_scheduler(state)

"""A live server on SQLite and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from arrears.app import create_app
from arrears.config import Settings
from arrears.persistence.migrate import upgrade

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def live_app(tmp_path: Path) -> Flask:
    settings = Settings(env="testing", database_url=f"sqlite:///{tmp_path / 'browser.sqlite3'}",
                        scheduler_enabled=False)
    app = create_app(settings, instance_path=str(tmp_path / "instance"))
    upgrade(app.extensions["arrears"].engine)
    return app


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        live_app.extensions["arrears"].engine.dispose()


@pytest.fixture
def page(live_server: str):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (Debian package 'chromium'; `make test` installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Screenshots of the main pages (ARREARS_SCREENSHOTS, else pytest's tmp dir): tests/browser/support.py."""
    from tests.browser.support import Shots

    return Shots.from_env(tmp_path_factory.getbasetemp() / "screenshots")

"""Fixtures: databases (SQLite always, PostgreSQL when reachable), sessions, the app and a client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from arrears.app import create_app
from arrears.config import Settings
from arrears.persistence.db import make_engine
from arrears.persistence.migrate import upgrade
from arrears.persistence.models import Base

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/arrears_test"


def _postgres_url() -> str | None:
    """A fresh PostgreSQL test database, or None when no server is reachable."""
    url = make_url(os.environ.get("ARREARS_TEST_DATABASE_URL", DEFAULT_PG))
    # One database per test process, so concurrent runs on one server never collide.
    url = url.set(database=f"{url.database}_{os.getpid()}")
    try:
        admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False),
                            isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        _PG_ERROR.append(str(exc).splitlines()[0])
        return None
    return url.render_as_string(hide_password=False)


_PG_ERROR: list[str] = []


def _drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    url = _postgres_url()
    if url is not None:
        request.addfinalizer(lambda: _drop_database(url))
    if url is None:
        reason = _PG_ERROR[-1] if _PG_ERROR else "unknown error"
        pytest.skip(f"PostgreSQL is not reachable ({reason}); "
                    "set ARREARS_TEST_DATABASE_URL to run these tests on PostgreSQL")
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


def clean_tables(engine: Engine) -> None:
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def app(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on the test database; tables are emptied after the test (it commits)."""
    settings = Settings(env="testing", database_url=database_url, scheduler_enabled=False)
    flask_app = create_app(settings, instance_path=str(tmp_path / "instance"))
    flask_app.config.update(TESTING=True)
    try:
        yield flask_app
    finally:
        flask_app.extensions["arrears"].engine.dispose()
        clean_tables(engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()

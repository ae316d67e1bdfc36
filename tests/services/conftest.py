"""Fixtures shared by the service tests that commit (outbox dispatch runs its own transactions)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from arrears.config import Settings
from arrears.persistence.db import make_session_factory
from arrears.services.runtime import Runtime
from tests.conftest import clean_tables


@pytest.fixture
def runtime(engine: Engine) -> Iterator[Runtime]:
    """A Runtime over the test database: dispatch commits, so tables are emptied around the test."""
    clean_tables(engine)
    yield Runtime(Settings(env="testing", dispatch_chunk=2), engine, make_session_factory(engine))
    clean_tables(engine)

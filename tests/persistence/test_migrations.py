"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from arrears.persistence.migrate import alembic_config, upgrade
from arrears.persistence.models import Base
from tests.factories import make_community, make_unit


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []



def test_the_unit_sort_key_is_filled_for_existing_units(tmp_path: Path) -> None:
    """0007 fills the key of units that existed before it (down to 0006 and up again)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "head")
    with Session(engine) as session:
        community = make_community(session)
        make_unit(session, community, code="1-10-101")
        make_unit(session, community, code="1-2-301")
        session.commit()
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    upgrade(engine, "head")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT code FROM unit ORDER BY sort_key")).scalars().all()
    assert rows == ["1-2-301", "1-10-101"]
    engine.dispose()

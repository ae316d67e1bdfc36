"""trigram indexes for searching unit codes and owner names anywhere in the text

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 20:50:00

On PostgreSQL the work queue's free-text search (ILIKE '%…%') uses GIN trigram indexes (pg_trgm,
a trusted extension since PostgreSQL 13); SQLite gets plain indexes from the same definitions.
"""

from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index("ix_unit_code_trgm", "unit", ["code"], postgresql_using="gin",
                    postgresql_ops={"code": "gin_trgm_ops"})
    op.create_index("ix_owner_name_trgm", "owner", ["name"], postgresql_using="gin",
                    postgresql_ops={"name": "gin_trgm_ops"})


def downgrade() -> None:
    op.drop_index("ix_owner_name_trgm", table_name="owner")
    op.drop_index("ix_unit_code_trgm", table_name="unit")

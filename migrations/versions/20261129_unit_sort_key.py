"""unit sort key: unit codes in natural order (1-2-301 before 1-10-101)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 21:45:00

The key is computed by the application (arrears.domain.unitcode.natural_key); existing units are
filled here in chunks.
"""

from alembic import op
import sqlalchemy as sa

from arrears.domain.unitcode import natural_key


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

CHUNK = 5000


def upgrade() -> None:
    op.add_column('unit', sa.Column('sort_key', sa.String(length=400), nullable=True))
    bind = op.get_bind()
    unit = sa.table('unit', sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('sort_key', sa.String))
    last = 0
    while rows := bind.execute(sa.select(unit.c.id, unit.c.code).where(unit.c.id > last)
                               .order_by(unit.c.id).limit(CHUNK)).all():
        bind.execute(unit.update().where(unit.c.id == sa.bindparam('unit_id')).values(sort_key=sa.bindparam('key')),
                     [{'unit_id': row.id, 'key': natural_key(row.code)} for row in rows])
        last = rows[-1].id
    op.create_index('ix_unit_community_sort', 'unit', ['community_id', 'sort_key', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_unit_community_sort', table_name='unit')
    op.drop_column('unit', 'sort_key')

"""quality alerts get a handling task: instance, status, who handled it, when, and the answer (issue 20.2)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 04:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

TS = app.core.db.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('quality_alerts') as batch:
        batch.add_column(sa.Column('instance_id', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='open'))
        batch.add_column(sa.Column('handled_by', sa.String(length=80), nullable=True))
        batch.add_column(sa.Column('handled_at', TS, nullable=True))
        batch.add_column(sa.Column('response', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quality_alerts') as batch:
        for column in ('response', 'handled_at', 'handled_by', 'status', 'instance_id'):
            batch.drop_column(column)

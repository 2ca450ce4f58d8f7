"""external pushes keep their failures: status, attempts, last error, next retry, alerted (outbound pushes that fail
are retried with backoff and reported, not silently left pending)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 03:30:00
"""
import sqlalchemy as sa
from alembic import op

import app.core.db

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

TS = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('external_pushes') as batch:
        batch.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='sent'))
        batch.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('first_failed_at', TS, nullable=True))
        batch.add_column(sa.Column('next_attempt_at', TS, nullable=True))
        batch.add_column(sa.Column('alerted_at', TS, nullable=True))
        batch.alter_column('pushed_at', existing_type=TS, nullable=True)
        batch.create_index('ix_external_pushes_status_next', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.execute("DELETE FROM external_pushes WHERE status <> 'sent'")
    with op.batch_alter_table('external_pushes') as batch:
        batch.drop_index('ix_external_pushes_status_next')
        batch.alter_column('pushed_at', existing_type=TS, nullable=False)
        for column in ('alerted_at', 'next_attempt_at', 'first_failed_at', 'last_error', 'attempts', 'status'):
            batch.drop_column(column)

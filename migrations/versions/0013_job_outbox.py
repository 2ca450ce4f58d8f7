"""job outbox: work to run after a commit is written in the same transaction and relayed to rq (issue 13.3)

Revision ID: 0013
Revises: 0014
Create Date: 2026-12-03 19:50:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0013'
down_revision = '0014'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('job_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('func', sa.String(length=200), nullable=False),
    sa.Column('args', JSON, nullable=False),
    sa.Column('kwargs', JSON, nullable=False),
    sa.Column('job_id', sa.String(length=120), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('backoff', JSON, nullable=False),
    sa.Column('delay_s', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('available_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('relayed_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_outbox'))
    )
    op.create_index('ix_job_outbox_status_available', 'job_outbox', ['status', 'available_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_job_outbox_status_available', table_name='job_outbox')
    op.drop_table('job_outbox')

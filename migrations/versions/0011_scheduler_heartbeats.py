"""scheduler heartbeats: each scheduler process beats; health and metrics see a dead or leaderless scheduler

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:00:00
"""
import sqlalchemy as sa
from alembic import op

import app.core.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduler_heartbeats',
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('is_leader', sa.Boolean(), nullable=False),
    sa.Column('started_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('leader_since', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('holder', name=op.f('pk_scheduler_heartbeats'))
    )
    op.create_index(op.f('ix_scheduler_heartbeats_beat_at'), 'scheduler_heartbeats', ['beat_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_scheduler_heartbeats_beat_at'), table_name='scheduler_heartbeats')
    op.drop_table('scheduler_heartbeats')

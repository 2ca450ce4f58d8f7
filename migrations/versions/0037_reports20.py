"""custom reports: saved reports and their monthly deliveries (issue 20.5)

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-04 13:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('saved_reports',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('owner_id', BigId, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('shared_role', sa.String(length=40), nullable=True),
    sa.Column('schedule_day', sa.Integer(), nullable=True),
    sa.Column('schedule_format', sa.String(length=8), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_reports'))
    )
    with op.batch_alter_table('saved_reports', schema=None) as batch_op:
        batch_op.create_index('ix_saved_reports_owner', ['owner_id'], unique=False)
    op.create_table('report_deliveries',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('report_id', BigId, nullable=False),
    sa.Column('owner_id', BigId, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_deliveries')),
    sa.UniqueConstraint('report_id', 'period', name='uq_report_deliveries_report_period')
    )


def downgrade() -> None:
    op.drop_table('report_deliveries')
    with op.batch_alter_table('saved_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_reports_owner')
    op.drop_table('saved_reports')

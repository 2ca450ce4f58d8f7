"""quality alerts: one row per indicator, organisation, period and breached level (issue 20)

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-03 23:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0018'
down_revision = '0013'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('quality_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('indicator_id', sa.String(length=80), nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('numerator', sa.Integer(), nullable=False),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('part', sa.String(length=20), nullable=False),
    sa.Column('subjects', JSON, nullable=False),
    sa.Column('recipients', JSON, nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_alerts')),
    sa.UniqueConstraint('indicator_id', 'org_code', 'period', 'level',
                        name=op.f('uq_quality_alerts_indicator_id'))
    )
    op.create_index('ix_quality_alerts_org_path', 'quality_alerts', ['org_path', 'period'], unique=False,
                    postgresql_ops={'org_path': 'varchar_pattern_ops'})


def downgrade() -> None:
    op.drop_index('ix_quality_alerts_org_path', table_name='quality_alerts')
    op.drop_table('quality_alerts')

"""quality: materialized indicator figures per month, organisation and dimension (issue 20.3)

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-04 16:00:00
"""
import sqlalchemy as sa
from alembic import op

import app.core.db

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('quality_aggregates',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('indicator_id', sa.String(length=80), nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('dim', sa.String(length=20), nullable=False),
    sa.Column('dim_value', sa.String(length=80), nullable=False),
    sa.Column('numerator', sa.Integer(), nullable=False),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_aggregates')),
    sa.UniqueConstraint('period', 'indicator_id', 'org_code', 'dim', 'dim_value',
                        name=op.f('uq_quality_aggregates_period'))
    )
    with op.batch_alter_table('quality_aggregates', schema=None) as batch_op:
        batch_op.create_index('ix_quality_aggregates_org', ['org_code', 'period', 'dim'], unique=False)
    op.create_table('quality_aggregate_runs',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('as_of', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.String(length=10), nullable=True),
    sa.Column('started_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('period', name=op.f('pk_quality_aggregate_runs'))
    )


def downgrade() -> None:
    op.drop_table('quality_aggregate_runs')
    with op.batch_alter_table('quality_aggregates', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_aggregates_org')
    op.drop_table('quality_aggregates')

"""performance appraisal: versioned schemes and period results (issue 20.4)

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04 12:40:00
"""
from alembic import op
import sqlalchemy as sa
import app.core.db
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON_ = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('appraisal_schemes',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('note', sa.String(length=400), nullable=False),
    sa.Column('items', JSON_, nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_schemes')),
    sa.UniqueConstraint('kind', 'version', name=op.f('uq_appraisal_schemes_kind'))
    )
    op.create_table('appraisal_results',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('scheme_id', BigId, nullable=False),
    sa.Column('scheme_version', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.String(length=10), nullable=False),
    sa.Column('window_end', sa.String(length=10), nullable=False),
    sa.Column('indicators', JSON_, nullable=False),
    sa.Column('subjects', JSON_, nullable=False),
    sa.Column('computed_by', sa.String(length=120), nullable=False),
    sa.Column('computed_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_results')),
    sa.UniqueConstraint('kind', 'period', name=op.f('uq_appraisal_results_kind'))
    )


def downgrade() -> None:
    op.drop_table('appraisal_results')
    op.drop_table('appraisal_schemes')

"""prescription pre-review: a medication-error report (用药差错/不良事件报告) recorded with every refusal
(medication_error_reports) (issue 18.1)

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-04 17:15:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'medication_error_reports',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('prescription_id', BigId, nullable=False),
        sa.Column('rx_id', sa.String(length=60), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('version_hash', sa.String(length=64), nullable=False),
        sa.Column('resident_id', BigId, nullable=False),
        sa.Column('org_code', sa.String(length=40), nullable=False),
        sa.Column('org_path', sa.String(length=400), nullable=False),
        sa.Column('review_org_code', sa.String(length=40), nullable=False),
        sa.Column('prescriber', sa.String(length=120), nullable=False),
        sa.Column('pharmacist', sa.String(length=120), nullable=False),
        sa.Column('first_pharmacist', sa.String(length=120), nullable=True),
        sa.Column('double_signed', sa.Boolean(), nullable=False),
        sa.Column('problems', JSON, nullable=False),
        sa.Column('opinion', sa.Text(), nullable=True),
        sa.Column('findings', JSON, nullable=False),
        sa.Column('category', sa.String(length=2), nullable=False),
        sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_medication_error_reports')),
        sa.UniqueConstraint('prescription_id', 'version', name='uq_medication_error_reports_version'),
    )
    op.create_index('ix_medication_error_reports_org_path', 'medication_error_reports', ['org_path', 'created_at'],
                    unique=False, postgresql_ops={'org_path': 'varchar_pattern_ops'})


def downgrade() -> None:
    op.drop_index('ix_medication_error_reports_org_path', table_name='medication_error_reports')
    op.drop_table('medication_error_reports')

"""referrals and transfers reported by the HIS, the public-health platform and the insurance platform
(reported_referrals), summarised beside the network's own (issue 20.6)

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-04 19:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0046'
down_revision = '0045'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'reported_referrals',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('source_id', sa.String(length=60), nullable=False),
        sa.Column('client_id', sa.String(length=80), nullable=True),
        sa.Column('direction', sa.String(length=4), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('resident_id', BigId, nullable=False),
        sa.Column('resident_name', sa.String(length=120), nullable=True),
        sa.Column('resident_org_path', sa.String(length=400), nullable=False),
        sa.Column('from_org_code', sa.String(length=40), nullable=True),
        sa.Column('from_org_path', sa.String(length=400), nullable=True),
        sa.Column('from_hospital', sa.String(length=120), nullable=True),
        sa.Column('to_org_code', sa.String(length=40), nullable=True),
        sa.Column('to_org_path', sa.String(length=400), nullable=True),
        sa.Column('to_hospital', sa.String(length=120), nullable=True),
        sa.Column('referred_on', sa.Date(), nullable=False),
        sa.Column('diagnosis_code', sa.String(length=20), nullable=True),
        sa.Column('diagnosis', sa.String(length=200), nullable=True),
        sa.Column('total_cost_fen', BigId, nullable=True),
        sa.Column('insurance_paid_fen', BigId, nullable=True),
        sa.Column('payload', JSON, nullable=False),
        sa.Column('received_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reported_referrals')),
        sa.UniqueConstraint('source', 'source_id', name='uq_reported_referrals_source'),
    )
    op.create_index('ix_reported_referrals_resident', 'reported_referrals', ['resident_id', 'referred_on'],
                    unique=False)
    op.create_index('ix_reported_referrals_path', 'reported_referrals', ['resident_org_path', 'referred_on'],
                    unique=False, postgresql_ops={'resident_org_path': 'varchar_pattern_ops'})


def downgrade() -> None:
    op.drop_index('ix_reported_referrals_path', table_name='reported_referrals')
    op.drop_index('ix_reported_referrals_resident', table_name='reported_referrals')
    op.drop_table('reported_referrals')

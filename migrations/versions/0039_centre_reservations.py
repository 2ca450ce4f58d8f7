"""interventional centre: consumable reservations per lot and the scheduled monthly report (issue 18.4–6)

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-04 16:10:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = app.core.db.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('supply_reservations',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('case_ref', sa.String(length=80), nullable=False),
    sa.Column('resident_id', BigId, nullable=True),
    sa.Column('store_id', BigId, nullable=False),
    sa.Column('item_id', BigId, nullable=False),
    sa.Column('lot_id', BigId, nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('consumed', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('closed_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_reservations'))
    )
    with op.batch_alter_table('supply_reservations', schema=None) as batch_op:
        batch_op.create_index('ix_supply_reservations_case', ['case_ref', 'status'], unique=False)
        batch_op.create_index('ix_supply_reservations_lot', ['lot_id', 'status'], unique=False)
    op.create_table('intervention_monthly_reports',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('xlsx', sa.LargeBinary(), nullable=True),
    sa.Column('recipients', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('delivered_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervention_monthly_reports')),
    sa.UniqueConstraint('org_code', 'period', name='uq_intervention_monthly_reports_org_period')
    )


def downgrade() -> None:
    op.drop_table('intervention_monthly_reports')
    with op.batch_alter_table('supply_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_supply_reservations_lot')
        batch_op.drop_index('ix_supply_reservations_case')
    op.drop_table('supply_reservations')

"""family-doctor contracting: versioned service packages, contracts, their items (schedule), the delivery ledger
and payments from the cashier/insurance system (issue 21.4, 21.5)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 04:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('contract_packages',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('target_groups', JSON, nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('payer_split', JSON, nullable=False),
    sa.Column('items', JSON, nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_packages')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_contract_packages_code_version'))
    )
    op.create_table('contracts',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('contract_no', sa.String(length=24), nullable=False),
    sa.Column('resident_id', BIGID, nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('doctor_user_id', BIGID, nullable=True),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_package', sa.String(length=40), nullable=True),
    sa.Column('assessment', JSON, nullable=False),
    sa.Column('recommended', JSON, nullable=False),
    sa.Column('packages', JSON, nullable=False),
    sa.Column('amount_due_fen', sa.Integer(), nullable=False),
    sa.Column('offer_expires_at', TS, nullable=True),
    sa.Column('paid_at', TS, nullable=True),
    sa.Column('signature', JSON, nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('previous_id', BIGID, nullable=True),
    sa.Column('renewal', sa.String(length=12), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.String(length=200), nullable=True),
    sa.Column('instance_id', BIGID, nullable=True),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('contract_no', name=op.f('uq_contracts_contract_no'))
    )
    op.create_index('ix_contracts_instance_id', 'contracts', ['instance_id'], unique=False)
    op.create_index('ix_contracts_resident', 'contracts', ['resident_id', 'status'], unique=False)
    op.create_index('ix_contracts_org_path', 'contracts', ['org_path'], unique=False,
                    postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.create_table('contract_items',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('contract_id', BIGID, nullable=False),
    sa.Column('package_code', sa.String(length=40), nullable=False),
    sa.Column('service_code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('disease', sa.String(length=20), nullable=True),
    sa.Column('provider_level', sa.String(length=12), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('due_dates', JSON, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_items')),
    sa.UniqueConstraint('contract_id', 'package_code', 'service_code', name=op.f('uq_contract_items'))
    )
    op.create_index('ix_contract_items_contract_id', 'contract_items', ['contract_id'], unique=False)
    op.create_table('contract_deliveries',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('contract_id', BIGID, nullable=False),
    sa.Column('item_id', BIGID, nullable=False),
    sa.Column('unit_no', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_ref', sa.String(length=60), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_deliveries')),
    sa.UniqueConstraint('item_id', 'source', 'source_ref', name=op.f('uq_contract_deliveries_source'))
    )
    op.create_index('ix_contract_deliveries_contract_id', 'contract_deliveries', ['contract_id'], unique=False)
    op.create_index('ix_contract_deliveries_item_id', 'contract_deliveries', ['item_id'], unique=False)
    op.create_table('contract_payments',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('payment_ref', sa.String(length=120), nullable=False),
    sa.Column('contract_no', sa.String(length=24), nullable=False),
    sa.Column('contract_id', BIGID, nullable=True),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('payer', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('flag', sa.String(length=40), nullable=True),
    sa.Column('received_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_payments')),
    sa.UniqueConstraint('payment_ref', name=op.f('uq_contract_payments_payment_ref'))
    )
    op.create_index('ix_contract_payments_contract_no', 'contract_payments', ['contract_no'], unique=False)


def downgrade() -> None:
    op.drop_table('contract_payments')
    op.drop_table('contract_deliveries')
    op.drop_table('contract_items')
    op.drop_table('contracts')
    op.drop_table('contract_packages')

"""mutual recognition: accreditations, checked orders, and the producing organisation of an observation (issue 17.5)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 03:50:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('observations') as batch:
        batch.add_column(sa.Column('org_code', sa.String(length=40), nullable=True))
    op.create_table('recognition_accreditations',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('item_class', sa.String(length=12), nullable=False),
    sa.Column('item_code', sa.String(length=20), nullable=False),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("item_class IN ('lab', 'imaging')", name=op.f('ck_recognition_accreditations_item_class')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_accreditations')),
    sa.UniqueConstraint('org_code', 'item_class', 'item_code', name='uq_recognition_accreditation')
    )
    op.create_index(op.f('ix_recognition_accreditations_org_code'), 'recognition_accreditations', ['org_code'],
                    unique=False)
    op.create_table('recognition_orders',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('order_key', sa.String(length=140), nullable=False),
    sa.Column('order_no', sa.String(length=60), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('resident_id', BIGID, nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('orderer', sa.String(length=120), nullable=False),
    sa.Column('orderer_user_id', BIGID, nullable=True),
    sa.Column('item_class', sa.String(length=12), nullable=False),
    sa.Column('item_code', sa.String(length=20), nullable=False),
    sa.Column('ordered_at', TS, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('matched', JSON, nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('reason_note', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=120), nullable=True),
    sa.Column('answered_at', TS, nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.CheckConstraint("status IN ('clear', 'awaiting_reason', 'kept', 'withdrawn')",
                       name=op.f('ck_recognition_orders_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_orders')),
    sa.UniqueConstraint('order_key', name=op.f('uq_recognition_orders_order_key'))
    )
    op.create_index('ix_recognition_orders_org_path', 'recognition_orders', ['org_path', 'ordered_at'], unique=False,
                    postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.create_index('ix_recognition_orders_resident', 'recognition_orders', ['resident_id', 'ordered_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_recognition_orders_resident', table_name='recognition_orders')
    op.drop_index('ix_recognition_orders_org_path', table_name='recognition_orders')
    op.drop_table('recognition_orders')
    op.drop_index(op.f('ix_recognition_accreditations_org_code'), table_name='recognition_accreditations')
    op.drop_table('recognition_accreditations')
    with op.batch_alter_table('observations') as batch:
        batch.drop_column('org_code')

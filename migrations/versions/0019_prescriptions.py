"""prescriptions, their state trace and the results owed to the HIS (issue 18.1, rx_prereview)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 00:10:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('prescriptions',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('source_key', sa.String(length=140), nullable=False),
    sa.Column('rx_id', sa.String(length=60), nullable=False),
    sa.Column('resident_id', BIGID, nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('review_org_code', sa.String(length=40), nullable=False),
    sa.Column('prescriber', sa.String(length=120), nullable=False),
    sa.Column('prescriber_role', sa.String(length=40), nullable=False),
    sa.Column('setting', sa.String(length=12), nullable=False),
    sa.Column('indication', sa.String(length=40), nullable=False),
    sa.Column('diagnosis', sa.String(length=200), nullable=False),
    sa.Column('clinical', JSON, nullable=False),
    sa.Column('items', JSON, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('findings', JSON, nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('instance_id', BIGID, nullable=True),
    sa.Column('received_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescriptions')),
    sa.UniqueConstraint('source_key', name=op.f('uq_prescriptions_source_key'))
    )
    op.create_index('ix_prescriptions_org_path', 'prescriptions', ['org_path', 'received_at'], unique=False,
                    postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.create_index('ix_prescriptions_resident', 'prescriptions', ['resident_id', 'received_at'], unique=False)
    op.create_index(op.f('ix_prescriptions_instance_id'), 'prescriptions', ['instance_id'], unique=False)
    op.create_table('prescription_states',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('prescription_id', BIGID, nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('detail', JSON, nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescription_states'))
    )
    op.create_index('ix_prescription_states_rx', 'prescription_states', ['prescription_id', 'id'], unique=False)
    op.create_table('prescription_results',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('prescription_id', BIGID, nullable=False),
    sa.Column('rx_id', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('sent_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescription_results'))
    )
    op.create_index(op.f('ix_prescription_results_prescription_id'), 'prescription_results', ['prescription_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_prescription_results_prescription_id'), table_name='prescription_results')
    op.drop_table('prescription_results')
    op.drop_index('ix_prescription_states_rx', table_name='prescription_states')
    op.drop_table('prescription_states')
    op.drop_index(op.f('ix_prescriptions_instance_id'), table_name='prescriptions')
    op.drop_index('ix_prescriptions_resident', table_name='prescriptions')
    op.drop_index('ix_prescriptions_org_path', table_name='prescriptions')
    op.drop_table('prescriptions')

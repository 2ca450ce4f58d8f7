"""batch starts: a set operation starting many instances of one process, with progress and per-item outcome
(batch_starts, batch_start_items) (issue 23.3)

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-04 19:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0048'
down_revision = '0047'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'batch_starts',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('process_id', sa.String(length=120), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('started', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('chunk_size', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_starts')),
    )
    op.create_index('ix_batch_starts_kind_status', 'batch_starts', ['kind', 'status'], unique=False)
    op.create_table(
        'batch_start_items',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('batch_id', BigId, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('ref', sa.String(length=120), nullable=False),
        sa.Column('business_key', sa.String(length=120), nullable=False),
        sa.Column('resident_id', BigId, nullable=True),
        sa.Column('org_code', sa.String(length=40), nullable=True),
        sa.Column('data', JSON, nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('instance_id', BigId, nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['batch_starts.id'], name=op.f('fk_batch_start_items_batch_id_batch_starts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_start_items')),
        sa.UniqueConstraint('batch_id', 'seq', name=op.f('uq_batch_start_items_batch_id')),
    )
    op.create_index('ix_batch_start_items_status', 'batch_start_items', ['batch_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_batch_start_items_status', table_name='batch_start_items')
    op.drop_table('batch_start_items')
    op.drop_index('ix_batch_starts_kind_status', table_name='batch_starts')
    op.drop_table('batch_starts')

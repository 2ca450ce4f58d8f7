"""screening at scale: a population run is split into chunks of resident ids, each one rq job
(screening_run_chunks; total/done/failed chunk counters on screening_runs) (issue 23.4)

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-04 19:15:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0047'
down_revision = '0046'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('screening_runs') as batch:
        batch.add_column(sa.Column('total_chunks', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('done_chunks', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('failed_chunks', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'screening_run_chunks',
        sa.Column('run_id', BigId, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('lo', BigId, nullable=False),
        sa.Column('hi', BigId, nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_until', app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('worker', sa.String(length=120), nullable=True),
        sa.Column('processed', sa.Integer(), nullable=False),
        sa.Column('cases_created', sa.Integer(), nullable=False),
        sa.Column('cpu_s', sa.Float(), nullable=True),
        sa.Column('wall_s', sa.Float(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('finished_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['screening_runs.id'], name=op.f('fk_screening_run_chunks_run_id_screening_runs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('run_id', 'seq', name=op.f('pk_screening_run_chunks')),
    )
    op.create_index('ix_screening_run_chunks_status', 'screening_run_chunks', ['status', 'lease_until'])


def downgrade() -> None:
    op.drop_index('ix_screening_run_chunks_status', table_name='screening_run_chunks')
    op.drop_table('screening_run_chunks')
    with op.batch_alter_table('screening_runs') as batch:
        batch.drop_column('failed_chunks')
        batch.drop_column('done_chunks')
        batch.drop_column('total_chunks')

"""anticoagulant monitoring episodes, their results and events (issue 18.3, anticoag_monitoring)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 09:20:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import app.core.db

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('anticoag_episodes',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('resident_id', BIGID, nullable=False),
    sa.Column('drug', sa.String(length=40), nullable=False),
    sa.Column('indication', sa.String(length=40), nullable=False),
    sa.Column('target_lo', sa.Float(), nullable=True),
    sa.Column('target_hi', sa.Float(), nullable=True),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('prescriber_org_code', sa.String(length=40), nullable=False),
    sa.Column('prescription_id', BIGID, nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('dose_mg', sa.Float(), nullable=True),
    sa.Column('frequency', sa.String(length=12), nullable=True),
    sa.Column('weekly_dose_mg', sa.Float(), nullable=True),
    sa.Column('dose_band', sa.String(length=60), nullable=True),
    sa.Column('crcl_ml_min', sa.Float(), nullable=True),
    sa.Column('weight_kg', sa.Float(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('next_inr_due', sa.Date(), nullable=True),
    sa.Column('next_renal_due', sa.Date(), nullable=True),
    sa.Column('next_platelet_due', sa.Date(), nullable=True),
    sa.Column('instance_id', BIGID, nullable=True),
    sa.Column('stopped_reason', sa.Text(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_anticoag_episodes_resident', 'anticoag_episodes', ['resident_id', 'drug', 'status'])
    op.create_index('ix_anticoag_episodes_org_path', 'anticoag_episodes', ['org_path'],
                    postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.create_index(op.f('ix_anticoag_episodes_instance_id'), 'anticoag_episodes', ['instance_id'])
    op.create_table('anticoag_results',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('source_key', sa.String(length=120), nullable=False),
    sa.Column('episode_id', BIGID, nullable=False),
    sa.Column('resident_id', BIGID, nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('in_range', sa.Boolean(), nullable=True),
    sa.Column('bleeding', sa.String(length=8), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('detail', JSON, nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key'))
    op.create_index('ix_anticoag_results_episode', 'anticoag_results', ['episode_id', 'measured_on'])
    op.create_table('anticoag_events',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('episode_id', BIGID, nullable=False),
    sa.Column('resident_id', BIGID, nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('detail', JSON, nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_anticoag_events_episode', 'anticoag_events', ['episode_id', 'id'])


def downgrade() -> None:
    op.drop_table('anticoag_events')
    op.drop_table('anticoag_results')
    op.drop_table('anticoag_episodes')

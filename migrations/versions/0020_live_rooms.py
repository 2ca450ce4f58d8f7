"""live rooms: rooms, bound devices, vital readings, alarms, WebRTC signals (issue 17.2/17.3)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 03:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('live_rooms',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('ref', BIGID, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('participants', JSON, nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('video_url', sa.String(length=500), nullable=True),
    sa.Column('opened_at', TS, nullable=False),
    sa.Column('closed_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_rooms')),
    sa.UniqueConstraint('kind', 'ref', name=op.f('uq_live_rooms_kind'))
    )
    op.create_table('live_devices',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('room_id', BIGID, nullable=False),
    sa.Column('device_id', sa.String(length=120), nullable=False),
    sa.Column('bound_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_devices'))
    )
    op.create_index('ix_live_devices_device', 'live_devices', ['device_id', 'id'], unique=False)
    op.create_index(op.f('ix_live_devices_room_id'), 'live_devices', ['room_id'], unique=False)
    op.create_table('live_readings',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('room_id', BIGID, nullable=False),
    sa.Column('device_id', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.Column('received_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_readings'))
    )
    op.create_index('ix_live_readings_room', 'live_readings', ['room_id', 'id'], unique=False)
    op.create_index('ix_live_readings_room_channel', 'live_readings', ['room_id', 'channel', 'at'], unique=False)
    op.create_table('live_alarms',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('room_id', BIGID, nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('threshold', sa.String(length=20), nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_alarms'))
    )
    op.create_index('ix_live_alarms_room', 'live_alarms', ['room_id', 'id'], unique=False)
    op.create_table('live_signals',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('room_id', BIGID, nullable=False),
    sa.Column('sender', BIGID, nullable=False),
    sa.Column('recipient', BIGID, nullable=True),
    sa.Column('type', sa.String(length=12), nullable=False),
    sa.Column('data', JSON, nullable=False),
    sa.Column('at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_signals'))
    )
    op.create_index('ix_live_signals_room', 'live_signals', ['room_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_live_signals_room', table_name='live_signals')
    op.drop_table('live_signals')
    op.drop_index('ix_live_alarms_room', table_name='live_alarms')
    op.drop_table('live_alarms')
    op.drop_index('ix_live_readings_room_channel', table_name='live_readings')
    op.drop_index('ix_live_readings_room', table_name='live_readings')
    op.drop_table('live_readings')
    op.drop_index(op.f('ix_live_devices_room_id'), table_name='live_devices')
    op.drop_index('ix_live_devices_device', table_name='live_devices')
    op.drop_table('live_devices')
    op.drop_table('live_rooms')

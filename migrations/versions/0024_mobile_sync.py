"""mobile sync: registered devices, packet snapshots, completion commands, offline leases (issue 22.1)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 03:23:14.558224
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mobile_devices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('device_key', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('label', sa.String(length=160), nullable=True),
    sa.Column('registered_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sync_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=120), nullable=True),
    sa.Column('revoke_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mobile_devices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_devices')),
    sa.UniqueConstraint('device_key', 'user_id', name=op.f('uq_mobile_devices_device_key'))
    )
    with op.batch_alter_table('mobile_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mobile_devices_user_id'), ['user_id'], unique=False)

    op.create_table('mobile_completions',
    sa.Column('completion_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('device_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('completed_at_device', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['mobile_devices.id'], name=op.f('fk_mobile_completions_device_id_mobile_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('completion_id', name=op.f('pk_mobile_completions'))
    )
    with op.batch_alter_table('mobile_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mobile_completions_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mobile_completions_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mobile_completions_user_id'), ['user_id'], unique=False)

    op.create_table('mobile_leases',
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('device_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('granted_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['mobile_devices.id'], name=op.f('fk_mobile_leases_device_id_mobile_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_mobile_leases_task_id_human_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'device_id', name=op.f('pk_mobile_leases'))
    )
    op.create_table('mobile_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('nonce', sa.String(length=16), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['mobile_devices.id'], name=op.f('fk_mobile_snapshots_device_id_mobile_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_snapshots'))
    )
    with op.batch_alter_table('mobile_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_mobile_snapshots_device', ['device_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mobile_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_mobile_snapshots_device')

    op.drop_table('mobile_snapshots')
    op.drop_table('mobile_leases')
    with op.batch_alter_table('mobile_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mobile_completions_user_id'))
        batch_op.drop_index(batch_op.f('ix_mobile_completions_task_id'))
        batch_op.drop_index(batch_op.f('ix_mobile_completions_device_id'))

    op.drop_table('mobile_completions')
    with op.batch_alter_table('mobile_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mobile_devices_user_id'))

    op.drop_table('mobile_devices')

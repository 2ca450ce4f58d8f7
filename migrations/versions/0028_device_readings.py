"""device readings: devices registered to residents and every vendor reading with its outcome (issue 22.4)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 03:44:37.265275
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_readings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('vendor', sa.String(length=40), nullable=False),
    sa.Column('reading_key', sa.String(length=80), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('measured_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('observation_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('received_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_readings')),
    sa.UniqueConstraint('vendor', 'reading_key', name=op.f('uq_device_readings_vendor'))
    )
    with op.batch_alter_table('device_readings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_readings_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index('ix_device_readings_status', ['status', 'vendor', 'serial'], unique=False)

    op.create_table('device_registrations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('vendor', sa.String(length=40), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('registered_by', sa.String(length=120), nullable=False),
    sa.Column('registered_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_device_registrations_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_registrations')),
    sa.UniqueConstraint('vendor', 'serial', name=op.f('uq_device_registrations_vendor'))
    )
    with op.batch_alter_table('device_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_registrations_resident_id'), ['resident_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('device_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_registrations_resident_id'))

    op.drop_table('device_registrations')
    with op.batch_alter_table('device_readings', schema=None) as batch_op:
        batch_op.drop_index('ix_device_readings_status')
        batch_op.drop_index(batch_op.f('ix_device_readings_resident_id'))

    op.drop_table('device_readings')

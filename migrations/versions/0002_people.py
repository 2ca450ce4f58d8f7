"""people: organizations, users, roles, sessions, API tokens, integration clients, residents, audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:31:53.761618
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('object_type', sa.String(length=60), nullable=False),
    sa.Column('object_id', sa.String(length=80), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('request_id', sa.String(length=40), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action', ['action', 'at'], unique=False)
        batch_op.create_index('ix_audit_entries_actor', ['actor', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_object', ['object_type', 'object_id', 'at'], unique=False)

    op.create_table('organizations',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('parent_code', sa.String(length=40), nullable=True),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.CheckConstraint("level IN ('county', 'department', 'township', 'village')", name=op.f('ck_organizations_level')),
    sa.ForeignKeyConstraint(['parent_code'], ['organizations.code'], name=op.f('fk_organizations_parent_code_organizations')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_organizations'))
    )
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organizations_parent_code'), ['parent_code'], unique=False)
        batch_op.create_index('ix_organizations_path', ['path'], unique=False, postgresql_ops={'path': 'varchar_pattern_ops'})

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_login_count', sa.Integer(), nullable=False),
    sa.Column('locked_until', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_code'], ['organizations.code'], name=op.f('fk_users_org_code_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_org_code'), ['org_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_resident_id'), ['resident_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('integration_clients',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_integration_clients_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_integration_clients_client_id'))
    )
    with op.batch_alter_table('integration_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integration_clients_user_id'), ['user_id'], unique=False)

    op.create_table('residents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('phone_encrypted', sa.Text(), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('id_number_encrypted', sa.Text(), nullable=False),
    sa.Column('id_number_hash', sa.String(length=64), nullable=False),
    sa.Column('id_number_last4', sa.String(length=4), nullable=False),
    sa.Column('id_number_prefix', sa.String(length=4), nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('org_path', sa.String(length=400), nullable=False),
    sa.Column('family_doctor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sex IN ('M', 'F')", name=op.f('ck_residents_sex')),
    sa.ForeignKeyConstraint(['family_doctor_user_id'], ['users.id'], name=op.f('fk_residents_family_doctor_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_code'], ['organizations.code'], name=op.f('fk_residents_org_code_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residents')),
    sa.UniqueConstraint('id_number_hash', name=op.f('uq_residents_id_number_hash'))
    )
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residents_family_doctor_user_id'), ['family_doctor_user_id'], unique=False)
        batch_op.create_index('ix_residents_name', ['name'], unique=False, postgresql_ops={'name': 'varchar_pattern_ops'})
        batch_op.create_index(batch_op.f('ix_residents_org_code'), ['org_code'], unique=False)
        batch_op.create_index('ix_residents_org_path', ['org_path'], unique=False, postgresql_ops={'org_path': 'varchar_pattern_ops'})

    op.create_table('user_roles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_roles')),
    sa.UniqueConstraint('user_id', 'role', name=op.f('uq_user_roles_user_id'))
    )
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_roles_role'), ['role'], unique=False)

    op.create_table('user_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sid_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('sid_hash', name=op.f('uq_user_sessions_sid_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_roles_role'))

    op.drop_table('user_roles')
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index('ix_residents_org_path', postgresql_ops={'org_path': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_residents_org_code'))
        batch_op.drop_index('ix_residents_name', postgresql_ops={'name': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_residents_family_doctor_user_id'))

    op.drop_table('residents')
    with op.batch_alter_table('integration_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integration_clients_user_id'))

    op.drop_table('integration_clients')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_resident_id'))
        batch_op.drop_index(batch_op.f('ix_users_org_code'))

    op.drop_table('users')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index('ix_organizations_path', postgresql_ops={'path': 'varchar_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_organizations_parent_code'))

    op.drop_table('organizations')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_object')
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
        batch_op.drop_index('ix_audit_entries_actor')
        batch_op.drop_index('ix_audit_entries_action')

    op.drop_table('audit_entries')

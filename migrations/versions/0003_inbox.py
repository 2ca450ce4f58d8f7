"""inbox: comments, saved filters, delegations, completion receipts, notifications, inbox indexes on human_tasks

The human_tasks indexes are declared in app/tasks/models.py (partial on open tasks; varchar_pattern_ops for the
org-path prefix on PostgreSQL, whose LIKE cannot use a plain btree under a non-C collation).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:42:02.955552
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=255), nullable=True),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_task_id'), ['task_id'], unique=False)
        batch_op.create_index('ix_notifications_undelivered', ['delivered_at', 'id'], unique=False)
        batch_op.create_index('ix_notifications_user', ['user_id', 'read_at', 'id'], unique=False)

    op.create_table('task_saved_filters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('org_code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('view', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('shared_with_org', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_saved_filters')),
    sa.UniqueConstraint('owner_id', 'name', name=op.f('uq_task_saved_filters_owner_id'))
    )
    with op.batch_alter_table('task_saved_filters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_saved_filters_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_task_saved_filters_shared', ['org_code', 'shared_with_org'], unique=False)

    op.create_table('task_comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('author_name', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_task_comments_task_id_human_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_comments'))
    )
    with op.batch_alter_table('task_comments', schema=None) as batch_op:
        batch_op.create_index('ix_task_comments_task', ['task_id', 'id'], unique=False)

    op.create_table('task_completions',
    sa.Column('completion_id', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_task_completions_task_id_human_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('completion_id', name=op.f('pk_task_completions'))
    )
    with op.batch_alter_table('task_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_completions_task_id'), ['task_id'], unique=False)

    op.create_table('task_delegations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('to_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delegated_by', sa.String(length=120), nullable=False),
    sa.Column('delegated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('returned_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_task_delegations_task_id_human_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_delegations'))
    )
    with op.batch_alter_table('task_delegations', schema=None) as batch_op:
        batch_op.create_index('ix_task_delegations_task', ['task_id', 'id'], unique=False)

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_human_tasks_completed_by', ['completed_by', 'completed_at'], unique=False)
        batch_op.create_index('ix_human_tasks_groups_due', ['role', 'due_at', 'id'], unique=False, postgresql_include=['org_path', 'priority', 'risk_level', 'disease', 'village_code', 'resident_name', 'name'], postgresql_where=sa.text("status = 'open' AND assignee_id IS NULL"), sqlite_where=sa.text("status = 'open' AND assignee_id IS NULL"))
        batch_op.create_index('ix_human_tasks_groups_started_by', ['started_by', 'due_at', 'id'], unique=False, postgresql_where=sa.text("status = 'open' AND assignee_id IS NULL AND role IS NULL"), sqlite_where=sa.text("status = 'open' AND assignee_id IS NULL AND role IS NULL"))
        batch_op.create_index('ix_human_tasks_groups_path', ['role', 'org_path', 'due_at'], unique=False, postgresql_include=['risk_level', 'id'], postgresql_ops={'org_path': 'varchar_pattern_ops'}, postgresql_where=sa.text("status = 'open' AND assignee_id IS NULL"), sqlite_where=sa.text("status = 'open' AND assignee_id IS NULL"))
        batch_op.create_index('ix_human_tasks_open_disease', ['disease', 'risk_level', 'due_at', 'id'], unique=False, postgresql_include=['org_path', 'role', 'assignee_id'], postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_human_tasks_open_due', ['due_at', 'id'], unique=False, postgresql_include=['org_path', 'priority', 'risk_level', 'disease', 'village_code', 'resident_name', 'name'], postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_human_tasks_open_org', ['org_code'], unique=False, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_human_tasks_open_path', ['org_path', 'due_at'], unique=False, postgresql_include=['risk_level', 'id'], postgresql_ops={'org_path': 'varchar_pattern_ops'}, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_human_tasks_open_resident_name', ['resident_name'], unique=False, postgresql_ops={'resident_name': 'varchar_pattern_ops'}, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_human_tasks_open_type', ['process_id', 'element_id'], unique=False, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_human_tasks_open_village', ['village_code', 'due_at', 'id'], unique=False, postgresql_include=['org_path', 'role', 'assignee_id'], postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))



def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_open_village', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_human_tasks_open_type', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_human_tasks_open_resident_name', postgresql_ops={'resident_name': 'varchar_pattern_ops'}, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_human_tasks_open_path', postgresql_ops={'org_path': 'varchar_pattern_ops'}, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_human_tasks_open_org', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_human_tasks_open_due', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_human_tasks_open_disease', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_human_tasks_groups_started_by', postgresql_where=sa.text("status = 'open' AND assignee_id IS NULL AND role IS NULL"), sqlite_where=sa.text("status = 'open' AND assignee_id IS NULL AND role IS NULL"))
        batch_op.drop_index('ix_human_tasks_groups_path', postgresql_ops={'org_path': 'varchar_pattern_ops'}, postgresql_where=sa.text("status = 'open' AND assignee_id IS NULL"), sqlite_where=sa.text("status = 'open' AND assignee_id IS NULL"))
        batch_op.drop_index('ix_human_tasks_groups_due', postgresql_where=sa.text("status = 'open' AND assignee_id IS NULL"), sqlite_where=sa.text("status = 'open' AND assignee_id IS NULL"))
        batch_op.drop_index('ix_human_tasks_completed_by')

    with op.batch_alter_table('task_delegations', schema=None) as batch_op:
        batch_op.drop_index('ix_task_delegations_task')

    op.drop_table('task_delegations')
    with op.batch_alter_table('task_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_completions_task_id'))

    op.drop_table('task_completions')
    with op.batch_alter_table('task_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_task_comments_task')

    op.drop_table('task_comments')
    with op.batch_alter_table('task_saved_filters', schema=None) as batch_op:
        batch_op.drop_index('ix_task_saved_filters_shared')
        batch_op.drop_index(batch_op.f('ix_task_saved_filters_owner_id'))

    op.drop_table('task_saved_filters')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user')
        batch_op.drop_index('ix_notifications_undelivered')
        batch_op.drop_index(batch_op.f('ix_notifications_task_id'))

    op.drop_table('notifications')

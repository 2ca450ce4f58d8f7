"""care plans, follow-up schedules/visits/escalations, referral requests, education library and pushes

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-23 17:05:00

Ordering note: 0005 and 0004 were written on top of this revision (0003 → 0006 → 0005 → 0004), so 0006 keeps
down_revision 0003.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('care_plans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('disease', sa.String(length=20), nullable=False),
    sa.Column('risk_level', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=True),
    sa.Column('org_code', sa.String(length=40), nullable=True),
    sa.Column('org_path', sa.String(length=400), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_plans')),
    sa.UniqueConstraint('resident_id', 'disease', name=op.f('uq_care_plans_resident_id'))
    )
    op.create_index('ix_care_plans_org_path', 'care_plans', ['org_path'], unique=False, postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.create_index(op.f('ix_care_plans_resident_id'), 'care_plans', ['resident_id'], unique=False)
    op.create_table('education_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('disease', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('risk_levels', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_education_items')),
    sa.UniqueConstraint('code', name=op.f('uq_education_items_code'))
    )
    op.create_index(op.f('ix_education_items_disease'), 'education_items', ['disease'], unique=False)
    op.create_index(op.f('ix_education_items_topic'), 'education_items', ['topic'], unique=False)
    op.create_table('follow_up_escalations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('visit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('days_overdue', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('notified', sa.Integer(), nullable=False),
    sa.Column('decision', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_escalations')),
    sa.UniqueConstraint('visit_id', 'level', name=op.f('uq_follow_up_escalations_visit_id'))
    )
    op.create_index(op.f('ix_follow_up_escalations_visit_id'), 'follow_up_escalations', ['visit_id'], unique=False)
    op.create_table('follow_up_schedules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('disease', sa.String(length=20), nullable=False),
    sa.Column('risk_level', sa.String(length=20), nullable=True),
    sa.Column('care_plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('org_code', sa.String(length=40), nullable=True),
    sa.Column('org_path', sa.String(length=400), nullable=True),
    sa.Column('responsible_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('next_due_on', sa.Date(), nullable=False),
    sa.Column('last_visit_on', sa.Date(), nullable=True),
    sa.Column('last_classification', sa.String(length=20), nullable=True),
    sa.Column('consecutive_uncontrolled', sa.Integer(), nullable=False),
    sa.Column('cycle_no', sa.Integer(), nullable=False),
    sa.Column('open_visit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('latest_device', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_schedules')),
    sa.UniqueConstraint('resident_id', 'disease', name=op.f('uq_follow_up_schedules_resident_id'))
    )
    op.create_index('ix_follow_up_schedules_due', 'follow_up_schedules', ['status', 'next_due_on'], unique=False)
    op.create_index('ix_follow_up_schedules_org_path', 'follow_up_schedules', ['org_path'], unique=False, postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.create_index(op.f('ix_follow_up_schedules_resident_id'), 'follow_up_schedules', ['resident_id'], unique=False)
    op.create_table('follow_up_visits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('schedule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('disease', sa.String(length=20), nullable=False),
    sa.Column('cycle_no', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('visited_on', sa.Date(), nullable=True),
    sa.Column('visit_type', sa.String(length=20), nullable=True),
    sa.Column('sbp', sa.Integer(), nullable=True),
    sa.Column('dbp', sa.Integer(), nullable=True),
    sa.Column('heart_rate', sa.Integer(), nullable=True),
    sa.Column('weight_kg', sa.Float(), nullable=True),
    sa.Column('fpg', sa.Float(), nullable=True),
    sa.Column('hba1c', sa.Float(), nullable=True),
    sa.Column('classification', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=True),
    sa.Column('next_due_days', sa.Integer(), nullable=True),
    sa.Column('next_due_on', sa.Date(), nullable=True),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('decision', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('performed_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_visits')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_follow_up_visits_instance_id')),
    sa.UniqueConstraint('schedule_id', 'cycle_no', name=op.f('uq_follow_up_visits_schedule_id'))
    )
    op.create_index('ix_follow_up_visits_pending', 'follow_up_visits', ['status', 'instance_id'], unique=False)
    op.create_index('ix_follow_up_visits_resident', 'follow_up_visits', ['resident_id', 'disease', 'visited_on'], unique=False)
    op.create_index(op.f('ix_follow_up_visits_schedule_id'), 'follow_up_visits', ['schedule_id'], unique=False)
    op.create_table('referral_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_key', sa.String(length=80), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('disease', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('source_visit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source_instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('org_code', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('referral_instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('follow_up_due_on', sa.Date(), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('picked_up_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_requests')),
    sa.UniqueConstraint('source_key', name=op.f('uq_referral_requests_source_key'))
    )
    op.create_index(op.f('ix_referral_requests_resident_id'), 'referral_requests', ['resident_id'], unique=False)
    op.create_index('ix_referral_requests_status', 'referral_requests', ['status', 'created_at'], unique=False)
    op.create_table('care_plan_comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('care_plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['care_plan_id'], ['care_plans.id'], name=op.f('fk_care_plan_comments_care_plan_id_care_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_plan_comments'))
    )
    op.create_index(op.f('ix_care_plan_comments_care_plan_id'), 'care_plan_comments', ['care_plan_id'], unique=False)
    op.create_table('care_plan_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('care_plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('change_reason', sa.Text(), nullable=True),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('drafted_by', sa.String(length=120), nullable=True),
    sa.Column('drafted_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=120), nullable=True),
    sa.Column('approved_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
    sa.Column('acknowledged_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['care_plan_id'], ['care_plans.id'], name=op.f('fk_care_plan_versions_care_plan_id_care_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_plan_versions')),
    sa.UniqueConstraint('care_plan_id', 'version', name=op.f('uq_care_plan_versions_care_plan_id'))
    )
    op.create_index(op.f('ix_care_plan_versions_care_plan_id'), 'care_plan_versions', ['care_plan_id'], unique=False)
    op.create_index(op.f('ix_care_plan_versions_instance_id'), 'care_plan_versions', ['instance_id'], unique=False)
    op.create_table('education_pushes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('care_plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('pushed_by', sa.String(length=120), nullable=False),
    sa.Column('pushed_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['education_items.id'], name=op.f('fk_education_pushes_item_id_education_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_education_pushes')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_education_pushes_dedupe_key'))
    )
    op.create_index(op.f('ix_education_pushes_item_id'), 'education_pushes', ['item_id'], unique=False)
    op.create_index('ix_education_pushes_resident', 'education_pushes', ['resident_id', 'pushed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_education_pushes_resident', table_name='education_pushes')
    op.drop_index(op.f('ix_education_pushes_item_id'), table_name='education_pushes')
    op.drop_table('education_pushes')
    op.drop_index(op.f('ix_care_plan_versions_instance_id'), table_name='care_plan_versions')
    op.drop_index(op.f('ix_care_plan_versions_care_plan_id'), table_name='care_plan_versions')
    op.drop_table('care_plan_versions')
    op.drop_index(op.f('ix_care_plan_comments_care_plan_id'), table_name='care_plan_comments')
    op.drop_table('care_plan_comments')
    op.drop_index('ix_referral_requests_status', table_name='referral_requests')
    op.drop_index(op.f('ix_referral_requests_resident_id'), table_name='referral_requests')
    op.drop_table('referral_requests')
    op.drop_index(op.f('ix_follow_up_visits_schedule_id'), table_name='follow_up_visits')
    op.drop_index('ix_follow_up_visits_resident', table_name='follow_up_visits')
    op.drop_index('ix_follow_up_visits_pending', table_name='follow_up_visits')
    op.drop_table('follow_up_visits')
    op.drop_index(op.f('ix_follow_up_schedules_resident_id'), table_name='follow_up_schedules')
    op.drop_index('ix_follow_up_schedules_org_path', table_name='follow_up_schedules', postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.drop_index('ix_follow_up_schedules_due', table_name='follow_up_schedules')
    op.drop_table('follow_up_schedules')
    op.drop_index(op.f('ix_follow_up_escalations_visit_id'), table_name='follow_up_escalations')
    op.drop_table('follow_up_escalations')
    op.drop_index(op.f('ix_education_items_topic'), table_name='education_items')
    op.drop_index(op.f('ix_education_items_disease'), table_name='education_items')
    op.drop_table('education_items')
    op.drop_index(op.f('ix_care_plans_resident_id'), table_name='care_plans')
    op.drop_index('ix_care_plans_org_path', table_name='care_plans', postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.drop_table('care_plans')

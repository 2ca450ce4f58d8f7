"""separation of duties: a task may exclude one user from its candidates (a care plan's drafter never approves it);
care-plan versions record who closed an open revision (cancelled, expired, superseded), when and why

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-03 19:50:00
"""
import sqlalchemy as sa
from alembic import op

import app.core.db

revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.add_column(sa.Column('excluded_user', sa.String(length=120), nullable=True))
    with op.batch_alter_table('care_plan_versions') as batch_op:
        batch_op.add_column(sa.Column('closed_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('closed_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('close_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('care_plan_versions') as batch_op:
        batch_op.drop_column('close_reason')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('closed_by')
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.drop_column('excluded_user')

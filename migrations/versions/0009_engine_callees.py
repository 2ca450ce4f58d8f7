"""call activities resolved at call time: a task's own process version; message subscriptions per message of a
waiting task (event-based gateways), with retrieval expressions and the correlation keys known so far

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_tasks') as batch:
        batch.add_column(sa.Column('process_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                   nullable=True))
    with op.batch_alter_table('message_subscriptions') as batch:
        batch.add_column(sa.Column('retrieval', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                                      'postgresql'),
                                   server_default=sa.text("'{}'"), nullable=False))
        batch.add_column(sa.Column('correlation_keys', sa.String(length=255), server_default=sa.text("''"),
                                   nullable=False))
        batch.drop_constraint('uq_message_subscriptions_task_guid', type_='unique')
        batch.create_unique_constraint('uq_message_subscriptions_task_guid', ['task_guid', 'message_name'])


def downgrade() -> None:
    with op.batch_alter_table('message_subscriptions') as batch:
        batch.drop_constraint('uq_message_subscriptions_task_guid', type_='unique')
        batch.create_unique_constraint('uq_message_subscriptions_task_guid', ['task_guid'])
        batch.drop_column('correlation_keys')
        batch.drop_column('retrieval')
    with op.batch_alter_table('human_tasks') as batch:
        batch.drop_column('process_version_id')

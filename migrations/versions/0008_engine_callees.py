"""call activities resolved at call time: a task's own process version; subscription retrieval expressions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
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


def downgrade() -> None:
    with op.batch_alter_table('message_subscriptions') as batch:
        batch.drop_column('retrieval')
    with op.batch_alter_table('human_tasks') as batch:
        batch.drop_column('process_version_id')

"""research extraction: an approved project's refreshed extract — the extract's data cut-off and refresh count, and
which downloads were refreshes (issue 20.7)

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-04 19:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0050'
down_revision = '0049'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('research_extracts') as batch:
        batch.add_column(sa.Column('data_until', sa.Date(), nullable=True))
        batch.add_column(sa.Column('refreshes', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('research_downloads') as batch:
        batch.add_column(sa.Column('refresh', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('data_until', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('research_downloads') as batch:
        batch.drop_column('data_until')
        batch.drop_column('refresh')
    with op.batch_alter_table('research_extracts') as batch:
        batch.drop_column('refreshes')
        batch.drop_column('data_until')

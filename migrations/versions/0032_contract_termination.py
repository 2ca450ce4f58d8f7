"""contract termination: the 解约 record of a contract replaced by a move or a switch of team (issue 21)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 09:50:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contracts') as batch:
        batch.add_column(sa.Column('termination', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                                                          'postgresql'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contracts') as batch:
        batch.drop_column('termination')

"""mobile conflict resolutions: what the village doctor did with a conflicted offline completion (issue 22)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 09:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql
import app.core.db

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mobile_completions') as batch:
        batch.add_column(sa.Column('resolutions', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                                                         'postgresql'), nullable=True))
        batch.add_column(sa.Column('resolved_at', app.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mobile_completions') as batch:
        batch.drop_column('resolved_at')
        batch.drop_column('resolutions')

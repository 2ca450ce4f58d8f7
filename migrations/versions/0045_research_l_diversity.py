"""research extraction: l-diversity beside k-anonymity — the project's l, and the extract's sensitive attributes,
l before/after, the classes under l and the rows removed for l (issue 20.7)

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-04 19:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('research_projects') as batch:
        batch.add_column(sa.Column('l', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('research_extracts') as batch:
        batch.add_column(sa.Column('sensitive_attributes', JSON, server_default=sa.text("'[]'"), nullable=False))
        batch.add_column(sa.Column('l_before', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('l_diversity', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('below_l', JSON, server_default=sa.text("'[]'"), nullable=False))
        batch.add_column(sa.Column('suppressed_rows_l', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('research_extracts') as batch:
        for col in ('suppressed_rows_l', 'below_l', 'l_diversity', 'l_before', 'sensitive_attributes'):
            batch.drop_column(col)
    with op.batch_alter_table('research_projects') as batch:
        batch.drop_column('l')

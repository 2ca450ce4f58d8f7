"""research extraction: the data/ethics committee votes — named committee members per county (one chair), every
member's vote per review round, and on the project the round, its committee, chair and result (issue 20.7)

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-04 19:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.core.db

revision = '0049'
down_revision = '0048'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('research_projects') as batch:
        batch.add_column(sa.Column('review_round', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('committee', JSON, server_default=sa.text("'[]'"), nullable=False))
        batch.add_column(sa.Column('chair_user_id', BigId, nullable=True))
        batch.add_column(sa.Column('committee_result', JSON, nullable=True))
    op.create_table(
        'research_committee_members',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('county_code', sa.String(length=40), nullable=False),
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('is_chair', sa.Boolean(), nullable=False),
        sa.Column('added_by', sa.String(length=120), nullable=False),
        sa.Column('added_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_research_committee_members')),
        sa.UniqueConstraint('county_code', 'user_id', name='uq_research_committee_members_user'),
    )
    op.create_table(
        'research_votes',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('project_id', BigId, nullable=False),
        sa.Column('review_round', sa.Integer(), nullable=False),
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('username', sa.String(length=120), nullable=False),
        sa.Column('voter_name', sa.String(length=120), nullable=False),
        sa.Column('vote', sa.String(length=10), nullable=False),
        sa.Column('opinion', sa.Text(), nullable=True),
        sa.Column('allow_free_text', sa.Boolean(), nullable=False),
        sa.Column('at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_research_votes')),
        sa.UniqueConstraint('project_id', 'review_round', 'user_id', name='uq_research_votes_member'),
    )


def downgrade() -> None:
    op.drop_table('research_votes')
    op.drop_table('research_committee_members')
    with op.batch_alter_table('research_projects') as batch:
        for col in ('committee_result', 'chair_user_id', 'committee', 'review_round'):
            batch.drop_column(col)

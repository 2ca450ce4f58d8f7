"""screening cases: the flagged_at index only holds cases that are not prevention cases (issue 23.4)

The only query that reads flagged_at is the supervisors' counts (app.screening.queries.stats), and it counts only
cases outside the prevention track (`track <> 'prevention'`). A run over 1,000,000 residents inserts ~1.7 M cases,
~1.2 M of them prevention cases: the full index took a btree entry for each of them that no query could use. The
index is now partial, WHERE track <> 'prevention'. Declared in app/screening/models.py.

Like 0053 it is dropped and built again in the migration's transaction: on 1,700,000 cases the build takes seconds,
and screening_cases takes no writes during it (runs and re-screens wait for the lock).

Revision ID: 0054
Revises: 0053
Create Date: 2026-12-05 18:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0054'
down_revision = '0053'
branch_labels = None
depends_on = None

NOT_PREVENTION = sa.text("track <> 'prevention'")


def upgrade() -> None:
    op.drop_index('ix_screening_cases_flagged_at', table_name='screening_cases')
    op.create_index('ix_screening_cases_flagged_at', 'screening_cases', ['flagged_at'],
                    postgresql_where=NOT_PREVENTION, sqlite_where=NOT_PREVENTION)


def downgrade() -> None:
    op.drop_index('ix_screening_cases_flagged_at', table_name='screening_cases')
    op.create_index('ix_screening_cases_flagged_at', 'screening_cases', ['flagged_at'])

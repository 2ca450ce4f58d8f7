"""screening cases: the instance-id index only holds started cases (issue 23.4)

Every screening case is inserted with instance_id NULL (a chunk writes ~1.7 M cases per 1 M residents, 1.2 M of them
prevention cases that never get an instance), so the full index took one btree entry per inserted row for nothing:
no query looks cases up by a NULL instance id (the start_pending_cases sweep filters on status and track and reads
the heap in id order). The index is now partial, WHERE instance_id IS NOT NULL. Declared in app/screening/models.py.

Revision ID: 0053
Revises: 0052
Create Date: 2026-12-04 23:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0053'
down_revision = '0052'
branch_labels = None
depends_on = None

STARTED = sa.text("instance_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index('ix_screening_cases_instance_id', table_name='screening_cases')
    op.create_index('ix_screening_cases_instance_id', 'screening_cases', ['instance_id'],
                    postgresql_where=STARTED, sqlite_where=STARTED)


def downgrade() -> None:
    op.drop_index('ix_screening_cases_instance_id', table_name='screening_cases')
    op.create_index('ix_screening_cases_instance_id', 'screening_cases', ['instance_id'])

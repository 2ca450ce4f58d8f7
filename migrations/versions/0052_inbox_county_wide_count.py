"""inbox at scale (issue 23.5): a county-wide role's groups list counted from the due index alone

A county-wide role (county specialist) is offered every task of its role except department tasks of other
departments, a condition on `org_code`. No groups index carried `org_code`, so the list's total (counted up to
10,001) fetched each matching heap row: at 1,000,000 open tasks 7,804 buffers, 85 ms warm. `ix_human_tasks_groups_due`
is rebuilt with `org_code` included, so that count (and the first page) is an index-only scan (268 buffers, 7 ms).
Declared in app/tasks/models.py. SQLite's index has no INCLUDE and is unchanged.

Revision ID: 0052
Revises: 0051
Create Date: 2026-12-04 23:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0052'
down_revision = '0051'
branch_labels = None
depends_on = None

UNASSIGNED = sa.text("status = 'open' AND assignee_id IS NULL")
COVER = ['org_path', 'priority', 'risk_level', 'disease', 'village_code', 'resident_name', 'name', 'excluded_user']


def _rebuild(include: list[str]) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_human_tasks_groups_due', table_name='human_tasks')
    op.create_index('ix_human_tasks_groups_due', 'human_tasks', ['role', 'due_at', 'id'], postgresql_include=include,
                    postgresql_where=UNASSIGNED, sqlite_where=UNASSIGNED)


def upgrade() -> None:
    _rebuild(COVER + ['org_code'])


def downgrade() -> None:
    _rebuild(COVER)

"""inbox name search per township (issue 23.5): (role, township_path, first character of resident_name, due_at, id)

A township doctor's one-character resident-name search (`q=王`, the commonest surname) read every match of the
township (3,333 at 1,000,000 open tasks) through `ix_human_tasks_groups_org_resident_name`, one range per
organization, and sorted them for a first page of 26. That list in due order now compares
`substr(resident_name, 1, 1)` with the character and reads this index: the first page is one range read in due
order up to the page's end, and the total one range. An expression index, so no column to add and no table rewrite
(unlike 0040 and 0055). PostgreSQL only: SQLite cannot reflect an expression index (the models declare it with
`ddl_if`), and the embedded scale needs none. Declared in app/tasks/models.py.

Revision ID: 0056
Revises: 0055
Create Date: 2026-12-06 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0056'
down_revision = '0055'
branch_labels = None
depends_on = None

UNASSIGNED = sa.text("status = 'open' AND assignee_id IS NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_index('ix_human_tasks_groups_township_initial', 'human_tasks',
                    ['role', 'township_path', sa.text('substr(resident_name, 1, 1)'), 'due_at', 'id'],
                    postgresql_include=['resident_name', 'excluded_user'], postgresql_where=UNASSIGNED)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_human_tasks_groups_township_initial', table_name='human_tasks')

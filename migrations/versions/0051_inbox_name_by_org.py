"""inbox name search per organization (issue 23.5): an index on (role, org_path, resident_name)

A one-character resident-name prefix (王) in the groups view used to count one role's whole county-wide 王 range
(PostgreSQL 15 has no skip scan, so a (role, resident_name) index filters the organization path entry by entry). The
query now also lists the paths of the caller's subtree, and this index turns that into one short range per
organization. Declared in app/tasks/models.py.

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-04 23:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0051'
down_revision = '0050'
branch_labels = None
depends_on = None

UNASSIGNED = sa.text("status = 'open' AND assignee_id IS NULL")
INCLUDE = ['due_at', 'id', 'priority', 'risk_rank', 'disease', 'risk_level', 'excluded_user', 'name']


def upgrade() -> None:
    op.create_index('ix_human_tasks_groups_org_resident_name', 'human_tasks', ['role', 'org_path', 'resident_name'],
                    postgresql_ops={'org_path': 'varchar_pattern_ops', 'resident_name': 'varchar_pattern_ops'},
                    postgresql_include=INCLUDE, postgresql_where=UNASSIGNED, sqlite_where=UNASSIGNED)


def downgrade() -> None:
    op.drop_index('ix_human_tasks_groups_org_resident_name', table_name='human_tasks')

"""inbox at scale (issue 23.5): a task's township as a generated column, and the groups sorts per township

`human_tasks.township_path` is the first two levels of `org_path` (`/C01/C01T03/` of `/C01/C01T03/C01T03V07/`: the
task's township, or department; NULL for a county's own task), a generated column like `risk_rank` (0040): STORED on
PostgreSQL, VIRTUAL on SQLite (which indexes it all the same), so every writer — the projection, a batch start's COPY,
a bulk UPDATE, a seed's plain INSERT — keeps it right without knowing of it. An organization's path never changes
(app.org has no move), and a task's `org_path` is re-projected with its organization's, so the key follows.

Three partial indexes lead with (role, township_path): a township caller's groups list in priority or risk order, or
filtered by disease (and risk level), is one range of its own entries in the page's order, where (role, priority |
risk_rank, …) walked every township's entries filtering by path (at 1,000,000 tasks: 40,245 entries for a page of 26)
and (role, disease, risk_level, …) counted through every township's (23,334 entries of others). Declared in
app/tasks/models.py. `ix_human_tasks_open_role_org` (role, org_path, due_at over every open task) is dropped: the
groups view reads the unassigned tasks by `ix_human_tasks_groups_path`, and no statement read it.

PostgreSQL rewrites the table to add a stored generated column (an ACCESS EXCLUSIVE lock while it runs; measured at
1,000,000 open tasks in docs/benchmarks.md, 2026-12-05 evening); SQLite adds it VIRTUAL (computed when read; no rewrite).

Revision ID: 0055
Revises: 0054
Create Date: 2026-12-05 18:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0055'
down_revision = '0054'
branch_labels = None
depends_on = None
# the rewrite leaves the visibility map empty: app.core.migrate.upgrade vacuums and analyzes the table afterwards
vacuum_after = ("human_tasks",)

UNASSIGNED = sa.text("status = 'open' AND assignee_id IS NULL")
# the same expressions as app.workflows.models.TOWNSHIP_PATH_PG / TOWNSHIP_PATH_SQLITE
PG = "substring(org_path, '^/[^/]*/[^/]*/')"
SECOND = "instr(substr(org_path, 2), '/')"
THIRD = f"instr(substr(org_path, 2 + {SECOND}), '/')"
SQLITE = f"CASE WHEN substr(org_path, 1, 1) = '/' AND {THIRD} > 0 THEN substr(org_path, 1, 1 + {SECOND} + {THIRD}) END"
TOWNSHIP_COVER = ['risk_level', 'disease', 'village_code', 'excluded_user']
INDEXES = [('ix_human_tasks_groups_township_priority', ['role', 'township_path', 'priority', 'due_at', 'id'],
            TOWNSHIP_COVER),
           ('ix_human_tasks_groups_township_risk', ['role', 'township_path', 'risk_rank', 'due_at', 'id'],
            ['priority'] + TOWNSHIP_COVER),
           ('ix_human_tasks_groups_township_disease',
            ['role', 'township_path', 'disease', 'risk_level', 'due_at', 'id'],
            ['priority', 'village_code', 'excluded_user'])]
OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    expression = PG if op.get_bind().dialect.name == 'postgresql' else SQLITE
    # a plain ADD COLUMN on SQLite too (a VIRTUAL generated column may be added; a batch copy of the table would
    # try to write `risk_rank`, a generated column)
    op.add_column('human_tasks', sa.Column('township_path', sa.String(length=255), sa.Computed(sa.text(expression)),
                                           nullable=True))
    for name, columns, include in INDEXES:
        op.create_index(name, 'human_tasks', columns, postgresql_include=include, postgresql_where=UNASSIGNED,
                        sqlite_where=UNASSIGNED)
    # (role, org_path, due_at) over every open task: the groups view reads its unassigned tasks by
    # ix_human_tasks_groups_path, and no statement read this one at 1,000,000 tasks (docs/benchmarks.md); one index
    # less to write for every new open task and to weigh in every plan
    op.drop_index('ix_human_tasks_open_role_org', table_name='human_tasks')


def downgrade() -> None:
    op.create_index('ix_human_tasks_open_role_org', 'human_tasks', ['role', 'org_path', 'due_at'], postgresql_where=OPEN,
                    sqlite_where=OPEN)
    for name, _columns, _include in INDEXES:
        op.drop_index(name, table_name='human_tasks')
    op.drop_column('human_tasks', 'township_path')

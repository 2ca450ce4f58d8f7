"""inbox at scale (issue 23.5): a denormalized risk sort key, indexes for the priority/risk sorts and name search

`human_tasks.risk_rank` is `risk_level`'s place in the risk sort (0 = very high … 3 = low, 9 = other or none), a
generated column (STORED on PostgreSQL, VIRTUAL on SQLite, which can index it all the same). The indexes are declared in app/tasks/models.py. Name search uses
btree prefix indexes (varchar_pattern_ops on PostgreSQL), which serve one-character prefixes too, so no extension
is needed on either backend.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-04 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")
UNASSIGNED = sa.text("status = 'open' AND assignee_id IS NULL")
LANELESS = sa.text("status = 'open' AND assignee_id IS NULL AND role IS NULL")
OLD_COVER = ['org_path', 'priority', 'risk_level', 'disease', 'village_code', 'resident_name', 'name']
COVER = OLD_COVER + ['excluded_user']
FOUND = ['org_path', 'due_at', 'id', 'priority', 'risk_rank', 'disease', 'risk_level', 'excluded_user']
OLD_HOLDER = ['org_path', 'role', 'assignee_id']
PATTERN = {'org_path': 'varchar_pattern_ops'}
# indexes the groups view reads, rebuilt with `excluded_user` included (every groups branch filters on it, so
# without it none of them was index-only): name, columns, options before, options after
REBUILT = [
    ('ix_human_tasks_groups_due', ['role', 'due_at', 'id'], {'postgresql_include': OLD_COVER},
     {'postgresql_include': COVER}, UNASSIGNED),
    ('ix_human_tasks_groups_path', ['role', 'org_path', 'due_at'],
     {'postgresql_ops': PATTERN, 'postgresql_include': ['risk_level', 'id']},
     {'postgresql_ops': PATTERN, 'postgresql_include': ['risk_level', 'id', 'excluded_user']}, UNASSIGNED),
    ('ix_human_tasks_groups_started_by', ['started_by', 'due_at', 'id'], {}, {'postgresql_include': ['excluded_user']},
     LANELESS),
    ('ix_human_tasks_open_village', ['village_code', 'due_at', 'id'], {'postgresql_include': OLD_HOLDER},
     {'postgresql_include': OLD_HOLDER + ['excluded_user']}, OPEN),
    ('ix_human_tasks_open_disease', ['disease', 'risk_level', 'due_at', 'id'], {'postgresql_include': OLD_HOLDER},
     {'postgresql_include': OLD_HOLDER + ['excluded_user']}, OPEN),
]
RANKS = {'VERY_HIGH': 0, '很高危': 0, 'HIGH': 1, '高危': 1, 'MODERATE': 2, 'MEDIUM': 2, '中危': 2, 'LOW': 3, '低危': 3}
RISK_RANK_SQL = ("CASE risk_level " + " ".join(f"WHEN '{level}' THEN {rank}" for level, rank in RANKS.items())
                 + " ELSE 9 END")


def _rebuild(after: bool) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return                              # INCLUDE is PostgreSQL's; SQLite's indexes are unchanged
    for name, columns, before, then, where in REBUILT:
        op.drop_index(name, table_name='human_tasks')
        op.create_index(name, 'human_tasks', columns, postgresql_where=where, **(then if after else before))


def upgrade() -> None:
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.add_column(sa.Column('risk_rank', sa.SmallInteger(), sa.Computed(RISK_RANK_SQL), nullable=False))
    op.create_index('ix_human_tasks_groups_priority', 'human_tasks', ['role', 'priority', 'due_at', 'id'],
                    postgresql_include=COVER, postgresql_where=UNASSIGNED, sqlite_where=UNASSIGNED)
    op.create_index('ix_human_tasks_groups_risk', 'human_tasks', ['role', 'risk_rank', 'due_at', 'id'],
                    postgresql_include=COVER, postgresql_where=UNASSIGNED, sqlite_where=UNASSIGNED)
    op.create_index('ix_human_tasks_open_priority', 'human_tasks', ['priority', 'due_at', 'id'],
                    postgresql_include=COVER, postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_human_tasks_open_risk', 'human_tasks', ['risk_rank', 'due_at', 'id'],
                    postgresql_include=COVER, postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_human_tasks_groups_resident_name', 'human_tasks', ['role', 'resident_name'],
                    postgresql_ops={'resident_name': 'varchar_pattern_ops'}, postgresql_include=FOUND + ['name'],
                    postgresql_where=UNASSIGNED, sqlite_where=UNASSIGNED)
    op.create_index('ix_human_tasks_groups_name', 'human_tasks', ['role', 'name'],
                    postgresql_ops={'name': 'varchar_pattern_ops'}, postgresql_include=FOUND + ['resident_name'],
                    postgresql_where=UNASSIGNED, sqlite_where=UNASSIGNED)
    op.create_index('ix_human_tasks_groups_disease', 'human_tasks', ['role', 'disease', 'risk_level', 'due_at', 'id'],
                    postgresql_include=['org_path', 'excluded_user'], postgresql_where=UNASSIGNED,
                    sqlite_where=UNASSIGNED)
    op.create_index('ix_human_tasks_groups_client', 'human_tasks', ['started_by', 'org_path'],
                    postgresql_ops={'started_by': 'varchar_pattern_ops', 'org_path': 'varchar_pattern_ops'},
                    postgresql_include=['due_at', 'id', 'priority', 'risk_rank', 'excluded_user'],
                    postgresql_where=LANELESS, sqlite_where=LANELESS)
    _rebuild(after=True)


def downgrade() -> None:
    _rebuild(after=False)
    for name in ('ix_human_tasks_groups_client', 'ix_human_tasks_groups_disease', 'ix_human_tasks_groups_name',
                 'ix_human_tasks_groups_resident_name', 'ix_human_tasks_open_risk',
                 'ix_human_tasks_open_priority', 'ix_human_tasks_groups_risk', 'ix_human_tasks_groups_priority'):
        op.drop_index(name, table_name='human_tasks')
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.drop_column('risk_rank')

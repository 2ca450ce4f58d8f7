"""Tables of the inbox: comments, saved filters, delegations, completion receipts; inbox indexes on human_tasks.

The open-task projection (`human_tasks`) is declared in app.workflows.models (the runner's step reads it), but only
this package writes it (`projection.py`, `services.py`); the inbox adds indexes to it, so every filter the inbox
offers is an indexed query (declared here so `alembic check` and migration 0003 agree).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime
from app.workflows.models import HumanTask

BigId = BigInteger().with_variant(Integer(), "sqlite")
_OPEN = text("status = 'open'")
_UNASSIGNED = text("status = 'open' AND assignee_id IS NULL")
_LANELESS = text("status = 'open' AND assignee_id IS NULL AND role IS NULL")
_PATTERN = {"org_path": "varchar_pattern_ops"}
T = HumanTask.__table__
# a resident name's first character: the township initial index's key, which a one-character name search compares
# (its 1, 1 written into the SQL, not bound: a prepared statement's generic plan matches the index's expression only so)
RESIDENT_INITIAL = func.substr(T.c.resident_name, literal_column("1"), literal_column("1"))

# groups view: scan a role's unassigned tasks in due order (filter org_path), or count them (and the overdue
# ones) by org prefix from the index alone
# (the included columns let the first page be found by an index-only scan that filters without the table)
# (`excluded_user` because every groups branch filters on it: without it no groups query is index-only; 0040)
_COVER = ["org_path", "priority", "risk_level", "disease", "village_code", "resident_name", "name", "excluded_user"]
# the due index also carries `org_code`: a county-wide role's condition tests it (department tasks are offered to
# the department only), so without it that role's list total read up to 10,001 heap rows (0052)
Index("ix_human_tasks_groups_due", T.c.role, T.c.due_at, T.c.id, postgresql_include=_COVER + ["org_code"],
      postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
Index("ix_human_tasks_groups_path", T.c.role, T.c.org_path, T.c.due_at, postgresql_ops=_PATTERN,
      postgresql_include=["risk_level", "id", "excluded_user"], postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
# laneless tasks are offered to the user who started the instance
Index("ix_human_tasks_groups_started_by", T.c.started_by, T.c.due_at, T.c.id, postgresql_include=["excluded_user"],
      postgresql_where=_LANELESS, sqlite_where=_LANELESS)
# … or, started by an integration client, to the treating staff of its organization: a prefix of started_by and of
# org_path (without it that branch read every laneless task of the subtree from the table; 0040)
Index("ix_human_tasks_groups_client", T.c.started_by, T.c.org_path,
      postgresql_ops={"started_by": "varchar_pattern_ops", "org_path": "varchar_pattern_ops"},
      postgresql_include=["due_at", "id", "priority", "risk_rank", "excluded_user"],
      postgresql_where=_LANELESS, sqlite_where=_LANELESS)
# org view: every open task below an organization
Index("ix_human_tasks_open_path", T.c.org_path, T.c.due_at, postgresql_ops=_PATTERN,
      postgresql_include=["risk_level", "id"], postgresql_where=_OPEN, sqlite_where=_OPEN)
Index("ix_human_tasks_open_due", T.c.due_at, T.c.id, postgresql_include=_COVER,
      postgresql_where=_OPEN, sqlite_where=_OPEN)
# business filters
Index("ix_human_tasks_open_type", T.c.process_id, T.c.element_id, postgresql_where=_OPEN, sqlite_where=_OPEN)
_HOLDER = ["org_path", "role", "assignee_id", "excluded_user"]
Index("ix_human_tasks_open_village", T.c.village_code, T.c.due_at, T.c.id, postgresql_include=_HOLDER,
      postgresql_where=_OPEN, sqlite_where=_OPEN)
Index("ix_human_tasks_open_disease", T.c.disease, T.c.risk_level, T.c.due_at, T.c.id, postgresql_include=_HOLDER,
      postgresql_where=_OPEN, sqlite_where=_OPEN)
Index("ix_human_tasks_open_org", T.c.org_code, postgresql_where=_OPEN, sqlite_where=_OPEN)
Index("ix_human_tasks_open_resident_name", T.c.resident_name, postgresql_ops={"resident_name": "varchar_pattern_ops"},
      postgresql_where=_OPEN, sqlite_where=_OPEN)
# the priority and risk sorts (issue 23.5): one ordered scan per role (groups) or over every open task (org),
# filtered by organization prefix inside the index, instead of merging five due-ordered parts or sorting each branch
Index("ix_human_tasks_groups_priority", T.c.role, T.c.priority, T.c.due_at, T.c.id, postgresql_include=_COVER,
      postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
Index("ix_human_tasks_groups_risk", T.c.role, T.c.risk_rank, T.c.due_at, T.c.id, postgresql_include=_COVER,
      postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
Index("ix_human_tasks_open_priority", T.c.priority, T.c.due_at, T.c.id, postgresql_include=_COVER,
      postgresql_where=_OPEN, sqlite_where=_OPEN)
Index("ix_human_tasks_open_risk", T.c.risk_rank, T.c.due_at, T.c.id, postgresql_include=_COVER,
      postgresql_where=_OPEN, sqlite_where=_OPEN)
# … and per township (0055): a township caller's groups list in priority or risk order, one range of its own
# entries (`township_path`, the first two levels of `org_path`: the task's township) read in the page's order, where
# the role-wide index above walked every township's entries filtering by path (40,245 entries for a page of 26 at
# 1,000,000 tasks); the disease + risk level filter likewise (its total read 23,334 entries of other townships).
# They carry what those lists filter by besides the key (no path, no names: a name search reads its own indexes), a
# third smaller than with _COVER (95 against 143 MB at 1,000,000 tasks)
_TOWNSHIP_COVER = ["risk_level", "disease", "village_code", "excluded_user"]
Index("ix_human_tasks_groups_township_priority", T.c.role, T.c.township_path, T.c.priority, T.c.due_at, T.c.id,
      postgresql_include=_TOWNSHIP_COVER, postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
Index("ix_human_tasks_groups_township_risk", T.c.role, T.c.township_path, T.c.risk_rank, T.c.due_at, T.c.id,
      postgresql_include=["priority"] + _TOWNSHIP_COVER, postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
Index("ix_human_tasks_groups_township_disease", T.c.role, T.c.township_path, T.c.disease, T.c.risk_level, T.c.due_at,
      T.c.id, postgresql_include=["priority", "village_code", "excluded_user"], postgresql_where=_UNASSIGNED,
      sqlite_where=_UNASSIGNED)
# name search (`q`, a prefix, one character included): a range of one role's names, organization filtered in the
# index, so counting the matches of 王 is an index-only scan of that range rather than of the whole role
_FOUND = ["org_path", "due_at", "id", "priority", "risk_rank", "disease", "risk_level", "excluded_user"]
Index("ix_human_tasks_groups_resident_name", T.c.role, T.c.resident_name,
      postgresql_ops={"resident_name": "varchar_pattern_ops"}, postgresql_include=_FOUND + ["name"],
      postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
Index("ix_human_tasks_groups_name", T.c.role, T.c.name, postgresql_ops={"name": "varchar_pattern_ops"},
      postgresql_include=_FOUND + ["resident_name"], postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
# … and per organization (0051): a township doctor's 王 is one short range in each of the township's organizations
# (the subtree's paths are listed in the query), not the role's whole county-wide 王 range filtered by path
Index("ix_human_tasks_groups_org_resident_name", T.c.role, T.c.org_path, T.c.resident_name,
      postgresql_ops={"org_path": "varchar_pattern_ops", "resident_name": "varchar_pattern_ops"},
      postgresql_include=_FOUND[1:] + ["name"], postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
# … and per township and first character (0056): a township caller's one-character name search (`q=王`) in due
# order is one range of its own entries read in the page's order up to the page's end, where the per-organization
# index above read every match of the township (3,333 at 1,000,000 tasks) and sorted them for a page of 26; its
# total is one range too. The key is an expression (no column to write, no table rewrite); `resident_name` is
# included because an index-only scan needs the column an expression reads. PostgreSQL only (SQLite cannot reflect an
# expression index, and its embedded scale needs none)
Index("ix_human_tasks_groups_township_initial", T.c.role, T.c.township_path, RESIDENT_INITIAL, T.c.due_at, T.c.id,
      postgresql_include=["resident_name", "excluded_user"], postgresql_where=_UNASSIGNED).ddl_if(dialect="postgresql")
# disease and risk level together in the groups view: one role's matches in due order (count: one short range)
Index("ix_human_tasks_groups_disease", T.c.role, T.c.disease, T.c.risk_level, T.c.due_at, T.c.id,
      postgresql_include=["org_path", "excluded_user"], postgresql_where=_UNASSIGNED, sqlite_where=_UNASSIGNED)
# "done by me"
Index("ix_human_tasks_completed_by", T.c.completed_by, T.c.completed_at)


class TaskComment(Base):
    """A remark on a task, visible to everyone who can see the task."""

    __tablename__ = "task_comments"
    __table_args__ = (Index("ix_task_comments_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(BigId)
    author: Mapped[str] = mapped_column(String(120))
    author_name: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SavedFilter(Base):
    """A named inbox query kept on the server; optionally shared with the owner's organization."""

    __tablename__ = "task_saved_filters"
    __table_args__ = (UniqueConstraint("owner_id", "name"),
                      Index("ix_task_saved_filters_shared", "org_code", "shared_with_org"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigId, index=True)
    owner: Mapped[str] = mapped_column(String(120))
    org_code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    view: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    shared_with_org: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaskDelegation(Base):
    """A task handed from its assignee to another user, who may return it (`returned_at`)."""

    __tablename__ = "task_delegations"
    __table_args__ = (Index("ix_task_delegations_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"))
    from_user_id: Mapped[int] = mapped_column(BigId)
    to_user_id: Mapped[int] = mapped_column(BigId)
    delegated_by: Mapped[str] = mapped_column(String(120))
    delegated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TaskCompletion(Base):
    """The receipt of a completion: a repeated `completion_id` is answered with the stored first answer."""

    __tablename__ = "task_completions"

    completion_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId)
    response: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

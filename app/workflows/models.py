"""Tables of the workflow layer. Inbox and status queries read projections, never the serialized state."""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from app.core.db import Base, JSONType, OrderedJSON, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")

# the inbox's risk sort: 很高危/VERY_HIGH, 高危/HIGH, 中危/MODERATE (MEDIUM), 低危/LOW, then anything else or none
RISK_RANK = {"VERY_HIGH": 0, "很高危": 0, "HIGH": 1, "高危": 1, "MODERATE": 2, "MEDIUM": 2, "中危": 2, "LOW": 3,
             "低危": 3}
NO_RISK_RANK = 9
RISK_RANK_SQL = ("CASE risk_level " + " ".join(f"WHEN '{level}' THEN {rank}" for level, rank in RISK_RANK.items())
                 + f" ELSE {NO_RISK_RANK} END")


def township_path_of(org_path: str | None) -> str | None:
    """The first two levels of an organization path: `/C01/C01T03/` of `/C01/C01T03/C01T03V07/` and of itself — the
    township (or department) a task belongs to; None for a path of one level (a county's own task) or none. What the
    database computes into `human_tasks.township_path` (`TownshipPathSQL`)."""
    if not org_path or not org_path.startswith("/"):
        return None
    parts = org_path.split("/", 3)
    return f"/{parts[1]}/{parts[2]}/" if len(parts) == 4 else None


class TownshipPathSQL(FunctionElement):
    """`township_path_of(org_path)` in SQL, per backend (PostgreSQL: a regular expression; SQLite has none)."""

    type = String()
    inherit_cache = True
    name = "township_path"


# the same text in migration 0055 (PostgreSQL writes it back as `"substring"((org_path)::text, …)`, which Alembic's
# comparison reads as equal)
TOWNSHIP_PATH_PG = "substring(org_path, '^/[^/]*/[^/]*/')"
_SQLITE_SECOND_SLASH = "instr(substr(org_path, 2), '/')"
_SQLITE_THIRD_SLASH = f"instr(substr(org_path, 2 + {_SQLITE_SECOND_SLASH}), '/')"
TOWNSHIP_PATH_SQLITE = (f"CASE WHEN substr(org_path, 1, 1) = '/' AND {_SQLITE_THIRD_SLASH} > 0 "
                        f"THEN substr(org_path, 1, 1 + {_SQLITE_SECOND_SLASH} + {_SQLITE_THIRD_SLASH}) END")


@compiles(TownshipPathSQL, "postgresql")
def _township_path_pg(_element, _compiler, **_kw) -> str:
    return TOWNSHIP_PATH_PG


@compiles(TownshipPathSQL)
def _township_path_sqlite(_element, _compiler, **_kw) -> str:
    return TOWNSHIP_PATH_SQLITE


class ProcessVersion(Base):
    """One immutable deployed version of a process (its BPMN, forms and parsed spec)."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),
                      Index("ix_process_versions_hash", "process_id", "content_hash"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    spec_json: Mapped[dict[str, Any]] = mapped_column(OrderedJSON)
    forms: Mapped[dict[str, Any]] = mapped_column(OrderedJSON, default=dict)   # authored property order matters
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(120))


class DecisionVersion(Base):
    """One immutable deployed version of a DMN decision, with its conformance cases and provenance."""

    __tablename__ = "decision_versions"
    __table_args__ = (UniqueConstraint("decision_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    xml: Mapped[str] = mapped_column(Text)
    cases: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(120))


class Deployment(Base):
    """An audited deploy action: who deployed which files, and what changed."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40))           # "folder" | "upload"
    files: Mapped[list[str]] = mapped_column(JSONType)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ProcessInstance(Base):
    """One running (or finished) workflow: its state row, locked optimistically by `lock_version`."""

    __tablename__ = "process_instances"
    __table_args__ = (Index("ix_process_instances_status", "process_id", "status"),
                      Index("ix_process_instances_resident", "resident_id"),
                      Index("ix_process_instances_business_key", "process_id", "business_key"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    process_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)                 # the process definition version
    status: Mapped[str] = mapped_column(String(20))
    business_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    resident_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    resident_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    org_path: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    started_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    parent_instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    state: Mapped[dict[str, Any]] = mapped_column(OrderedJSON)
    engine_format: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    decision_versions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    diagram: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    suspended_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    waiting_messages: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)

    # ruff wants the ClassVar; DeclarativeBase declares __mapper_args__ as an instance attribute, which mypy holds to
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": lock_version}  # type: ignore[misc]


class HumanTask(Base):
    """An open (or finished) user task, projected with the business fields people filter by."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        # (role, org_path, due_at) over every open task was dropped in 0055: the groups view reads its unassigned
        # tasks by `ix_human_tasks_groups_path` (app/tasks/models.py), and no other statement read it
        Index("ix_human_tasks_open_assignee", "assignee_id", "due_at",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_human_tasks_instance", "instance_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_guid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    process_id: Mapped[str] = mapped_column(String(120))
    element_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(120), nullable=True)
    role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    org_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")          # open | completed | cancelled
    form_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # the called-process version a task inside a call activity belongs to (its form lives there); None: the
    # instance's own version
    process_version_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    instructions: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    resident_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    resident_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    village_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    disease: Mapped[str | None] = mapped_column(String(40), nullable=True)
    risk_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # `risk_level`'s place in the risk sort, computed by the database (so the sort is an index scan and no writer,
    # ORM or bulk UPDATE, can leave it stale)
    risk_rank: Mapped[int] = mapped_column(SmallInteger, Computed(RISK_RANK_SQL))
    # the township (or department) of `org_path` (`township_path_of`), computed by the database like `risk_rank`: a
    # township's groups list in priority or risk order is one range of an index that leads with (role, township_path)
    # instead of the role's whole index filtered by path (issue 23.5; app/tasks/models.py)
    township_path: Mapped[str | None] = mapped_column(String(255), Computed(TownshipPathSQL()), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    completion_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    etag_version: Mapped[int] = mapped_column(Integer, default=1)
    started_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # separation of duties: this user is never a candidate (the model's `excludeUser`, e.g. a plan's drafter)
    excluded_user: Mapped[str | None] = mapped_column(String(120), nullable=True)

    @property
    def etag(self) -> str:
        return f'"{self.id}-{self.etag_version}"'


class Timer(Base):
    """A pending timer of an instance; the scheduler claims due rows with FOR UPDATE SKIP LOCKED."""

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("task_guid"), Index("ix_timers_fire_at", "fire_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(120))
    fire_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessageSubscription(Base):
    """A waiting message catch, indexed by name and correlation-value hash so a message finds it by SQL."""

    __tablename__ = "message_subscriptions"
    __table_args__ = (Index("ix_message_subscriptions_lookup", "message_name", "correlation_hash"),
                      UniqueConstraint("task_guid", "message_name"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(120))
    message_name: Mapped[str] = mapped_column(String(120))
    correlation: Mapped[dict[str, Any]] = mapped_column(JSONType)
    correlation_hash: Mapped[str] = mapped_column(String(64))
    # correlation property -> its retrieval expression over a message payload (computes an incoming hash)
    retrieval: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
    # the properties whose values are known ("," joined, sorted; "" = none known yet: an uncorrelated wait)
    correlation_keys: Mapped[str] = mapped_column(String(255), default="", server_default=text("''"))


class ProcessEvent(Base):
    """Append-only history: who did what, when, with which data."""

    __tablename__ = "process_events"
    __table_args__ = (Index("ix_process_events_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    task_guid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    actor: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class ServiceCall(Base):
    """Outbox: a service task's call, executed by a job after commit; its key makes a retry act once."""

    __tablename__ = "service_calls"
    __table_args__ = (Index("ix_service_calls_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(120))
    operator: Mapped[str] = mapped_column(String(120))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20), default="pending")     # pending | done | failed | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=4)
    backoff_base: Mapped[float] = mapped_column(default=2.0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[Any] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SchedulerLease(Base):
    """Leader lease for the scheduler on SQLite (PostgreSQL uses an advisory lock)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SchedulerHeartbeat(Base):
    """One row per running scheduler process: its latest beat and whether it leads (health and metrics read it)."""

    __tablename__ = "scheduler_heartbeats"

    holder: Mapped[str] = mapped_column(String(120), primary_key=True)     # host:pid
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    leader_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class BatchStart(Base):
    """One set operation that starts many instances of one process (`app.workflows.batch`): its progress counters
    (`total`, `started`, `skipped`, `failed`) are what the API and the CLI show; its items say which start failed
    and why."""

    __tablename__ = "batch_starts"
    __table_args__ = (Index("ix_batch_starts_kind_status", "kind", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(60))              # who asked: "follow_up", a capability's name
    process_id: Mapped[str] = mapped_column(String(120))
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")   # running | done | done_with_failures
    total: Mapped[int] = mapped_column(Integer, default=0)
    started: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)   # already started (re-run of a chunk, a single start)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    chunk_size: Mapped[int] = mapped_column(Integer, default=500)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BatchStartItem(Base):
    """One instance a batch is to start: the caller's reference, the business key that makes it start once, its data
    (or none: the batch's source computes it when the chunk runs), and what happened."""

    __tablename__ = "batch_start_items"
    __table_args__ = (UniqueConstraint("batch_id", "seq"), Index("ix_batch_start_items_status", "batch_id", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch_starts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str] = mapped_column(String(120))
    business_key: Mapped[str] = mapped_column(String(120))
    resident_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")   # pending | started | skipped | failed
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

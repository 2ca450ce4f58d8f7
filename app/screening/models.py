"""Tables of screening: runs of the population batch and the cases it (or new data) flags."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class ScreeningRun(Base):
    """One run of the population batch: progress, the cursor it resumes from, what it found."""

    __tablename__ = "screening_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20))            # running | completed | failed | interrupted
    as_of: Mapped[date] = mapped_column(Date)                  # ages are computed on this date
    cursor: Mapped[int] = mapped_column(BigId, default=0)      # last resident id fully screened
    total: Mapped[int] = mapped_column(BigId, default=0)
    processed: Mapped[int] = mapped_column(BigId, default=0)
    cases_created: Mapped[int] = mapped_column(BigId, default=0)
    chunk_size: Mapped[int] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_versions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # chunked runs (issue 23.4): each chunk of resident ids is one rq job; 0 chunks = a cursor run in one process
    total_chunks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    done_chunks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_chunks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ScreeningRunChunk(Base):
    """Residents lo < id <= hi of a run, screened by one job in one transaction. `pending` → `running` (claimed
    with a lease, `attempts` + 1) → `done` (in the same transaction as its cases) or `failed` (after the last
    attempt). A worker that dies leaves `running` with an expired lease: the sweep puts it back to `pending`."""

    __tablename__ = "screening_run_chunks"
    __table_args__ = (Index("ix_screening_run_chunks_status", "status", "lease_until"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    lo: Mapped[int] = mapped_column(BigId)
    hi: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(20))             # pending | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    cases_created: Mapped[int] = mapped_column(Integer, default=0)
    cpu_s: Mapped[float | None] = mapped_column(Float, nullable=True)     # the worker's CPU seconds on it
    wall_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


STARTED = text("instance_id IS NOT NULL")
# the only read of flagged_at (the supervisors' counts, app.screening.queries.stats) leaves prevention cases out, and
# they are ~70 % of what a run inserts: their entries were maintained for nothing (issue 23.4)
NOT_PREVENTION = text("track <> 'prevention'")


class ScreeningCase(Base):
    """A resident flagged for one disease: suspected or confirmed (→ verification) or high risk (→ prevention).

    `open_key` is `<resident>:<disease>:<track>` while the case is open and NULL once closed, and it is unique: a
    second run (or a re-screen on new data) cannot open the same case twice.
    """

    __tablename__ = "screening_cases"
    __table_args__ = (Index("ix_screening_cases_disease_status", "disease", "status"),
                      Index("ix_screening_cases_org_path", "org_path",
                            postgresql_ops={"org_path": "varchar_pattern_ops"}),
                      Index("ix_screening_cases_flagged_at", "flagged_at", postgresql_where=NOT_PREVENTION,
                            sqlite_where=NOT_PREVENTION),
                      Index("ix_screening_cases_resident", "resident_id"),
                      # every case is inserted without an instance: only started ones are worth an index entry
                      Index("ix_screening_cases_instance_id", "instance_id", postgresql_where=STARTED,
                            sqlite_where=STARTED))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # no foreign key to residents (0057): its per-row referential check was ~8 % of a population run's CPU. A case
    # is only ever written for a resident just read from `residents` (features.gather joins them), and a deleted
    # resident's cases are deleted by the trigger 0057 puts on `residents` (AFTER DELETE), as the ON DELETE CASCADE did
    resident_id: Mapped[int] = mapped_column(BigId)
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(400))
    township_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    disease: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20))              # suspected | confirmed | high_risk
    track: Mapped[str] = mapped_column(String(20))             # case | prevention | cancer
    status: Mapped[str] = mapped_column(String(20))
    open_key: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    decision_id: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")
    versions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    referral_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20))            # batch | new_data
    run_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GradingState(Base):
    """One row per (resident, disease): serializes re-grading. `start_grading` locks it, compares the new inputs
    with the last *requested* ones (not the last written level) and records the stratify instance it started;
    `dirty` marks inputs that changed while that instance had not written its level yet."""

    __tablename__ = "grading_states"

    resident_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    disease: Mapped[str] = mapped_column(String(30), primary_key=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    recorded_instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

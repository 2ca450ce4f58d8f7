"""The job outbox: background work to run after a commit, written in the same transaction as the data it is for.

In production (rq) `enqueue_after_commit()` adds one row here instead of talking to Redis inside the request; the
relay (`app.jobs.outbox.relay`, run by the leading scheduler every second and tried once right after the commit)
pushes each row to rq exactly once, by the row's job id. Redis being down therefore never fails a write: the rows
wait, `pending`, until Redis answers again.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class JobOutbox(Base):
    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_status_available", "status", "available_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    job_id: Mapped[str] = mapped_column(String(120))                  # queue-safe (app.jobs.ids.job_id)
    retries: Mapped[int] = mapped_column(Integer, default=3)
    backoff: Mapped[list[int]] = mapped_column(JSONType, default=list)
    delay_s: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | relayed | duplicate
    attempts: Mapped[int] = mapped_column(Integer, default=0)          # relay attempts that failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)        # created_at + delay_s
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

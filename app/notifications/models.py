"""Notification records, one per (recipient, event); `dedupe_key` makes every producer idempotent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")
KINDS = ("task_new", "task_assigned", "task_delegated", "task_returned", "task_overdue")


class Notification(Base):
    """A message for one user (`task_assigned`, `task_overdue`, …) with a link into the UI."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user", "user_id", "read_at", "id"),
                      Index("ix_notifications_undelivered", "delivered_at", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(255), nullable=True)
    task_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)   # by the SMS/app connector
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)

"""Education items and the record of pushes (and reads) to residents."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class EducationItem(Base):
    """One piece of health education (健康教育处方), tagged by disease, risk levels and topic."""

    __tablename__ = "education_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    disease: Mapped[str] = mapped_column(String(20), index=True)            # htn | dm | general
    topic: Mapped[str] = mapped_column(String(40), index=True)              # diet_salt | exercise | medication …
    risk_levels: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty = every level
    source: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EducationPush(Base):
    """An item pushed to a resident (why, by whom, on which channel) and when it was read."""

    __tablename__ = "education_pushes"
    __table_args__ = (Index("ix_education_pushes_resident", "resident_id", "pushed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("education_items.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId)
    care_plan_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reason: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(20), default="platform")
    pushed_by: Mapped[str] = mapped_column(String(120))
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

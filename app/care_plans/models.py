"""Tables of care plans: one plan per resident and disease, its numbered versions, and revision comments."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")
PLAN_STATUSES = ("drafting", "active", "closed")
VERSION_STATUSES = ("draft", "pending_approval", "approved", "acknowledged", "returned", "superseded", "withdrawn",
                    "cancelled", "expired")


class CarePlan(Base):
    """A resident's plan for one disease (htn, dm); its content lives in versions, `current_version` is in force."""

    __tablename__ = "care_plans"
    __table_args__ = (UniqueConstraint("resident_id", "disease"),
                      Index("ix_care_plans_org_path", "org_path", postgresql_ops={"org_path": "varchar_pattern_ops"}))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    disease: Mapped[str] = mapped_column(String(20))
    risk_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="drafting")
    current_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    org_path: Mapped[str | None] = mapped_column(String(400), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CarePlanVersion(Base):
    """One version of a plan: targets, drug regimen, lifestyle, follow-up interval, education topics."""

    __tablename__ = "care_plan_versions"
    __table_args__ = (UniqueConstraint("care_plan_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    care_plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    kind: Mapped[str] = mapped_column(String(20), default="initial")        # initial | revision
    content: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    change_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    drafted_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # an open revision that ended without coming into force: cancelled (who, why), expired, or superseded
    closed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CarePlanComment(Base):
    """A comment in the collaborative revision of a plan (on a version, by a township or county doctor)."""

    __tablename__ = "care_plan_comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    care_plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

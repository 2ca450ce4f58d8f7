"""Tables of custom reports: a user's saved report (definition, optional role it is shared with, optional monthly
delivery) and each delivered file (one per report and period)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class SavedReport(Base):
    __tablename__ = "saved_reports"
    __table_args__ = (Index("ix_saved_reports_owner", "owner_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigId)
    name: Mapped[str] = mapped_column(String(120))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    shared_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    schedule_day: Mapped[int | None] = mapped_column(Integer, nullable=True)       # 1 … 28: monthly delivery day
    schedule_format: Mapped[str | None] = mapped_column(String(8), nullable=True)  # xlsx | pdf
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class ReportDelivery(Base):
    """One scheduled delivery: the file generated for a report and the month it covers (unique: idempotent)."""
    __tablename__ = "report_deliveries"
    __table_args__ = (UniqueConstraint("report_id", "period", name="uq_report_deliveries_report_period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId)
    owner_id: Mapped[int] = mapped_column(BigId)
    period: Mapped[str] = mapped_column(String(7))
    format: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))

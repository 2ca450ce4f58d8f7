"""Tables quality control owns: the threshold alerts raised (one per indicator, organisation, period and level)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class QualityAlert(Base):
    """An indicator of one organisation crossed its warning or alarm threshold in one period; the unique key
    makes the alert (and the supervisors' notifications) happen once per breach."""

    __tablename__ = "quality_alerts"
    __table_args__ = (UniqueConstraint("indicator_id", "org_code", "period", "level"),
                      Index("ix_quality_alerts_org_path", "org_path", "period",
                            postgresql_ops={"org_path": "varchar_pattern_ops"}))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    indicator_id: Mapped[str] = mapped_column(String(80))
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(400))
    period: Mapped[str] = mapped_column(String(7))                    # YYYY-MM
    level: Mapped[str] = mapped_column(String(20))                    # warning | alarm
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float] = mapped_column(Float)
    part: Mapped[str] = mapped_column(String(20))                     # the list behind it: gap | numerator
    subjects: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)   # keys, resident/task ids
    recipients: Mapped[list[int]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the handling task (process `quality_alert`): open → handled, with the cause, actions and deadline written
    instance_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")              # open | handled
    handled_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)   # cause, actions, rectify_by

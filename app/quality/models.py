"""Tables quality control owns: the threshold alerts raised (one per indicator, organisation, period and level) and
the materialized figures the dashboards read (`app.quality.aggregates`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
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


class QualityAggregate(Base):
    """One materialized figure: an indicator's numerator, denominator and value for a month (the indicator's own
    window at that month) and an organisation's whole subtree, in total (`dim` "") or for one value of a dimension
    (`disease`, `risk_level`, `doctor`, `age_band`, `sex`), or for the rows of the organisation itself outside its child organisations
    (`dim` "self"). `dim_value` is "" for none and "=" + the value otherwise (`aggregates.encode`: the unique key
    treats NULLs as distinct, and an empty text must stay apart from none)."""

    __tablename__ = "quality_aggregates"
    __table_args__ = (UniqueConstraint("period", "indicator_id", "org_code", "dim", "dim_value"),
                      Index("ix_quality_aggregates_org", "org_code", "period", "dim"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7))                    # YYYY-MM
    indicator_id: Mapped[str] = mapped_column(String(80))
    org_code: Mapped[str] = mapped_column(String(40))
    dim: Mapped[str] = mapped_column(String(20))                      # "" | self | disease | risk_level | doctor | age_band | sex
    dim_value: Mapped[str] = mapped_column(String(80))
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)


class QualityAggregateRun(Base):
    """The state of one month's materialized figures: when they were computed (`as_of`), up to which day the
    window counted, how long it took, and whether a refresh is running or failed."""

    __tablename__ = "quality_aggregate_runs"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))                   # running | done | failed
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)     # the figures were computed then
    window_end: Mapped[str | None] = mapped_column(String(10), nullable=True)      # last day counted (ISO)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

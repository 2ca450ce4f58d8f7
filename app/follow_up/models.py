"""Tables of follow-up: the schedule (years long), one visit row per cycle (one `follow_up` instance each),
escalations of overdue visits (each level once) and referral requests the referral process picks up."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class FollowUpSchedule(Base):
    """Who is due when: a resident's next follow-up for one disease, its interval and responsible doctor."""

    __tablename__ = "follow_up_schedules"
    __table_args__ = (UniqueConstraint("resident_id", "disease"),
                      Index("ix_follow_up_schedules_due", "status", "next_due_on"),
                      Index("ix_follow_up_schedules_org_path", "org_path",
                            postgresql_ops={"org_path": "varchar_pattern_ops"}))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    disease: Mapped[str] = mapped_column(String(20))
    risk_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    care_plan_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    org_path: Mapped[str | None] = mapped_column(String(400), nullable=True)
    responsible_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    interval_days: Mapped[int] = mapped_column(Integer, default=90)
    next_due_on: Mapped[date] = mapped_column(Date)
    last_visit_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_classification: Mapped[str | None] = mapped_column(String(20), nullable=True)
    consecutive_uncontrolled: Mapped[int] = mapped_column(Integer, default=0)
    cycle_no: Mapped[int] = mapped_column(Integer, default=0)              # cycles started so far
    open_visit_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    latest_device: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # readings from devices
    status: Mapped[str] = mapped_column(String(20), default="active")       # active | paused | closed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowUpVisit(Base):
    """One cycle: scheduled when due, carried out by one `follow_up` instance, then classified."""

    __tablename__ = "follow_up_visits"
    __table_args__ = (UniqueConstraint("schedule_id", "cycle_no"),
                      Index("ix_follow_up_visits_resident", "resident_id", "disease", "visited_on"),
                      Index("ix_follow_up_visits_pending", "status", "instance_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(BigId, index=True)
    resident_id: Mapped[int] = mapped_column(BigId)
    disease: Mapped[str] = mapped_column(String(20))
    cycle_no: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")    # scheduled | started | done
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, unique=True)
    visited_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    visit_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sbp: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dbp: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heart_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    fpg: Mapped[float | None] = mapped_column(Float, nullable=True)
    hba1c: Mapped[float | None] = mapped_column(Float, nullable=True)
    classification: Mapped[str | None] = mapped_column(String(20), nullable=True)
    action: Mapped[str | None] = mapped_column(String(40), nullable=True)
    next_due_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)    # the whole 随访服务记录表
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # versions, reason, rows
    performed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # not a column (hence __allow_unmapped__): set by queries.timeline for the timeline's wording only
    __allow_unmapped__ = True
    performed_by_name: str | None = None


class FollowUpEscalation(Base):
    """An escalation level reached by an overdue visit; the unique key makes each level happen once."""

    __tablename__ = "follow_up_escalations"
    __table_args__ = (UniqueConstraint("visit_id", "level"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(BigId, index=True)
    task_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    level: Mapped[str] = mapped_column(String(20))                    # reminder | township_lead
    days_overdue: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    notified: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralRequest(Base):
    """A referral asked for by a follow-up (emergency or routine); the `referral` process picks pending rows up."""

    __tablename__ = "referral_requests"
    __table_args__ = (Index("ix_referral_requests_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_key: Mapped[str] = mapped_column(String(80), unique=True)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    disease: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(20))                  # emergency | routine
    reason: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(40))
    source_visit_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    source_instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | started | closed
    referral_instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    follow_up_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

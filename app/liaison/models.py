"""Tables of expert liaison: the county specialist's duties at a township (下沉坐诊 half-days, each with its joint-clinic
capacity, and on-call days), the township's bookings against a duty, and the specialty-building plan of a township with
its milestones (专科共建计划)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class LiaisonDuty(Base):
    """One expert at one township for one half-day (`visit`: 下沉坐诊, joint-clinic slots = capacity) or one day
    (`on_call`: 值班, reachable from 08:00 to 08:00 the next day)."""

    __tablename__ = "liaison_duties"
    __table_args__ = (
        Index("ix_liaison_duties_expert", "expert_user_id", "on_date"),
        Index("ix_liaison_duties_township", "township_code", "on_date"),
        Index("ix_liaison_duties_path", "township_path", "on_date",
              postgresql_ops={"township_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))                # visit | on_call
    expert_user_id: Mapped[int] = mapped_column(BigId)
    expert_name: Mapped[str] = mapped_column(String(120))
    expert_org_code: Mapped[str] = mapped_column(String(40))     # where the expert is registered (consult registry)
    specialty: Mapped[str] = mapped_column(String(40))
    township_code: Mapped[str] = mapped_column(String(40))
    township_path: Mapped[str] = mapped_column(String(400))
    on_date: Mapped[date] = mapped_column(Date)
    half_day: Mapped[str] = mapped_column(String(4))             # am | pm | day (on call)
    capacity: Mapped[int] = mapped_column(Integer, default=0)    # joint-clinic / consult slots of a visit
    status: Mapped[str] = mapped_column(String(12))              # scheduled | delivered | cancelled
    note: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LiaisonBooking(Base):
    """A slot of a visit taken by the township for one resident: a joint clinic (联合门诊) or a remote consult
    started through app.consult (its id kept here)."""

    __tablename__ = "liaison_bookings"
    __table_args__ = (
        Index("ix_liaison_bookings_duty", "duty_id", "status"),
        Index("ix_liaison_bookings_path", "org_path", "booked_at", postgresql_ops={"org_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    duty_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(14))                # joint_clinic | consult
    status: Mapped[str] = mapped_column(String(12))              # booked | attended | cancelled
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    resident_name: Mapped[str] = mapped_column(String(120))
    org_code: Mapped[str] = mapped_column(String(40))            # the booking organisation (township or village)
    org_path: Mapped[str] = mapped_column(String(400))
    reason: Mapped[str] = mapped_column(Text)
    consult_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    booked_by: Mapped[int] = mapped_column(BigId)
    booked_by_name: Mapped[str] = mapped_column(String(120))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SpecialtyPlan(Base):
    """A township's specialty-building plan with a county department (专科共建计划): goals, activities, the lead
    expert; its process `specialty_plan` runs approval, milestone reviews and the closing evaluation."""

    __tablename__ = "specialty_plans"
    __table_args__ = (Index("ix_specialty_plans_path", "township_path",
                            postgresql_ops={"township_path": "varchar_pattern_ops"}),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    township_code: Mapped[str] = mapped_column(String(40))
    township_path: Mapped[str] = mapped_column(String(400))
    specialty: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    lead_expert_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    lead_expert_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    goals: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    activities: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))   # pending_approval | returned | active | evaluating | closed | rejected
    approval: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SpecialtyMilestone(Base):
    """A dated checkpoint of a plan with its measured indicators ([{name, unit, target, direction, indicator_id?}]);
    the review records each indicator's value (read from the quality library where `indicator_id` names one)."""

    __tablename__ = "specialty_milestones"
    __table_args__ = (Index("ix_specialty_milestones_plan", "plan_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(BigId)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    indicators: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(10))               # pending | met | missed
    review: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

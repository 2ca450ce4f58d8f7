"""Tables of referral: the referral record, its numbering counters and the organisation capability catalogue."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Referral(Base):
    """One referral (上转 or 下转): who, from where to where, why, and when each step of the loop happened."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_resident", "resident_id", "requested_at"),
        Index("ix_referrals_from_path", "from_org_path", "requested_at",
              postgresql_ops={"from_org_path": "varchar_pattern_ops"}),
        Index("ix_referrals_to_path", "to_org_path", "requested_at",
              postgresql_ops={"to_org_path": "varchar_pattern_ops"}),
        Index("ix_referrals_status", "status", "direction"),
        Index("ix_referrals_offered", "direction", "offered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_no: Mapped[str] = mapped_column(String(20), unique=True)
    direction: Mapped[str] = mapped_column(String(4))                    # up | down
    status: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(12), default="routine")  # emergency | priority | routine
    reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    disease: Mapped[str | None] = mapped_column(String(20), nullable=True)
    capability: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resident_id: Mapped[int] = mapped_column(BigId)
    resident_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    source: Mapped[str] = mapped_column(String(20))       # follow_up | screening | clinical | manual | external | ...
    source_key: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)
    source_instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)   # down ← its up-referral
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    from_org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    from_org_path: Mapped[str | None] = mapped_column(String(400), nullable=True)
    from_user: Mapped[str | None] = mapped_column(String(120), nullable=True)
    sender_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_org_path: Mapped[str | None] = mapped_column(String(400), nullable=True)
    target_level: Mapped[str | None] = mapped_column(String(20), nullable=True)   # township | county | out_of_county
    receiver_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    out_of_county: Mapped[bool] = mapped_column(Boolean, default=False)
    external_hospital: Mapped[str | None] = mapped_column(String(120), nullable=True)
    insurance_filing_no: Mapped[str | None] = mapped_column(String(60), nullable=True)     # 医保备案号
    reject_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reject_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    rejections: Mapped[int] = mapped_column(Integer, default=0)
    no_show_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    form: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)      # 转诊单 / 下转单 as filled
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)    # 回执 (接诊记录/诊疗结果)
    follow_up: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # 2周随访 / 下转首次随访
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    follow_up_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    follow_up_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)      # ≤ arrival + 2 d
    follow_up_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)   # ≤ follow_up_due_on
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralCounter(Base):
    """The last number handed out per prefix and day (`SZ20261203` → 7), so numbers are unique and gap-free."""

    __tablename__ = "referral_counters"

    key: Mapped[str] = mapped_column(String(12), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class OrgCapability(Base):
    """What an organisation offers (the 医共体 capability catalogue): one row per organisation and capability.

    In-county rows name an organisation of the tree (a county department or a township); out-of-county rows name
    a hospital outside the county (`org_code` empty, `hospital_name` set, `insurance_designated` for 医保定点).
    A row with `available=False` says why not (`unavailable_reason`), which is what a refused referral reports."""

    __tablename__ = "org_capabilities"
    __table_args__ = (UniqueConstraint("org_code", "hospital_name", "capability"),
                      Index("ix_org_capabilities_capability", "capability", "available"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    hospital_name: Mapped[str] = mapped_column(String(120), default="")
    in_county: Mapped[bool] = mapped_column(Boolean, default=True)
    capability: Mapped[str] = mapped_column(String(40))
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    unavailable_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    insurance_designated: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportedReferral(Base):
    """A referral or transfer another system reported (the HIS, the public-health platform, the insurance platform):
    kept as reported, beside the network's own referrals, so the two can be summarised and matched. Unique on the
    reporting source and its own id, so a repeated report is the same row."""

    __tablename__ = "reported_referrals"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_reported_referrals_source"),
        Index("ix_reported_referrals_resident", "resident_id", "referred_on"),
        Index("ix_reported_referrals_path", "resident_org_path", "referred_on",
              postgresql_ops={"resident_org_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(20))                   # his | public_health | insurance
    source_id: Mapped[str] = mapped_column(String(60))                # the reporting system's own id
    client_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    direction: Mapped[str] = mapped_column(String(4))                 # up | down
    kind: Mapped[str] = mapped_column(String(12), default="referral")  # referral | transfer
    resident_id: Mapped[int] = mapped_column(BigId)
    resident_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    resident_org_path: Mapped[str] = mapped_column(String(400))
    from_org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    from_org_path: Mapped[str | None] = mapped_column(String(400), nullable=True)
    from_hospital: Mapped[str | None] = mapped_column(String(120), nullable=True)
    to_org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_org_path: Mapped[str | None] = mapped_column(String(400), nullable=True)
    to_hospital: Mapped[str | None] = mapped_column(String(120), nullable=True)
    referred_on: Mapped[date] = mapped_column(Date)
    diagnosis_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    diagnosis: Mapped[str | None] = mapped_column(String(200), nullable=True)
    total_cost_fen: Mapped[int | None] = mapped_column(BigId, nullable=True)       # insurance: 结算总费用
    insurance_paid_fen: Mapped[int | None] = mapped_column(BigId, nullable=True)   # insurance: 统筹支付
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)        # as received
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

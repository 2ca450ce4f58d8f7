"""Tables of remote consultation: the consult record, each expert's signed opinion, the 远程医疗合作协议 between two
organisations, the expert registry (specialty, title, availability) and the archived report of each side."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Consult(Base):
    """One remote consult: who asks whom about which patient, and when each step of wave2 §2.1 happened."""

    __tablename__ = "consults"
    __table_args__ = (
        Index("ix_consults_resident", "resident_id", "requested_at"),
        Index("ix_consults_requester_path", "requester_org_path", "requested_at",
              postgresql_ops={"requester_org_path": "varchar_pattern_ops"}),
        Index("ix_consults_invited_path", "invited_org_path", "requested_at",
              postgresql_ops={"invited_org_path": "varchar_pattern_ops"}),
        Index("ix_consults_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consult_no: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    consult_type: Mapped[str] = mapped_column(String(12))        # single | mdt | imaging | ecg | pathology | lab
    mode: Mapped[str] = mapped_column(String(10))                # realtime | offline
    urgency: Mapped[str] = mapped_column(String(10))             # urgent | routine | scheduled
    patient_demanded: Mapped[bool] = mapped_column(Boolean, default=False)
    named: Mapped[bool] = mapped_column(Boolean, default=False)  # 点名会诊
    specialty: Mapped[str] = mapped_column(String(40))
    requested_title: Mapped[str | None] = mapped_column(String(20), nullable=True)
    resident_id: Mapped[int] = mapped_column(BigId)
    resident_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    requester_org_code: Mapped[str] = mapped_column(String(40))
    requester_org_path: Mapped[str] = mapped_column(String(400))
    requester_user_id: Mapped[int] = mapped_column(BigId)
    requester_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    invited_org_code: Mapped[str] = mapped_column(String(40))
    invited_org_path: Mapped[str] = mapped_column(String(400))
    agreement_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reason: Mapped[str] = mapped_column(Text)                    # 邀请事由
    purpose: Mapped[str] = mapped_column(Text)                   # 会诊目的
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)      # 病历摘要
    attachments: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consent: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)      # F2.2 (signature image inside)
    consent_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)       # requester-side 申请审核
    accept_sla: Mapped[str | None] = mapped_column(String(20), nullable=True)   # ISO duration (R4)
    report_sla: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sla_rule: Mapped[str | None] = mapped_column(String(8), nullable=True)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    lead_expert_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    expert_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)   # the slot
    room: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    report_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)       # the lead's signed summary
    report_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    adoption: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)     # F2.4
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)   # F2.5
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)     # patient 1–5
    billing: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    referral_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)      # emergency referrals raised
    log: Mapped[list[Any]] = mapped_column(JSONType, default=list)               # alarms, escalations, notes
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsultOpinion(Base):
    """One expert's opinion (F2.3), signed by that expert; the lead's summary is the row with role `lead`."""

    __tablename__ = "consult_opinions"
    __table_args__ = (UniqueConstraint("consult_id", "expert_id", "role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consult_id: Mapped[int] = mapped_column(BigId, index=True)
    expert_id: Mapped[int] = mapped_column(BigId)
    expert_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(8))                 # member | lead
    content: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    signature: Mapped[str] = mapped_column(String(64))           # sha256 over consult, expert, content, time
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsultAgreement(Base):
    """A 远程医疗合作协议 between an inviting and an invited organisation (W1: 目的, 条件, 内容, 流程, 权利义务,
    医疗损害风险和责任分担). Without an active one covering today, no consult between the two."""

    __tablename__ = "consult_agreements"
    __table_args__ = (Index("ix_consult_agreements_orgs", "requester_org_code", "invited_org_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agreement_no: Mapped[str] = mapped_column(String(40), unique=True)
    requester_org_code: Mapped[str] = mapped_column(String(40))
    invited_org_code: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsultExpert(Base):
    """An expert registered to give consults at an organisation (多点执业: one row per organisation)."""

    __tablename__ = "consult_experts"
    __table_args__ = (UniqueConstraint("user_id", "org_code", "specialty"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, index=True)
    org_code: Mapped[str] = mapped_column(String(40), index=True)
    specialty: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(20))      # resident | attending | associate_chief | chief
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    leave_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    leave_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsultDocument(Base):
    """The signed report as archived by one side (requester and invited each keep their copy)."""

    __tablename__ = "consult_documents"
    __table_args__ = (UniqueConstraint("consult_id", "side", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consult_id: Mapped[int] = mapped_column(BigId, index=True)
    side: Mapped[str] = mapped_column(String(10))        # requester | invited
    org_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))        # report
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""Tables of pharmacy: one row per e-prescription (its current version, findings and outcome), one row per state
it passed through (开具 → 审核中 → 通过/干预/拒绝 …) and the result messages owed to the HIS."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Prescription(Base):
    """One e-prescription containing a supervised drug, as the HIS sent it (and as the prescriber modified it)."""

    __tablename__ = "prescriptions"
    __table_args__ = (
        Index("ix_prescriptions_org_path", "org_path", "received_at",
              postgresql_ops={"org_path": "varchar_pattern_ops"}),
        Index("ix_prescriptions_resident", "resident_id", "received_at"),
        # the drug filter of GET /api/v1/prescriptions: `items @> '[{"drug": …}]'` on PostgreSQL
        Index("ix_prescriptions_items", "items", postgresql_using="gin", postgresql_ops={"items": "jsonb_path_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_key: Mapped[str] = mapped_column(String(140), unique=True)     # <client id>:<the HIS's rx id>
    rx_id: Mapped[str] = mapped_column(String(60))
    resident_id: Mapped[int] = mapped_column(BigId)
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(400))
    review_org_code: Mapped[str] = mapped_column(String(40))            # the pharmacy that reviews it
    prescriber: Mapped[str] = mapped_column(String(120))                # the HIS's prescriber name/code
    prescriber_role: Mapped[str] = mapped_column(String(40))
    setting: Mapped[str] = mapped_column(String(12))                    # outpatient | inpatient | emergency
    indication: Mapped[str] = mapped_column(String(40))
    diagnosis: Mapped[str] = mapped_column(String(200))
    clinical: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)   # age, sex, weight, Scr, INR …
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # what R6a `rx_legality` judges, as the HIS sent it: prescriber code, signature, date issued, validity, long-term
    legality: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    grade: Mapped[str] = mapped_column(String(8))                       # block | warn | info | none
    status: Mapped[str] = mapped_column(String(20))                     # reviewing | intervened | passed | refused | withdrawn
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class PrescriptionState(Base):
    """One state a prescription passed through: who, when, at which organisation, for which version."""

    __tablename__ = "prescription_states"
    __table_args__ = (Index("ix_prescription_states_rx", "prescription_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prescription_id: Mapped[int] = mapped_column(BigId)
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    version_hash: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(120))
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class PrescriptionVersion(Base):
    """The lines of one version of a prescription as the HIS sent it or the prescriber modified it, with what the
    automatic review found in it: earlier versions stay readable, so the timeline shows what changed."""

    __tablename__ = "prescription_versions"
    __table_args__ = (UniqueConstraint("prescription_id", "version", name="uq_prescription_versions_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prescription_id: Mapped[int] = mapped_column(BigId)
    version: Mapped[int] = mapped_column(Integer)
    version_hash: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    indication: Mapped[str] = mapped_column(String(40))
    grade: Mapped[str] = mapped_column(String(8))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class PrescriptionResult(Base):
    """A review result owed to the HIS (outbound message): written with the decision, sent by a job."""

    __tablename__ = "prescription_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prescription_id: Mapped[int] = mapped_column(BigId, index=True)
    rx_id: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(12))                     # pending | sent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)


class AutoPassSetting(Base):
    """Whether a prescription of this drug class at this organisation (and below it, unless a closer organisation says
    otherwise) with no finding above `info` is released without a pharmacist. No row: off (wave2 §3.1 step 4)."""

    __tablename__ = "rx_auto_pass_settings"
    __table_args__ = (UniqueConstraint("org_code", "drug_class", name="uq_rx_auto_pass_settings_org_class"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(40))
    drug_class: Mapped[str] = mapped_column(String(20))                 # warfarin | rivaroxaban | lmwh
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class MedicationErrorReport(Base):
    """A 用药差错/不良事件报告 recorded when a prescription is refused (wave2 §3.1 step 5 "refuse → 不良事件/用药错误上报";
    [W6 V2] severe misuse/medication error → refuse, record, report): written in the refusing transaction, one per
    prescription version. Category after NCC MERP; a pre-review interception is "B" (error occurred, did not reach the
    patient)."""

    __tablename__ = "medication_error_reports"
    __table_args__ = (
        UniqueConstraint("prescription_id", "version", name="uq_medication_error_reports_version"),
        Index("ix_medication_error_reports_org_path", "org_path", "created_at",
              postgresql_ops={"org_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prescription_id: Mapped[int] = mapped_column(BigId)
    rx_id: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    version_hash: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int] = mapped_column(BigId)
    org_code: Mapped[str] = mapped_column(String(40))                   # the prescribing organisation
    org_path: Mapped[str] = mapped_column(String(400))
    review_org_code: Mapped[str] = mapped_column(String(40))
    prescriber: Mapped[str] = mapped_column(String(120))
    pharmacist: Mapped[str] = mapped_column(String(120))                # who refused (the second signer after insist)
    first_pharmacist: Mapped[str | None] = mapped_column(String(120), nullable=True)
    double_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    problems: Mapped[list[str]] = mapped_column(JSONType, default=list)
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    category: Mapped[str] = mapped_column(String(2))                    # NCC MERP A–I; pre-review refusal: B
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))

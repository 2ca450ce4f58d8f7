"""Tables of the interventional centre: one row per intervention case (each step of wave2 §4.1 writes its part, so
lists, the specialty database and the indicators read current data without a batch), the devices scanned into it
(UDI), its complications (F4.3) and its re-operations (F4.4)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class InterventionCase(Base):
    """One interventional procedure of one patient, from the pre-operative assessment to the 30-day follow-up."""

    __tablename__ = "intervention_cases"
    __table_args__ = (
        Index("ix_intervention_cases_org_path", "org_path", "discharged_on",
              postgresql_ops={"org_path": "varchar_pattern_ops"}),
        Index("ix_intervention_cases_resident", "resident_id", "created_at"),
        Index("ix_intervention_cases_status", "status"),
        Index("ix_intervention_cases_line", "service_line", "discharged_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_no: Mapped[str] = mapped_column(String(24), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    resident_id: Mapped[int] = mapped_column(BigId)
    resident_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    org_code: Mapped[str] = mapped_column(String(40))               # the centre / member department
    org_path: Mapped[str] = mapped_column(String(400))
    doctor_user_id: Mapped[int] = mapped_column(BigId)
    doctor_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    service_line: Mapped[str] = mapped_column(String(20))           # coronary | peripheral | neuro | oncology
    diagnosis: Mapped[str] = mapped_column(Text)
    procedure_code: Mapped[str] = mapped_column(String(20))         # ICD-9-CM-3
    procedure_name: Mapped[str] = mapped_column(String(200))
    procedure_grade: Mapped[int | None] = mapped_column(Integer, nullable=True)   # 手术分级 1–4
    admitted_on: Mapped[date] = mapped_column(Date)
    assessment: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)    # F4.1 + anticoag + eGFR
    mdt: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    consent: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    self_pay_estimate: Mapped[float | None] = mapped_column(Float, nullable=True)
    reservation: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    operation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)     # F4.2 (without the scans)
    operated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checkpoints: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)   # "48h" / "31d" confirmations
    discharge: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    discharged_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    los_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    died: Mapped[bool] = mapped_column(Boolean, default=False)
    drg: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)           # the grouper's output, as received
    drg_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    drg_weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    total_charge: Mapped[float | None] = mapped_column(Float, nullable=True)      # 住院总费用 (医保结算清单)
    cost: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)          # case cost, payment, margin
    case_cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    margin: Mapped[float | None] = mapped_column(Float, nullable=True)
    follow_up: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)     # 30-day follow-up + F4.5
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)      # overall 1–5
    readmitted_30d: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    log: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CaseDevice(Base):
    """A device scanned during the operation (UDI = DI + PI); one serialised item is bound to one case only."""

    __tablename__ = "intervention_devices"
    __table_args__ = (UniqueConstraint("gtin", "serial", name="uq_intervention_devices_serial"),
                      Index("ix_intervention_devices_case", "case_id"),
                      Index("ix_intervention_devices_lot", "gtin", "lot"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("intervention_cases.id", ondelete="CASCADE"))
    udi: Mapped[str] = mapped_column(String(200))
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(40), nullable=True)
    serial: Mapped[str | None] = mapped_column(String(40), nullable=True)
    expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[float] = mapped_column(Float, default=0.0)
    unit_cost: Mapped[float] = mapped_column(Float, default=0.0)     # purchase price (case cost)
    insurance_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    high_value: Mapped[bool] = mapped_column(Boolean, default=True)
    implant: Mapped[bool] = mapped_column(Boolean, default=False)
    self_pay: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)   # the supply movement it consumed
    scanned_by: Mapped[int] = mapped_column(BigId)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Complication(Base):
    """F4.3: a complication of the case (during the stay or up to the 31-day checkpoint)."""

    __tablename__ = "intervention_complications"
    __table_args__ = (Index("ix_intervention_complications_case", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("intervention_cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(6))                   # Clavien-Dindo
    severe: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    during_stay: Mapped[bool] = mapped_column(Boolean, default=True)
    treatment: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    checkpoint: Mapped[str] = mapped_column(String(4))              # 48h | 31d (the checkpoint that registered it)
    registered_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reoperation(Base):
    """F4.4: a return to theatre; unplanned only when the physician marks it (staged procedures are not)."""

    __tablename__ = "intervention_reoperations"
    __table_args__ = (Index("ix_intervention_reoperations_case", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("intervention_cases.id", ondelete="CASCADE"))
    unplanned: Mapped[bool] = mapped_column(Boolean, default=True)
    reoperated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_hours: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    rca: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)          # 原因分析 (SV)
    rca_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MonthlyReport(Base):
    """The centre's monthly analysis built by the scheduler on the 1st for the month just ended (PDF + xlsx), and
    its delivery to the quality office's inbox. One row per centre and month (unique: a re-run delivers nothing
    twice); `failed` keeps the error and is retried by the next run."""

    __tablename__ = "intervention_monthly_reports"
    __table_args__ = (UniqueConstraint("org_code", "period", name="uq_intervention_monthly_reports_org_period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(40))                # the centre (department)
    org_path: Mapped[str] = mapped_column(String(400))
    period: Mapped[str] = mapped_column(String(7))                   # YYYY-MM
    status: Mapped[str] = mapped_column(String(10))                  # delivered | failed
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    xlsx: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    recipients: Mapped[list[Any]] = mapped_column(JSONType, default=list)        # user ids notified
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)

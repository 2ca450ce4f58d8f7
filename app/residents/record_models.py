"""The health record: clinical facts about a resident, each with its source system and time.

Rows belong to a resident (`resident_id`); data scope comes from the resident row (`queries.resident_ids_in_scope`),
so moving a resident to another village moves their whole record with them. A client-generated `client_id`
makes every write idempotent: a phone or interface engine that re-sends after a lost answer gets the first row.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _resident_fk() -> ForeignKey:
    return ForeignKey("residents.id", ondelete="CASCADE")


class Observation(Base):
    """One measured value (LOINC code) in canonical units; the value as sent is kept beside it."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_resident_code", "resident_id", "code", "effective_at"),
                      Index("ix_observations_code_resident", "code", "resident_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, _resident_fk())
    code: Mapped[str] = mapped_column(String(20))
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_text: Mapped[str | None] = mapped_column(String(80), nullable=True)
    unit: Mapped[str | None] = mapped_column(String(30), nullable=True)
    original_value: Mapped[str | None] = mapped_column(String(80), nullable=True)
    original_unit: Mapped[str | None] = mapped_column(String(30), nullable=True)
    abnormal_flag: Mapped[str | None] = mapped_column(String(10), nullable=True)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(60))
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)   # the organisation that produced it
    client_id: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(120))


class Condition(Base):
    """A diagnosis (ICD-10) or complication, confirmed, suspected or resolved."""

    __tablename__ = "conditions"
    __table_args__ = (Index("ix_conditions_resident", "resident_id", "icd10"),
                      CheckConstraint("status IN ('confirmed', 'suspected', 'resolved', 'refuted')",
                                      name="status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, _resident_fk())
    icd10: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(20))              # diagnosis | complication
    onset_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(60))
    client_id: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(120))


class Encounter(Base):
    """A contact with the health system: outpatient, inpatient, health exam or public-health visit."""

    __tablename__ = "encounters"
    __table_args__ = (Index("ix_encounters_resident", "resident_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, _resident_fk())
    kind: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    diagnoses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    source: Mapped[str] = mapped_column(String(60))
    client_id: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(120))


class Medication(Base):
    """A drug the resident takes (or took): name, dose, frequency, from which system."""

    __tablename__ = "medications"
    __table_args__ = (Index("ix_medications_resident", "resident_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, _resident_fk())
    drug: Mapped[str] = mapped_column(String(120))
    dose: Mapped[str | None] = mapped_column(String(60), nullable=True)
    frequency: Mapped[str | None] = mapped_column(String(60), nullable=True)
    started_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(12))                 # active | stopped
    source: Mapped[str] = mapped_column(String(60))
    client_id: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(120))


class RiskFactor(Base):
    """The current answer to one risk-factor question (smoking, drinking, activity, diet, family history…)."""

    __tablename__ = "risk_factors"
    __table_args__ = (UniqueConstraint("resident_id", "factor"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, _resident_fk())
    factor: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralFlag(Base):
    """A two-way-referral flag set by HIS, the public-health system or insurance (one row per source)."""

    __tablename__ = "referral_flags"
    __table_args__ = (UniqueConstraint("resident_id", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, _resident_fk())
    source: Mapped[str] = mapped_column(String(60))
    flagged: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DiseaseEnrolment(Base):
    """建档: the resident is managed for a chronic disease (diagnosis, date, managing doctor, village)."""

    __tablename__ = "disease_enrolments"
    __table_args__ = (UniqueConstraint("resident_id", "disease"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, _resident_fk())
    disease: Mapped[str] = mapped_column(String(30))
    icd10: Mapped[str] = mapped_column(String(12))
    diagnosed_on: Mapped[date] = mapped_column(Date)
    managing_doctor_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    village_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    screening_case_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    source: Mapped[str] = mapped_column(String(60))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enrolled_by: Mapped[str] = mapped_column(String(120))


class RiskLevel(Base):
    """The current risk level of an enrolled disease, with the rule that decided it (trace) and the prior level."""

    __tablename__ = "risk_levels"
    __table_args__ = (UniqueConstraint("resident_id", "disease"),
                      Index("ix_risk_levels_level", "disease", "level"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, _resident_fk())
    disease: Mapped[str] = mapped_column(String(30))
    level: Mapped[str | None] = mapped_column(String(20), nullable=True)   # LOW | MODERATE | HIGH | VERY_HIGH
    previous_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decision_id: Mapped[str] = mapped_column(String(120))
    versions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    trace: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # which readings the grade in force used (htn: the untreated BP, its source and dates)
    basis: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    source: Mapped[str] = mapped_column(String(20), default="grading")       # grading | clinician
    proposed_level: Mapped[str | None] = mapped_column(String(20), nullable=True)   # latest automatic proposal
    overruled_level: Mapped[str | None] = mapped_column(String(20), nullable=True)  # proposal a clinician lowered
    reassessed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    reassessed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

"""Tables of the training capability: plans and their sessions, the roster, attendance, materials, the item bank,
exam papers and attempts, satisfaction answers and credit records."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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
from app.vocabulary import ProjectLevel, TrainingAssessment, TrainingCategory, TrainingMode

BigId = BigInteger().with_variant(Integer(), "sqlite")

CATEGORIES = TrainingCategory.codes()
LEVELS = ProjectLevel.codes()
MODES = TrainingMode.codes()
ASSESSMENTS = TrainingAssessment.codes()


class TrainingPlan(Base):
    """An annual training plan of one organization (the head hospital or a sub-centre) for its own staff."""

    __tablename__ = "training_plans"
    __table_args__ = (Index("ix_training_plans_org_path", "org_path", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(255))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrainingSession(Base):
    """One row of a plan = one session (F5.1); `instance_id` once the cohort start has started its process."""

    __tablename__ = "training_sessions"
    __table_args__ = (Index("ix_training_sessions_org_path", "org_path", "starts_at"),
                      Index("ix_training_sessions_plan", "plan_id", "seq"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("training_plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer, default=1)
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(30))
    project_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    lecturer_name: Mapped[str] = mapped_column(String(120))
    lecturer_title: Mapped[str] = mapped_column(String(60), default="")
    lecturer_org: Mapped[str] = mapped_column(String(120), default="")
    lecturer_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    target_roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    target_org_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    mode: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue: Mapped[str] = mapped_column(String(200), default="")
    venue_lat: Mapped[float | None] = mapped_column(Float, nullable=True)     # WGS-84
    venue_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    geofence_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    online_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    hours: Mapped[float] = mapped_column(Float)                               # declared 学时
    assessment: Mapped[str] = mapped_column(String(20), default="exam")
    pass_mark: Mapped[int] = mapped_column(Integer, default=60)
    budget_yuan: Mapped[float | None] = mapped_column(Float, nullable=True)
    phase: Mapped[str] = mapped_column(String(30), default="planned")
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, unique=True)
    approved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    approval_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    sign_in_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attendance_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    exam_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    exam_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    makeup_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    credit_rule: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Enrolment(Base):
    """A trainee on a session's roster (snapshotted when the notice goes out) and their answer to it."""

    __tablename__ = "training_enrolments"
    __table_args__ = (UniqueConstraint("session_id", "user_id"), Index("ix_training_enrolments_user", "user_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId)
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(40))
    response: Mapped[str] = mapped_column(String(20), default="pending")       # pending | confirmed | declined
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attendance(Base):
    """One trainee's attendance at one session: at most one row (a second sign-in returns this one)."""

    __tablename__ = "training_attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId)
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sign_in_method: Mapped[str] = mapped_column(String(20))                   # qr | manual | online
    sign_in_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    sign_in_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    sign_in_accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    sign_in_distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    late_minutes: Mapped[int] = mapped_column(Integer, default=0)
    signed_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sign_out_method: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sign_out_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    sign_out_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    sign_out_accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    manual_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    manual_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    presence_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    attended_hours: Mapped[float | None] = mapped_column(Float, nullable=True)


class SignInAttempt(Base):
    """Every refused sign-in/sign-out with its reason (the trainer reviews them; the trainee may ask for help)."""

    __tablename__ = "training_sign_in_attempts"
    __table_args__ = (Index("ix_training_attempts_session", "session_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(10))                           # in | out
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    code: Mapped[str] = mapped_column(String(40))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    help_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    help_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class PresenceInterval(Base):
    """Online sessions: one interval of a trainee being in the live room (join → last heartbeat)."""

    __tablename__ = "training_presence"
    __table_args__ = (Index("ix_training_presence_session", "session_id", "user_id", "joined_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Material(Base):
    """An uploaded file (slides, PDF, video, on-site photo), stored on disk or in an S3-compatible store."""

    __tablename__ = "training_materials"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))                             # slides | document | video | photo
    file_name: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(BigId)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)   # photos: EXIF time
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ExamItem(Base):
    """A question of an organization's item bank: single choice, multiple choice or true/false."""

    __tablename__ = "training_exam_items"
    __table_args__ = (Index("ix_training_exam_items_org", "org_path", "category"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))                             # single | multiple | true_false
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)   # [{"key": "A", "text": …}]
    answer: Mapped[list[str]] = mapped_column(JSONType)                             # ["B"], ["A","C"], ["T"]
    explanation: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(60), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExamPaper(Base):
    """The paper of a session: its items (fixed when the exam opens), pass mark and time limit."""

    __tablename__ = "training_exam_papers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), unique=True)
    item_ids: Mapped[list[int]] = mapped_column(JSONType)
    items_snapshot: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    pass_mark: Mapped[int] = mapped_column(Integer)
    time_limit_min: Mapped[int] = mapped_column(Integer)
    shuffle: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExamAttempt(Base):
    """One sitting of one trainee (attempt 1, or 2 = the make-up), marked automatically on submission."""

    __tablename__ = "training_exam_attempts"
    __table_args__ = (UniqueConstraint("session_id", "user_id", "attempt_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId)
    attempt_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))                   # in_progress | submitted | absent
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    order: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)   # [{"item_id", "options": [keys]}]
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)        # item id → {"keys", "at"}
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    correct: Mapped[dict[str, bool] | None] = mapped_column(JSONType, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class SatisfactionResponse(Base):
    """A trainee's evaluation of a session (5-point Likert items and a comment)."""

    __tablename__ = "training_satisfaction"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigId)
    overall: Mapped[int] = mapped_column(Integer)
    content: Mapped[int] = mapped_column(Integer)
    lecturer: Mapped[int] = mapped_column(Integer)
    organisation: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CreditRecord(Base):
    """学时 and 学分 earned by one person at one session (as participant or lecturer), by the R8 rule in force."""

    __tablename__ = "training_credits"
    __table_args__ = (UniqueConstraint("session_id", "user_id", "capacity"),
                      Index("ix_training_credits_user_year", "user_id", "year"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId)
    org_path: Mapped[str] = mapped_column(String(255))
    capacity: Mapped[str] = mapped_column(String(20))                 # participant | lecturer
    year: Mapped[int] = mapped_column(Integer)
    hours: Mapped[float] = mapped_column(Float)
    credits: Mapped[float] = mapped_column(Float)
    credit_class: Mapped[str] = mapped_column(String(10))             # I | II | none
    reason: Mapped[str] = mapped_column(String(255), default="")
    rule: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)

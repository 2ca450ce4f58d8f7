"""Links from a resident's record to images and documents held in PACS/EMR (study UID, viewer URL, report)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")
KINDS = ("imaging_study", "document")


class RecordLink(Base):
    """An imaging study (PACS) or clinical document (EMR) attached to a resident's record by reference."""

    __tablename__ = "record_links"
    __table_args__ = (UniqueConstraint("system", "external_id", name="uq_record_links_system_external"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    system: Mapped[str] = mapped_column(String(20))               # pacs | emr
    external_id: Mapped[str] = mapped_column(String(128))         # DICOM StudyInstanceUID or document id
    title: Mapped[str] = mapped_column(String(200), default="")
    modality: Mapped[str | None] = mapped_column(String(16), nullable=True)
    viewer_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    report_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    performed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""Export jobs: a file too big or too slow to build inside a request (a large custom report, the appraisal report
of every institution type) is built by a background job; the row keeps its status, progress and, once done, the
file for its requester to download."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_owner_kind", "owner_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(40))                   # report_builder | appraisal
    title: Mapped[str] = mapped_column(String(200))
    builder: Mapped[str] = mapped_column(String(200))               # dotted path: (params, owner_id, progress)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")   # queued | running | done | failed
    done_steps: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mime: Mapped[str | None] = mapped_column(String(120), nullable=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(400), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)

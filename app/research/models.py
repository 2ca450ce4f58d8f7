"""Tables of research extraction: a project (cohort criteria, variables, de-identification choices and its review),
its one de-identified extract, and every download of it."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class ResearchProject(Base):
    """A researcher's request: who asks, for what cohort and variables, and where its review stands."""

    __tablename__ = "research_projects"
    __table_args__ = (Index("ix_research_projects_requester", "requester_user_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    requester: Mapped[str] = mapped_column(String(120))
    requester_user_id: Mapped[int] = mapped_column(BigId)
    requester_name: Mapped[str] = mapped_column(String(120))
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(400))          # the cohort is drawn from this subtree
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    variables: Mapped[list[str]] = mapped_column(JSONType, default=list)
    date_mode: Mapped[str] = mapped_column(String(10), default="shift")     # shift | month
    k: Mapped[int] = mapped_column(Integer)
    l: Mapped[int] = mapped_column(Integer, default=1, server_default="1")   # distinct l-diversity (1: not enforced)
    free_text_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    secret_encrypted: Mapped[str] = mapped_column(Text)        # the project's pseudonym/date-shift key (encrypted)
    # draft | submitted | changes_requested | building | pending_release | released | rejected | withdrawn
    status: Mapped[str] = mapped_column(String(20), default="draft")
    cohort_size: Mapped[int | None] = mapped_column(Integer, nullable=True)      # counted at submission
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # the committee's vote: the round (1 at submission, +1 per resubmission), who votes in it, who decides when the
    # votes run out of time or miss the quorum, and the result ({decision, rule, by, tally, comment})
    review_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    committee: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    chair_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    committee_result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    review_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    download_limit: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ResearchExtract(Base):
    """The de-identified rows of an approved project, with what de-identification did to them."""

    __tablename__ = "research_extracts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(BigId, unique=True)
    columns: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)     # [{id, label}]
    rows: Mapped[list[list[Any]]] = mapped_column(JSONType, default=list)
    quasi_identifiers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    cohort_size: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    k_before: Mapped[int | None] = mapped_column(Integer, nullable=True)    # min class size before suppression
    k_anonymity: Mapped[int | None] = mapped_column(Integer, nullable=True)  # after (None: no rows left)
    suppressed_rows: Mapped[int] = mapped_column(Integer, default=0)
    suppressed_cells: Mapped[int] = mapped_column(Integer, default=0)
    sensitive_attributes: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    l_before: Mapped[int | None] = mapped_column(Integer, nullable=True)    # fewest distinct sensitive values, before
    l_diversity: Mapped[int | None] = mapped_column(Integer, nullable=True)  # and after (None: no rows / no attribute)
    below_l: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))   # classes under l before
    suppressed_rows_l: Mapped[int] = mapped_column(Integer, default=0, server_default="0")   # removed only for l
    data_until: Mapped[date | None] = mapped_column(Date, nullable=True)    # a refresh: data up to this day
    refreshes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ResearchDownload(Base):
    """One download of an extract (also written to the audit log as `research.download`)."""

    __tablename__ = "research_downloads"
    __table_args__ = (Index("ix_research_downloads_project", "project_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(BigId)
    user_id: Mapped[int] = mapped_column(BigId)
    username: Mapped[str] = mapped_column(String(120))
    format: Mapped[str] = mapped_column(String(8))
    refresh: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())   # a refreshed extract
    data_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ResearchCommitteeMember(Base):
    """A named member of a county's data/ethics committee (without any, the committee is everyone holding the
    committee role in the county). At most one chair per county decides escalated and inquorate votes."""

    __tablename__ = "research_committee_members"
    __table_args__ = (UniqueConstraint("county_code", "user_id", name="uq_research_committee_members_user"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    county_code: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(BigId)
    is_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ResearchVote(Base):
    """One committee member's vote on one review round of a project (同意 / 不同意 / 需修改, with an opinion)."""

    __tablename__ = "research_votes"
    __table_args__ = (UniqueConstraint("project_id", "review_round", "user_id", name="uq_research_votes_member"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(BigId)
    review_round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(BigId)
    username: Mapped[str] = mapped_column(String(120))
    voter_name: Mapped[str] = mapped_column(String(120))
    vote: Mapped[str] = mapped_column(String(10))             # approve | reject | changes
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    allow_free_text: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

"""Service-task operators of `training_session` (run through the outbox; each is idempotent per session)."""
from __future__ import annotations

from typing import Any

from app.core import clock
from app.core.db import session
from app.workflows.bindings import operator

from . import attendance, credits, exams, materials, services
from .models import TrainingSession


def _row(session_id) -> TrainingSession:
    return session().get(TrainingSession, int(session_id))


@operator("training/publish_notice")
def publish_notice(*, idempotency_key: str, instance_id: int, session_id: int) -> dict[str, Any]:
    """Snapshot the roster and tell it (inbox + SMS); who must confirm, and by when."""
    return services.publish_notice(int(session_id))


@operator("training/load_schedule")
def load_schedule(*, idempotency_key: str, instance_id: int, session_id: int) -> dict[str, Any]:
    """The session's current times, for the timers that open and close attendance."""
    row = _row(session_id)
    opens, closes = attendance.window(row)
    return {"sign_in_opens_at": opens.isoformat(), "attendance_deadline": closes.isoformat(),
            "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat()}


@operator("training/announce_change")
def announce_change(*, idempotency_key: str, instance_id: int, session_id: int) -> dict[str, Any]:
    return services.announce_change(int(session_id))


@operator("training/open_attendance")
def open_attendance(*, idempotency_key: str, instance_id: int, session_id: int) -> dict[str, Any]:
    row = services.set_phase(int(session_id), "sign_in_open", sign_in_opened_at=clock.now())
    return {"opened_at": row.sign_in_opened_at.isoformat()}


@operator("training/close_attendance")
def close_attendance(*, idempotency_key: str, instance_id: int, session_id: int) -> dict[str, Any]:
    row = _row(session_id)
    if row.attendance_closed_at is not None:
        return {"present": None, "already": True}
    return attendance.close(int(session_id))


@operator("training/check_materials")
def check_materials(*, idempotency_key: str, instance_id: int, session_id: int) -> dict[str, Any]:
    """Whether the materials step is complete (photos, a file, the paper); what is missing otherwise."""
    result = materials.completeness(int(session_id))
    if result["ok"]:
        services.set_phase(int(session_id), "materials_done")
    return result


@operator("training/open_exam")
def open_exam(*, idempotency_key: str, instance_id: int, session_id: int, attempt_no: int = 1) -> dict[str, Any]:
    row = _row(session_id)
    if int(attempt_no) == 1 and row.exam_closes_at is not None:
        return {"exam_closes_at": row.exam_closes_at.isoformat(), "already": True}
    if int(attempt_no) == 2 and row.makeup_closes_at is not None:
        return {"exam_closes_at": row.makeup_closes_at.isoformat(), "already": True}
    return exams.open_exam(int(session_id), attempt_no=int(attempt_no))


@operator("training/close_exam")
def close_exam(*, idempotency_key: str, instance_id: int, session_id: int, attempt_no: int = 1) -> dict[str, Any]:
    return exams.close_exam(int(session_id), attempt_no=int(attempt_no))


@operator("training/grant_credits")
def grant_credits(*, idempotency_key: str, instance_id: int, session_id: int, rule: dict) -> dict[str, Any]:
    return credits.grant(int(session_id), dict(rule or {}), exams.passed_users(int(session_id)))


@operator("training/complete")
def complete(*, idempotency_key: str, instance_id: int, session_id: int) -> dict[str, Any]:
    row = services.set_phase(int(session_id), "completed", completed_at=clock.now())
    return {"completed_at": row.completed_at.isoformat()}


@operator("training/cancel")
def cancel(*, idempotency_key: str, instance_id: int, session_id: int) -> dict[str, Any]:
    services.set_phase(int(session_id), "cancelled")
    return {"cancelled": True}

"""Jobs of the training capability: take ids, idempotent, enqueued after commit."""
from __future__ import annotations

from app.core.db import session
from app.workflows import EngineError, runner

from .models import TrainingSession


def signal_exam_done(session_id: int, attempt_no: int) -> str:
    """Tell the session's process that everyone has handed in, so it stops waiting for the window to close."""
    row = session().get(TrainingSession, session_id)
    wanted = "exam_open" if int(attempt_no) == 1 else "makeup_open"
    if row is None or row.instance_id is None or row.phase != wanted:
        return "skipped"
    try:
        runner.correlate(row.instance_id, "training_exam_done", {"session_id": row.id}, runner.Actor("training"))
    except (EngineError, runner.InvalidState):
        return "not_waiting"        # the window's timer closed it meanwhile
    return "signalled"

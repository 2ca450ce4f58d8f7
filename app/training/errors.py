"""Typed errors of the training capability (mapped to HTTP by app.core.errors)."""
from __future__ import annotations

from app.core.errors import Conflict, Forbidden, Invalid, NotFound


class SessionNotFound(NotFound):
    code = "training_session_not_found"


class PlanNotFound(NotFound):
    code = "training_plan_not_found"


class NotTrainingManager(Forbidden):
    code = "not_training_manager"


class SessionLocked(Conflict):
    code = "training_session_locked"


class SignInRefused(Invalid):
    """A refused sign-in/sign-out; `code` names the reason (token expired, outside the geofence, …)."""
    status = 422
    code = "sign_in_refused"


class UploadRefused(Invalid):
    code = "upload_refused"


class ExamClosed(Conflict):
    code = "exam_closed"


class ItemImportInvalid(Invalid):
    code = "item_import_invalid"

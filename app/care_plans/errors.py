"""Typed errors of care plans (mapped to HTTP once, in app/core/errors.py's DomainError)."""
from __future__ import annotations

from app.core.errors import Conflict, NotFound


class CarePlanNotFound(NotFound):
    code = "care_plan_not_found"


class VersionNotFound(NotFound):
    code = "care_plan_version_not_found"


class RevisionInProgress(Conflict):
    code = "revision_in_progress"


class ProcessNotDeployed(Conflict):
    code = "process_not_deployed"


class RevisionNotOpen(Conflict):
    code = "revision_not_open"

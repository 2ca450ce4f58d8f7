"""Typed errors of the inbox; the HTTP mapping is the one in app.core.errors (status on the class)."""
from __future__ import annotations

from app.core.errors import Conflict, DomainError, Forbidden, Invalid


class TaskAlreadyClaimed(Conflict):
    code = "task_already_claimed"


class TaskAlreadyCompleted(Conflict):
    code = "task_already_completed"


class TaskReassigned(Conflict):
    code = "task_reassigned"


class DefinitionChanged(Conflict):
    code = "definition_changed"


class CompletionIdReused(Conflict):
    code = "completion_id_reused"


class NotACandidate(Forbidden):
    code = "not_a_candidate"


class ExcludedCandidate(Forbidden):
    """Separation of duties: the model excludes this user from the task (e.g. the drafter of the plan to approve)."""
    code = "separation_of_duties"


class NotAssignee(Forbidden):
    code = "not_assignee"


class FormInvalid(Invalid):
    code = "form_invalid"


class InvalidAssignee(Invalid):
    code = "invalid_assignee"


class BadCursor(DomainError):
    """A `cursor` that this server did not hand out for this sort (tampered, truncated, or from another sort)."""
    status, code = 400, "invalid_cursor"

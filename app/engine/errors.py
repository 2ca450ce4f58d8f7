"""Errors raised by the pure engine. Each carries a stable `code` the API layer maps to HTTP."""
from __future__ import annotations

from typing import Any


class EngineError(Exception):
    code = "engine_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class DefinitionError(EngineError):
    """A BPMN/DMN/form file that cannot be deployed: names the file, the element and the reason."""

    code = "invalid_definition"

    def __init__(self, reason: str, *, file: str | None = None, element_id: str | None = None, **extra: Any):
        where = " ".join(p for p in (file and f"[{file}]", element_id and f"<{element_id}>") if p)
        super().__init__(f"{where} {reason}".strip(), file=file, element_id=element_id, reason=reason, **extra)
        self.file = file
        self.element_id = element_id
        self.reason = reason


class TaskNotReady(EngineError):
    code = "task_not_ready"


class MessageNotWaiting(EngineError):
    code = "no_waiting_instance"


class InvalidTaskData(EngineError):
    code = "invalid_task_data"


class DefinitionConflict(DefinitionError):
    """Two files of one deployment define the same process: names both files (HTTP 409)."""

    code = "duplicate_process_id"

    def __init__(self, message: str, *, process_id: str, files: list[str]):
        EngineError.__init__(self, message, process_id=process_id, files=files)
        self.file, self.element_id, self.reason = files[-1], process_id, message

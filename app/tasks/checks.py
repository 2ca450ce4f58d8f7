"""Submission checks a form asks for by name (`"x-submit-check": "<name>"` at the top of its schema).

A capability registers a check with `@submit_check("<name>")`; task completion runs it after the form validated and
before the engine step, inside the same transaction. A check receives the task (its process data in `task.data`), the
submitted data and the principal; it raises a DomainError (4xx with a stable code) to refuse the submission, or
returns the data to submit (it may add what it derived, e.g. a reviewed summary for the next step)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import DomainError

Check = Callable[..., dict[str, Any]]
_CHECKS: dict[str, Check] = {}


class UnknownSubmitCheck(DomainError):
    status, code = 500, "unknown_submit_check"


def submit_check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        _CHECKS[name] = fn
        return fn
    return register


def run(form: dict[str, Any] | None, task, data: dict[str, Any], principal) -> dict[str, Any]:
    """Run the check the form names (if any) and return the data to submit."""
    name = ((form or {}).get("schema") or {}).get("x-submit-check")
    if not name:
        return data
    if name not in _CHECKS:
        raise UnknownSubmitCheck(f"表单要求的提交检查 {name} 未安装 (submit check not installed)", check=name)
    return _CHECKS[name](task=task, data=data, principal=principal)

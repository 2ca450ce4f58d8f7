"""What a care plan shows that capabilities built on it know (the last follow-up visit, the next due date, the
education pushed): app/wiring.py plugs their functions in, so this package never imports them back.

Each slot answers "nothing known" until it is wired (the plan still prints, without that section).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

_last_done_visit: Callable[[int, str], Any] = lambda resident_id, disease: None
_next_due_on: Callable[[int, str], date | None] = lambda resident_id, disease: None
_education_pushes: Callable[[int], list[dict[str, Any]]] = lambda resident_id: []


def provide(*, last_done_visit: Callable[[int, str], Any], next_due_on: Callable[[int, str], date | None],
            education_pushes: Callable[[int], list[dict[str, Any]]]) -> None:
    """Wire the three sources (app/wiring.py)."""
    global _last_done_visit, _next_due_on, _education_pushes
    _last_done_visit, _next_due_on, _education_pushes = last_done_visit, next_due_on, education_pushes


def last_done_visit(resident_id: int, disease: str) -> Any:
    """The resident's latest completed follow-up visit for `disease` (its `record` and `visited_on`), or None."""
    return _last_done_visit(resident_id, disease)


def next_due_on(resident_id: int, disease: str) -> date | None:
    """When the resident's next follow-up for `disease` is due, or None without a schedule."""
    return _next_due_on(resident_id, disease)


def education_pushes(resident_id: int) -> list[dict[str, Any]]:
    """The education items pushed to the resident (each with its `reason`), oldest first."""
    return _education_pushes(resident_id)

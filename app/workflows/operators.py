"""Operators of the workflow layer itself (generic, not tied to one capability)."""
from __future__ import annotations

from typing import Any

from .bindings import operator


@operator("platform/record_outcome")
def record_outcome(*, idempotency_key: str, instance_id: int, **params: Any) -> dict[str, Any]:
    """Return the parameters as the result: lets a model persist a computed outcome through the outbox."""
    return {"recorded": True, **params}

"""Service-task operators of `research_extract` (run as jobs through the outbox; each idempotent)."""
from __future__ import annotations

from typing import Any

from app.workflows.bindings import operator

from . import services


@operator("research/build_extract")
def build_extract(*, idempotency_key: str, instance_id: int, project_id: int) -> dict[str, Any]:
    """The committee approved: build the de-identified extract and report its k-anonymity and suppression."""
    return services.build_extract(int(project_id))


@operator("research/reload_request")
def reload_request(*, idempotency_key: str, instance_id: int, project_id: int) -> dict[str, Any]:
    """The requester resubmitted: the committee's task shows the request as it now stands."""
    return services.reload_request(int(project_id))

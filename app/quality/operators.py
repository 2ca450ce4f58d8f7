"""Service-task operators of `quality_alert` (run through the outbox; idempotent per alert)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.workflows.bindings import operator
from app.workflows.models import HumanTask

from . import services


@operator("quality/record_handling")
def record_handling(*, idempotency_key: str, instance_id: int, alert_id: int, cause: str, actions: str,
                    rectify_by: str) -> dict[str, Any]:
    """Record the cause, actions and deadline the responsible person wrote; the alert is handled."""
    by = session().scalars(select(HumanTask.completed_by).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == "handle_alert",
        HumanTask.status == "completed").order_by(HumanTask.id.desc())).first()
    return services.record_handling(int(alert_id), by=by, cause=cause, actions=actions, rectify_by=rectify_by)

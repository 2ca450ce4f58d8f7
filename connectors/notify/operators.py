"""Service-task operator `notify/send`: a process sends an SMS, app push or in-platform message through the outbox.

    <spiffworkflow:serviceTaskOperator id="notify/send"> channel, recipient_type, recipient_id, template_code, params
The service call's idempotency key is the outbox key, so a retried service call queues the message once."""
from __future__ import annotations

from typing import Any

from app.workflows.bindings import operator

from .services import queue_message


@operator("notify/send")
def send(*, idempotency_key: str, instance_id: int, channel: str, recipient_type: str, recipient_id: int,
         template_code: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    row = queue_message(channel, recipient=(recipient_type, int(recipient_id)), template_code=template_code,
                        params=params or {}, idempotency_key=f"process:{idempotency_key}")
    return {"outbox_id": row.id, "status": row.status}

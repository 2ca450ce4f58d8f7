"""Write audit entries. `record()` joins the caller's unit of work, so the entry commits (or rolls back) with
the change it describes; it reads the principal and request (ip, user agent) when they exist."""
from __future__ import annotations

from typing import Any

from flask import has_app_context, has_request_context, request

from app.auth.principal import Principal, current_principal
from app.core import clock, logs
from app.core.db import unit_of_work

from .models import AuditEntry


def _actor(principal: Principal | None) -> tuple[str, int | None]:
    if principal is None and has_app_context():
        principal = current_principal()
    if principal is not None:
        return principal.username, principal.user_id or None
    return ("anonymous" if has_request_context() else "system"), None


def _origin() -> dict[str, str | None]:
    if not has_request_context():
        return {"ip": None, "user_agent": None}
    agent = request.headers.get("User-Agent")
    return {"ip": request.remote_addr, "user_agent": agent[:255] if agent else None}


def record(action: str, *, object_type: str, object_id: Any = None, details: dict[str, Any] | None = None,
           principal: Principal | None = None) -> AuditEntry:
    """Append one audit entry for `action` on (object_type, object_id) in the current transaction."""
    actor, actor_user_id = _actor(principal)
    entry = AuditEntry(at=clock.now(), actor=actor, actor_user_id=actor_user_id, action=action,
                       object_type=object_type, object_id=None if object_id is None else str(object_id),
                       request_id=logs.request_id.get(), details=details or {}, **_origin())
    with unit_of_work() as s:
        s.add(entry)
    return entry

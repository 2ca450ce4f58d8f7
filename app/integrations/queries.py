"""Read side of the integration screen: clients with their recent traffic, deliveries, one delivery."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select

from app.auth.models import IntegrationClient
from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound

from .models import InboundEvent

ADMIN_ROLES = ("county_admin", "supervisor")
FAILURES = ("failed", "rejected", "expired")


def _visible(principal: Principal):
    """Admins see every client's deliveries; an integration client sees only its own."""
    if principal.has_role(*ADMIN_ROLES):
        return None
    return InboundEvent.client_id == principal.username


def clients(principal: Principal) -> list[dict[str, Any]]:
    """Each client with deliveries and failures in the last 24 hours and its last delivery."""
    since = clock.now() - timedelta(hours=24)
    stats = {row.client_id: row for row in session().execute(
        select(InboundEvent.client_id, func.count().label("deliveries"),
               func.sum(case((InboundEvent.status.in_(FAILURES), 1), else_=0))
               .label("failures"),
               func.sum(case((InboundEvent.status == "waiting", 1), else_=0)).label("waiting"),
               func.max(InboundEvent.received_at).label("last_at"))
        .where(InboundEvent.received_at >= since).group_by(InboundEvent.client_id))}
    query = select(IntegrationClient).order_by(IntegrationClient.name)
    if not principal.has_role(*ADMIN_ROLES):
        query = query.where(IntegrationClient.client_id == principal.username)
    out = []
    for c in session().scalars(query):
        s = stats.get(c.client_id)
        out.append({"client_id": c.client_id, "name": c.name, "active": c.active,
                    "deliveries_24h": int(s.deliveries) if s else 0, "failures_24h": int(s.failures or 0) if s else 0,
                    "waiting": int(s.waiting or 0) if s else 0,
                    "last_delivery_at": s.last_at.isoformat() if s and s.last_at else None})
    return out


def deliveries(principal: Principal, *, client_id: str | None = None, status: str | None = None,
               channel: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[InboundEvent], int]:
    """Deliveries newest first, filtered (`status=failures`: failed, rejected or expired); an integration client
    sees only its own."""
    where = []
    if (own := _visible(principal)) is not None:
        where.append(own)
    if client_id:
        where.append(InboundEvent.client_id == client_id)
    if channel:
        where.append(InboundEvent.channel == channel)
    if status == "failures":
        where.append(InboundEvent.status.in_(FAILURES))
    elif status:
        where.append(InboundEvent.status == status)
    total = session().scalar(select(func.count()).select_from(InboundEvent).where(*where)) or 0
    rows = session().scalars(select(InboundEvent).where(*where).order_by(InboundEvent.id.desc())
                             .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def get_delivery(principal: Principal, delivery_id: int) -> InboundEvent:
    query = select(InboundEvent).where(InboundEvent.id == delivery_id)
    if (cond := _visible(principal)) is not None:
        query = query.where(cond)
    event = session().scalars(query).first() if 0 < delivery_id < 2**63 else None
    if event is None:
        raise NotFound("投递记录不存在 (delivery not found)", delivery_id=delivery_id)
    return event


def summary(event: InboundEvent) -> dict[str, Any]:
    return {"id": event.id, "client_id": event.client_id, "channel": event.channel,
            "delivery_key": event.delivery_key, "message": event.message, "status": event.status,
            "response_status": event.response_status, "attempts": event.attempts, "last_error": event.last_error,
            "received_at": event.received_at.isoformat(),
            "processed_at": event.processed_at.isoformat() if event.processed_at else None,
            "next_attempt_at": event.next_attempt_at.isoformat() if event.next_attempt_at else None,
            "expires_at": event.expires_at.isoformat() if event.expires_at else None}


def detail(event: InboundEvent) -> dict[str, Any]:
    return {**summary(event), "body": event.body, "response": event.response, "result": event.result,
            "body_sha256": event.body_sha256,
            "purged_at": event.purged_at.isoformat() if event.purged_at else None}


def rejected_deliveries(message: str, *, error_code: str, limit: int = 200) -> list[InboundEvent]:
    """Deliveries of `message` refused with `error_code` (kept in the store; e.g. arrivals for unknown referrals)."""
    return list(session().scalars(select(InboundEvent).where(
        InboundEvent.message == message, InboundEvent.status == "rejected",
        InboundEvent.last_error.like(f"{error_code}:%")).order_by(InboundEvent.id.desc()).limit(limit)))

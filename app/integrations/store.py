"""Store every delivery first, then act on it once.

    event, new = store.claim(client_id=…, channel="webhook", delivery_key=webhook_id, message=…, body=…)
    outcome = store.dispatch(event.id) if new else store.answer_repeat(event)

`dispatch` runs the channel's handler (see `HANDLERS`) inside one transaction together with the event's new status,
so the delivery's effects and its stored answer commit together or not at all. A handler answers with an `Outcome`;
a `DomainError` it raises is a client error (status `rejected`, nothing it wrote is kept), any other exception is
ours (status `failed`, replayable from the integration screen).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import clock, logs
from app.core.db import is_postgres, session, unit_of_work
from app.core.errors import Conflict, DomainError

from .models import InboundEvent

log = logs.get("integrations")
# channel → module with `process(event) -> Outcome`, `reject(event, exc) -> Outcome`, `fail(event, exc) -> Outcome`
# and optionally `resume(event) -> Outcome | None` (waiting deliveries)
HANDLERS = {
    "webhook": "app.webhooks.services",
    "hl7v2": "connectors.hl7v2.inbound",
    "fhir": "connectors.fhir.transaction",
}
IN_FLIGHT = timedelta(seconds=60)        # a `received` row older than this was abandoned by a dead worker
REPLAYABLE = ("failed", "rejected", "expired", "waiting")


@dataclass
class Outcome:
    """A handler's answer: the event's new status and the HTTP answer stored for repeats."""

    status: str                                  # processed | waiting | rejected | failed | expired
    http_status: int
    body: Any                                    # dict (JSON) or str
    content_type: str = "application/json"
    result: dict[str, Any] | None = None
    expires_at: datetime | None = None
    next_attempt_at: datetime | None = None
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def response_dict(self) -> dict[str, Any]:
        return {"content_type": self.content_type, "body": self.body}


class DeliveryInProgress(Conflict):
    code = "delivery_in_progress"


def handler(channel: str):
    return import_module(HANDLERS[channel])


def claim(*, client_id: str, channel: str, delivery_key: str, message: str, body: str,
          headers: dict[str, str] | None = None) -> tuple[InboundEvent, bool]:
    """Store a delivery (committed before anything acts on it); (event, True) when new, (first event, False)
    when this client sent this delivery key before."""
    existing = find(client_id, delivery_key)
    if existing is not None:
        return existing, False
    try:
        with unit_of_work() as s:
            event = InboundEvent(client_id=client_id, channel=channel, delivery_key=delivery_key[:200],
                                 message=message[:120], body=body, body_sha256=body_digest(body),
                                 headers=headers or {}, received_at=clock.now(),
                                 status="received", attempts=0)
            s.add(event)
            s.flush()
        return event, True
    except IntegrityError:                       # the same delivery raced us: the first one wins
        return find(client_id, delivery_key), False


def body_digest(body: str) -> str:
    """SHA-256 of a delivery's body: kept after the body is purged (integrity, duplicate detection)."""
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def find(client_id: str, delivery_key: str) -> InboundEvent | None:
    return session().scalars(select(InboundEvent).where(InboundEvent.client_id == client_id,
                                                        InboundEvent.delivery_key == delivery_key[:200])).first()


def stored_outcome(event: InboundEvent) -> Outcome:
    response = event.response or {}
    return Outcome(event.status, event.response_status or 200, response.get("body"),
                   response.get("content_type", "application/json"), headers={"Idempotent-Replayed": "true"})


def answer_repeat(event: InboundEvent) -> Outcome:
    """A repeated delivery: the first stored answer; a delivery that never got one (failed, or abandoned while
    received) is processed now; one still being processed answers 409 `delivery_in_progress`."""
    if event.status == "failed" or (event.status == "received" and clock.now() - event.received_at > IN_FLIGHT):
        return dispatch(event.id)
    if event.status == "received":
        raise DeliveryInProgress("该消息正在处理中 (delivery in progress)", event_id=event.id)
    return stored_outcome(event)


def _locked(s, event_id: int) -> InboundEvent:
    stmt = select(InboundEvent).where(InboundEvent.id == event_id)
    if is_postgres():
        stmt = stmt.with_for_update()
    return s.execute(stmt).scalar_one()


def dispatch(event_id: int, *, replay: bool = False) -> Outcome:
    """Process a stored delivery with its channel's handler, once, and store the answer."""
    first = session().get(InboundEvent, event_id)
    module = handler(first.channel)
    try:
        with unit_of_work() as s:
            event = _locked(s, event_id)
            if event.status not in ("received", "failed") and not replay:
                return stored_outcome(event)      # someone else finished it while we waited for the lock
            event.attempts = (event.attempts or 0) + 1
            outcome = module.process(event)
            _apply(event, outcome)
        return outcome
    except DomainError as exc:
        session().rollback()
        return _record(event_id, module.reject, exc)
    except Exception as exc:
        session().rollback()
        log.exception("inbound delivery failed", extra={"event_id": event_id})
        return _record(event_id, module.fail, exc)


def _record(event_id: int, answer, exc: Exception) -> Outcome:
    with unit_of_work() as s:
        event = _locked(s, event_id)
        event.attempts = (event.attempts or 0) + 1
        outcome = answer(event, exc)
        _apply(event, outcome)
    return outcome


def _apply(event: InboundEvent, outcome: Outcome) -> None:
    now = clock.now()
    event.status = outcome.status
    event.response_status = outcome.http_status
    event.response = outcome.response_dict()
    if outcome.result is not None:
        event.result = outcome.result
    event.last_error = outcome.error
    event.expires_at = outcome.expires_at or (event.expires_at if outcome.status == "waiting" else None)
    event.next_attempt_at = outcome.next_attempt_at if outcome.status == "waiting" else None
    if outcome.status in ("processed", "rejected", "expired"):
        event.processed_at = now


def resume_waiting(limit: int = 200) -> int:
    """Retry waiting deliveries whose retry is due (an instance may have reached its wait state); expire those
    past their TTL. The number that left `waiting`."""
    now = clock.now()
    ids = list(session().scalars(select(InboundEvent.id).where(
        InboundEvent.status == "waiting", InboundEvent.next_attempt_at <= now)
        .order_by(InboundEvent.next_attempt_at).limit(limit)))
    session().rollback()
    done = 0
    for event_id in ids:
        outcome = resume(event_id)
        done += outcome is not None and outcome.status != "waiting"
    return done


def resume(event_id: int) -> Outcome | None:
    """Try one waiting delivery again (or expire it); None when it is no longer waiting."""
    event = session().get(InboundEvent, event_id)
    module = handler(event.channel)
    try:
        with unit_of_work() as s:
            event = _locked(s, event_id)
            if event.status != "waiting":
                return None
            event.attempts = (event.attempts or 0) + 1
            if event.expires_at is not None and event.expires_at <= clock.now():
                outcome = module.expire(event)
            else:
                outcome = module.resume(event)
            _apply(event, outcome)
            return outcome
    except Exception as exc:
        session().rollback()
        log.exception("retrying a waiting delivery failed", extra={"event_id": event_id})
        with unit_of_work() as s:
            event = _locked(s, event_id)
            event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            event.next_attempt_at = clock.now() + timedelta(minutes=1)
        return None


def replay(event_id: int) -> Outcome:
    """Process a failed, rejected, expired or waiting delivery again (the integration screen's replay)."""
    event = session().get(InboundEvent, event_id)
    if event.purged_at is not None:
        raise Conflict("投递内容已按保留期限清除，无法重放 (the body was purged after the retention period)",
                       code="body_purged", purged_at=event.purged_at.isoformat())
    if event.status not in REPLAYABLE:
        raise Conflict("只能重放失败、被拒绝、过期或等待中的投递 (only failed, rejected, expired or waiting "
                       "deliveries can be replayed)", code="not_replayable", status_now=event.status)
    if event.status == "waiting":
        with unit_of_work():
            event.next_attempt_at = clock.now()
        return resume(event_id) or stored_outcome(session().get(InboundEvent, event_id))
    return dispatch(event_id, replay=True)


def json_body(outcome: Outcome) -> str:
    return outcome.body if isinstance(outcome.body, str) else json.dumps(outcome.body, ensure_ascii=False)

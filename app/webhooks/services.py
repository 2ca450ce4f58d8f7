"""Receive a signed webhook: store it first, validate, record its fact, deliver the process message — once.

Also the `webhook` channel handler of `app.integrations.store` (process / reject / fail / resume / expire).
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from app.auth.principal import Principal
from app.auth.services import principal_for_user_id
from app.contracting import services as contracting_services
from app.core import clock, ratelimit
from app.core.errors import DomainError, Invalid, NotFound
from app.follow_up import devices
from app.integrations import store
from app.integrations.models import InboundEvent
from app.integrations.store import Outcome
from app.pharmacy import services as pharmacy_services
from app.processes import policy as start_policy
from app.processes import queries as process_queries
from app.recognition import services as recognition
from app.referral import reported as reported_referrals
from app.referral import services as referral_services
from app.referral import summary as referral_summary
from app.residents import intake
from app.residents import queries as residents
from app.supply import spd as supply_spd
from app.workflows import EngineError, messages, runner

from . import catalog
from .signature import SignedCaller

WAIT_TTL = timedelta(hours=24)          # how long an unmatched delivery waits for an instance to reach its wait state
RETRY_STEPS = (30, 60, 120, 300, 600)   # seconds between looks for a waiting instance
TRANSIENT = ("instance_busy", "version_conflict")


def receive(caller: SignedCaller, message_name: str, body: bytes, *, wait: bool = True) -> Outcome:
    """One signed delivery: rate limit, store first (durable `webhook-id`), then process it once."""
    ratelimit.check(caller.client_id)
    event, new = store.claim(client_id=caller.client_id, channel="webhook", delivery_key=caller.webhook_id,
                             message=message_name, body=body.decode("utf-8"),
                             headers={"wait": wait, "user_id": caller.principal.user_id})
    return store.dispatch(event.id) if new else store.answer_repeat(event)


def message_catalog() -> list[dict[str, Any]]:
    return catalog.listing(messages.catalog())


# -- the channel handler -----------------------------------------------------------------------------------------

def process(event: InboundEvent) -> Outcome:
    """Validate, record the fact and deliver the message; runs inside the event's transaction."""
    deployed = messages.catalog()
    spec = catalog.spec_for(event.message, deployed)
    if spec is None:
        raise NotFound(f"未知消息 {event.message} (unknown message)", code="unknown_message",
                       message_name=event.message, known=sorted(set(catalog.MESSAGES) | set(deployed)))
    payload = _parse(event.body)
    spec.validate(payload)
    if spec.kind == "referral_arrival":
        arrival = referral_summary.record_arrival(payload, source=f"webhook:{event.client_id}")
        return Outcome("processed", 200, {"delivery_id": event.id, "status": "processed", "message": event.message,
                                          **arrival}, result=arrival)
    if spec.kind == "referral_report":
        resident_id = find_resident_id(payload["id_number"], _principal(event))
        answer = reported_referrals.record_reported(payload, resident_id=resident_id, client_id=event.client_id)
        return Outcome("processed", 200, {"delivery_id": event.id, "status": "processed", "message": event.message,
                                          **answer}, result=answer)
    if spec.kind == "referral_request":
        resident_id = find_resident_id(payload["id_number"], _principal(event))
        row = referral_services.request_referral(
            resident_id=resident_id, source="external", trigger=payload.get("trigger", "manual"),
            disease=payload.get("disease"), reason=payload["reason"],
            requested_urgency=payload.get("urgency", "routine"), from_org_code=payload.get("from_org_code"),
            source_key=f"webhook:{event.client_id}:{payload['request_id']}"[:120])
        answer = {"referral_id": row.id, "referral_no": row.referral_no, "status": row.status}
        return Outcome("processed", 200, {"delivery_id": event.id, "status": "processed", "message": event.message,
                                          **answer}, result=answer)
    if spec.kind == "rx_created":
        resident_id = find_resident_id(payload["id_number"], _principal(event))
        rx, _ = pharmacy_services.receive(resident_id=resident_id, source_key=f"{event.client_id}:{payload['rx_id']}",
                                          payload=payload)
        answer = {"prescription_id": rx.id, "rx_id": rx.rx_id, "status": rx.status, "grade": rx.grade}
        return Outcome("processed", 200, {"delivery_id": event.id, "status": "processed", "message": event.message,
                                          **answer}, result=answer)
    if spec.kind == "rx_state":
        answer = pharmacy_services.record_trace(
            source_key=f"{event.client_id}:{payload['rx_id']}", state=payload["state"],
            actor=payload.get("actor") or event.client_id, org_code=payload.get("org_code"),
            at=datetime.fromisoformat(payload["at"]) if payload.get("at") else None, note=payload.get("note"))
        return Outcome("processed", 200, {"delivery_id": event.id, "status": "processed", "message": event.message,
                                          **answer}, result=answer)
    if spec.kind == "contract_payment":
        answer = contracting_services.record_payment(
            contract_no=payload["contract_no"], payment_ref=f"{event.client_id}:{payload['payment_id']}"[:120],
            amount_fen=payload["amount_fen"], payer=payload.get("payer", "self"), actor=event.client_id)
        return Outcome("processed", 200, {"delivery_id": event.id, "status": "processed", "message": event.message,
                                          **answer}, result=answer)
    if spec.kind == "spd_movement":
        answer = supply_spd.apply_message(payload, client_id=event.client_id)
        return Outcome("processed", 200, {"delivery_id": event.id, "status": "processed", "message": event.message,
                                          **answer}, result=answer)
    if spec.kind == "order_created":
        resident_id = find_resident_id(payload["id_number"], _principal(event))
        order, _ = recognition.check_order(
            resident_id=resident_id, order_key=f"his:{event.client_id}:{payload['order_id']}",
            order_no=payload["order_id"], channel="his", org_code=payload["org_code"], orderer=payload["orderer"],
            item_class=payload["item_class"], item_code=payload["item_code"],
            ordered_at=datetime.fromisoformat(payload["ordered_at"]) if payload.get("ordered_at") else None,
            reason_code=payload.get("reason_code"), reason_note=payload.get("reason_note"), actor=event.client_id)
        return _order_outcome(event, order)
    if spec.kind == "order_answered":
        order = recognition.answer_order(0, order_key=f"his:{event.client_id}:{payload['order_id']}",
                                         action=payload["action"], reason_code=payload.get("reason_code"),
                                         reason_note=payload.get("reason_note"),
                                         by=payload.get("answered_by") or event.client_id)
        return _order_outcome(event, order)
    prepared = event.result if event.result and event.result.get("payload") else _prepare(spec, payload, event)
    if event.message not in deployed:
        # no deployed model uses this message: the fact is recorded and there is nothing to wait for
        return Outcome("processed", 200, _answer(event, "processed", prepared, None), result=prepared)
    delivery = _deliver(event, prepared, start=True)
    if delivery.matched:
        return Outcome("processed", 200, _answer(event, "processed", prepared, delivery), result=prepared)
    if not event.headers.get("wait", True):
        raise NotFound("没有等待此消息的流程实例 (no waiting instance)", code="no_waiting_instance",
                       message_name=event.message)
    now = clock.now()
    return Outcome("waiting", 202, _answer(event, "waiting", prepared, delivery), result=prepared,
                   expires_at=now + WAIT_TTL, next_attempt_at=now + timedelta(seconds=RETRY_STEPS[0]))


def _order_outcome(event: InboundEvent, order) -> Outcome:
    """The synchronous answer to the HIS: the order's recognition status, the recognised results, the reasons."""
    answer = recognition.answer_for(order)
    body = {"delivery_id": event.id, "status": "processed", "message": event.message,
            "order_id": order.order_no, "recognition_order_id": order.id, "recognition_status": order.status,
            "reason_required": answer["reason_required"], "recognised": answer["matched"],
            "reasons": answer["reasons"]}
    return Outcome("processed", 200, body, result={"recognition_order_id": order.id, "status": order.status})


def resume(event: InboundEvent) -> Outcome:
    """Look again for a waiting instance (the scheduler's `webhooks.resume_waiting`)."""
    delivery = _deliver(event, event.result, start=False)
    if delivery.matched:
        return Outcome("processed", event.response_status or 202, event.response["body"], result=event.result)
    step = RETRY_STEPS[min(event.attempts - 1, len(RETRY_STEPS) - 1)]
    return Outcome("waiting", event.response_status or 202, event.response["body"],
                   next_attempt_at=clock.now() + timedelta(seconds=step))


def expire(event: InboundEvent) -> Outcome:
    return Outcome("expired", event.response_status or 202, event.response["body"],
                   error="no_waiting_instance: no instance reached its wait state before the TTL")


def reject(event: InboundEvent, exc: DomainError) -> Outcome:
    status = "failed" if exc.code in TRANSIENT else "rejected"
    return Outcome(status, exc.status, exc.to_dict(), error=f"{exc.code}: {exc.message}"[:2000])


def fail(event: InboundEvent, exc: Exception) -> Outcome:
    return Outcome("failed", 500, {"code": "internal_error", "message": "处理失败，可重试 (processing failed; "
                                   "send again with the same webhook-id or replay it)",
                                   "details": {"delivery_id": event.id}},
                   error=f"{type(exc).__name__}: {exc}"[:2000])


# -- mapping -----------------------------------------------------------------------------------------------------

def _parse(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Invalid("请求体不是 JSON (body is not JSON)", code="schema_error",
                      errors=[{"path": "/", "message": str(exc)}]) from None


def _principal(event: InboundEvent) -> Principal:
    principal = principal_for_user_id(event.headers.get("user_id") or 0)
    if principal is None:
        raise Invalid("集成客户端已停用 (client deactivated)", code="unknown_client", status=401)
    return principal


def find_resident_id(id_number: str, principal: Principal) -> int:
    found, _ = residents.search_residents(principal, q=id_number, per_page=1)
    if not found:
        raise Invalid("居民档案中没有此身份证号 (no resident with this ID number in the registry)",
                      code="unknown_resident", path="/id_number")
    return found[0].id


def _prepare(spec: catalog.MessageSpec, payload: dict[str, Any], event: InboundEvent) -> dict[str, Any]:
    principal = _principal(event)
    if spec.kind == "observation":
        return _prepare_observation(spec, payload, event, principal)
    data = dict(payload)
    if data.get("id_number"):
        data["resident_id"] = find_resident_id(data.pop("id_number"), principal)
    return {"payload": data, "resident_id": data.get("resident_id"), "business_key": data.get("business_key")}


def _prepare_observation(spec, payload, event: InboundEvent, principal: Principal) -> dict[str, Any]:
    resident_id = find_resident_id(payload["id_number"], principal)
    effective_at = datetime.fromisoformat(payload["effective_at"]).astimezone(UTC)
    fact = intake.ObservationFact(code=payload["code"], value=payload["value"], unit=payload["unit"],
                                  effective_at=effective_at, abnormal_flag=payload.get("abnormal_flag"),
                                  client_id=record_key("webhook", event.client_id, event.delivery_key),
                                  org_code=payload.get("org_code") or principal.org_code or None)
    obs = intake.submit(resident_id, [fact], source=payload.get("source") or f"webhook:{event.client_id}",
                        actor=event.client_id).rows[0]
    if event.message == "device_reading":
        _to_follow_up(resident_id, obs, payload, event)
    data = {"resident_id": resident_id, "observation_id": obs.id, "code": payload["code"],
            "value": obs.value_num if obs.value_num is not None else obs.value_text, "unit": obs.unit,
            "effective_at": payload["effective_at"], "abnormal_flag": payload.get("abnormal_flag")}
    if payload.get("business_key"):
        data["business_key"] = payload["business_key"]
    data.update(payload.get("correlation") or {})
    return {"payload": data, "resident_id": resident_id, "business_key": payload.get("business_key"),
            "observation_id": obs.id}


def _to_follow_up(resident_id: int, obs, payload: dict[str, Any], event: InboundEvent) -> None:
    """A device reading also pre-fills the resident's follow-up form (`x-default-from: "device.…"`): kept on the
    schedules and copied into an open follow-up task. Codes the follow-up form does not use are left alone."""
    if obs.value_num is None or payload["code"] not in devices.CODES:
        return
    devices.record_device_reading(resident_id, code=payload["code"], value=float(obs.value_num), unit=obs.unit,
                                  effective_at=obs.effective_at,
                                  source=payload.get("source") or f"webhook:{event.client_id}")


def record_key(channel: str, client_id: str, delivery_key: str, part: str = "") -> str:
    """A short, stable client id for a record row made from one delivery (the record dedupes on it)."""
    digest = hashlib.sha256(f"{client_id}\x00{delivery_key}\x00{part}".encode()).hexdigest()[:40]
    return f"{channel}:{digest}"


def _deliver(event: InboundEvent, prepared: dict[str, Any], *, start: bool) -> messages.Delivery:
    actor = runner.Actor(event.client_id, event.headers.get("user_id"))
    principal = _principal(event)
    resident_id = prepared.get("resident_id")

    def may_correlate(instance_id: int) -> bool:
        return process_queries.instance_visible(principal, instance_id)

    def authorize_start(process_id: str) -> None:
        start_policy.authorize_start(principal, process_id, resident_id=resident_id)
    try:
        return messages.deliver(event.message, prepared["payload"], actor=actor, start=start,
                                business_key=prepared.get("business_key"), resident_id=resident_id,
                                may_correlate=may_correlate, authorize_start=authorize_start)
    except EngineError as exc:
        raise Invalid(exc.message, code=exc.code, **{k: v for k, v in exc.details.items() if v is not None}) \
            from None


def _answer(event: InboundEvent, status: str, prepared: dict[str, Any], delivery) -> dict[str, Any]:
    answer: dict[str, Any] = {"delivery_id": event.id, "status": status, "message": event.message,
                              "correlated_instances": delivery.correlated if delivery else [],
                              "started_instances": delivery.started if delivery else []}
    if prepared.get("observation_id") is not None:
        answer["observation_id"] = prepared["observation_id"]
    if status == "waiting":
        answer.update(code="no_waiting_instance", waits_until=(clock.now() + WAIT_TTL).isoformat(),
                      detail="没有等待此消息的流程实例；投递将保留并在实例到达等待点时送达 "
                             "(no instance waits yet; the delivery is kept and delivered when one does)")
    return answer

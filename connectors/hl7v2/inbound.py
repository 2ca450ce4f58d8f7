"""Receive one HL7 v2 message (HTTP or MLLP): store it first, apply it in one transaction, answer an ACK.

The delivery key is MSH-10 per sender, so a message re-sent after a lost ACK is answered with the first ACK and
applied once. Also the `hl7v2` channel handler of `app.integrations.store`.
"""
from __future__ import annotations

import hashlib

from app.core.errors import DomainError
from app.integrations import store
from app.integrations.models import InboundEvent
from app.integrations.store import Outcome
from app.workflows import messages, runner

from . import ack, mapping, referral, structure, transfer
from .message import INTERNAL_ERROR, Hl7Error, Problem, decode, normalise, parse


def receive(raw: bytes, *, client_id: str, content_type: str = "") -> Outcome:
    """Store and process one message; the Outcome's body is the ACK."""
    try:
        text = normalise(decode(raw, content_type))
    except (UnicodeDecodeError, LookupError) as exc:
        return _answer_unstored(raw, Hl7Error([Problem("102", f"无法解码报文 (cannot decode): {exc}", "MSH", 1)],
                                              ack_code="AR"))
    try:
        head = parse(text)
        key, name = head.control_id or _digest(text), f"{head.msg_type}^{head.event}".strip("^") or "unknown"
    except Hl7Error:
        key, name = _digest(text), "unparseable"
    event, new = store.claim(client_id=client_id, channel="hl7v2", delivery_key=key, message=name, body=text,
                             headers={"sending_app": _safe_head(text, 3)})
    return store.dispatch(event.id) if new else store.answer_repeat(event)


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _safe_head(text: str, index: int) -> str:
    fields = text.split("\r", 1)[0].split("|")
    return fields[index - 1][:80] if len(fields) >= index else ""


def _answer_unstored(raw: bytes, exc: Hl7Error) -> Outcome:
    return Outcome("rejected", 200, ack.build(ack_code=exc.ack_code, problems=exc.problems, text=exc.message),
                   content_type=ack.CONTENT_TYPE)


# -- the channel handler ---------------------------------------------------------------------------------------

def process(event: InboundEvent) -> Outcome:
    p = parse(event.body)
    structure.check_header(p)
    structure.check_order(p)
    if p.msg_type == "REF":
        answer = referral.apply_ref(p, event.client_id)
        text = f"reported referral {answer['reported_referral_id']}" + ("" if answer["first"] else " (repeat)")
        return Outcome("processed", 200, ack.accept(p, text), content_type=ack.CONTENT_TYPE, result=answer)
    moved = transfer.read(p) if p.msg_type == "ADT" else None     # an A03 to another organisation, checked first
    applied = mapping.apply_adt(p, event.client_id) if p.msg_type == "ADT" else mapping.apply_oru(p, event.client_id)
    if applied.resident_id is None:
        # the patient's identity went to a person for review (committed); the clinical content is not stored
        exc = mapping.identity_pending(applied)
        return Outcome("rejected", 200, _nack(event, exc), content_type=ack.CONTENT_TYPE,
                       result={"review_instance_id": applied.review_instance_id}, error=exc.message)
    # the same transaction as the encounter: a refused transfer refuses the whole message (AE, nothing stored)
    answer = transfer.record(moved, resident_id=applied.resident_id, client_id=event.client_id) if moved else None
    delivered = _deliver_lab_results(event, applied)
    result = {"resident_id": applied.resident_id, "match": applied.match, "encounter_ids": applied.encounter_ids,
              "observation_ids": applied.observation_ids, "skipped_results": applied.skipped,
              "instances": delivered}
    text = f"{len(applied.observation_ids)} obs, {len(applied.encounter_ids)} enc"
    if answer is not None:
        result["reported_referral_id"] = answer["reported_referral_id"]
        text += f", reported transfer {answer['reported_referral_id']}" + ("" if answer["first"] else " (repeat)")
    return Outcome("processed", 200, ack.accept(p, text), content_type=ack.CONTENT_TYPE, result=result)


def _deliver_lab_results(event: InboundEvent, applied: mapping.Applied) -> list[int]:
    """Correlate each result into processes waiting for `lab_result` (or start those that begin on it)."""
    touched: list[int] = []
    actor = runner.Actor(event.client_id)
    for payload in applied.lab_results:
        delivery = messages.deliver("lab_result", payload, actor=actor, resident_id=payload["resident_id"])
        touched += delivery.correlated + delivery.started
    return touched


def _nack(event: InboundEvent, exc: Hl7Error) -> str:
    try:
        p = parse(event.body)
        head = {"control_id": p.control_id, "sending_app": p.sending_app, "sending_facility": p.sending_facility,
                "event": p.event, "version": p.version}
    except Hl7Error:
        head = {}
    return ack.build(ack_code=exc.ack_code, problems=exc.problems, text=exc.message, **head)


def reject(event: InboundEvent, exc: DomainError) -> Outcome:
    if not isinstance(exc, Hl7Error):
        exc = Hl7Error([Problem("207" if exc.status >= 500 else "102", f"{exc.message} [{exc.code}]")])
    return Outcome("rejected", 200, _nack(event, exc), content_type=ack.CONTENT_TYPE, error=exc.message[:2000])


def fail(event: InboundEvent, exc: Exception) -> Outcome:
    nack = Hl7Error([Problem(INTERNAL_ERROR, "内部错误，请重发 (internal error; resend)")])
    return Outcome("failed", 200, _nack(event, nack), content_type=ack.CONTENT_TYPE,
                   error=f"{type(exc).__name__}: {exc}"[:2000])

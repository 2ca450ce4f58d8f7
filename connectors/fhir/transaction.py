"""POST /fhir: a transaction Bundle of Patient, Encounter, Condition, Observation, MedicationRequest and (referral)
ServiceRequest — the last stored as a reported referral, and an Encounter discharged to another organisation also
as a reported transfer (`referral.py`).

Steps: structural validation with the R4B models (every problem with its FHIRPath) → our checks (request method,
supported types, references: `urn:uuid:` entries of this bundle or `Patient/{id}` in the caller's scope, and of the
right type) → apply in dependency order inside one transaction (Patients through the EMPI first). Any error answers
an OperationOutcome and stores nothing. Also the `fhir` channel handler of `app.integrations.store`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from app.auth.principal import Principal
from app.auth.services import principal_for_user_id
from app.core.errors import DomainError
from app.integrations import store
from app.integrations.models import InboundEvent
from app.integrations.store import Outcome
from app.residents.queries import get_resident

from . import mapping, referral
from .outcome import CONTENT_TYPE, FhirError, from_domain, operation_outcome

REVIEW_TEXT = "患者身份待人工核对，资源未保存 (patient identity under review; nothing stored; resend after review)"
ORDER = ("Patient", "Encounter", "Condition", "Observation", "MedicationRequest", "ServiceRequest")
# (resource type, element holding a reference) -> allowed target types
REFERENCES = {("Encounter", "subject"): ("Patient",), ("Condition", "subject"): ("Patient",),
              ("Condition", "encounter"): ("Encounter",), ("Observation", "subject"): ("Patient",),
              ("Observation", "encounter"): ("Encounter",), ("MedicationRequest", "subject"): ("Patient",),
              ("MedicationRequest", "encounter"): ("Encounter",), ("ServiceRequest", "subject"): ("Patient",)}


@dataclass
class Entry:
    index: int
    full_url: str
    type: str
    resource: dict[str, Any]
    made: tuple[str, int] | None = None          # (type, our id) once applied
    created: bool = True
    refs: dict[str, Entry | int] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"


def receive(body: bytes, *, client_id: str, principal: Principal) -> Outcome:
    """Store the bundle first (keyed by Bundle.id / identifier, else its hash), then apply it once."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
        key = (data.get("identifier") or {}).get("value") or data.get("id")
    except (ValueError, AttributeError):
        key = None
    key = f"bundle:{key}" if key else "sha256:" + hashlib.sha256(body).hexdigest()
    event, new = store.claim(client_id=client_id, channel="fhir", delivery_key=key, message="transaction",
                             body=text, headers={"user_id": principal.user_id})
    return store.dispatch(event.id) if new else store.answer_repeat(event)


# -- the channel handler ---------------------------------------------------------------------------------------

def process(event: InboundEvent) -> Outcome:
    principal = _principal(event)
    entries = _entries(_validated(event.body))
    _resolve_references(entries, principal)
    for rtype in ORDER:
        for entry in (e for e in entries if e.type == rtype):
            if rtype == "ServiceRequest":
                subject = entry.refs.get("subject")
                referral.apply(entry, resident_id=None if subject is None else
                               subject if isinstance(subject, int) else subject.made[1], client_id=event.client_id)
                continue
            mapping.apply(entry, principal=principal, client_id=event.client_id, bundle_key=event.delivery_key)
            if entry.made is None:              # identity went to review: committed, nothing else stored
                review = FhirError([("processing", REVIEW_TEXT, entry.path)])
                return Outcome("rejected", 422, review.outcome(), content_type=CONTENT_TYPE, error=review.message)
            if rtype == "Encounter" and referral.is_transfer(entry.resource):    # discharged elsewhere
                referral.apply_transfer(entry, resident_id=mapping.resident_of(entry), client_id=event.client_id)
    return Outcome("processed", 200, _response(entries), content_type=CONTENT_TYPE,
                   result={"made": [list(e.made) for e in entries if e.made]})


def reject(event: InboundEvent, exc: DomainError) -> Outcome:
    return Outcome("rejected", exc.status if exc.status >= 400 else 422, from_domain(exc), content_type=CONTENT_TYPE,
                   error=f"{exc.code}: {exc.message}"[:2000])


def fail(event: InboundEvent, exc: Exception) -> Outcome:
    return Outcome("failed", 500, operation_outcome([("exception", "处理失败，请重发 (processing failed; resend)",
                                                      None)]), content_type=CONTENT_TYPE,
                   error=f"{type(exc).__name__}: {exc}"[:2000])


def _principal(event: InboundEvent) -> Principal:
    principal = principal_for_user_id(event.headers.get("user_id") or 0)
    if principal is None:
        raise FhirError([("security", "调用方已停用 (caller deactivated)", None)], status=401)
    return principal


# -- validation ------------------------------------------------------------------------------------------------

def _validated(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FhirError([("structure", f"不是 JSON (not JSON): {exc}", None)], status=400) from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FhirError([("structure", "须为 Bundle 资源 (a Bundle is required)", "Bundle")], status=400)
    if data.get("type") != "transaction":
        raise FhirError([("invalid", "Bundle.type 须为 transaction", "Bundle.type")], status=400)
    try:
        Bundle.model_validate(data)
    except ValidationError as exc:
        raise FhirError([("structure", err["msg"], _fhirpath(err["loc"])) for err in exc.errors()],
                        status=400) from None
    return data


def _fhirpath(loc: tuple) -> str:
    out = "Bundle"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _entries(data: dict[str, Any]) -> list[Entry]:
    entries, seen = [], set()
    for i, raw in enumerate(data.get("entry") or []):
        resource, request = raw.get("resource") or {}, raw.get("request") or {}
        rtype, full_url = resource.get("resourceType", ""), raw.get("fullUrl") or ""
        where = f"Bundle.entry[{i}]"
        if rtype not in ORDER:
            raise FhirError([("not-supported", f"不支持的资源类型 {rtype} (supported: {', '.join(ORDER)})",
                              f"{where}.resource")])
        if request.get("method") != "POST":
            raise FhirError([("not-supported", "只支持 POST (only POST entries)", f"{where}.request.method")])
        if full_url in seen:
            raise FhirError([("invalid", f"fullUrl 重复 {full_url}", f"{where}.fullUrl")])
        seen.add(full_url)
        entries.append(Entry(i, full_url, rtype, resource))
    if not entries:
        raise FhirError([("required", "Bundle 没有条目 (empty bundle)", "Bundle.entry")])
    return entries


def _resolve_references(entries: list[Entry], principal: Principal) -> None:
    """Every reference names an entry of this bundle (`urn:uuid:`) or a resident in scope, of the right type."""
    by_url = {e.full_url: e for e in entries if e.full_url}
    for entry in entries:
        for (rtype, element), allowed in REFERENCES.items():
            if entry.type != rtype or not (entry.resource.get(element) or {}).get("reference"):
                continue
            ref, where = entry.resource[element]["reference"], f"{entry.path}.{element}.reference"
            if ref.startswith("urn:"):
                target = by_url.get(ref)
                if target is None:
                    raise FhirError([("not-found", f"引用的条目不在本 Bundle 中 ({ref})", where)])
                if target.type not in allowed:
                    text = f"引用类型错误：{element} 须指向 {'/'.join(allowed)}，而 {ref} 是 {target.type}"
                    raise FhirError([("invalid", text, where)])
                entry.refs[element] = target
            else:
                kind, _, local_id = ref.partition("/")
                if kind not in allowed:
                    raise FhirError([("invalid", f"引用类型错误：{element} 须指向 {'/'.join(allowed)} ({ref})", where)])
                if kind != "Patient" or not local_id.isdigit() or get_resident(int(local_id), principal) is None:
                    raise FhirError([("not-found", f"引用的资源不存在 ({ref})", where)])
                entry.refs[element] = int(local_id)
        if entry.type == "ServiceRequest" and "subject" not in entry.refs and \
                referral.is_subject_by_identifier(entry.resource):
            continue                            # a referral report may name its patient by ID card number
        if entry.type != "Patient" and "subject" not in entry.refs:
            raise FhirError([("required", "缺少 subject 引用 (subject is required)", f"{entry.path}.subject")])


def _response(entries: list[Entry]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "201 Created" if e.created else "200 OK",
                      "location": f"{e.made[0]}/{e.made[1]}" if e.made else None}} for e in entries]}

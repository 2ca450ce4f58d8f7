"""`ServiceRequest` with category referral onto a reported referral (issue 20.6): the HIS's referral summarised
beside the network's own on /quality (转诊对账), exactly as the `referral_reported` webhook stores it.

    identifier[0].value   the HIS's own referral id (`source_id`; idempotency key with the source `his`)
    category              SNOMED CT 3457005 "Patient referral" (or the code `referral`); anything else is refused
    subject               `Patient/{id}`, a Patient entry of the bundle, or `identifier` with the ID card system
    authoredOn            the referral date (not after today)
    requester             the sending organisation: `Organization/{code}` or `identifier.value`; a hospital outside
                          the county by `display`
    performer[0]          the receiving organisation, the same way
    reasonCode            the diagnosis (ICD-10 coding; its display is kept as the diagnosis text)

Up or down follows the two ends' levels; a report never creates a resident. Any problem refuses the whole bundle
(OperationOutcome naming the element, the stable code in the diagnostics); the same identifier with other content
answers 409 `reported_referral_conflict`."""
from __future__ import annotations

from typing import Any

from app.core.errors import Invalid
from app.referral import reported
from app.webhooks.catalog import REPORTED_REFERRAL_FROM_RECORDS

from . import codes
from .outcome import FhirError

SOURCE = "his"
REFERRAL_CATEGORIES = frozenset({"3457005", "referral"})
ELEMENTS = {"/source_id": "identifier", "/referred_on": "authoredOn", "/from_org_code": "requester",
            "/from_hospital": "requester", "/to_org_code": "performer[0]", "/to_hospital": "performer[0]",
            "/diagnosis_code": "reasonCode", "/diagnosis": "reasonCode", "/id_number": "subject",
            "/direction": "performer[0]", "/kind": "category", "/": "identifier"}


def is_subject_by_identifier(resource: dict[str, Any]) -> bool:
    """A ServiceRequest may name its patient by ID card number instead of a reference."""
    ident = (resource.get("subject") or {}).get("identifier") or {}
    return ident.get("system") in codes.ID_CARD and bool(ident.get("value"))


def _end(ref: dict[str, Any] | None, side: str) -> dict[str, str]:
    ref = ref or {}
    code = (ref.get("reference") or "").removeprefix("Organization/") if (ref.get("reference") or "").startswith(
        "Organization/") else (ref.get("identifier") or {}).get("value")
    if code:
        return {f"{side}_org_code": code}
    return {f"{side}_hospital": ref["display"]} if ref.get("display") else {}


def apply(entry, *, resident_id: int | None, client_id: str) -> None:
    """Check the whole resource, then store the report (an identical repeat answers the stored row, 200 OK)."""
    r, path = entry.resource, entry.path
    concepts = [c for cat in r.get("category") or [] for c in cat.get("coding") or []]
    if not any(c.get("code") in REFERRAL_CATEGORIES for c in concepts):
        raise FhirError([("not-supported", "只接受转诊类 ServiceRequest (category SNOMED CT 3457005 patient referral)",
                          f"{path}.category")])
    source_id = next((i.get("value") for i in r.get("identifier") or [] if i.get("value")), None)
    if not source_id:
        raise FhirError([("required", "缺少转诊单号 (ServiceRequest.identifier)", f"{path}.identifier")])
    if not r.get("authoredOn"):
        raise FhirError([("required", "缺少转诊日期 (ServiceRequest.authoredOn)", f"{path}.authoredOn")])
    payload: dict[str, Any] = {"source": SOURCE, "source_id": source_id, "referred_on": r["authoredOn"][:10],
                               "kind": "referral", **_end(r.get("requester"), "from"),
                               **_end((r.get("performer") or [None])[0], "to")}
    _diagnosis(r, payload)
    try:
        _checked(payload, "转出与转入机构同级，无法判断上转或下转 (requester and performer at the same level)",
                 f"{path}.performer[0]")
        if resident_id is None:
            number = r["subject"]["identifier"]["value"]
            resident_id = reported.resident_id_by_id_number(number)
            if resident_id is None:
                raise Invalid("居民档案中没有此身份证号 (no resident with this ID number in the registry)",
                              code="unknown_resident", path="/id_number")
        answer = reported.record_reported(payload, resident_id=resident_id, client_id=client_id)
    except Invalid as exc:
        raise _refused(exc, path, ELEMENTS) from None
    entry.made, entry.created = ("ServiceRequest", answer["reported_referral_id"]), answer["first"]


def _diagnosis(r: dict[str, Any], payload: dict[str, Any]) -> None:
    """The first ICD-10 reasonCode as the diagnosis (its display as the text)."""
    reason = next((c for x in r.get("reasonCode") or [] for c in x.get("coding") or []
                   if c.get("system") in codes.ICD10 and c.get("code")), None)
    if reason is not None:
        payload["diagnosis_code"] = reason["code"].upper()
        if reason.get("display"):
            payload["diagnosis"] = reason["display"][:200]


def _checked(payload: dict[str, Any], same_level: str, where: str) -> None:
    """Known ends, up or down from their levels (equal → business-rule at `where`), then the webhook's schema."""
    for side in ("from", "to"):
        reported.check_end(payload, side)
    direction = reported.infer_direction(payload.get("from_org_code"), payload.get("to_org_code"))
    if direction is None:
        raise FhirError([("business-rule", same_level, where)])
    payload["direction"] = direction
    REPORTED_REFERRAL_FROM_RECORDS.validate(payload)


def _refused(exc: Invalid, path: str, elements: dict[str, str]) -> FhirError:
    """Every problem of a refused report at the element it came from, with its stable code."""
    errors = exc.details.get("errors") or [{"path": exc.details.get("path") or "/", "message": exc.message}]
    return FhirError([("invalid" if exc.code == "schema_error" else "value",
                       f"{exc.message}: {e['path']} {e['message']} [{exc.code}]" if exc.code == "schema_error"
                       else f"{exc.message} [{exc.code}]", f"{path}.{elements.get(e['path'], 'identifier')}")
                      for e in errors])


# -- Encounter discharged to another organisation: a reported transfer ----------------------------------------------

DISCHARGE_SYSTEM = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
# other-hcf other healthcare facility, rehab, snf, psy, long (long-term care); WS 364 离院方式 2 医嘱转院 / 3 转社区
TRANSFER_DISPOSITIONS = frozenset({"other-hcf", "rehab", "snf", "psy", "long", "2", "3"})
ENCOUNTER_ELEMENTS = {"/source_id": "identifier", "/referred_on": "period.end", "/from_org_code": "serviceProvider",
                      "/from_hospital": "serviceProvider", "/to_org_code": "hospitalization.destination",
                      "/to_hospital": "hospitalization.destination", "/diagnosis_code": "reasonCode",
                      "/diagnosis": "reasonCode", "/id_number": "subject",
                      "/direction": "hospitalization.destination", "/kind": "hospitalization.dischargeDisposition",
                      "/": "identifier"}


def is_transfer(resource: dict[str, Any]) -> bool:
    """An Encounter whose discharge disposition is a transfer to another facility (home, died, left: not)."""
    hospitalization = resource.get("hospitalization") or {}
    concepts = (hospitalization.get("dischargeDisposition") or {}).get("coding") or []
    return any(c.get("code") in TRANSFER_DISPOSITIONS for c in concepts)


def apply_transfer(entry, *, resident_id: int, client_id: str) -> dict[str, Any]:
    """Store the transfer an Encounter reports, beside the encounter stored in the same transaction; the same
    visit identifier is the key shared with HL7 ADT^A03 (`visit:<id>`)."""
    r, path = entry.resource, entry.path
    source_id = next((i.get("value") for i in r.get("identifier") or [] if i.get("value")), None)
    if not source_id:
        raise FhirError([("required", "转院出院须有就诊号 (Encounter.identifier)", f"{path}.identifier")])
    end = (r.get("period") or {}).get("end")
    if not end:
        raise FhirError([("required", "转院出院须有出院时间 (Encounter.period.end)", f"{path}.period.end")])
    payload: dict[str, Any] = {"source": SOURCE, "source_id": f"visit:{source_id}", "kind": "transfer",
                               "referred_on": end[:10], **_end(r.get("serviceProvider"), "from"),
                               **_end((r.get("hospitalization") or {}).get("destination"), "to")}
    _diagnosis(r, payload)
    try:
        _checked(payload, "出院机构与转往机构同级，无法判断上转或下转 (serviceProvider and destination at the same level)",
                 f"{path}.hospitalization.destination")
        return reported.record_reported(payload, resident_id=resident_id, client_id=client_id)
    except Invalid as exc:
        raise _refused(exc, path, ENCOUNTER_ELEMENTS) from None

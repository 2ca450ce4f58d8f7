"""The message catalog: every message an external system may send, with its JSON Schema and how it is mapped.

Two kinds:
* catalogued messages (`lab_result`, `device_reading`, …): a fixed schema; the payload names a resident by ID
  number, its fact is recorded in the health record first, and the process message carries `resident_id`
  (never the ID number) plus the recorded values;
* any other message a deployed model uses (a message start event or a catch event): a JSON object passed to the
  process as it is, except that an `id_number` is resolved to `resident_id` and dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from app.core.errors import Invalid

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    """RFC 3339 date-time with an offset (a naive time is ambiguous between Beijing time and UTC)."""
    if not isinstance(value, str):
        return True
    if "T" not in value.upper() or datetime.fromisoformat(value).tzinfo is None:
        raise ValueError("expected an RFC 3339 date-time with an offset, e.g. 2026-03-01T08:30:00+08:00")
    return True


ID_NUMBER = {"type": "string", "pattern": "^[0-9]{17}[0-9Xx]$", "description": "居民身份证号码 (GB 11643)"}
OBSERVATION_PROPERTIES: dict[str, Any] = {
    "id_number": ID_NUMBER,
    "code": {"type": "string", "pattern": "^[0-9]{1,7}-[0-9]$", "description": "LOINC code, e.g. 4548-4 HbA1c"},
    "value": {"type": ["number", "string"], "description": "numeric value (or a coded/text result)"},
    "unit": {"type": "string", "maxLength": 40, "description": "UCUM-style unit, e.g. %, mmol/L, mmHg"},
    "effective_at": {"type": "string", "format": "date-time"},
    "abnormal_flag": {"type": "string", "enum": ["L", "H", "LL", "HH", "N", "A"]},
    "business_key": {"type": "string", "maxLength": 120},
    "correlation": {"type": "object", "description": "extra correlation values the waiting process expects",
                    "additionalProperties": {"type": ["string", "number", "integer", "boolean"]}},
    "source": {"type": "string", "maxLength": 80},
    "org_code": {"type": "string", "maxLength": 40,
                 "description": "the organisation whose lab/department produced it (default: the client's own)"},
}


def _observation_schema(title: str) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, "type": "object",
            "required": ["id_number", "code", "value", "unit", "effective_at"],
            "properties": OBSERVATION_PROPERTIES, "additionalProperties": False}


GENERIC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "properties": {"id_number": ID_NUMBER, "resident_id": {"type": "integer", "minimum": 1},
                   "business_key": {"type": "string", "maxLength": 120}},
    "description": "any JSON object; `id_number` is resolved to `resident_id` and dropped before the process sees it",
}


def _end(side: str) -> dict[str, Any]:
    what = "转出" if side == "from" else "转入"
    return {f"{side}_org_code": {"type": "string", "minLength": 1, "maxLength": 40,
                                 "description": f"{what}机构代码 (an organisation of the county)"},
            f"{side}_hospital": {"type": "string", "minLength": 1, "maxLength": 120,
                                 "description": f"{what}医院名称 (outside the county)"}}


REPORTED_REFERRAL_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "referral_reported", "type": "object",
    "required": ["source", "source_id", "id_number", "direction", "referred_on"], "additionalProperties": False,
    "allOf": [{"anyOf": [{"required": ["from_org_code"]}, {"required": ["from_hospital"]}]},
              {"anyOf": [{"required": ["to_org_code"]}, {"required": ["to_hospital"]}]}],
    "properties": {
        "source": {"type": "string", "enum": ["his", "public_health", "insurance"],
                   "description": "reporting system: 医院HIS / 公卫系统 / 医保平台"},
        "source_id": {"type": "string", "minLength": 1, "maxLength": 60,
                      "description": "the reporting system's own id of this referral"},
        "id_number": ID_NUMBER,
        "direction": {"type": "string", "enum": ["up", "down"], "description": "上转 up / 下转 down"},
        "kind": {"type": "string", "enum": ["referral", "transfer"], "description": "转诊 / 转院 (default referral)"},
        "referred_on": {"type": "string", "format": "date", "description": "转诊/转院日期 YYYY-MM-DD"},
        **_end("from"), **_end("to"),
        "diagnosis_code": {"type": "string", "pattern": "^[A-Z][0-9]{2}(\\.[0-9A-Z]{1,4})?$",
                           "description": "ICD-10, e.g. I10"},
        "diagnosis": {"type": "string", "maxLength": 200},
        "total_cost_fen": {"type": "integer", "minimum": 0, "maximum": 100000000,
                           "description": "insurance: 结算总费用, in fen (分)"},
        "insurance_paid_fen": {"type": "integer", "minimum": 0, "maximum": 100000000,
                               "description": "insurance: 统筹支付, in fen (分)"}}}


@dataclass(frozen=True)
class MessageSpec:
    name: str
    title: str
    description: str
    schema: dict[str, Any]
    kind: str                     # observation | generic | referral_arrival | referral_request | rx_created | rx_state
    #                               | contract_payment | referral_report
    #                               | order_created | order_answered | spd_movement

    def validate(self, payload: Any) -> None:
        """Raise 422 `schema_error` listing every problem with its JSON path."""
        validator = Draft202012Validator(self.schema, format_checker=FORMATS)
        errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
        if errors:
            raise Invalid("消息内容不符合模式 (payload does not match the message schema)", code="schema_error",
                          message_name=self.name,
                          errors=[{"path": _path(e.absolute_path), "message": e.message} for e in errors])


def _path(parts) -> str:
    return "/" + "/".join(str(p) for p in parts) if parts else "/"


MESSAGES: dict[str, MessageSpec] = {spec.name: spec for spec in (
    MessageSpec("lab_result", "检验结果 (lab result)",
                "A laboratory result (LIS): recorded as an observation, then delivered to processes waiting for "
                "it (correlated by resident_id and the optional business_key/correlation values) or starting "
                "on it.", _observation_schema("lab_result"), "observation"),
    MessageSpec("device_reading", "设备读数 (device reading)",
                "A home or clinic device reading (BP cuff, glucometer): recorded as an observation, then delivered "
                "like lab_result.", _observation_schema("device_reading"), "observation"),
    MessageSpec("referral_arrived", "转诊患者到诊 (HIS ADT arrival)",
                "The receiving hospital's registration/admission (ADT) says a referred patient arrived: recorded on "
                "the referral named by referral_no (once; a repeat is answered the same) and delivered to its "
                "waiting `referral_up` instance. An unknown referral number is refused 404 unknown_referral_no and "
                "kept in the inbound store (listed at /api/v1/referrals/unmatched-arrivals).",
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "referral_arrived",
                 "type": "object", "required": ["referral_no"], "additionalProperties": False,
                 "properties": {"referral_no": {"type": "string", "maxLength": 20, "description": "转诊单号"},
                                "arrived_at": {"type": "string", "format": "date-time"},
                                "visit_no": {"type": "string", "maxLength": 40, "description": "门诊/住院号"},
                                "department": {"type": "string", "maxLength": 80}}}, "referral_arrival"),
    MessageSpec("referral_reported", "外部系统上报的转诊/转院 (referral or transfer reported by the HIS, public health "
                "or insurance)",
                "The HIS, the public-health platform or the insurance platform reports a referral or transfer it "
                "knows of (its own id: source_id). Stored as a reported referral and summarised beside the "
                "network's own on /quality (转诊对账), matched where the same resident was referred the same way "
                "within 2 days. Idempotent on (source, source_id): a repeat answers the same row; a repeat with "
                "different content is refused 409 reported_referral_conflict. Refused whole: schema_error (every "
                "problem with its path), unknown_resident, unknown_org (/from_org_code, /to_org_code), missing_org, "
                "date_in_future.", REPORTED_REFERRAL_SCHEMA, "referral_report"),
    MessageSpec("referral_requested", "转诊申请 (referral requested by an external system)",
                "An external system (HIS, another county platform) asks for an up-referral of a resident named by ID "
                "number: starts `referral_up` like a doctor's request (R1 urgency, R3 route, the sender's 2-week "
                "follow-up). Idempotent on request_id: a repeat answers the same referral.",
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "referral_requested",
                 "type": "object", "required": ["id_number", "request_id", "reason"], "additionalProperties": False,
                 "properties": {"id_number": ID_NUMBER,
                                "request_id": {"type": "string", "minLength": 1, "maxLength": 60,
                                               "description": "the sender's own id of this request"},
                                "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
                                "trigger": {"type": "string", "enum": ["manual", "emergency", "acs", "stroke",
                                                                       "pregnancy", "initial", "follow_up", "dm",
                                                                       "screening"]},
                                "disease": {"type": "string", "enum": ["htn", "t2dm"]},
                                "urgency": {"type": "string", "enum": ["routine", "priority", "emergency"]},
                                "from_org_code": {"type": "string", "maxLength": 40,
                                                  "description": "sending organisation (default: the resident's)"}}},
                "referral_request"),
    MessageSpec("contract_payment", "签约服务包缴费确认 (cashier / insurance settlement)",
                "The cashier or the insurance settlement system confirms a payment for a family-doctor contract's paid "
                "package (contract_no as shown on the offer). Applied when the offer awaits payment and the amount "
                "covers the resident's share: the waiting `fd_contract` continues to signing. A payment for a voided "
                "offer, an unknown contract number, a contract not awaiting payment or a short amount is recorded "
                "and flagged (applied: false, flag), never applied; the team sees it at "
                "/api/v1/contract-payments/flagged. Idempotent on payment_id.",
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "contract_payment",
                 "type": "object", "required": ["contract_no", "payment_id", "amount_fen"],
                 "additionalProperties": False,
                 "properties": {"contract_no": {"type": "string", "minLength": 1, "maxLength": 24,
                                                "description": "签约协议号"},
                                "payment_id": {"type": "string", "minLength": 1, "maxLength": 60,
                                               "description": "the cashier's own id of this payment"},
                                "amount_fen": {"type": "integer", "minimum": 0, "maximum": 10000000,
                                               "description": "amount paid, in fen (分)"},
                                "payer": {"type": "string", "enum": ["self", "insurance"]}}},
                "contract_payment"),
    MessageSpec("rx_created", "电子处方（含监管药品）(e-prescription with a supervised drug)",
                "The HIS sends an e-prescription containing warfarin, rivaroxaban, enoxaparin or nadroparin for the "
                "pharmacist's pre-review: checked through the DMN pack and reviewed by `rx_prereview`; its states are "
                "at /api/v1/prescriptions/{id}. Idempotent on rx_id: a repeat answers the same prescription. An "
                "unknown ID number is refused 422 unknown_resident, a drug outside the catalogue 422 unknown_drug, a "
                "prescription without a supervised drug 422 no_supervised_drug. Legality (R6a rx_legality: the "
                "prescriber's 处方权 at the organisation, signature, diagnosis, validity, quantity) is judged by the "
                "process's first step, after this answer (whose grade is the appropriateness checks'): an unsigned "
                "prescription or one by a prescriber without privilege goes to the pharmacist as a block.",
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "rx_created", "type": "object",
                 "required": ["id_number", "rx_id", "org_code", "prescriber", "indication", "diagnosis", "items"],
                 "additionalProperties": False,
                 "properties": {
                     "id_number": ID_NUMBER,
                     "rx_id": {"type": "string", "minLength": 1, "maxLength": 60, "description": "the HIS's id"},
                     "org_code": {"type": "string", "maxLength": 40, "description": "prescribing organisation"},
                     "prescriber": {"type": "string", "minLength": 1, "maxLength": 120},
                     "prescriber_code": {"type": "string", "minLength": 1, "maxLength": 80,
                                         "description": "the prescriber's staff code (工号) = platform username; "
                                                        "without it the prescriber is matched by name at the org"},
                     "signature": {"type": "object", "additionalProperties": False, "required": ["cert_sn"],
                                   "description": "the prescriber's electronic signature (医师电子签名)",
                                   "properties": {"cert_sn": {"type": "string", "minLength": 1, "maxLength": 120},
                                                  "signed_at": {"type": "string", "format": "date-time"}}},
                     "issued_on": {"type": "string", "format": "date",
                                   "description": "处方开具日期 (default: the day received)"},
                     "valid_days": {"type": "integer", "minimum": 1, "maximum": 30,
                                    "description": "validity the prescriber noted, in days (default 1: 当日有效)"},
                     "long_term": {"type": "boolean", "description": "慢病长期处方 (chronic-disease long-term)"},
                     "setting": {"type": "string", "enum": ["outpatient", "emergency", "inpatient"]},
                     "indication": {"type": "string", "maxLength": 40,
                                    "description": "DMN indication code, e.g. NVAF, VTE_TREATMENT, DVT_TREATMENT"},
                     "diagnosis": {"type": "string", "minLength": 1, "maxLength": 200},
                     "items": {"type": "array", "minItems": 1, "maxItems": 10, "items": {
                         "type": "object", "required": ["drug", "dose_mg", "frequency"], "additionalProperties": False,
                         "properties": {"drug": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                                        "dose_mg": {"type": "number", "exclusiveMinimum": 0, "maximum": 3000},
                                        "frequency": {"type": "string",
                                                      "enum": ["qd", "bid", "tid", "qn", "qw", "q12h", "q24h", "q8h"]},
                                        "days": {"type": "integer", "minimum": 1, "maximum": 84}}}},
                     "concomitant": {"type": "array", "maxItems": 30, "items": {"type": "string", "maxLength": 60},
                                     "description": "other current medicines (generic names)"},
                     "clinical": {"type": "object", "additionalProperties": False, "properties": {
                         "weight_kg": {"type": "number", "exclusiveMinimum": 0, "maximum": 400},
                         "scr_umol_l": {"type": "number", "exclusiveMinimum": 0, "maximum": 3000},
                         "crcl_ml_min": {"type": "number", "minimum": 0, "maximum": 300},
                         "inr": {"type": "number", "minimum": 0, "maximum": 20},
                         "inr_date": {"type": "string", "format": "date"},
                         "bridging": {"type": "boolean"},
                         "stable": {"type": "boolean", "description": "病情稳定 (for a long-term prescription)"}}}}},
                "rx_created"),
    MessageSpec("rx_state", "处方后续状态 (prescription state after review: billing, dispensing, use)",
                "The HIS reports what happened to a reviewed prescription: charged (收费), dispensing (调配), checked "
                "(核对), dispensed (发药), administered (用药) or stopped (停药). One trace row per state and version "
                "(a repeat is answered, not added); a state reported before the prescription passed review is "
                "recorded with before_review (it lowers the pre-review coverage indicator). 404 unknown_rx_id.",
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "rx_state", "type": "object",
                 "required": ["rx_id", "state"], "additionalProperties": False,
                 "properties": {
                     "rx_id": {"type": "string", "minLength": 1, "maxLength": 60},
                     "state": {"type": "string",
                               "enum": ["charged", "dispensing", "checked", "dispensed", "administered", "stopped"]},
                     "at": {"type": "string", "format": "date-time"},
                     "actor": {"type": "string", "maxLength": 120, "description": "收费员/调配药师/核对药师/护士"},
                     "org_code": {"type": "string", "maxLength": 40},
                     "note": {"type": "string", "maxLength": 500}}},
                "rx_state"),
    MessageSpec("order_created", "检查检验医嘱 (lab/imaging order, mutual-recognition check)",
                "The HIS sends a lab or imaging order as it is placed; the answer says at once whether a result of the "
                "same item from a member organisation is still recognised (互认: accredited, inside its validity "
                "window) and lists it, so the HIS can show it to the orderer. With one, `recognition_status` is "
                "`awaiting_reason` (or `kept` when the order already carries `reason_code`) and the HIS sends the "
                "orderer's answer as `order_answered`. Idempotent on order_id: a repeat answers the same order. "
                "422 unknown_resident, unknown_item, unknown_org, invalid_reason, reason_note_required.",
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "order_created", "type": "object",
                 "required": ["id_number", "order_id", "org_code", "orderer", "item_class", "item_code"],
                 "additionalProperties": False,
                 "properties": {
                     "id_number": ID_NUMBER,
                     "order_id": {"type": "string", "minLength": 1, "maxLength": 60, "description": "the HIS's id"},
                     "org_code": {"type": "string", "minLength": 1, "maxLength": 40,
                                  "description": "ordering organisation"},
                     "orderer": {"type": "string", "minLength": 1, "maxLength": 120, "description": "开单医生"},
                     "item_class": {"type": "string", "enum": ["lab", "imaging"]},
                     "item_code": {"type": "string", "minLength": 1, "maxLength": 20,
                                   "description": "LOINC code (lab) or DICOM modality (imaging: CT, MR, DR, US…)"},
                     "ordered_at": {"type": "string", "format": "date-time"},
                     "reason_code": {"type": "string", "enum": ["condition_changed", "rapid_change",
                                                                "major_procedure", "emergency", "patient_request",
                                                                "quality_doubt", "other"],
                                     "description": "why a recognised result is repeated, when already known"},
                     "reason_note": {"type": "string", "maxLength": 500}}},
                "order_created"),
    MessageSpec("order_answered", "重复检查理由 (orderer's answer to a recognised result)",
                "The orderer's answer to an order_created that found a recognised result: `keep` (repeat it) with a "
                "reason_code, or `withdraw` (the recognised result is used; the repeat is avoided). 404 "
                "unknown_order_id, 409 order_not_awaiting_reason, 422 reason_required / invalid_reason / "
                "reason_note_required.",
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "order_answered",
                 "type": "object", "required": ["order_id", "action"], "additionalProperties": False,
                 "properties": {
                     "order_id": {"type": "string", "minLength": 1, "maxLength": 60},
                     "action": {"type": "string", "enum": ["keep", "withdraw"]},
                     "reason_code": {"type": "string", "enum": ["condition_changed", "rapid_change",
                                                                "major_procedure", "emergency", "patient_request",
                                                                "quality_doubt", "other"]},
                     "reason_note": {"type": "string", "maxLength": 500},
                     "answered_by": {"type": "string", "maxLength": 120}}},
                "order_answered"),
    MessageSpec("spd_movement", "统一供应链出入库 (SPD delivery / distribution / return)",
                "The network's unified supply chain (SPD) reports a delivery into a store (delivery, optionally "
                "answering a replenishment request_no), a distribution from a 一级库 to a 二级库 (distribution), a "
                "return to the supplier (return_supplier) or back into a store (return). Applied to the stock in one "
                "transaction, once per message_id (a repeat answers the first result). Items by item_code or the "
                "SPD's spd_code; an unknown store is refused 404 store_not_found, an unknown item 404 "
                "unknown_spd_item, taking more than the store holds 409 insufficient_stock.",
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "spd_movement",
                 "type": "object", "required": ["message_id", "type", "store_code", "lines"],
                 "additionalProperties": False,
                 "properties": {
                     "message_id": {"type": "string", "minLength": 1, "maxLength": 80,
                                    "description": "the SPD's own id of this message (idempotency key)"},
                     "type": {"type": "string", "enum": ["delivery", "distribution", "return_supplier", "return"]},
                     "store_code": {"type": "string", "minLength": 1, "maxLength": 40},
                     "to_store_code": {"type": "string", "maxLength": 40},
                     "request_no": {"type": "string", "maxLength": 40, "description": "补货请求号 it answers"},
                     "supplier": {"type": "string", "maxLength": 120},
                     "operator": {"type": "string", "maxLength": 80},
                     "lines": {"type": "array", "minItems": 1, "maxItems": 500, "items": {
                         "type": "object", "required": ["quantity"], "additionalProperties": False,
                         "properties": {"item_code": {"type": "string", "maxLength": 40},
                                        "spd_code": {"type": "string", "maxLength": 60},
                                        "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000},
                                        "lot_no": {"type": "string", "maxLength": 40},
                                        "expiry_on": {"type": "string", "format": "date"},
                                        "consignment": {"type": "boolean"}},
                         "anyOf": [{"required": ["item_code"]}, {"required": ["spd_code"]}]}}}},
                "spd_movement"),
)}


def spec_for(name: str, deployed: dict[str, Any]) -> MessageSpec | None:
    """The catalogued spec, a generic spec for a message some deployed model uses, or None (unknown)."""
    if name in MESSAGES:
        return MESSAGES[name]
    if name in deployed:
        return MessageSpec(name, name, "A message used by deployed models.", GENERIC_SCHEMA, "generic")
    return None


def listing(deployed: dict[str, Any]) -> list[dict[str, Any]]:
    """Every message: name, title, schema, and which deployed processes it starts or correlates into."""
    names = sorted(set(MESSAGES) | set(deployed))
    out = []
    for name in names:
        spec = spec_for(name, deployed)
        uses = deployed.get(name, {})
        out.append({"name": name, "title": spec.title, "description": spec.description, "kind": spec.kind,
                    "schema": spec.schema, "starts": uses.get("starts", []),
                    "correlates": uses.get("correlates", [])})
    return out


# The same report as received through HL7 v2 (REF^I12) or FHIR (ServiceRequest): the connector has already resolved
# the resident (PID-3 / ServiceRequest.subject), so the payload carries no ID number; every other rule is the same.
REPORTED_REFERRAL_FROM_RECORDS = MessageSpec(
    "referral_reported", MESSAGES["referral_reported"].title, MESSAGES["referral_reported"].description,
    {**REPORTED_REFERRAL_SCHEMA, "required": [k for k in REPORTED_REFERRAL_SCHEMA["required"] if k != "id_number"],
     "properties": {k: v for k, v in REPORTED_REFERRAL_SCHEMA["properties"].items() if k != "id_number"}},
    "referral_report")

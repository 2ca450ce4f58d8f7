"""Our record in FHIR R4 shapes (read side): Patient, Observation, Condition, MedicationRequest, Encounter,
CarePlan, ServiceRequest (referrals), Task (our human tasks). Each is checked against the R4B model in tests."""
from __future__ import annotations

from typing import Any

from app.care_plans.guidance import TIMES_PER_DAY
from app.vocabulary import Disease, Frequency

from . import codes

GENDER = {"M": "male", "F": "female"}
TASK_STATUS = {"open": "ready", "completed": "completed", "cancelled": "cancelled"}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _patient_ref(resident_id: int) -> dict[str, str]:
    return {"reference": f"Patient/{resident_id}"}


def patient(r, *, full_id_number: str | None = None) -> dict[str, Any]:
    """A resident; the ID number in full only when the caller read the one record (audited), else masked."""
    identifier = [{"system": codes.RESIDENT_ID, "value": str(r.id)}]
    identifier.append({"system": codes.ID_CARD_OUT, "value": full_id_number} if full_id_number else
                      {"system": codes.ID_CARD_OUT, "value": r.id_number_masked,
                       "extension": [{"url": "https://yigongti.dev/fhir/StructureDefinition/masked",
                                      "valueBoolean": True}]})
    out = {"resourceType": "Patient", "id": str(r.id), "identifier": identifier,
           "name": [{"text": r.name}], "gender": GENDER.get(r.sex, "unknown"), "birthDate": r.birth_date.isoformat(),
           "managingOrganization": {"reference": f"Organization/{r.org_code}"}}
    if r.address:
        out["address"] = [{"text": r.address}]
    return out


def observation(resident_id: int, o: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Observation", "id": str(o["id"]), "status": "final",
                           "code": {"coding": [{"system": codes.LOINC, "code": o["code"], "display": o.get("name")}],
                                    "text": o.get("name")},
                           "subject": _patient_ref(resident_id), "effectiveDateTime": o["effective_at"]}
    if isinstance(o["value"], (int, float)):
        out["valueQuantity"] = {"value": o["value"], "unit": o["unit"], "system": codes.UCUM, "code": o["unit"]} \
            if o.get("unit") else {"value": o["value"]}
    elif o["value"] is not None:
        out["valueString"] = str(o["value"])
    if o.get("abnormal_flag"):
        out["interpretation"] = [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "code": o["abnormal_flag"]}]}]
    return out


def condition(resident_id: int, c: dict[str, Any]) -> dict[str, Any]:
    verification = {"confirmed": "confirmed", "suspected": "provisional", "refuted": "refuted"}.get(c["status"])
    out: dict[str, Any] = {
        "resourceType": "Condition", "id": str(c["id"]), "subject": _patient_ref(resident_id),
        "code": {"coding": [{"system": codes.ICD10_OUT, "code": c["icd10"]}], "text": c.get("disease_name")},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "resolved" if c["status"] == "resolved" else "active"}]}}
    if verification:
        out["verificationStatus"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]}
    if c.get("onset_on"):
        out["onsetDateTime"] = c["onset_on"]
    return out


def medication_request(resident_id: int, m: dict[str, Any]) -> dict[str, Any]:
    dosage: dict[str, Any] = {"text": " ".join(x for x in (m.get("dose"), m.get("frequency")) if x) or None}
    return {"resourceType": "MedicationRequest", "id": str(m["id"]),
            "status": "active" if m["status"] == "active" else "stopped", "intent": "order",
            "medicationCodeableConcept": {"text": m["drug"]}, "subject": _patient_ref(resident_id),
            **({"authoredOn": m["started_on"]} if m.get("started_on") else {}),
            **({"dosageInstruction": [dosage]} if dosage["text"] else {})}


def encounter(resident_id: int, e: dict[str, Any]) -> dict[str, Any]:
    klass = {"inpatient": "IMP", "emergency": "EMER", "follow_up": "HH", "public_health_visit": "FLD"}.get(
        e["kind"], "AMB")
    out: dict[str, Any] = {"resourceType": "Encounter", "id": str(e["id"]), "status": "finished",
                           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
                           "subject": _patient_ref(resident_id), "period": {"start": e["started_at"]}}
    if e.get("diagnoses"):
        out["reasonCode"] = [{"coding": [{"system": codes.ICD10_OUT, "code": d}]} for d in e["diagnoses"]]
    if e.get("org_code"):
        out["serviceProvider"] = {"reference": f"Organization/{e['org_code']}"}
    return out


def care_plan(plan, content: dict[str, Any] | None = None) -> dict[str, Any]:
    """A care plan with what its version in force asks for: each drug (dose, frequency, daily amount), the follow-up
    interval and the targets, all in Chinese."""
    status = {"active": "active", "issued": "active", "revised": "active", "closed": "completed",
              "cancelled": "revoked"}.get(plan.status, "draft")
    disease = Disease.label_of(plan.disease)
    out: dict[str, Any] = {"resourceType": "CarePlan", "id": str(plan.id), "status": status, "intent": "plan",
                           "subject": _patient_ref(plan.resident_id), "title": f"{disease}管理方案",
                           "category": [{"text": disease}], "created": _iso(plan.created_at)}
    content = content or {}
    if note := (content.get("targets") or {}).get("note"):
        out["description"] = f"控制目标：{note}"
    activities = [_drug_activity(d) for d in content.get("drugs") or [] if d.get("name") or d.get("drug")]
    if days := content.get("follow_up_interval_days"):
        activities.append({"detail": {"kind": "Appointment", "code": {"text": "随访"}, "status": "scheduled",
                                      "scheduledTiming": {"repeat": {"frequency": 1, "period": days,
                                                                     "periodUnit": "d"}},
                                      "description": f"每{days}天随访一次"}})
    if activities:
        out["activity"] = activities
    return out


def _drug_activity(d: dict[str, Any]) -> dict[str, Any]:
    name = d.get("name") or d.get("drug")
    frequency = Frequency.label_of(d.get("frequency"), "")
    detail: dict[str, Any] = {"kind": "MedicationRequest", "status": "scheduled",
                              "productCodeableConcept": {"text": name},
                              "description": " ".join(p for p in (name, _dose(d.get("dose_mg")), frequency) if p)}
    if d.get("dose_mg") is not None and d.get("frequency") in TIMES_PER_DAY:
        daily = d["dose_mg"] * TIMES_PER_DAY[d["frequency"]]
        detail["dailyAmount"] = {"value": round(daily, 3), "unit": "mg", "system": "http://unitsofmeasure.org",
                                 "code": "mg"}
    return {"detail": detail}


def _dose(mg: Any) -> str:
    return f"{mg:g} mg" if isinstance(mg, int | float) else ""


def service_request(referral: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "ServiceRequest", "id": str(referral["id"]), "status": referral.get("status", "active"),
            "intent": "order", "category": [{"text": "referral"}], "subject": _patient_ref(referral["resident_id"])}


def task(t) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Task", "id": str(t.id), "status": TASK_STATUS.get(t.status, "ready"),
                           "intent": "order", "description": t.name, "authoredOn": _iso(t.created_at),
                           "code": {"text": f"{t.process_id}/{t.element_id}"},
                           "basedOn": [{"display": f"process instance {t.instance_id}"}]}
    if t.resident_id:
        out["for"] = _patient_ref(t.resident_id)
    if t.due_at:
        out["restriction"] = {"period": {"end": _iso(t.due_at)}}
    if t.org_code:
        out["owner"] = {"reference": f"Organization/{t.org_code}"}
    return out


def searchset(resources: list[dict[str, Any]], base: str) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                       "search": {"mode": "match"}} for r in resources]}

"""FHIR resources of a transaction onto the record (the inverse of `resources.py`)."""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from app.auth.principal import Principal
from app.core import clock
from app.core.errors import Invalid, NotFound
from app.live import services as live
from app.org.queries import find_org
from app.residents import intake
from app.residents.matching import match_or_create

from . import codes
from .outcome import FhirError

FINAL = ("final", "amended", "corrected")


def apply(entry, *, principal: Principal, client_id: str, bundle_key: str) -> None:
    key = "fhir:" + hashlib.sha256("\x00".join((client_id, bundle_key, entry.full_url or str(entry.index)))
                                   .encode()).hexdigest()[:40]
    source = f"fhir:{client_id}"[:60]
    fn = {"Patient": _patient, "Encounter": _encounter, "Condition": _condition, "Observation": _observation,
          "MedicationRequest": _medication}[entry.type]
    with _located(entry.path):
        fn(entry, principal=principal, key=key, source=source)


@contextmanager
def _located(path: str):
    try:
        yield
    except (Invalid, NotFound) as exc:
        field = exc.details.get("field")
        kind = "code-invalid" if exc.code in ("unknown_code", "invalid_unit", "invalid_icd10") else "value"
        raise FhirError([(kind, f"{exc.message} [{exc.code}]", f"{path}.{field}" if field else path)]) from None


def _bad(kind: str, text: str, path: str) -> FhirError:
    return FhirError([(kind, text, path)])


def resident_of(entry) -> int:
    """The resident an applied entry's subject resolved to."""
    return _resident_id(entry)


def _resident_id(entry, element: str = "subject") -> int:
    target = entry.refs[element]
    return target if isinstance(target, int) else target.made[1]


def _coding(concept: dict | None, systems) -> str | None:
    for coding in (concept or {}).get("coding") or []:
        if coding.get("system") in systems and coding.get("code"):
            return coding["code"]
    return None


def _datetime(value: str | None, path: str) -> datetime:
    if not value:
        raise _bad("required", "缺少时间", path)
    parsed = datetime.fromisoformat(value if len(value) > 7 else f"{value}-01"[:10])
    return clock.assume_local(parsed)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value and len(value) >= 10 else None


# -- Patient ---------------------------------------------------------------------------------------------------

def _patient(entry, *, principal: Principal, key: str, source: str) -> None:
    r, path = entry.resource, entry.path
    id_number = next((i.get("value") for i in r.get("identifier") or [] if i.get("system") in codes.ID_CARD), None)
    name = _name(r.get("name") or [])
    if not name:
        raise _bad("required", "缺少姓名 (Patient.name)", f"{path}.name")
    sex = {"male": "M", "female": "F"}.get(r.get("gender", ""))
    if sex is None:
        raise _bad("value", "性别须为 male 或 female (Patient.gender)", f"{path}.gender")
    if not r.get("birthDate") or len(r["birthDate"]) != 10:
        raise _bad("required", "须有完整出生日期 (Patient.birthDate YYYY-MM-DD)", f"{path}.birthDate")
    phone = next((t.get("value") for t in r.get("telecom") or [] if t.get("system") == "phone"), None)
    address = next((a.get("text") for a in r.get("address") or [] if a.get("text")), None)
    result = match_or_create(id_number=id_number, name=name, sex=sex, birth_date=date.fromisoformat(r["birthDate"]),
                             org_code=_managing_org(r, principal), phone=phone, address=address, source=source)
    if result.resident_id is not None:
        entry.made, entry.created = ("Patient", result.resident_id), result.outcome == "created"


def _name(names: list[dict[str, Any]]) -> str:
    for n in names:
        if n.get("text"):
            return n["text"].strip()
        joined = (n.get("family") or "") + "".join(n.get("given") or [])
        if joined.strip():
            return joined.strip()
    return ""


def _managing_org(r: dict[str, Any], principal: Principal) -> str | None:
    ref = r.get("managingOrganization") or {}
    code = (ref.get("identifier") or {}).get("value") or (ref.get("reference") or "").removeprefix("Organization/")
    for candidate in (code, principal.org_code):
        org = find_org(candidate) if candidate else None
        if org is not None and org.level in ("village", "township"):
            return org.code
    return None


# -- clinical resources ------------------------------------------------------------------------------------------

def _encounter(entry, *, principal: Principal, key: str, source: str) -> None:
    r, path = entry.resource, entry.path
    klass = (r.get("class") or {}).get("code", "")
    kind = codes.ENCOUNTER_CLASSES.get(klass)
    if kind is None:
        raise _bad("code-invalid", f"不支持的就诊类别 {klass!r} (v3 ActCode AMB/IMP/EMER/HH/VR/FLD)", f"{path}.class")
    provider = (r.get("serviceProvider") or {}).get("reference", "").removeprefix("Organization/")
    diagnoses = [c for c in (_coding(x, codes.ICD10) for x in r.get("reasonCode") or []) if c]
    resident_id = _resident_id(entry)
    fact = intake.EncounterFact(kind=kind,
                                started_at=_datetime((r.get("period") or {}).get("start"), f"{path}.period.start"),
                                org_code=provider if provider and find_org(provider) else None,
                                diagnoses=tuple(diagnoses), client_id=key)
    _submit(entry, resident_id, "Encounter", fact, source)


def _condition(entry, *, principal: Principal, key: str, source: str) -> None:
    r, path = entry.resource, entry.path
    icd10 = _coding(r.get("code"), codes.ICD10)
    if icd10 is None:
        raise _bad("code-invalid", "Condition.code 须含 ICD-10 编码 (system http://hl7.org/fhir/sid/icd-10)",
                   f"{path}.code")
    verification = _coding(r.get("verificationStatus"),
                           {"http://terminology.hl7.org/CodeSystem/condition-ver-status"}) or "confirmed"
    clinical = _coding(r.get("clinicalStatus"), {"http://terminology.hl7.org/CodeSystem/condition-clinical"})
    status = "resolved" if clinical in ("resolved", "inactive", "remission") else \
        codes.CONDITION_STATUS.get(verification, "confirmed")
    resident_id = _resident_id(entry)
    fact = intake.ConditionFact(icd10=icd10, onset_on=_date(r.get("onsetDateTime")), status=status, client_id=key)
    _submit(entry, resident_id, "Condition", fact, source)


def _observation(entry, *, principal: Principal, key: str, source: str) -> None:
    r, path = entry.resource, entry.path
    if r.get("status") not in FINAL:
        raise _bad("business-rule", f"只接受最终结果 (status {r.get('status')!r}; final/amended/corrected)",
                   f"{path}.status")
    loinc = _coding(r.get("code"), {codes.LOINC})
    if loinc is None:
        raise _bad("code-invalid", "Observation.code 须含 LOINC 编码 (system http://loinc.org)", f"{path}.code")
    quantity = r.get("valueQuantity")
    if quantity is not None:
        value, unit = quantity.get("value"), quantity.get("unit") or quantity.get("code")
    else:
        value = r.get("valueString") or (r.get("valueCodeableConcept") or {}).get("text")
        unit = None
    if value is None and r.get("component"):
        return _panel(entry, r, loinc, key=key, source=source)
    if value is None:
        raise _bad("required", "缺少结果值 (Observation.value[x])", f"{path}.value")
    flag = next((codes.INTERPRETATION.get(c.get("code", "")) for i in r.get("interpretation") or []
                 for c in i.get("coding") or []), None)
    resident_id = _resident_id(entry)
    effective_at = _datetime(r.get("effectiveDateTime"), f"{path}.effectiveDateTime")
    # a bedside monitor's reading: also a vital of the live room its device is bound to (403 when that room closed)
    device = _device_id(r.get("device"))
    streamed = device is not None and isinstance(value, int | float) and not isinstance(value, bool) and \
        live.record_vital(device, loinc, float(value), effective_at) is not None
    fact = intake.ObservationFact(code=loinc, value=value, unit=unit, effective_at=effective_at,
                                  client_id=key, abnormal_flag=flag, org_code=_performer_org(r.get("performer")))
    _submit(entry, resident_id, "Observation", fact, source, rescreen=not streamed)


def _panel(entry, r: dict, panel: str, *, key: str, source: str) -> None:
    """A panel without its own value (the monitor's NIBP, LOINC 85354-9, with systolic 8480-6 and diastolic 8462-4
    components): each component is its own observation and, from a bound device, its own live channel. Every
    component must carry a LOINC code and a numeric valueQuantity, else the whole entry is refused."""
    path = entry.path
    parts = []
    for i, comp in enumerate(r.get("component") or []):
        code = _coding((comp or {}).get("code"), {codes.LOINC})
        quantity = (comp or {}).get("valueQuantity") or {}
        value = quantity.get("value")
        if code is None:
            raise _bad("code-invalid", "Observation.component.code 须含 LOINC 编码", f"{path}.component[{i}].code")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad("required", f"组合观察 {panel} 的分量 {code} 缺少数值 (component.valueQuantity)",
                       f"{path}.component[{i}].valueQuantity")
        parts.append((code, value, quantity.get("unit") or quantity.get("code")))
    resident_id = _resident_id(entry)
    effective_at = _datetime(r.get("effectiveDateTime"), f"{path}.effectiveDateTime")
    device = _device_id(r.get("device"))
    streamed = False
    for code, value, _unit in parts:
        streamed = device is not None and live.record_vital(device, code, float(value), effective_at) is not None \
            or streamed
    org = _performer_org(r.get("performer"))
    facts: list[intake.Fact] = [intake.ObservationFact(code=code, value=value, unit=unit, effective_at=effective_at,
                                                       client_id=f"{key}:{code}", abnormal_flag=None, org_code=org)
                                for code, value, unit in parts]
    items = intake.submit(resident_id, facts, source=source, actor=source, rescreen=not streamed).items
    entry.made, entry.created = ("Observation", items[0].row.id), any(i.created for i in items)


def _performer_org(performers: list | None) -> str | None:
    """The organisation that produced the result (`Observation.performer` as `Organization/<code>` or an
    Organization's `identifier.value`), shown with it in the 全网记录 and used for 互认; None when not given."""
    for p in performers or []:
        ref = p.get("reference") or ""
        if ref.startswith("Organization/") and len(ref) > 13:
            return ref[13:][:40]
        if p.get("type") == "Organization" and (p.get("identifier") or {}).get("value"):
            return str(p["identifier"]["value"])[:40]
    return None


def _device_id(device: dict | None) -> str | None:
    """`Observation.device` as `Device/<id>` or a logical `identifier.value`."""
    if not device:
        return None
    ref = device.get("reference") or ""
    if ref.startswith("Device/") and len(ref) > 7:
        return ref[7:]
    return (device.get("identifier") or {}).get("value") or None


def _medication(entry, *, principal: Principal, key: str, source: str) -> None:
    r, path = entry.resource, entry.path
    concept = r.get("medicationCodeableConcept") or {}
    drug = concept.get("text") or next((c.get("display") for c in concept.get("coding") or [] if c.get("display")),
                                       None)
    if not drug:
        raise _bad("required", "缺少药品 (medicationCodeableConcept.text)", f"{path}.medicationCodeableConcept")
    dosage = (r.get("dosageInstruction") or [{}])[0]
    dose_q = ((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity") or {}
    dose = f"{dose_q['value']}{dose_q.get('unit', '')}" if "value" in dose_q else dosage.get("text")
    frequency = ((dosage.get("timing") or {}).get("code") or {}).get("text") or dosage.get("patientInstruction")
    status = "stopped" if r.get("status") in ("stopped", "cancelled", "completed", "entered-in-error") else "active"
    resident_id = _resident_id(entry)
    fact = intake.MedicationFact(drug=drug, dose=dose, frequency=frequency, started_on=_date(r.get("authoredOn")),
                                 status=status, client_id=key)
    _submit(entry, resident_id, "MedicationRequest", fact, source)


def _submit(entry, resident_id: int, resource_type: str, fact: intake.Fact, source: str, *,
            rescreen: bool = True) -> None:
    """One entry is one intake submission (the bundle's transaction holds them together); a live room's vitals
    (up to one a second) do not each queue a re-screen."""
    item = intake.submit(resident_id, [fact], source=source, actor=source, rescreen=rescreen).items[0]
    entry.made, entry.created = (resource_type, item.row.id), item.created

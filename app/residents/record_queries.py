"""Read the health record: the chronic-disease summary first, then the facts, and trend series for charts.

Scope-free like `records`: callers pass a resident they have already found in scope (`services.read_resident`).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app import vocabulary
from app.core.db import session
from app.org.queries import find_org
from app.vocabulary import drugs, loinc
from app.workflows.models import ProcessInstance
from app.workflows.versions import process_names

from . import sources
from .record_models import (
    Condition,
    DiseaseEnrolment,
    Encounter,
    Medication,
    Observation,
    ReferralFlag,
    RiskFactor,
    RiskLevel,
)

# the values a chronic-disease summary shows (latest value and a short trend each)
KEY_CODES = ("8480-6", "8462-4", "1558-6", "4548-4", "2160-0", "33914-3", "14959-1", "2093-3", "13457-7",
             "2085-9", "39156-5", "8280-0", "6301-6")
TREND_POINTS = 6
FINAL = ("completed", "terminated")


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def observation_dict(o: Observation) -> dict[str, Any]:
    return {"id": o.id, "code": o.code, "name": loinc.SUPPORTED[o.code].name if o.code in loinc.SUPPORTED else o.code,
            "value": o.value_num if o.value_num is not None else o.value_text, "unit": o.unit,
            "original_value": o.original_value, "original_unit": o.original_unit, "abnormal_flag": o.abnormal_flag,
            "effective_at": _iso(o.effective_at), "source": o.source, "source_label": sources.label(o.source),
            "home": sources.is_home(o.source), "client_id": o.client_id,
            "recorded_at": _iso(o.recorded_at)}


def observations(resident_id: int, *, code: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Observations newest first (one code: its trend series for a chart)."""
    query = select(Observation).where(Observation.resident_id == resident_id)
    if code:
        codes = {code, *(k for k, v in loinc.SYNONYMS.items() if v == code), loinc.canonical_code(code)}
        query = query.where(Observation.code.in_(codes))
    rows = session().scalars(query.order_by(Observation.effective_at.desc(), Observation.id.desc()).limit(limit))
    return [observation_dict(o) for o in rows]


def _key_values(resident_id: int) -> dict[str, Any]:
    rows = session().scalars(select(Observation).where(
        Observation.resident_id == resident_id, sources.clinical(Observation.source), Observation.code.in_(
            KEY_CODES + tuple(loinc.SYNONYMS))).order_by(Observation.effective_at.desc(), Observation.id.desc()))
    out: dict[str, Any] = {}
    for o in rows:
        code = loinc.canonical_code(o.code)
        entry = out.setdefault(code, {"code": code, "name": loinc.SUPPORTED[code].name, "unit": o.unit,
                                      "latest": None, "trend": []})
        point = {"value": o.value_num if o.value_num is not None else o.value_text, "at": _iso(o.effective_at)}
        if entry["latest"] is None:
            entry["latest"] = point | {"source": o.source}
        if len(entry["trend"]) < TREND_POINTS:
            entry["trend"].append(point)
    for entry in out.values():
        entry["trend"].reverse()                           # oldest first, as charts draw them
        entry["direction"] = _direction(entry["trend"])
    return out


def _direction(points: list[dict[str, Any]]) -> str | None:
    values = [p["value"] for p in points if isinstance(p["value"], (int, float))]
    if len(values) < 2:
        return None
    return "up" if values[-1] > values[-2] else "down" if values[-1] < values[-2] else "flat"


def _condition(c: Condition) -> dict[str, Any]:
    disease = vocabulary.Disease.of_icd10(c.icd10)
    return {"id": c.id, "icd10": c.icd10, "disease": disease, "disease_name": disease.label if disease else None,
            "status": c.status, "category": c.category, "onset_on": _iso(c.onset_on), "source": c.source,
            "recorded_at": _iso(c.recorded_at)}


def _medication(m: Medication) -> dict[str, Any]:
    entry = drugs.find(m.drug)
    return {"id": m.id, "drug": m.drug, "drug_name": entry["name_zh"] if entry else None, "dose": m.dose, "frequency": m.frequency, "started_on": _iso(m.started_on),
            "status": m.status, "source": m.source}


def _enrolment(e: DiseaseEnrolment) -> dict[str, Any]:
    return {"disease": e.disease, "disease_name": vocabulary.Disease.label_of(e.disease), "icd10": e.icd10,
            "diagnosed_on": _iso(e.diagnosed_on), "managing_doctor_user_id": e.managing_doctor_user_id,
            "village_code": e.village_code, "enrolled_at": _iso(e.enrolled_at), "source": e.source}


def _risk(r: RiskLevel) -> dict[str, Any]:
    return {"disease": r.disease, "disease_name": vocabulary.Disease.label_of(r.disease), "level": r.level,
            "label": vocabulary.RiskLevel.label_of(r.level, vocabulary.UNGRADED_LABEL), "previous_level": r.previous_level,
            "reason": r.reason, "decision_id": r.decision_id, "versions": r.versions,
            "assessed_at": _iso(r.assessed_at), "basis": r.basis or {}, "source": r.source,
            "source_label": "医生复核" if r.source == "clinician" else "自动分层",
            "proposed_level": r.proposed_level,
            "proposed_label": vocabulary.RiskLevel.label_of(r.proposed_level, vocabulary.UNGRADED_LABEL),
            "reassessed_by": r.reassessed_by, "reassessed_reason": r.reassessed_reason}


def _open_instances(resident_id: int) -> list[dict[str, Any]]:
    rows = list(session().scalars(select(ProcessInstance).where(
        ProcessInstance.resident_id == resident_id, ProcessInstance.status.notin_(FINAL))
        .order_by(ProcessInstance.id)))
    names = process_names(i.process_id for i in rows)
    return [{"id": i.id, "process_id": i.process_id, "process_name": names.get(i.process_id), "status": i.status,
             "business_key": i.business_key, "started_at": _iso(i.started_at)} for i in rows]


def _all(model, resident_id: int, order) -> list:
    return list(session().scalars(select(model).where(model.resident_id == resident_id).order_by(order)))


_summary_providers: dict[str, Callable[[int], Any]] = {}


def summary_provider(section: str):
    """Let a higher capability fill a section of the summary (care plan, next follow-up) without this package
    importing it: `@summary_provider("care_plan") def f(resident_id) -> ...`."""
    def register(fn: Callable[[int], Any]) -> Callable[[int], Any]:
        _summary_providers[section] = fn
        return fn
    return register


def _provided(section: str, resident_id: int) -> Any:
    fn = _summary_providers.get(section)
    return fn(resident_id) if fn else None


HOME_READINGS = 30


def home_readings(resident_id: int, *, limit: int = HOME_READINGS) -> list[dict[str, Any]]:
    """The resident's own latest home readings (患者自测 / 家用设备), newest first, apart from the clinical values."""
    rows = session().scalars(select(Observation).where(
        Observation.resident_id == resident_id, ~sources.clinical(Observation.source))
        .order_by(Observation.effective_at.desc(), Observation.id.desc()).limit(limit))
    return [observation_dict(o) for o in rows]


def chronic_summary(resident_id: int) -> dict[str, Any]:
    """Diagnoses, current drugs, latest key values with trends, risk levels, complications, flags, open work."""
    conditions = _all(Condition, resident_id, Condition.id)
    flags = _all(ReferralFlag, resident_id, ReferralFlag.id)
    return {
        "enrolments": [_enrolment(e) for e in _all(DiseaseEnrolment, resident_id, DiseaseEnrolment.id)],
        "diagnoses": [_condition(c) for c in conditions if c.category == "diagnosis" and c.status != "refuted"],
        "complications": [_condition(c) for c in conditions if c.category == "complication"],
        "current_medications": [_medication(m) for m in _all(Medication, resident_id, Medication.id)
                                if m.status == "active"],
        "key_values": _key_values(resident_id),
        "home_readings": home_readings(resident_id),
        "risk_levels": [_risk(r) for r in _all(RiskLevel, resident_id, RiskLevel.disease)],
        "care_plan": _provided("care_plan", resident_id),
        "next_follow_up": _provided("next_follow_up", resident_id),
        "referral_flags": [{"source": f.source, "reason": f.reason, "flagged_at": _iso(f.flagged_at)}
                           for f in flags if f.flagged],
        "open_emergencies": _provided("open_emergencies", resident_id) or [],
        "open_instances": _open_instances(resident_id),
    }


def _org_name(code: str | None) -> str | None:
    org = find_org(code) if code else None
    return org.name if org else None


def health_record(resident_id: int, *, recent: int = 50) -> dict[str, Any]:
    """The whole record: the summary first, then every kind of fact (recent observations)."""
    return {
        "summary": chronic_summary(resident_id),
        "conditions": [_condition(c) for c in _all(Condition, resident_id, Condition.id)],
        "observations": observations(resident_id, limit=recent),
        "medications": [_medication(m) for m in _all(Medication, resident_id, Medication.id)],
        "encounters": [{"id": e.id, "kind": e.kind, "started_at": _iso(e.started_at), "org_code": e.org_code,
                        "org_name": _org_name(e.org_code), "diagnoses": e.diagnoses, "source": e.source}
                       for e in _all(Encounter, resident_id, Encounter.started_at.desc())],
        "risk_factors": {f.factor: {"value": f.value, "source": f.source, "recorded_at": _iso(f.recorded_at)}
                         for f in _all(RiskFactor, resident_id, RiskFactor.factor)},
    }


def latest_values(resident_id: int, codes: tuple[str, ...]) -> dict[str, tuple[float | str | None, datetime]]:
    """The latest value per code (canonical codes), for processes that gather inputs for one resident."""
    out: dict[str, tuple[float | str | None, datetime]] = {}
    rows = session().scalars(select(Observation).where(Observation.resident_id == resident_id,
                                                       sources.clinical(Observation.source))
                             .order_by(Observation.effective_at.desc(), Observation.id.desc()))
    for o in rows:
        code = loinc.canonical_code(o.code)
        if code in codes and code not in out:
            out[code] = (o.value_num if o.value_num is not None else o.value_text, o.effective_at)
    return out

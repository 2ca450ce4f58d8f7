"""Risk stratification of enrolled diseases: gather the grading decision's inputs from the record, start the
`stratify` process (which evaluates the decision as a business-rule task), and write its level with the reason.

| disease | decision | level output |
|---|---|---|
| htn | `htn_cv_risk` (T03) | `risk_resolved` LOW/MODERATE/HIGH/VERY_HIGH |
| ckd | `ckd_stage` (T10) | `kdigo_risk` |
| t2dm | `dm_risk_level` [P] | `risk_resolved` |
| stroke | `stroke_risk` (T09) | `level` (MEDIUM → MODERATE) |
COPD and CHD have no grading table in rules.md; their enrolment is recorded ungraded.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import vocabulary
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import NotFound
from app.jobs.queue import enqueue_after_commit
from app.residents.management import enrolled_diseases, set_risk_level
from app.residents.record_models import RiskLevel
from app.vocabulary import UNGRADED_LABEL, Disease

from .bulk import BulkEvaluator
from .features import Features, gather
from .rules import _bmi, _has, _int, ckd_inputs, stroke_inputs

GRADING = {"htn": "htn_cv_risk", "ckd": "ckd_stage", "t2dm": "dm_risk_level", "stroke": "stroke_risk"}
LEVEL_OUTPUT = {"htn_cv_risk": "risk_resolved", "ckd_stage": "kdigo_risk", "dm_risk_level": "risk_resolved",
                "stroke_risk": "level"}
STROKE_LEVELS = {"LOW": "LOW", "MEDIUM": "MODERATE", "HIGH": "HIGH"}
DM_COMPLICATION_PREFIXES = ("E11.2", "E11.3", "E11.4", "E11.5", "E11.6", "E11.7")
G_TO_CKD = {"G3a": 3, "G3b": 3, "G4": 4, "G5": 5}


def _ckd(f: Features, evaluate) -> dict[str, Any] | None:
    inputs = ckd_inputs(f)
    return evaluate("ckd_stage", inputs)["outputs"] if inputs else None


def _diabetes(f: Features) -> str:
    if not (_has(f, "t2dm") or "t2dm" in f.enrolled):
        return "none"
    complicated = any(c.upper().startswith(DM_COMPLICATION_PREFIXES) for c in f.conditions)
    return "complicated" if complicated else "uncomplicated"


def htn_inputs(f: Features, evaluate) -> dict[str, Any]:
    ckd = _ckd(f, evaluate)
    glucose = {"fpg": f.value("1558-6"), "ogtt_2h": f.value("20438-8")}
    impaired = any(v is not None for v in glucose.values()) and \
        evaluate("dm_diagnosis", glucose)["outputs"]["diagnosis"] in ("IFG", "IGT")
    acc = bool(_has(f, "chd") or _has(f, "stroke")) or (ckd is not None and ckd["a_stage"] == "A3")
    return {"sex": f.sex, "age": f.age, "sbp": _int(f.value("8480-6")), "dbp": _int(f.value("8462-4")),
            "smoking": bool(f.factors.get("smoking", False)), "tc": f.value("2093-3"), "ldl": f.value("13457-7"),
            "hdl": f.value("2085-9"), "family_premature_cvd": bool(f.factors.get("famhx_premature_cvd", False)),
            "waist": f.value("8280-0"), "bmi": _bmi(f), "hcy": f.value("13965-9"), "igt_or_ifg": impaired,
            "tod": ckd is not None and ckd["a_stage"] == "A2", "acc": acc,
            "ckd_stage": G_TO_CKD.get(ckd["g_stage"]) if ckd else None, "diabetes": _diabetes(f)}


def grading_inputs(f: Features, disease: str, evaluate) -> dict[str, Any] | None:
    """The inputs of the disease's grading decision, or None when the record cannot grade it yet."""
    if disease == "htn":
        inputs = htn_inputs(f, evaluate)
        return inputs if inputs["sbp"] is not None and inputs["dbp"] is not None else None
    if disease == "ckd":
        return ckd_inputs(f)
    if disease == "t2dm":
        ckd = _ckd(f, evaluate)
        return {"complicated": _diabetes(f) == "complicated", "ckd_stage": G_TO_CKD.get(ckd["g_stage"]) if ckd
                else None, "hba1c": f.value("4548-4"), "fpg": f.value("1558-6")}
    if disease == "stroke" and f.age >= 40:
        return stroke_inputs(f, evaluate)
    return None


def start_grading(resident_id: int, disease: str, *, reason: str, force: bool = False) -> int | None:
    """Start `stratify` for one enrolled disease; skipped when the inputs did not change since the last grade."""
    from app.workflows.runner import Actor, start_instance
    decision_id = GRADING.get(disease)
    if decision_id is None:
        return None
    with unit_of_work() as s:
        f = gather(0, 0, as_of=clock.today(), ids=[resident_id]).get(resident_id)
        if f is None:
            return None
        inputs = grading_inputs(f, disease, BulkEvaluator(s).evaluate)
        if inputs is None:
            return None
        current = s.scalars(select(RiskLevel).where(RiskLevel.resident_id == resident_id,
                                                    RiskLevel.disease == disease)).first()
        if current is not None and current.inputs == inputs and not force:
            return None
        from .services import township_codes
        data = {**inputs, "resident_id": resident_id, "disease": disease, "disease_name": Disease.label_of(disease),
                "grading_decision": decision_id, "grading_reason": reason,
                "township_code": township_codes().get(f.org_code) or f.org_code, "village_code": f.org_code,
                "grading_inputs": inputs}
        try:
            inst = start_instance("stratify", data=data, actor=Actor("stratify"), resident_id=resident_id,
                                  org_code=f.org_code, business_key=f"stratify:{resident_id}:{disease}")
        except NotFound:
            return None
        return inst.id


def regrade_resident(resident_id: int) -> list[int]:
    """Re-grade every enrolled disease whose inputs changed (new data arrived)."""
    return [i for d in enrolled_diseases(resident_id)
            if (i := start_grading(resident_id, d, reason="new_data")) is not None]


def _decision_record(instance_id: int, decision_id: str) -> dict[str, Any]:
    from app.workflows.models import ProcessEvent
    event = session().scalars(select(ProcessEvent).where(
        ProcessEvent.instance_id == instance_id, ProcessEvent.type == "decision_evaluated")
        .order_by(ProcessEvent.id.desc())).first()
    data = event.data if event is not None else {}
    return data if data.get("decision_id") == decision_id else {}


def record_level(*, instance_id: int, resident_id: int, disease: str, decision_id: str,
                 outputs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Write the decided level onto the resident with the trace of the evaluation that decided it."""
    raw = outputs.get(LEVEL_OUTPUT[decision_id])
    level = STROKE_LEVELS.get(raw) if decision_id == "stroke_risk" else raw
    evaluation = _decision_record(instance_id, decision_id)
    enqueue_after_commit(session(), "app.screening.jobs.request_care_plan", resident_id, disease, level,
                         job_id=f"care-plan-{instance_id}")
    result = set_risk_level(resident_id, disease=disease, level=level, decision_id=decision_id,
                            reason=evaluation.get("reason", ""), trace=evaluation.get("trace", []),
                            versions=evaluation.get("versions", {}), inputs=inputs, instance_id=instance_id)
    return {**result, "label": vocabulary.RiskLevel.label_of(level, UNGRADED_LABEL),
            "previous_label": vocabulary.RiskLevel.label_of(result["previous_level"], UNGRADED_LABEL)}


def notify_village_doctor(*, resident_id: int, disease: str, level: str | None, instance_id: int) -> dict:
    """Tell the resident's family doctor (or the village's doctors) that the risk rose to high."""
    from app.auth.models import User, UserRole
    from app.notifications.services import notify
    from app.residents.models import Resident
    resident = session().get(Resident, resident_id)
    if resident is None:
        return {"notified": 0}
    user_ids = [resident.family_doctor_user_id] if resident.family_doctor_user_id else list(session().scalars(
        select(User.id).join(UserRole, UserRole.user_id == User.id).where(
            User.org_code == resident.org_code, UserRole.role == "village_doctor")))
    title = f"{resident.name} {Disease.label_of(disease)}风险升级为{vocabulary.RiskLevel.label_of(level)}"
    sent = sum(notify(uid, kind="risk_upgrade", title=title, dedupe_key=f"risk:{instance_id}:{uid}",
                      body="请关注随访并配合乡镇卫生院医生复核", link=f"/residents/{resident_id}")
               for uid in user_ids if uid)
    return {"notified": sent}


def known_diseases() -> list[str]:
    return list(Disease.codes())

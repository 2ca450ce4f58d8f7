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

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app import vocabulary
from app.auth.models import User, UserRole
from app.core import clock
from app.core.db import is_postgres, session, unit_of_work
from app.core.errors import NotFound
from app.jobs.queue import enqueue_after_commit
from app.notifications.services import notify
from app.residents.management import enrolled_diseases, reassess_risk_level, set_risk_level
from app.residents.models import Resident
from app.residents.record_models import Medication, Observation
from app.residents.sources import clinical
from app.vocabulary import UNGRADED_LABEL, Disease
from app.workflows.models import ProcessEvent, ProcessInstance
from app.workflows.runner import Actor, start_instance

from .bulk import BulkEvaluator
from .features import Features, gather
from .models import GradingState
from .rules import _bmi, _has, _int, ckd_inputs, stroke_inputs
from .services import township_codes

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


# Generic names (and Chinese stems) of antihypertensive drugs (ATC C02, C03, C07, C08, C09): a recorded drug whose
# name contains one of these marks the start of treatment; BP measured after it is on-treatment BP.
ANTIHYPERTENSIVES = (
    "amlodipine", "nifedipine", "felodipine", "nitrendipine", "lacidipine", "lercanidipine", "benidipine",
    "cilnidipine", "diltiazem", "verapamil", "captopril", "enalapril", "benazepril", "lisinopril", "ramipril",
    "fosinopril", "perindopril", "imidapril", "losartan", "valsartan", "irbesartan", "telmisartan", "candesartan",
    "olmesartan", "allisartan", "sacubitril", "hydrochlorothiazide", "indapamide", "chlorthalidone", "furosemide",
    "torasemide", "spironolactone", "amiloride", "metoprolol", "bisoprolol", "atenolol", "propranolol",
    "carvedilol", "arotinolol", "labetalol", "nebivolol", "doxazosin", "prazosin", "terazosin", "urapidil",
    "clonidine", "methyldopa", "reserpine", "hydralazine",
    "地平", "普利", "沙坦", "噻嗪", "吲达帕胺", "氯噻酮", "呋塞米", "托拉塞米", "螺内酯", "洛尔", "唑嗪", "乌拉地尔",
    "可乐定", "甲基多巴", "利血平", "降压")
BP_CODES = ("8480-6", "8462-4")


def is_antihypertensive(drug: str | None) -> bool:
    name = (drug or "").lower()
    return any(stem in name for stem in ANTIHYPERTENSIVES)


def treatment_started_on(resident_id: int) -> date | None:
    """The day antihypertensive treatment started: the earliest recorded antihypertensive drug (its start date, or
    the day it was recorded when the source gave none); None when no such drug is on record."""
    days = [m.started_on or clock.date_of(m.recorded_at) for m in session().scalars(
        select(Medication).where(Medication.resident_id == resident_id)) if is_antihypertensive(m.drug)]
    return min(days) if days else None


def untreated_bp(resident_id: int) -> dict[str, Any] | None:
    """The blood pressure that grades cardiovascular risk (rules.md, the note under T01 and T03): measured before
    treatment. Readings taken up to the day treatment started count (the diagnosing readings); the highest SBP and
    the highest DBP among them are used. With no antihypertensive on record every reading is untreated, so the
    highest on record grades. A controlled on-treatment BP never lowers the grade. None: no untreated reading."""
    started = treatment_started_on(resident_id)
    best: dict[str, Any] = {}
    for o in session().scalars(select(Observation).where(
            Observation.resident_id == resident_id, Observation.code.in_(BP_CODES), clinical(Observation.source),
            Observation.value_num.is_not(None)).order_by(Observation.effective_at, Observation.id)):
        on = clock.date_of(o.effective_at)
        if started is not None and on > started:
            continue
        key = "sbp" if o.code == "8480-6" else "dbp"
        value = o.value_num
        assert value is not None  # the query keeps only rows with a value
        if key not in best or value > best[key]["value"]:
            best[key] = {"value": round(value), "on": on.isoformat(), "source": o.source}
    if "sbp" not in best or "dbp" not in best:
        return None
    return {"rule": "untreated" if started is not None else "highest_on_record",
            "treatment_started_on": started.isoformat() if started else None, **best}


def grading_basis(resident_id: int, disease: str) -> dict[str, Any]:
    """Which readings grade the disease (stored with the grade and shown on the record): for hypertension the
    untreated BP (see `untreated_bp`), for the others the latest values."""
    if disease == "htn":
        bp = untreated_bp(resident_id)
        return {"bp": bp} if bp else {}
    return {"values": "latest"}


def grading_inputs(f: Features, disease: str, evaluate, basis: dict[str, Any] | None = None
                   ) -> dict[str, Any] | None:
    """The inputs of the disease's grading decision, or None when the record cannot grade it yet. Hypertension is
    graded from the untreated BP of `basis` (never from the latest, possibly drug-controlled, reading)."""
    if disease == "htn":
        bp = (basis or {}).get("bp")
        if not bp:
            return None
        f.values = {**f.values, "8480-6": bp["sbp"]["value"], "8462-4": bp["dbp"]["value"]}
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


def _grading_state(s, resident_id: int, disease: str):
    """The (resident, disease) row of `grading_states`, created if missing, locked for this transaction (PostgreSQL:
    `SELECT … FOR UPDATE`; SQLite has one writer at a time). Holding it serializes grading decisions per key."""

    dialect = postgresql if is_postgres() else sqlite
    s.execute(dialect.insert(GradingState).values(resident_id=resident_id, disease=disease, inputs={}, dirty=False,
                                                  updated_at=clock.now())
              .on_conflict_do_nothing(index_elements=["resident_id", "disease"]))
    return s.scalars(select(GradingState).where(GradingState.resident_id == resident_id,
                                                GradingState.disease == disease)
                     .with_for_update().execution_options(populate_existing=True)).one()


def _in_flight(s, state) -> bool:
    """The stratify instance this row started has not written its level yet (and is not finished or broken)."""
    if state.instance_id is None or state.recorded_instance_id == state.instance_id:
        return False
    status = s.scalar(select(ProcessInstance.status).where(ProcessInstance.id == state.instance_id))
    return status not in (None, "completed", "terminated", "error")


def start_grading(resident_id: int, disease: str, *, reason: str, force: bool = False) -> int | None:
    """Start `stratify` for one enrolled disease — once per change of its inputs, one at a time per (resident,
    disease). Under the locked `grading_states` row: inputs equal to the last *requested* grading (not the last
    written level, which a running grading may not have written yet) start nothing; while the last grading has not
    written its level, the change is marked `dirty` and that grading re-grades when it has (`record_level`)."""
    decision_id = GRADING.get(disease)
    if decision_id is None:
        return None
    with unit_of_work() as s:
        state = _grading_state(s, resident_id, disease)
        f = gather(0, 0, as_of=clock.today(), ids=[resident_id]).get(resident_id)
        if f is None:
            return None
        basis = grading_basis(resident_id, disease)
        inputs = grading_inputs(f, disease, BulkEvaluator(s).evaluate, basis)
        if inputs is None:
            return None
        requested = {"inputs": inputs, "basis": basis}
        if state.inputs == requested and not force:
            return None
        if _in_flight(s, state):
            state.dirty, state.updated_at = True, clock.now()
            return None
        data = {**inputs, "resident_id": resident_id, "disease": disease, "disease_name": Disease.label_of(disease),
                "grading_decision": decision_id, "grading_reason": reason,
                "township_code": township_codes().get(f.org_code) or f.org_code, "village_code": f.org_code,
                "grading_inputs": inputs, "grading_basis": basis,
                # the review form's fields, so the confirm step's parameters are defined whatever the form sent
                "confirmed_level": None, "plan": None, "note": None}
        try:
            inst = start_instance("stratify", data=data, actor=Actor("stratify"), resident_id=resident_id,
                                  org_code=f.org_code, business_key=f"stratify:{resident_id}:{disease}")
        except NotFound:
            return None
        state.inputs, state.instance_id, state.dirty, state.updated_at = requested, inst.id, False, clock.now()
        return inst.id


def _graded(resident_id: int, disease: str, instance_id: int) -> None:
    """The grading `instance_id` wrote its level: a change that arrived meanwhile re-grades now (after commit)."""
    s = session()
    state = _grading_state(s, resident_id, disease)
    if state.instance_id == instance_id:
        state.recorded_instance_id = instance_id
    if state.dirty:
        state.dirty = False
        enqueue_after_commit(s, "app.screening.jobs.regrade_resident", resident_id,
                             job_id=f"regrade-{resident_id}-after-{instance_id}")


def regrade_resident(resident_id: int) -> list[int]:
    """Re-grade every enrolled disease whose inputs changed (new data arrived)."""
    return [i for d in enrolled_diseases(resident_id)
            if (i := start_grading(resident_id, d, reason="new_data")) is not None]


def _decision_record(instance_id: int, decision_id: str) -> dict[str, Any]:
    event = session().scalars(select(ProcessEvent).where(
        ProcessEvent.instance_id == instance_id, ProcessEvent.type == "decision_evaluated")
        .order_by(ProcessEvent.id.desc())).first()
    data = event.data if event is not None else {}
    return data if data.get("decision_id") == decision_id else {}


def _request_care_plan(resident_id: int, disease: str, level: str | None, *, key: str) -> None:
    enqueue_after_commit(session(), "app.screening.jobs.request_care_plan", resident_id, disease, level,
                         job_id=f"care-plan-{resident_id}-{disease}-{key}")


def record_level(*, instance_id: int, resident_id: int, disease: str, decision_id: str,
                 outputs: dict[str, Any], inputs: dict[str, Any], basis: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """Apply the decided level as a proposal (`set_risk_level`: it may raise the grade, never lower it) with the
    trace of the evaluation; ask for a care plan only when the grade in force changed (or on the first grade)."""
    raw: Any = outputs.get(LEVEL_OUTPUT[decision_id])    # whatever the model answered
    level = STROKE_LEVELS.get(raw) if decision_id == "stroke_risk" else raw
    evaluation = _decision_record(instance_id, decision_id)
    _graded(resident_id, disease, instance_id)
    result = set_risk_level(resident_id, disease=disease, level=level, decision_id=decision_id,
                            reason=evaluation.get("reason", ""), trace=evaluation.get("trace", []),
                            versions=evaluation.get("versions", {}), inputs=inputs, instance_id=instance_id,
                            basis=basis or {})
    if result["changed"]:
        _request_care_plan(resident_id, disease, result["level"], key=f"grade-{instance_id}")
    return {**result, "label": vocabulary.RiskLevel.label_of(result["level"], UNGRADED_LABEL),
            "previous_label": vocabulary.RiskLevel.label_of(result["previous_level"], UNGRADED_LABEL)}


def reassess(resident_id: int, disease: str, *, level: str, reason: str, actor: str) -> dict[str, Any]:
    """A clinician's explicit re-assessment (the only way a grade goes down): recorded with its reason, audited;
    a changed grade asks the care-plan capability for a revision."""
    with unit_of_work():
        result = reassess_risk_level(resident_id, disease=disease, level=level, reason=reason, actor=actor)
        if result["changed"]:
            _request_care_plan(resident_id, disease, result["level"],
                               key=f"reassess-{clock.now().timestamp()}")
        return result


def notify_village_doctor(*, resident_id: int, disease: str, level: str | None, instance_id: int) -> dict:
    """Tell the resident's family doctor (or the village's doctors) that the risk rose to high."""
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

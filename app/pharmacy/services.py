"""Use cases of the pharmacist's pre-review (`rx_prereview`, wave2 §3.1): an e-prescription arrives from the HIS,
is checked automatically, reviewed, perhaps modified and reviewed again, and its result is owed back to the HIS.

    receive(resident_id=12, source_key="his-1:RX-0001", payload={...})   # idempotent on source_key

Every change writes one `prescription_states` row (开具, 审核中, 通过, 干预, 修改, 坚持, 拒绝, 撤销, 超时升级) and the
final outcome one `prescription_results` row (the message owed to the HIS).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import SYSTEM
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.decisions import services as decisions
from app.org.queries import find_org
from app.residents import queries as residents
from app.workflows import hooks, runner
from app.workflows.deploy import latest_process_versions

from . import checks, legality
from .models import (
    MedicationErrorReport,
    Prescription,
    PrescriptionResult,
    PrescriptionState,
    PrescriptionVersion,
)

log = logs.get("pharmacy")
PROCESS = "rx_prereview"
PRESCRIBER_ROLE = {"village": "village_doctor", "township": "township_doctor", "county": "county_specialist",
                   "department": "county_specialist"}
SLA = {"outpatient": "PT5M", "emergency": "PT5M", "inpatient": "PT15M"}     # wave2 §3.1 step 5 [P]
STATE_LABELS = {"issued": "开具", "reviewing": "审核中", "passed": "通过", "intervened": "干预", "modified": "修改",
                "insisted": "医生坚持", "refused": "拒绝", "withdrawn": "撤销", "escalated": "超时升级",
                "charged": "收费", "dispensing": "调配", "checked": "核对", "dispensed": "发药", "administered": "用药",
                "stopped": "停药"}
AFTER_RELEASE = ("charged", "dispensing", "checked", "dispensed", "administered", "stopped")   # from the HIS
FINAL = {"passed", "refused", "withdrawn"}
# NCC MERP medication-error category of a refusal at pre-review: the error occurred (the prescription was issued) but
# was intercepted before it reached the patient (wave2 §3.1 step 5: refuse → 不良事件/用药错误上报)
REFUSAL_CATEGORY = "B"
ERROR_CATEGORY_LABELS = {"A": "A 类：有发生差错的环境或事件", "B": "B 类：差错已发生，未到达患者",
                         "C": "C 类：到达患者，未造成伤害", "D": "D 类：到达患者，需监测以排除伤害"}


class ProcessNotDeployed(Conflict):
    code = "process_not_deployed"


def version_hash(row: Prescription) -> str:
    body = json.dumps({"items": row.items, "indication": row.indication, "clinical": row.clinical},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _state(row: Prescription, state: str, *, actor: str, org_code: str | None = None, note: str | None = None,
           **detail: Any) -> None:
    session().add(PrescriptionState(prescription_id=row.id, state=state, version=row.version,
                                    version_hash=version_hash(row), actor=actor, org_code=org_code, note=note,
                                    detail=detail, at=clock.now()))


def _keep_version(row: Prescription, author: str) -> None:
    """The lines of this version, kept beside the hash on the trace (the timeline shows what changed)."""
    session().add(PrescriptionVersion(prescription_id=row.id, version=row.version, version_hash=version_hash(row),
                                      items=[dict(line) for line in row.items], indication=row.indication,
                                      grade=row.grade, findings=list(row.findings), author=author,
                                      created_at=clock.now()))


def _review_org(org) -> str:
    """Village and township prescriptions are reviewed at the county review centre (the tree's county node); a
    county prescription by the county hospital's pharmacy (the same county node here: one review centre)."""
    parts = [p for p in org.path.split("/") if p]
    return parts[0] if parts else org.code


def _check(row: Prescription) -> None:
    result = checks.review(items=row.items, indication=row.indication, clinical=row.clinical,
                           concomitant=list(row.clinical.get("concomitant") or []))
    row.findings, row.grade = result["findings"], result["grade"]
    if result["crcl_for_dosing"] is not None:
        row.clinical = {**row.clinical, "crcl_for_dosing": result["crcl_for_dosing"]}


def _supervised(items: list[dict[str, Any]]) -> None:
    if not any(line.get("drug") in checks.SUPERVISED for line in items):
        raise Invalid("处方不含需前置审核的监管药品 (no supervised drug in the prescription)",
                      code="no_supervised_drug", supervised=list(checks.SUPERVISED))


def receive(*, resident_id: int, source_key: str, payload: dict[str, Any]) -> tuple[Prescription, bool]:
    """Record a prescription, check it and start its review; `(row, created)`. A repeat answers the same row."""
    with unit_of_work() as s:
        found = s.scalars(select(Prescription).where(Prescription.source_key == source_key)).first()
        if found is not None:
            return found, False
        resident = residents.get_resident(resident_id, SYSTEM)
        if resident is None:
            raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
        org = find_org(payload["org_code"])
        if org is None:
            raise NotFound("开方机构不存在 (organization not found)", code="organization_not_found",
                           org_code=payload["org_code"])
        _supervised(payload["items"])
        if PROCESS not in latest_process_versions(s):
            raise ProcessNotDeployed("前置审方流程未部署 (rx_prereview is not deployed)", process_id=PROCESS)
        clinical = dict(payload.get("clinical") or {})
        clinical.setdefault("age", clock.age(resident.birth_date, clock.today()))
        clinical.setdefault("sex", resident.sex)
        if payload.get("concomitant"):
            clinical["concomitant"] = list(payload["concomitant"])
        now = clock.now()
        row = Prescription(source_key=source_key, rx_id=payload["rx_id"], resident_id=resident_id,
                           org_code=org.code, org_path=org.path, review_org_code=_review_org(org),
                           prescriber=payload["prescriber"], prescriber_role=PRESCRIBER_ROLE.get(org.level,
                                                                                             "county_specialist"),
                           setting=payload.get("setting", "outpatient"), indication=payload["indication"],
                           diagnosis=payload["diagnosis"], clinical=clinical,
                           items=[dict(line) for line in payload["items"]], legality=legality.sent(payload),
                           version=1, findings=[], grade="none",
                           status="reviewing", received_at=now, updated_at=now)
        _check(row)
        s.add(row)
        s.flush()
        _keep_version(row, row.prescriber)
        _state(row, "issued", actor=row.prescriber, org_code=row.org_code)
        _state(row, "reviewing", actor="system", org_code=row.review_org_code, grade=row.grade,
               findings=len(row.findings))
        inst = runner.start_instance(PROCESS, actor=runner.Actor(source_key.split(":")[0]),
                                     data={**_instance_data(row), **_legality_facts(row, org)},
                                     resident_id=row.resident_id, org_code=row.org_code,
                                     business_key=f"rx:{row.rx_id}"[:120])
        row.instance_id = inst.id
        return row, True


def _legality_facts(row: Prescription, org=None) -> dict[str, Any]:
    """The inputs of the process's R6a `rx_legality` step for the current version (wave2 §3.4)."""
    org = org or find_org(row.org_code)
    return legality.facts(legality=row.legality, prescriber=row.prescriber, org=org, resident_id=row.resident_id,
                          setting=row.setting, diagnosis=row.diagnosis, items=row.items,
                          stable=bool(row.clinical.get("stable")))


def record_legality(prescription_id: int, *, codes: list[str] | None, grades: list[str] | None,
                    messages: list[str] | None) -> dict[str, Any]:
    """The R6a findings of the current version, put before the appropriateness ones (合法性 → 适宜性); the grade is
    the worst of both. Answers what the review gateway needs: the grade, the findings and whether this organisation
    lets a prescription of these drug classes with nothing above `info` pass without a pharmacist."""
    row = _locked(prescription_id)
    try:
        version = decisions.version_row(legality.DECISION).version
    except NotFound:
        version = None
    found = legality.findings(codes, grades, messages, version)
    row.findings = [*found, *(f for f in row.findings if f.get("rule") != legality.DECISION)]
    row.grade, row.updated_at = checks.grade_of(row.findings), clock.now()
    current = session().scalars(select(PrescriptionVersion).where(
        PrescriptionVersion.prescription_id == row.id, PrescriptionVersion.version == row.version)).first()
    if current is not None:
        current.findings, current.grade = list(row.findings), row.grade
    return {"grade": row.grade, "findings": _instance_data(row)["findings"],
            "auto_pass": legality.auto_pass_allowed(row.org_code, row.items)}


def _instance_data(row: Prescription) -> dict[str, Any]:
    return {"prescription_id": row.id, "rx_id": row.rx_id, "grade": row.grade, "review_org": row.review_org_code,
            "prescriber_org": row.org_code, "prescriber_role": row.prescriber_role,
            "review_sla": SLA.get(row.setting, "PT5M"), "rx_summary": summary(row),
            "findings": [{"grade": f["grade"], "message": f["message"], "rule": f.get("rule")}
                         for f in row.findings],
            "problems": [], "opinion": None, "suggested_dose": None, "reason": None, "second_opinion": None}


def summary(row: Prescription) -> str:
    lines = "；".join(checks.line_text(i) for i in row.items)
    return f"第{row.version}版 {row.diagnosis}（{checks.indication_label(row.indication)}）：{lines}"


def _locked(prescription_id: int) -> Prescription:
    row = session().scalars(select(Prescription).where(Prescription.id == prescription_id).with_for_update()).first()
    if row is None:
        raise NotFound("处方不存在 (prescription not found)", code="not_found", prescription_id=prescription_id)
    return row


def _finish(row: Prescription, outcome: str, *, actor: str, note: str | None = None, **detail: Any) -> None:
    """A final outcome: its state row and the result message owed to the HIS (once per version and outcome)."""
    row.status, row.updated_at = outcome, clock.now()
    _state(row, outcome, actor=actor, org_code=row.review_org_code, note=note, **detail)
    exists = session().scalars(select(PrescriptionResult.id).where(
        PrescriptionResult.prescription_id == row.id, PrescriptionResult.version == row.version,
        PrescriptionResult.outcome == outcome)).first()
    if exists is None:
        session().add(PrescriptionResult(
            prescription_id=row.id, rx_id=row.rx_id, version=row.version, outcome=outcome, status="pending",
            payload={"rx_id": row.rx_id, "version": row.version, "outcome": outcome, "note": note,
                     "findings": [{"code": f["code"], "grade": f["grade"], "message": f["message"]}
                                  for f in row.findings], **detail},
            created_at=clock.now()))
    if outcome == "refused":
        _error_report(row, actor=actor, opinion=note, detail=detail)
    if outcome == "passed":
        hooks.emit(hooks.PRESCRIPTION_RELEASED, resident_id=row.resident_id, prescription_id=row.id, rx_id=row.rx_id,
                   org_code=row.org_code, items=[dict(line) for line in row.items], indication=row.indication,
                   clinical=dict(row.clinical), actor=actor)


def _error_report(row: Prescription, *, actor: str, opinion: str | None, detail: dict[str, Any]) -> None:
    """The 用药差错报告 of a refusal, in the refusing transaction (once per version): the problem types come from the
    review form (after insistence, from the first pharmacist's intervention of this version)."""
    s = session()
    if s.scalars(select(MedicationErrorReport.id).where(MedicationErrorReport.prescription_id == row.id,
                                                        MedicationErrorReport.version == row.version)).first():
        return
    problems = list(detail.get("problems") or [])
    first = None
    if detail.get("double_signed"):
        signatures = detail.get("signatures") or []
        first = signatures[0] if signatures else None
        intervened = s.scalars(select(PrescriptionState).where(
            PrescriptionState.prescription_id == row.id, PrescriptionState.version == row.version,
            PrescriptionState.state == "intervened").order_by(PrescriptionState.id.desc())).first()
        if intervened is not None:
            problems = problems or list(intervened.detail.get("problems") or [])
            opinion = opinion or intervened.note
    s.add(MedicationErrorReport(
        prescription_id=row.id, rx_id=row.rx_id, version=row.version, version_hash=version_hash(row),
        resident_id=row.resident_id, org_code=row.org_code, org_path=row.org_path,
        review_org_code=row.review_org_code, prescriber=row.prescriber, pharmacist=actor, first_pharmacist=first,
        double_signed=bool(detail.get("double_signed")), problems=problems, opinion=opinion,
        findings=[{"code": f["code"], "grade": f["grade"], "message": f["message"]} for f in row.findings],
        category=REFUSAL_CATEGORY, created_at=clock.now()))


def error_report(prescription_id: int) -> dict[str, Any]:
    """The BPMN step 用药差错报告 on the refused paths: the report the refusal wrote (its id and category) back to
    the instance; a refusal without one (never expected) gets it now."""
    row = _locked(prescription_id)
    found = session().scalars(select(MedicationErrorReport).where(
        MedicationErrorReport.prescription_id == row.id, MedicationErrorReport.version == row.version)).first()
    if found is None:
        refused = session().scalars(select(PrescriptionState).where(
            PrescriptionState.prescription_id == row.id, PrescriptionState.version == row.version,
            PrescriptionState.state == "refused").order_by(PrescriptionState.id.desc())).first()
        if refused is None:
            raise Invalid("处方未被拒绝 (the prescription was not refused)", code="not_refused")
        _error_report(row, actor=refused.actor, opinion=refused.note, detail=dict(refused.detail))
        session().flush()
        found = session().scalars(select(MedicationErrorReport).where(
            MedicationErrorReport.prescription_id == row.id, MedicationErrorReport.version == row.version)).first()
    assert found is not None
    return {"report_id": found.id, "category": found.category}


def _once(row: Prescription, state: str) -> bool:
    """True when this version already has this state (an operator retried after its commit)."""
    return session().scalars(select(PrescriptionState.id).where(
        PrescriptionState.prescription_id == row.id, PrescriptionState.version == row.version,
        PrescriptionState.state == state)).first() is not None


def auto_pass(prescription_id: int) -> dict[str, Any]:
    row = _locked(prescription_id)
    if not _once(row, "passed"):
        _finish(row, "passed", actor="system", note="自动审核通过（无警示）", auto=True)
    return {"status": row.status}


def decide(prescription_id: int, *, pharmacist: str | None, decision: str, problems: list[str] | None = None,
           opinion: str | None = None, suggested_dose: str | None = None) -> dict[str, Any]:
    """The pharmacist's conclusion: pass, intervene (back to the prescriber) or refuse."""
    row = _locked(prescription_id)
    state = {"pass": "passed", "intervene": "intervened", "refuse": "refused"}[decision]
    if not _once(row, state):
        detail = {"problems": problems or [], "suggested_dose": suggested_dose, "pharmacist": pharmacist}
        if state == "intervened":
            row.status, row.updated_at = "intervened", clock.now()
            _state(row, state, actor=pharmacist or "?", org_code=row.review_org_code, note=opinion, **detail)
        else:
            _finish(row, state, actor=pharmacist or "?", note=opinion, **detail)
    return {"status": row.status, "pharmacist": pharmacist}


def reply(prescription_id: int, *, prescriber: str | None, action: str, items: list[dict[str, Any]] | None = None,
          reason: str | None = None) -> dict[str, Any]:
    """The prescriber's answer to an intervention: a modified version (checked again, re-enters review), insistence
    (needs a second pharmacist's signature) or withdrawal."""
    row = _locked(prescription_id)
    who = prescriber or row.prescriber
    if action == "modify":
        if row.status == "intervened":      # not yet applied (a retried operator finds it applied)
            _supervised(items or [])
            row.items, row.version = [dict(line) for line in items or []], row.version + 1
            # the modified version is issued today, signed by the prescriber who answered on the platform
            row.legality = {**row.legality, "prescriber_code": prescriber or row.legality.get("prescriber_code"),
                            "signed": True, "signature": {"platform_user": who}, "valid_days": 1,
                            "issued_on": clock.today().isoformat()}
            _check(row)
            row.status, row.updated_at = "reviewing", clock.now()
            _keep_version(row, who)
            _state(row, "modified", actor=who, org_code=row.org_code, note=reason)
            _state(row, "reviewing", actor="system", org_code=row.review_org_code, grade=row.grade,
                   findings=len(row.findings))
        return {"grade": row.grade, "version": row.version, "rx_summary": summary(row),
                "findings": [{"grade": f["grade"], "message": f["message"], "rule": f.get("rule")}
                             for f in row.findings], "legality": _legality_facts(row)}
    if action == "insist":
        if not _once(row, "insisted"):
            row.status, row.updated_at = "insisted", clock.now()
            _state(row, "insisted", actor=who, org_code=row.org_code, note=reason)
    elif not _once(row, "withdrawn"):
        _finish(row, "withdrawn", actor=who, note=reason)
    return {"grade": row.grade, "version": row.version, "rx_summary": summary(row),
            "findings": _instance_data(row)["findings"]}


def double_sign(prescription_id: int, *, pharmacist: str | None, first_pharmacist: str | None, decision: str,
                opinion: str | None = None) -> dict[str, Any]:
    """The second pharmacist's signature on a prescription the prescriber insists on: release or refuse."""
    row = _locked(prescription_id)
    if pharmacist and pharmacist == first_pharmacist:
        raise Invalid("双签需第二名药师 (the second signature must be another pharmacist)",
                      code="separation_of_duties")
    state = "passed" if decision == "pass" else "refused"
    if not _once(row, state):
        _finish(row, state, actor=pharmacist or "?", note=opinion, double_signed=True,
                signatures=[first_pharmacist, pharmacist])
    return {"status": row.status}


def escalate(prescription_id: int) -> dict[str, Any]:
    """The review SLA passed: recorded on the trace (the task stays open for the pharmacy)."""
    row = _locked(prescription_id)
    if not _once(row, "escalated"):
        _state(row, "escalated", actor="system", org_code=row.review_org_code, note="审方超时")
    return {"status": row.status}


def pending_results(limit: int = 200, owed: Callable[[Any], ColumnElement[bool]] | None = None
                    ) -> list[PrescriptionResult]:
    """Review results not yet taken by the HIS, oldest first; `owed(id column)` narrows them to those due now."""
    query = select(PrescriptionResult).where(PrescriptionResult.status == "pending")
    if owed is not None:
        query = query.where(owed(PrescriptionResult.id))
    return list(session().scalars(query.order_by(PrescriptionResult.id).limit(limit)))


def mark_result_sent(result_id: int) -> None:
    """The HIS took this result: it is not sent again."""
    with unit_of_work() as s:
        row = s.get(PrescriptionResult, result_id)
        if row is not None and row.status == "pending":
            row.status, row.sent_at, row.attempts = "sent", clock.now(), row.attempts + 1


def record_trace(*, source_key: str, state: str, actor: str, org_code: str | None = None, at: Any = None,
                 note: str | None = None) -> dict[str, Any]:
    """A state after review reported by the HIS (收费 → 调配 → 核对 → 发药 → 用药, 停药): one trace row per state and
    version (a repeat is answered, not added). A state reported before the prescription was released is recorded
    all the same, flagged `before_review` (the pre-review coverage indicator counts it) and logged."""
    if state not in AFTER_RELEASE:
        raise Invalid("未知的处方状态 (unknown state)", code="invalid_state", allowed=list(AFTER_RELEASE))
    with unit_of_work() as s:
        row = s.scalars(select(Prescription).where(Prescription.source_key == source_key).with_for_update()).first()
        if row is None:
            raise NotFound("处方不存在 (unknown rx_id)", code="unknown_rx_id", source_key=source_key)
        if not _once(row, state):
            before = row.status != "passed"
            if before:
                log.warning("prescription state before release", extra={"status": f"{state}:{row.status}"})
            session().add(PrescriptionState(
                prescription_id=row.id, state=state, version=row.version, version_hash=version_hash(row),
                actor=actor, org_code=org_code or row.org_code, note=note,
                detail={"before_review": True, "review_status": row.status} if before else {},
                at=at or clock.now()))
            row.updated_at = clock.now()
        return {"prescription_id": row.id, "rx_id": row.rx_id, "state": state, "status": row.status}


def _org(org_code: str):
    org = find_org(org_code)
    if org is None:
        raise Invalid("机构不存在 (unknown organisation)", code="unknown_org_code", org_code=org_code)
    return org


def auto_pass_settings(org_code: str) -> list[dict[str, Any]]:
    """The auto-pass switch per drug class as it applies at this organisation (wave2 §3.1 step 4; default off)."""
    with unit_of_work():
        return legality.settings_view(_org(org_code))


def set_auto_pass(org_code: str, drug_class: str, enabled: bool, *, actor: str) -> list[dict[str, Any]]:
    """Switch auto-pass of one drug class at one organisation (audited `rx.auto_pass`); answers the new view."""
    with unit_of_work():
        org = _org(org_code)
        legality.set_auto_pass(org, drug_class, enabled, actor=actor)
        session().flush()
        return legality.settings_view(org)

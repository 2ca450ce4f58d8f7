"""Use cases of the interventional centre: open a case (starts `intervention_case`), scan a device into it during
the operation (through the supply chain), and import the DRG grouper's output for a discharged case (the platform
stores it and never groups).

    open_case(principal, resident_id=12, service_line="coronary", diagnosis="...", procedure_code="36.0700",
              procedure_name="经皮冠状动脉药物洗脱支架置入术", admitted_on=date(2026, 12, 1))"""
from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

from sqlalchemy import select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.org.queries import find_org
from app.residents import queries as residents
from app.workflows import runner
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask, MessageSubscription

from . import costing, devices, queries, steps
from .labels import SERVICE_LINES
from .models import CaseDevice, InterventionCase

PROCESS = "intervention_case"
DRG_MESSAGE = "intervention_drg_grouped"
DRG_FIELDS = ("drg_code", "weight", "total_charge")


def quality_org(org_code: str) -> str:
    """The hospital the centre belongs to (its quality office reviews unplanned re-operations)."""
    org = find_org(org_code)
    parts = [p for p in (org.path if org else "").split("/") if p]
    return parts[0] if parts else org_code


def open_case(p: Principal, *, resident_id: int, service_line: str, diagnosis: str, procedure_code: str,
              procedure_name: str, admitted_on: date | None = None) -> InterventionCase:
    """Register an interventional case for a patient of the caller's scope and start `intervention_case`."""
    resident = residents.get_resident(resident_id, p)
    if resident is None:
        raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
    if service_line not in SERVICE_LINES:
        raise Invalid("介入亚专业不正确", code="invalid_service_line", field="service_line",
                      allowed=list(SERVICE_LINES))
    if not diagnosis.strip() or not procedure_name.strip() or not procedure_code.strip():
        raise Invalid("请填写诊断与拟行术式", code="procedure_required", field="procedure_name")
    admitted = admitted_on or clock.today()
    if admitted > clock.today():
        raise Invalid("入院日期不能晚于今天", code="invalid_admitted_on", field="admitted_on")
    if PROCESS not in latest_process_versions(session()):
        raise Conflict("介入病例流程尚未部署 (process not deployed)", code="process_not_deployed", status=409)
    with unit_of_work() as s:
        now = clock.now()
        c = InterventionCase(case_no=f"t{uuid4().hex[:16]}", status="assessing", resident_id=resident_id,
                             resident_name=resident.name, org_code=p.org_code, org_path=p.org_path,
                             doctor_user_id=p.user_id, doctor_name=p.display_name or p.username,
                             service_line=service_line, diagnosis=diagnosis.strip(),
                             procedure_code=procedure_code.strip(), procedure_name=procedure_name.strip(),
                             admitted_on=admitted, assessment={}, mdt={}, consent={}, reservation=[], operation={},
                             checkpoints={}, discharge={}, drg={}, cost={}, follow_up={}, log=[], created_at=now,
                             updated_at=now)
        s.add(c)
        s.flush()
        c.case_no = f"JR{clock.today():%Y%m%d}-{c.id:04d}"
        steps.note(c, "opened", f"建立介入病例：{c.procedure_name}")
        data = {**steps.start_data(c), "quality_org": quality_org(c.org_code)}
        inst = runner.start_instance(PROCESS, actor=runner.Actor.of(p), data=data, resident_id=resident_id,
                                     org_code=p.org_code, business_key=c.case_no)
        c.instance_id = inst.id
        return c


def _operation_open(c: InterventionCase) -> bool:
    return c.instance_id is not None and session().scalars(select(HumanTask.id).where(
        HumanTask.instance_id == c.instance_id, HumanTask.element_id == "operation_record",
        HumanTask.status == "open")).first() is not None


def scan_device(p: Principal, case_id: int, *, udi: str, self_pay: bool = False) -> CaseDevice:
    """术中扫码: consume the item from the centre's store and bind it to the case, patient and operator. Only while
    the operation record is open (409 `operation_not_open` otherwise); refusals of the supply chain (wrong check
    digit, expired or recalled, serial already used, not in stock) come back with their code."""
    c = queries.get(p, case_id)
    if not _operation_open(c):
        raise Conflict("手术记录未开启，不能扫码使用耗材 (operation not open)", code="operation_not_open", status=409)
    row = devices.scan(c, udi, user_id=p.user_id, username=p.username, self_pay=self_pay)
    with unit_of_work() as s:
        case = s.get(InterventionCase, c.id)
        if case is not None:
            steps.note(case, "scanned", f"术中扫码：{row.name}（批号 {row.lot or '-'}，序列号 {row.serial or '-'}）")
            case.updated_at = clock.now()
    return row


CANCELLABLE = ("assessing", "mdt", "consenting", "reserving", "operating")


def cancel_case(p: Principal, case_id: int, *, reason: str) -> InterventionCase:
    """Cancel a case before its operation (the patient withdraws, the slot is dropped): the process instance ends,
    the case is `cancelled` and the consumables reserved for it go back to available stock. Refused (409
    `case_not_cancellable`) once a device has been scanned or the operation recorded."""
    c = queries.get(p, case_id)
    if c.status not in CANCELLABLE or steps.devices_of(c.id):
        raise Conflict("手术已开始或已结束，不能取消 (case not cancellable)", code="case_not_cancellable", status=409,
                       status_now=c.status)
    text = reason.strip()
    if c.instance_id is not None:
        runner.terminate_instance(c.instance_id, runner.Actor.of(p), reason=text)
    steps.stop(c.id, reason=f"取消手术：{text}")
    session().expire_all()
    return session().get(InterventionCase, c.id) or c


def import_drg(p: Principal, payload: dict[str, Any]) -> tuple[InterventionCase, bool]:
    """Store the DRG grouper's output for a discharged case (医保结算清单 connector or API). Idempotent: the same
    result again answers `created=False`; a different result for an already grouped case is refused (409)."""
    case_no = (payload.get("case_no") or "").strip()
    c = session().scalars(select(InterventionCase).where(InterventionCase.case_no == case_no)).first()
    if c is None:
        raise NotFound("介入病例不存在 (case not found)", code="case_not_found", case_no=case_no)
    missing = [f for f in DRG_FIELDS if payload.get(f) in (None, "")]
    if missing:
        raise Invalid("分组结果缺少必填项", code="drg_incomplete", fields=missing)
    if not 0 < float(payload["weight"]) < 100 or float(payload["total_charge"]) < 0:
        raise Invalid("权重或总费用不合理", code="drg_implausible", field="weight")
    clean = {k: v for k, v in payload.items() if v is not None}
    costing.region_of(c.org_code, c.org_path)          # 422 `drg_region_not_configured` before anything is stored
    if c.drg_code:
        if c.drg_code == clean["drg_code"] and float(c.drg_weight or 0) == float(clean["weight"]):
            return c, False
        raise Conflict("该病例已有不同的分组结果 (already grouped)", code="drg_already_imported", status=409,
                       drg_code=c.drg_code)
    waiting = session().scalars(select(MessageSubscription).where(
        MessageSubscription.instance_id == c.instance_id,
        MessageSubscription.message_name == DRG_MESSAGE)).first() if c.instance_id else None
    if waiting is None or c.instance_id is None:
        raise Conflict("病例尚未出院，不能导入分组结果 (not awaiting grouping)", code="not_awaiting_grouping",
                       status=409, status_now=c.status)
    runner.correlate(c.instance_id, DRG_MESSAGE, {**clean, "case_no": c.case_no}, runner.Actor.of(p),
                     interactive=True)
    session().expire_all()
    return session().get(InterventionCase, c.id) or c, True

"""The `intervention_case` process's steps (called by its service tasks; each idempotent, keyed by the case row).

Every step writes its part of the `intervention_cases` row, so lists, the specialty database and the centre's
indicators read current process data without a batch. A step that finds the form's answer unusable returns
`ok: False` with a Chinese message; the model sends the task back with that message."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import DomainError
from app.supply import services as supply

from . import clinical, costing, devices
from .labels import (
    ANTICOAG_DRUGS,
    COMPLICATIONS,
    CONTRAST_RISK,
    GRADES,
    REOPERATION_REASONS,
    SERVICE_LINES,
    SEVERE_GRADES,
)
from .models import CaseDevice, Complication, InterventionCase, Reoperation

CHECKPOINTS = {"48h": timedelta(hours=48), "31d": timedelta(days=31)}
FOLLOW_UP_AFTER = timedelta(days=30)
RCA_DUE = "P7D"
SIGNATURE_PREFIX = "data:image/png;base64,"


def _row(s, case_id: int) -> InterventionCase:
    return s.scalars(select(InterventionCase).where(InterventionCase.id == int(case_id)).with_for_update()).one()


def _touch(c: InterventionCase, status: str | None = None) -> None:
    if status:
        c.status = status
    c.updated_at = clock.now()


def note(c: InterventionCase, event: str, text: str, **extra: Any) -> None:
    c.log = [*(c.log or []), {"at": clock.now().isoformat(), "event": event, "text": text, **extra}]


def _fail(message: str) -> dict[str, Any]:
    return {"ok": False, "message": message}


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=clock.now().astimezone().tzinfo)


def start_data(c: InterventionCase) -> dict[str, Any]:
    """What the process starts with (labels for the tasks' instructions included)."""
    return {"case_id": c.id, "case_no": c.case_no, "resident_id": c.resident_id,
            "resident_name": c.resident_name or "", "doctor_user": c.doctor_user_id, "centre_org": c.org_code,
            "service_line_label": SERVICE_LINES.get(c.service_line, ""), "procedure_name": c.procedure_name,
            "diagnosis": c.diagnosis, "assess_error": "", "consent_error": "", "reserve_error": "", "operation_error": "",
            "checkpoint_error": "", "discharge_error": ""}


# -- pre-operative assessment -----------------------------------------------------------------------------------

def assess(case_id: int, *, assessment: dict[str, Any]) -> dict[str, Any]:
    """F4.1: the grade, ASA, allergy and planned consumables from the form; anticoagulant status and the eGFR inputs
    from the record (the form's creatinine wins)."""
    grade = assessment.get("procedure_grade")
    if grade not in GRADES:
        return _fail("请选择手术分级（一级至四级）")
    scr = assessment.get("scr_umol_l")
    with unit_of_work() as s:
        c = _row(s, case_id)
        anticoag = clinical.anticoagulation(c.resident_id)
        renal = clinical.renal_inputs(c.resident_id, float(scr) if scr is not None else None)
        if renal["scr_umol_l"] is None:
            return _fail("记录中无血肌酐结果，请填写最近一次血肌酐（造影剂肾损伤风险评估需要）")
        if anticoag["on_anticoagulant"] and not assessment.get("anticoag_plan"):
            return _fail("患者正在使用抗凝药（" + "、".join(d["name"] for d in anticoag["drugs"]) +
                         "），请填写围术期抗凝处理（停药/桥接计划）")
        planned = [p for p in (assessment.get("planned_consumables") or []) if (p.get("name") or "").strip()]
        c.procedure_grade = int(grade)
        c.assessment = {**{k: v for k, v in assessment.items() if k != "planned_consumables"},
                        "planned_consumables": planned, "anticoagulation": anticoag,
                        "scr_umol_l": renal["scr_umol_l"], "assessed_at": clock.now().isoformat()}
        c.self_pay_estimate = round(sum(float(p.get("price") or 0) * int(p.get("quantity") or 1)
                                        for p in planned if p.get("self_pay")), 2)
        drugs = "、".join(d["name"] for d in anticoag["drugs"]) or "无"
        note(c, "assessed", f"术前评估：{GRADES[int(grade)]}，抗凝/抗血小板：{drugs}")
        _touch(c)
        return {"ok": True, "message": "", "grade": int(grade), "sex": renal["sex"], "age": renal["age"],
                "scr_umol_l": renal["scr_umol_l"], "contrast_allergy": bool(assessment.get("contrast_allergy")),
                "on_anticoagulant": anticoag["on_anticoagulant"], "self_pay_estimate": c.self_pay_estimate}


def record_risk(case_id: int, *, egfr_2009: float | None, egfr_2021: float | None, contrast_risk: str,
                advice: str) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, case_id)
        c.assessment = {**c.assessment, "egfr_ckd_epi_2009": egfr_2009, "egfr_ckd_epi_2021": egfr_2021,
                        "contrast_risk": contrast_risk, "contrast_advice": advice}
        note(c, "contrast_risk", f"造影剂肾损伤风险：{CONTRAST_RISK.get(contrast_risk, contrast_risk)}"
                                 f"（eGFR {egfr_2009}）")
        _touch(c, "mdt" if c.procedure_grade == 4 else "consenting")
        return {"contrast_risk": contrast_risk, "contrast_risk_label": CONTRAST_RISK.get(contrast_risk, ""),
                "advice": advice, "egfr": egfr_2021}


def record_mdt(case_id: int, *, mdt: dict[str, Any]) -> dict[str, Any]:
    """四级手术术前多学科讨论: the conclusion; `proceed` false cancels the operation."""
    with unit_of_work() as s:
        c = _row(s, case_id)
        c.mdt = {**mdt, "at": clock.now().isoformat()}
        proceed = bool(mdt.get("proceed"))
        note(c, "mdt", f"术前多学科讨论：{'同意手术' if proceed else '不建议手术'}")
        _touch(c, "consenting" if proceed else None)
        return {"proceed": proceed}


def stop(case_id: int, *, reason: str) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, case_id)
        if c.closed_at is None:
            c.closed_at = clock.now()
            freed = supply.release_for_case(c.case_no)
            note(c, "cancelled", reason + (f"（已释放预留耗材 {freed} 件）" if freed else ""))
            _touch(c, "cancelled")
        return {"status": c.status}


# -- consent and reservation --------------------------------------------------------------------------------------

def record_consent(case_id: int, *, consent: dict[str, Any]) -> dict[str, Any]:
    """知情同意 + 高值耗材告知: the patient (or relative) signs, acknowledging the self-pay consumable estimate."""
    with unit_of_work() as s:
        c = _row(s, case_id)
        if not consent.get("consented"):
            c.consent = {k: v for k, v in consent.items() if k != "signature"}
            _touch(c)
            return {"ok": True, "consented": False, "message": ""}
        if not str(consent.get("signature") or "").startswith(SIGNATURE_PREFIX):
            return {"ok": False, "consented": True, "message": "请患者或家属在签名区手写签名"}
        if (c.self_pay_estimate or 0) > 0 and not consent.get("self_pay_acknowledged"):
            return {"ok": False, "consented": True,
                    "message": f"自费耗材预估 {c.self_pay_estimate:.2f} 元须告知患者并勾选已告知"}
        c.consent = {**consent, "self_pay_estimate": c.self_pay_estimate, "signed_at": clock.now().isoformat()}
        note(c, "consent", f"知情同意已签署（{consent.get('signer_name') or ''}）")
        _touch(c, "reserving")
        return {"ok": True, "consented": True, "message": ""}


def reserve(case_id: int, *, reservation: dict[str, Any]) -> dict[str, Any]:
    """耗材申领/预留: hold the planned units in the centre's store (二级库) per lot, by product (UDI-DI), for this
    case (`app.supply.services.reserve_for_case`: available = on hand − reserved). Nothing is held when any line
    cannot be (unknown product, not enough available, no centre store): the task comes back with the reason.
    Lines without a UDI-DI are recorded on the case only."""
    items = [i for i in (reservation.get("items") or []) if (i.get("name") or "").strip()]
    lines = [{"name": i["name"].strip(), "di": (i.get("di") or "").strip(), "quantity": int(i.get("quantity") or 1),
              "implant": bool(i.get("implant"))} for i in items]
    c = session().get(InterventionCase, int(case_id))
    assert c is not None
    needs = [supply.Need(line["di"], line["quantity"]) for line in lines if line["di"]]
    held: list[dict[str, Any]] = []
    try:
        if needs:
            st = devices.centre_store(c.org_code)
            held = supply.reserve_for_case(st.code, c.case_no, needs, actor=c.doctor_name or "介入医生",
                                           resident_id=c.resident_id)
        else:
            supply.release_for_case(c.case_no)
    except DomainError as exc:
        session().rollback()
        return {"ok": False, "code": exc.code, "message": exc.message, "items": 0}
    by_gtin: dict[str, list[dict[str, Any]]] = {}
    for h in held:
        by_gtin.setdefault(h["gtin"] or "", []).append({"lot_no": h["lot_no"], "quantity": h["quantity"],
                                                        "expiry_on": h["expiry_on"]})
    with unit_of_work() as s:
        c = _row(s, case_id)
        c.reservation = [{**line, "lots": by_gtin.get(line["di"].zfill(14), []) if line["di"] else []}
                         for line in lines]
        units = sum(h["quantity"] for h in held)
        note(c, "reserved", f"已申领/预留耗材 {len(lines)} 种" + (f"，二级库已按批次预留 {units} 件" if units else ""))
        _touch(c, "operating")
        return {"ok": True, "code": "", "message": "", "items": len(lines)}


# -- operation ------------------------------------------------------------------------------------------------------

def devices_of(case_id: int) -> list[CaseDevice]:
    return list(session().scalars(select(CaseDevice).where(CaseDevice.case_id == case_id).order_by(CaseDevice.id)))


def record_operation(case_id: int, *, operation: dict[str, Any]) -> dict[str, Any]:
    """F4.2: times, operators, approach, contrast and fluoroscopy; every implant used must have been scanned
    (an unscanned implant cannot be billed). Answers the complication checkpoints' due times."""
    start, end = _when(operation.get("started_at")), _when(operation.get("ended_at"))
    if start is None or end is None or end <= start:
        return _fail("请填写手术开始与结束时间（结束须晚于开始）")
    if end > clock.now() + timedelta(minutes=5):
        return _fail("手术结束时间不能晚于当前时间")
    with unit_of_work() as s:
        c = _row(s, case_id)
        scanned = s.scalar(select(func.coalesce(func.sum(CaseDevice.quantity), 0)).where(
            CaseDevice.case_id == c.id, CaseDevice.implant.is_(True))) or 0
        used = int(operation.get("implants_used") or 0)
        if used != scanned:
            return _fail(f"术中使用的植入物须逐一扫码：已扫码 {scanned} 件，记录使用 {used} 件")
        c.operation = {**operation, "minutes": round((end - start).total_seconds() / 60)}
        c.operated_at = start
        freed = supply.release_for_case(c.case_no)
        note(c, "operated", f"手术记录：{c.procedure_name}，扫码耗材 {len(devices_of(c.id))} 项"
                            + (f"，未使用的预留 {freed} 件已释放" if freed else ""))
        _touch(c, "inpatient")
        return {"ok": True, "message": "", "checkpoint_48h_at": (start + CHECKPOINTS["48h"]).isoformat(),
                "checkpoint_31d_at": (start + CHECKPOINTS["31d"]).isoformat()}


def complication_of(case_id: int, item: dict[str, Any], *, stage: str, user_id: int | None,
                    during_stay: bool) -> Complication | str:
    kind, grade = item.get("kind"), item.get("grade")
    if kind not in COMPLICATIONS:
        return "请选择并发症类型"
    if grade not in ("I", "II", "IIIa", "IIIb", "IVa", "IVb", "V"):
        return "请选择并发症分级（Clavien-Dindo）"
    at = _when(item.get("occurred_at")) or clock.now()
    return Complication(case_id=case_id, kind=kind, grade=grade, severe=grade in SEVERE_GRADES, occurred_at=at,
                        during_stay=during_stay, treatment=(item.get("treatment") or "").strip() or None,
                        note=(item.get("note") or "").strip() or None, checkpoint=stage, registered_by=user_id,
                        registered_at=clock.now())


def checkpoint(case_id: int, *, stage: str, answer: dict[str, Any], user_id: int | None = None) -> dict[str, Any]:
    """The 48-hour / 31-day checkpoint: confirm "no complication", or register the complications (F4.3) and an
    unplanned return to theatre (F4.4; unplanned only when the physician marks it)."""
    items = answer.get("complications") or []
    if answer.get("has_complication") and not items:
        return {"ok": False, "message": "已选择“有并发症”，请登记并发症", "unplanned": False}
    if not answer.get("has_complication") and items:
        return {"ok": False, "message": "已选择“无并发症”，请删除登记的并发症或改为“有并发症”", "unplanned": False}
    reop = answer.get("reoperation") or {}
    unplanned = bool(answer.get("returned_to_theatre")) and bool(reop.get("unplanned"))
    with unit_of_work() as s:
        c = _row(s, case_id)
        during_stay = c.discharged_on is None
        rows = []
        for item in items:
            row = complication_of(c.id, item, stage=stage, user_id=user_id, during_stay=during_stay)
            if isinstance(row, str):
                return {"ok": False, "message": row, "unplanned": False}
            rows.append(row)
        reop_row = None
        if answer.get("returned_to_theatre"):
            at = _when(reop.get("reoperated_at"))
            if at is None or c.operated_at is None or at <= c.operated_at:
                return {"ok": False, "message": "请填写再次手术时间（须晚于首次手术）", "unplanned": False}
            if reop.get("reason") not in REOPERATION_REASONS:
                return {"ok": False, "message": "请选择再次手术原因", "unplanned": False}
            reop_row = Reoperation(case_id=c.id, unplanned=unplanned, reoperated_at=at,
                                   interval_hours=round((at - c.operated_at).total_seconds() / 3600, 1),
                                   reason=reop["reason"], description=(reop.get("description") or "").strip() or None,
                                   rca={}, registered_at=clock.now())
        s.add_all(rows)
        if reop_row is not None:
            s.add(reop_row)
        s.flush()
        c.checkpoints = {**(c.checkpoints or {}), stage: {"at": clock.now().isoformat(),
                                                          "complications": len(rows),
                                                          "returned_to_theatre": reop_row is not None}}
        label = "48小时" if stage == "48h" else "31天"
        text = f"{label}检查点：" + (f"登记并发症 {len(rows)} 项" if rows else "确认无并发症")
        if reop_row is not None:
            text += f"；{'非计划' if unplanned else '计划内'}再次手术（间隔 {reop_row.interval_hours} 小时）"
        note(c, f"checkpoint_{stage}", text)
        _touch(c)
        return {"ok": True, "message": "", "unplanned": unplanned,
                "reoperation_id": reop_row.id if reop_row is not None else None, "rca_due": RCA_DUE,
                "reason_label": REOPERATION_REASONS.get(reop.get("reason") or "", "")}


def record_rca(case_id: int, *, reoperation_id: int, rca: dict[str, Any]) -> dict[str, Any]:
    """原因分析 (RCA) of an unplanned return to theatre, by the quality office."""
    with unit_of_work() as s:
        c = _row(s, case_id)
        r = s.scalars(select(Reoperation).where(Reoperation.id == int(reoperation_id),
                                                Reoperation.case_id == c.id)).one()
        r.rca = {**rca, "at": clock.now().isoformat()}
        r.rca_done_at = clock.now()
        note(c, "rca", f"非计划再次手术原因分析已完成：{(rca.get('root_cause') or '')[:60]}")
        _touch(c)
        return {"done": True}


# -- discharge, DRG, follow-up ------------------------------------------------------------------------------------

def record_discharge(case_id: int, *, discharge: dict[str, Any]) -> dict[str, Any]:
    try:
        day = date.fromisoformat(str(discharge.get("discharged_on") or ""))
    except ValueError:
        return _fail("请填写出院日期")
    with unit_of_work() as s:
        c = _row(s, case_id)
        if day < c.admitted_on or day > clock.today():
            return _fail("出院日期须在入院日期之后且不晚于今天")
        died = discharge.get("destination") == "death"
        c.discharge = {**discharge, "at": clock.now().isoformat()}
        c.discharged_on, c.los_days, c.died = day, (day - c.admitted_on).days, died
        note(c, "discharged", f"出院（住院 {c.los_days} 天），等待医保结算清单 DRG 分组结果")
        _touch(c, "discharged")
        follow_at = datetime.combine(day + FOLLOW_UP_AFTER, datetime.min.time(), clock.local_tz())
        return {"ok": True, "message": "", "died": died, "follow_up_at": follow_at.isoformat()}


def record_drg(case_id: int, *, drg: dict[str, Any]) -> dict[str, Any]:
    """The grouper's output as imported (the platform never groups), then the case cost, the DRG payment under the
    region's configured method and the margin."""
    with unit_of_work() as s:
        c = _row(s, case_id)
        c.drg = {k: v for k, v in drg.items() if k not in ("case_no",)}
        c.drg_code, c.drg_weight = drg["drg_code"], float(drg["weight"])
        c.total_charge = float(drg["total_charge"])
        result = costing.evaluate(c, devices_of(c.id))
        c.cost, c.case_cost, c.margin = result, result["case_cost"], result["margin"]
        note(c, "drg", f"DRG 分组结果：{c.drg_code} {drg.get('drg_name') or ''}（权重 {c.drg_weight}），"
                       f"病例成本 {result['case_cost']:.2f} 元，结余 {result['margin']:.2f} 元")
        _touch(c, "grouped")
        return {"drg_code": c.drg_code, "margin": result["margin"]}


def record_follow_up(case_id: int, *, follow_up: dict[str, Any]) -> dict[str, Any]:
    """30-day follow-up (F4.5 satisfaction, readmission within 30 days)."""
    with unit_of_work() as s:
        c = _row(s, case_id)
        c.follow_up = {**follow_up, "at": clock.now().isoformat()}
        overall = follow_up.get("overall")
        c.satisfaction = int(overall) if overall else None
        c.readmitted_30d = bool(follow_up.get("readmitted"))
        note(c, "follow_up", "术后30天随访：" + ("未联系上" if not follow_up.get("reached") else
                                                f"满意度 {overall} 分" + ("，30天内再入院" if c.readmitted_30d else "")))
        _touch(c)
        return {"done": True}


def close(case_id: int) -> dict[str, Any]:
    """Both post-operative branches end here: the case closes once the 31-day checkpoint and the 30-day follow-up
    (or an in-hospital death) are both recorded, whichever comes last."""
    with unit_of_work() as s:
        c = _row(s, case_id)
        done = "31d" in (c.checkpoints or {}) and (bool(c.follow_up) or c.died) and c.drg_code is not None
        if c.closed_at is None and done:
            c.closed_at = clock.now()
            note(c, "closed", "介入病例已完成")
            _touch(c, "closed")
        return {"status": c.status}


def anticoag_label(drug: str) -> str:
    return ANTICOAG_DRUGS.get(drug, drug)

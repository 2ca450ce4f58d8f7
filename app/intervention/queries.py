"""Read side of the interventional centre: cases in the caller's scope (list with filters = the specialty database's
search), one case with devices, complications, re-operations, DRG result and cost, and the de-identified rows of
the specialty database export."""
from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from app.auth.principal import Principal
from app.core.db import session
from app.core.errors import NotFound
from app.org.queries import find_org
from app.org.scope import org_scope_filter
from app.residents.models import Resident

from .labels import (
    APPROACHES,
    CLAVIEN_DINDO,
    COMPLICATIONS,
    CONTRAST_RISK,
    DISCHARGE_TO,
    GRADES,
    OUTCOMES,
    REOPERATION_REASONS,
    SERVICE_LINES,
    STATUSES,
)
from .models import CaseDevice, Complication, InterventionCase, Reoperation

C = InterventionCase


def in_scope(p: Principal) -> ColumnElement[bool]:
    return or_(org_scope_filter(C.org_path, p), C.doctor_user_id == p.user_id)


def get(p: Principal, case_id: int) -> InterventionCase:
    row = session().scalars(select(C).where(C.id == case_id, in_scope(p))).first()
    if row is None:
        raise NotFound("介入病例不存在 (case not found)", code="case_not_found", case_id=case_id)
    return row


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _org_name(code: str) -> str:
    org = find_org(code)
    return org.name if org else ""


def item(c: InterventionCase) -> dict[str, Any]:
    return {"id": c.id, "case_no": c.case_no, "status": c.status, "status_label": STATUSES.get(c.status, ""),
            "resident_id": c.resident_id, "resident_name": c.resident_name, "org_code": c.org_code,
            "org_name": _org_name(c.org_code), "doctor_name": c.doctor_name, "service_line": c.service_line,
            "service_line_label": SERVICE_LINES.get(c.service_line, ""), "diagnosis": c.diagnosis,
            "procedure_code": c.procedure_code, "procedure_name": c.procedure_name,
            "procedure_grade": c.procedure_grade, "grade_label": GRADES.get(c.procedure_grade or 0, ""),
            "admitted_on": _iso(c.admitted_on), "operated_at": _iso(c.operated_at),
            "discharged_on": _iso(c.discharged_on), "los_days": c.los_days, "drg_code": c.drg_code,
            "drg_weight": c.drg_weight, "total_charge": c.total_charge, "case_cost": c.case_cost,
            "margin": c.margin, "satisfaction": c.satisfaction, "readmitted_30d": c.readmitted_30d, "died": c.died,
            "created_at": _iso(c.created_at), "closed_at": _iso(c.closed_at)}


def devices(case_id: int) -> list[dict[str, Any]]:
    rows = session().scalars(select(CaseDevice).where(CaseDevice.case_id == case_id).order_by(CaseDevice.id))
    return [{"id": d.id, "udi": d.udi, "gtin": d.gtin, "lot": d.lot, "serial": d.serial, "expiry": _iso(d.expiry),
             "name": d.name, "quantity": d.quantity, "unit_price": d.unit_price, "insurance_code": d.insurance_code,
             "high_value": d.high_value, "implant": d.implant, "self_pay": d.self_pay,
             "scanned_at": _iso(d.scanned_at)} for d in rows]


def complications(case_id: int) -> list[dict[str, Any]]:
    rows = session().scalars(select(Complication).where(Complication.case_id == case_id).order_by(Complication.id))
    return [{"id": x.id, "kind": x.kind, "kind_label": COMPLICATIONS.get(x.kind, ""), "grade": x.grade,
             "grade_label": CLAVIEN_DINDO.get(x.grade, ""), "severe": x.severe, "occurred_at": _iso(x.occurred_at),
             "during_stay": x.during_stay, "treatment": x.treatment, "checkpoint": x.checkpoint,
             "checkpoint_label": "术后48小时" if x.checkpoint == "48h" else "术后31天"} for x in rows]


def reoperations(case_id: int) -> list[dict[str, Any]]:
    rows = session().scalars(select(Reoperation).where(Reoperation.case_id == case_id).order_by(Reoperation.id))
    return [{"id": r.id, "unplanned": r.unplanned, "reoperated_at": _iso(r.reoperated_at),
             "interval_hours": r.interval_hours, "reason": r.reason,
             "reason_label": REOPERATION_REASONS.get(r.reason, ""), "description": r.description,
             "rca": r.rca or {}, "rca_done_at": _iso(r.rca_done_at)} for r in rows]


def detail(c: InterventionCase) -> dict[str, Any]:
    a = dict(c.assessment or {})
    op = dict(c.operation or {})
    consent = {k: v for k, v in (c.consent or {}).items() if k != "signature"}
    consent["has_signature"] = bool((c.consent or {}).get("signature"))
    return {**item(c), "assessment": a, "contrast_risk_label": CONTRAST_RISK.get(a.get("contrast_risk") or "", ""),
            "mdt": c.mdt or {}, "consent": consent, "self_pay_estimate": c.self_pay_estimate,
            "reservation": c.reservation or [], "operation": op,
            "approach_label": APPROACHES.get(op.get("approach") or "", ""),
            "outcome_label": OUTCOMES.get(op.get("outcome") or "", ""), "checkpoints": c.checkpoints or {},
            "discharge": c.discharge or {},
            "destination_label": DISCHARGE_TO.get((c.discharge or {}).get("destination") or "", ""),
            "drg": c.drg or {}, "cost": c.cost or {}, "follow_up": c.follow_up or {},
            "devices": devices(c.id), "complications": complications(c.id), "reoperations": reoperations(c.id),
            "timeline": [{"at": e.get("at"), "event": e.get("event"), "text": e.get("text")} for e in c.log or []]}


def _filters(p: Principal, args: dict[str, Any]) -> list[Any]:
    conds: list[Any] = [in_scope(p)]
    if args.get("status"):
        conds.append(C.status == args["status"])
    if args.get("service_line"):
        conds.append(C.service_line == args["service_line"])
    if args.get("procedure"):
        like = f"%{args['procedure']}%"
        conds.append(or_(C.procedure_name.like(like), C.procedure_code.like(like)))
    if args.get("diagnosis"):
        conds.append(C.diagnosis.like(f"%{args['diagnosis']}%"))
    if args.get("discharged_from"):
        conds.append(C.discharged_on >= args["discharged_from"])
    if args.get("discharged_to"):
        conds.append(C.discharged_on <= args["discharged_to"])
    if args.get("drg_code"):
        conds.append(C.drg_code == args["drg_code"])
    if args.get("with_complication"):
        conds.append(C.id.in_(select(Complication.case_id)))
    if args.get("with_unplanned_return"):
        conds.append(C.id.in_(select(Reoperation.case_id).where(Reoperation.unplanned.is_(True))))
    if args.get("device"):
        like = f"%{args['device']}%"
        conds.append(C.id.in_(select(CaseDevice.case_id).where(or_(CaseDevice.name.like(like),
                                                                      CaseDevice.gtin.like(like)))))
    if args.get("ids") is not None:
        conds.append(C.id.in_(args["ids"] or [0]))
    return conds


def list_cases(p: Principal, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    conds = _filters(p, args)
    size = args.get("per_page", 50)
    skip = (args.get("page", 1) - 1) * size
    total = session().scalar(select(func.count()).select_from(C).where(*conds)) or 0
    rows = session().scalars(select(C).where(*conds).order_by(C.created_at.desc(), C.id.desc())
                             .limit(size).offset(skip))
    return [item(r) for r in rows], int(total)


def for_resident(resident_id: int) -> list[dict[str, Any]]:
    rows = session().scalars(select(C).where(C.resident_id == resident_id).order_by(C.created_at.desc()))
    return [item(r) for r in rows]


def _age_band(born: date | None, on: date | None) -> str:
    if born is None or on is None:
        return ""
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def pseudonym(resident_id: int, salt: str) -> str:
    """A stable study id per patient (same patient, same id within one export salt); not reversible without it."""
    return hashlib.sha256(f"{salt}:{resident_id}".encode()).hexdigest()[:12]


def deidentified(p: Principal, args: dict[str, Any], *, salt: str, limit: int = 5000) -> list[dict[str, Any]]:
    """The specialty database rows for a department's own study: no name, id number, phone, address or exact
    dates of birth; age in 10-year bands, the patient as a pseudonym, dates kept to the month."""
    conds = _filters(p, args)
    rows = list(session().scalars(select(C).where(*conds).order_by(C.id).limit(limit)))
    people = session().execute(select(Resident.id, Resident.birth_date, Resident.sex)
                               .where(Resident.id.in_([r.resident_id for r in rows] or [0]))).all()
    born: dict[int, date] = {rid: b for rid, b, _ in people}
    sexes: dict[int, str] = {rid: sx for rid, _, sx in people}
    out = []
    for r in rows:
        comps = complications(r.id)
        reops = reoperations(r.id)
        devs = devices(r.id)
        out.append({
            "study_id": pseudonym(r.resident_id, salt), "sex": "男" if sexes.get(r.resident_id) == "M" else "女",
            "age_band": _age_band(born.get(r.resident_id), r.admitted_on),
            "month": r.admitted_on.strftime("%Y-%m"), "service_line": SERVICE_LINES.get(r.service_line, ""),
            "diagnosis": r.diagnosis, "procedure_code": r.procedure_code, "procedure_name": r.procedure_name,
            "grade": GRADES.get(r.procedure_grade or 0, ""), "asa": (r.assessment or {}).get("asa"),
            "egfr": (r.assessment or {}).get("egfr_ckd_epi_2009"),
            "contrast_risk": CONTRAST_RISK.get((r.assessment or {}).get("contrast_risk") or "", ""),
            "anticoagulated": bool(((r.assessment or {}).get("anticoagulation") or {}).get("on_anticoagulant")),
            "devices": "；".join(f"{d['name']}×{d['quantity']}" for d in devs),
            "implants": sum(d["quantity"] for d in devs if d["implant"]),
            "complications": "；".join(f"{c['kind_label']}（{c['grade_label']}）" for c in comps),
            "severe_complication": any(c["severe"] for c in comps),
            "unplanned_return": any(x["unplanned"] for x in reops), "los_days": r.los_days,
            "outcome": OUTCOMES.get((r.operation or {}).get("outcome") or "", ""), "died": r.died,
            "readmitted_30d": r.readmitted_30d, "satisfaction": r.satisfaction, "drg_code": r.drg_code,
            "drg_weight": r.drg_weight})
    return out


def case_rows(prefix: str, start: date, end: date) -> list[dict[str, Any]]:
    """Cases discharged in [start, end] of centres under an organisation path, as plain rows for the quality
    breakdowns (cost, centre use, complications): one query for the cases, one for each of their flags."""
    cases = list(session().scalars(select(C).where(C.org_path.startswith(prefix, autoescape=True),
                                                   C.discharged_on >= start, C.discharged_on <= end)
                                   .order_by(C.discharged_on, C.id)))
    ids = [c.id for c in cases] or [0]
    complicated = set(session().scalars(select(Complication.case_id).where(Complication.case_id.in_(ids))))
    returned = set(session().scalars(select(Reoperation.case_id).where(Reoperation.case_id.in_(ids),
                                                                       Reoperation.unplanned.is_(True))))
    return [{"key": f"c{c.id}", "case_id": c.id, "case_no": c.case_no, "resident_id": c.resident_id,
             "resident_name": c.resident_name, "org_code": c.org_code, "org_path": c.org_path,
             "doctor_id": c.doctor_user_id, "service_line": c.service_line,
             "service_line_label": SERVICE_LINES.get(c.service_line, c.service_line), "drg_code": c.drg_code,
             "total_charge": c.total_charge, "case_cost": c.case_cost, "margin": c.margin, "los_days": c.los_days,
             "discharged_on": c.discharged_on, "complication": c.id in complicated,
             "unplanned_return": c.id in returned, "readmitted_30d": bool(c.readmitted_30d), "died": c.died}
            for c in cases]

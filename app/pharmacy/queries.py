"""Read side of pharmacy: one prescription in the caller's scope with its states, findings and HIS results."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.org.queries import find_org
from app.org.scope import org_scope_filter

from . import checks
from .models import Prescription, PrescriptionResult, PrescriptionState
from .services import STATE_LABELS

GRADE_LABELS = {"block": "禁止", "warn": "警示", "info": "提示", "none": "无"}
STATUS_LABELS = {"reviewing": "审核中", "intervened": "干预中", "insisted": "待双签", "passed": "通过",
                 "refused": "拒绝", "withdrawn": "撤销"}


def in_scope(p: Principal) -> ColumnElement[bool]:
    """Prescriptions of the caller's subtree (county-wide roles such as pharmacist: all; a patient: their own)."""
    conds = [org_scope_filter(Prescription.org_path, p)]
    if p.resident_id is not None and p.has_role("patient"):
        conds.append(Prescription.resident_id == p.resident_id)
    return or_(*conds)


def get(p: Principal, prescription_id: int) -> Prescription:
    row = session().scalars(select(Prescription).where(Prescription.id == prescription_id, in_scope(p))).first()
    if row is None:
        raise NotFound("处方不存在 (prescription not found)", code="prescription_not_found",
                       prescription_id=prescription_id)
    return row


def _org_name(code: str | None) -> str:
    org = find_org(code)
    return org.name if org else ""


def detail(row: Prescription) -> dict[str, Any]:
    states = session().scalars(select(PrescriptionState).where(PrescriptionState.prescription_id == row.id)
                               .order_by(PrescriptionState.id))
    results = session().scalars(select(PrescriptionResult).where(PrescriptionResult.prescription_id == row.id)
                                .order_by(PrescriptionResult.id))
    return {
        "id": row.id, "rx_id": row.rx_id, "resident_id": row.resident_id, "org_code": row.org_code,
        "org_name": _org_name(row.org_code), "review_org_code": row.review_org_code,
        "review_org_name": _org_name(row.review_org_code), "prescriber": row.prescriber, "setting": row.setting,
        "indication": row.indication, "diagnosis": row.diagnosis, "version": row.version,
        "items": [{**line, "name": checks.drug_name(line["drug"])} for line in row.items],
        "clinical": row.clinical, "grade": row.grade, "grade_label": GRADE_LABELS.get(row.grade, row.grade),
        "status": row.status, "status_label": STATUS_LABELS.get(row.status, row.status),
        "findings": [{**f, "grade_label": GRADE_LABELS.get(f["grade"], f["grade"])} for f in row.findings],
        "instance_id": row.instance_id, "received_at": row.received_at,
        "states": [{"state": s.state, "label": STATE_LABELS.get(s.state, s.state), "version": s.version,
                    "version_hash": s.version_hash, "actor": s.actor, "org_code": s.org_code, "note": s.note,
                    "detail": s.detail, "at": s.at} for s in states],
        "results": [{"version": r.version, "outcome": r.outcome, "status": r.status, "payload": r.payload,
                     "created_at": r.created_at, "sent_at": r.sent_at} for r in results],
    }


SLA_MINUTES = {"outpatient": 5, "emergency": 5, "inpatient": 15}
DECISIONS = ("passed", "refused", "intervened")


def indicator_rows(start: date, end: date, org_prefix: str) -> list[dict[str, Any]]:
    """One row per supervised prescription received in [start, end] under `org_prefix` (quality source
    `rx_prescriptions`): reviewed before billing, automatic or by a pharmacist, on time, intervened, accepted."""
    lo, hi = clock.start_of_day(start), clock.start_of_day(end + timedelta(days=1))
    rows = list(session().scalars(select(Prescription).where(
        Prescription.org_path.startswith(org_prefix, autoescape=True), Prescription.received_at >= lo,
        Prescription.received_at < hi)))
    states: dict[int, list[PrescriptionState]] = {}
    if rows:
        for st in session().scalars(select(PrescriptionState).where(
                PrescriptionState.prescription_id.in_([r.id for r in rows])).order_by(PrescriptionState.id)):
            states.setdefault(st.prescription_id, []).append(st)
    out = []
    for r in rows:
        trace = states.get(r.id, [])
        decided = [s for s in trace if s.state in ("passed", "refused", "withdrawn")]
        charged = [s for s in trace if s.state == "charged"]
        first_decision = next((s for s in trace if s.state in DECISIONS), None)
        manual = any(s.state in DECISIONS and s.actor != "system" for s in trace)
        before_billing = bool(decided) and (not charged or all(not (s.detail or {}).get("before_review")
                                                                for s in charged))
        intervened = any(s.state == "intervened" for s in trace)
        accepted = intervened and any(s.state in ("modified", "withdrawn") for s in trace)
        on_time = None
        if manual and first_decision is not None:
            minutes = (first_decision.at - r.received_at).total_seconds() / 60
            on_time = minutes <= SLA_MINUTES.get(r.setting, 5)
        out.append({"key": f"rx{r.id}", "resident_id": r.resident_id, "org_path": r.org_path,
                    "org_code": r.org_code, "doctor_id": None, "disease": None, "risk_level": None,
                    "status": r.status, "reviewed_before_billing": before_billing, "manual_review": manual,
                    "auto_passed": bool(decided) and not manual and r.status == "passed",
                    "intervened": intervened, "intervention_accepted": accepted,
                    "reviewed_on_time": bool(on_time), "billed": bool(charged),
                    "settled": bool(decided) or bool(charged)})
    return out

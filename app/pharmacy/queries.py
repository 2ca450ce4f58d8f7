"""Read side of pharmacy: one prescription in the caller's scope with its states, findings and HIS results."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, distinct, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.auth.queries import display_names
from app.core import clock
from app.core.db import session
from app.core.errors import Invalid, NotFound
from app.core.paging import offset
from app.org.queries import find_org
from app.org.scope import org_scope_filter
from app.residents.models import Resident

from . import checks
from .models import (
    MedicationErrorReport,
    Prescription,
    PrescriptionResult,
    PrescriptionState,
    PrescriptionVersion,
)
from .services import ERROR_CATEGORY_LABELS, STATE_LABELS

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
    states = list(session().scalars(select(PrescriptionState).where(PrescriptionState.prescription_id == row.id)
                                    .order_by(PrescriptionState.id)))
    names = display_names({s.actor for s in states})
    versions = list(session().scalars(select(PrescriptionVersion).where(PrescriptionVersion.prescription_id == row.id)
                                      .order_by(PrescriptionVersion.version)))
    names |= display_names({v.author for v in versions} - set(names))
    results = session().scalars(select(PrescriptionResult).where(PrescriptionResult.prescription_id == row.id)
                                .order_by(PrescriptionResult.id))
    reports = list(session().scalars(select(MedicationErrorReport).where(
        MedicationErrorReport.prescription_id == row.id).order_by(MedicationErrorReport.id)))
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
                    "version_hash": s.version_hash, "actor": s.actor,
                    "actor_name": names.get(s.actor) or s.actor,
                    "org_code": s.org_code, "org_name": _org_name(s.org_code), "note": s.note,
                    "detail": s.detail, "at": s.at} for s in states],
        "versions": _versions(versions, names),
        "results": [{"version": r.version, "outcome": r.outcome, "status": r.status, "payload": r.payload,
                     "created_at": r.created_at, "sent_at": r.sent_at} for r in results],
        "error_reports": error_report_rows(reports),
    }


# the review form's 问题类型 (forms/rx_prereview/pharmacist_review.json) in words
PROBLEM_LABELS = {"indication": "适应证不适宜", "selection": "遴选药品不适宜", "route": "剂型/给药途径不适宜",
                  "dose": "用法用量不适宜", "interaction": "联合用药不适宜/相互作用", "duplicate": "重复给药",
                  "incompatibility": "配伍禁忌", "special_population": "特殊人群禁忌", "off_label": "超说明书",
                  "irregular": "处方不规范", "other": "其他"}


def error_report_rows(reports: list[MedicationErrorReport]) -> list[dict[str, Any]]:
    """用药差错报告 rows in words: names of the pharmacists, the prescribing organisation, the category label."""
    names = display_names({r.pharmacist for r in reports} | {r.first_pharmacist for r in reports if r.first_pharmacist})
    residents = {r.id: r.name for r in session().scalars(select(Resident).where(
        Resident.id.in_({r.resident_id for r in reports})))} if reports else {}
    return [{"id": r.id, "prescription_id": r.prescription_id, "rx_id": r.rx_id, "version": r.version,
             "version_hash": r.version_hash, "resident_id": r.resident_id,
             "resident_name": residents.get(r.resident_id), "org_code": r.org_code, "org_name": _org_name(r.org_code),
             "review_org_code": r.review_org_code, "prescriber": r.prescriber,
             "pharmacist_name": names.get(r.pharmacist) or r.pharmacist,
             "first_pharmacist_name": (names.get(r.first_pharmacist) or r.first_pharmacist)
             if r.first_pharmacist else None,
             "double_signed": r.double_signed, "problems": list(r.problems),
             "problem_labels": [PROBLEM_LABELS.get(c, c) for c in r.problems], "opinion": r.opinion,
             "findings": list(r.findings), "category": r.category,
             "category_label": ERROR_CATEGORY_LABELS.get(r.category, r.category),
             "created_at": r.created_at} for r in reports]


def error_reports(p: Principal, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Medication-error reports of refused prescriptions in the caller's scope (prescribing organisation's subtree),
    newest first."""
    query = select(MedicationErrorReport).where(org_scope_filter(MedicationErrorReport.org_path, p))
    total = session().scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session().scalars(query.order_by(MedicationErrorReport.id.desc())
                                  .offset(offset(args)).limit(args["per_page"])))
    return error_report_rows(rows), total


def changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """What a modified version changed, line by line by drug, in words: 新增 / 停用 / 华法林 3 mg 每日1次 → 2 mg 每日1次."""
    old, new = {line["drug"]: line for line in before}, {line["drug"]: line for line in after}
    out = []
    for drug, line in new.items():
        if drug not in old:
            out.append(f"新增 {checks.line_text(line)}")
        elif checks.line_text(old[drug]) != checks.line_text(line) or old[drug].get("days") != line.get("days"):
            was, now = old[drug], line
            text = f"{checks.line_text(was)} → {checks.line_text(now).removeprefix(checks.drug_name(drug) + ' ')}"
            if was.get("days") != now.get("days"):
                text += f"（{was.get('days') or '—'}天 → {now.get('days') or '—'}天）"
            out.append(text)
    out += [f"停用 {checks.line_text(line)}" for drug, line in old.items() if drug not in new]
    return out


def _versions(versions: list[PrescriptionVersion], names: dict[str, str]) -> list[dict[str, Any]]:
    out, before = [], None
    for v in versions:
        out.append({"version": v.version, "version_hash": v.version_hash, "grade": v.grade,
                    "grade_label": GRADE_LABELS.get(v.grade, v.grade), "findings": len(v.findings),
                    "author_name": names.get(v.author) or v.author, "created_at": v.created_at,
                    "items": [{**line, "name": checks.drug_name(line["drug"]), "text": checks.line_text(line)}
                              for line in v.items],
                    "changes": changes(before.items, v.items) if before is not None and before.version == v.version - 1
                    else []})
        before = v
    return out


SLA_MINUTES = {"outpatient": 5, "emergency": 5, "inpatient": 15}
SIDE_STATES = ("escalated",)        # recorded on the trace without changing where the prescription stands


def current_state():
    """The state a prescription stands in: its latest trace row (an escalation note aside)."""
    return (select(PrescriptionState.state).where(PrescriptionState.prescription_id == Prescription.id,
                                                   PrescriptionState.state.not_in(SIDE_STATES))
            .order_by(PrescriptionState.id.desc()).limit(1).correlate(Prescription).scalar_subquery())


def _last_review_start(ids: list[int]) -> dict[int, datetime]:
    """When each prescription (its current version) last entered review: the SLA runs from there."""
    if not ids:
        return {}
    rows = session().execute(select(PrescriptionState.prescription_id, func.max(PrescriptionState.at)).where(
        PrescriptionState.prescription_id.in_(ids), PrescriptionState.state == "reviewing")
        .group_by(PrescriptionState.prescription_id))
    return {pid: at for pid, at in rows}


def _escalated(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(session().scalars(select(distinct(PrescriptionState.prescription_id)).where(
        PrescriptionState.prescription_id.in_(ids), PrescriptionState.state == "escalated")))


def search(p: Principal, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Prescriptions in the caller's scope by drug, prescriber, organisation (its subtree), current trace state,
    resident and date received; newest first, paged. Each row carries what the review queue shows: the findings,
    the current state and, while under review, when the review SLA ends."""
    state = current_state()
    query = (select(Prescription, state.label("state"), Resident.name)
             .join(Resident, Resident.id == Prescription.resident_id, isouter=True).where(in_scope(p)))
    if args.get("org_code"):
        org = find_org(args["org_code"])
        if org is None:
            raise Invalid("机构不存在 (unknown organisation)", code="unknown_org_code", org_code=args["org_code"])
        query = query.where(Prescription.org_path.startswith(org.path, autoescape=True))
    if args.get("prescriber"):
        query = query.where(Prescription.prescriber == args["prescriber"].strip())
    if args.get("resident_id") is not None:
        query = query.where(Prescription.resident_id == args["resident_id"])
    if args.get("state"):
        query = query.where(state == args["state"])
    start, end = args.get("date_from"), args.get("date_to")
    if start and end and start > end:
        raise Invalid("开始日期晚于结束日期 (from is after to)", code="invalid_date_range",
                      date_from=start.isoformat(), date_to=end.isoformat())
    if start:
        query = query.where(Prescription.received_at >= clock.start_of_day(start))
    if end:
        query = query.where(Prescription.received_at < clock.start_of_day(end + timedelta(days=1)))
    query = query.order_by(Prescription.received_at.desc(), Prescription.id.desc())
    size = args.get("per_page", 25)
    if args.get("drug") and session().get_bind().dialect.name == "postgresql":
        # JSONB containment, served by the GIN index ix_prescriptions_items
        query = query.where(Prescription.items.op("@>")(cast([{"drug": args["drug"]}], JSONB)))
    if args.get("drug") and session().get_bind().dialect.name != "postgresql":
        # SQLite: a text match narrows in SQL, the exact drug code is checked here
        rows = [r for r in session().execute(query.where(
                    cast(Prescription.items, String).contains(args["drug"], autoescape=True)))
                if any(line.get("drug") == args["drug"] for line in r[0].items)]
        total, page = len(rows), rows[offset(args):offset(args) + size]
    else:
        total = session().scalar(select(func.count()).select_from(query.subquery())) or 0
        page = list(session().execute(query.offset(offset(args)).limit(size)))
    ids = [r[0].id for r in page]
    started, escalated = _last_review_start(ids), _escalated(ids)
    return [_row(rx, st, name, started.get(rx.id), rx.id in escalated) for rx, st, name in page], total


def _row(rx: Prescription, state: str | None, name: str | None, review_start: datetime | None,
         escalated: bool) -> dict[str, Any]:
    due = left = None
    if rx.status == "reviewing" and review_start is not None:
        due = review_start + timedelta(minutes=SLA_MINUTES.get(rx.setting, 5))
        left = round((due - clock.now()).total_seconds())
    return {"id": rx.id, "rx_id": rx.rx_id, "resident_id": rx.resident_id, "resident_name": name,
            "org_code": rx.org_code, "org_name": _org_name(rx.org_code), "prescriber": rx.prescriber,
            "setting": rx.setting, "diagnosis": rx.diagnosis, "version": rx.version,
            "drugs": [line["drug"] for line in rx.items],
            "summary": "；".join(checks.line_text(line) for line in rx.items),
            "grade": rx.grade, "grade_label": GRADE_LABELS.get(rx.grade, rx.grade),
            "status": rx.status, "status_label": STATUS_LABELS.get(rx.status, rx.status),
            "state": state or "issued", "state_label": STATE_LABELS.get(state or "issued", state or ""),
            "findings": [{**f, "grade_label": GRADE_LABELS.get(f["grade"], f["grade"])} for f in rx.findings],
            "instance_id": rx.instance_id, "received_at": rx.received_at, "review_due_at": due,
            "review_seconds_left": left, "escalated": escalated}


def options(p: Principal) -> dict[str, Any]:
    """What the search form offers: the supervised drugs, the trace states and the prescribers seen in scope."""
    names = session().scalars(select(distinct(Prescription.prescriber)).where(in_scope(p))
                              .order_by(Prescription.prescriber))
    return {"drugs": [{"code": d, "label": checks.drug_name(d)} for d in checks.SUPERVISED],
            "states": [{"code": k, "label": v} for k, v in STATE_LABELS.items() if k not in SIDE_STATES],
            "prescribers": list(names)}
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

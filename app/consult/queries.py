"""Read side of remote consultation: lists in the caller's scope (consults sent from or to their organisations),
one consult with its opinions, timeline and open steps, a resident's consults (the record's timeline), and the
catalogues a request form needs (organisations under agreement, specialties, titles)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.org.queries import ancestors, children, find_org
from app.org.scope import org_scope_filter
from app.residents.models import Resident

from .labels import ADOPTION, MODES, OPEN, SPECIALTIES, STATUSES, TITLES, TYPES, URGENCIES
from .models import Consult, ConsultAgreement, ConsultDocument, ConsultOpinion

C = Consult


def in_scope(p: Principal) -> ColumnElement[bool]:
    """Consults sent from or to the caller's subtree (county-wide roles: all), and those the caller is an expert of."""
    return or_(org_scope_filter(C.requester_org_path, p), org_scope_filter(C.invited_org_path, p),
               C.requester_user_id == p.user_id)


def get(p: Principal, consult_id: int) -> Consult:
    row = session().scalars(select(C).where(C.id == consult_id, in_scope(p))).first()
    if row is None:
        raise NotFound("会诊记录不存在 (consult not found)", code="consult_not_found", consult_id=consult_id)
    return row


def is_open_participant(c: Consult, p: Principal) -> bool:
    """The caller is an assigned expert (lead or member) of this consult and it is still open (before the report)."""
    return c.status in OPEN and p.user_id in {int(u) for u in c.expert_ids or []} | {c.lead_expert_id}


def open_consult_of(p: Principal, resident_id: int) -> dict[str, Any] | None:
    """The caller's open consult of this resident as an assigned expert, or None: while it is open the invited
    experts may read the resident's network record (app.recognition, plugged in by app.wiring) even when the
    resident is outside their data scope. Ends when the report is signed (or the consult ends otherwise)."""
    rows = session().scalars(select(C).where(C.resident_id == resident_id, C.status.in_(OPEN))
                             .order_by(C.requested_at.desc(), C.id.desc()))
    for row in rows:
        if is_open_participant(row, p):
            return {"ref": row.id, "label": f"远程会诊 {row.consult_no}"}
    return None


def _org_names(codes) -> dict[str, str]:
    out = {}
    for code in set(codes):
        org = find_org(code) if code else None
        out[code] = org.name if org else ""
    return out


def _iso(at) -> str | None:
    return at.isoformat() if at else None


def item(c: Consult, names: dict[str, str] | None = None) -> dict[str, Any]:
    names = names or _org_names([c.requester_org_code, c.invited_org_code])
    return {"id": c.id, "consult_no": c.consult_no, "status": c.status, "status_label": STATUSES.get(c.status, ""),
            "consult_type": c.consult_type, "type_label": TYPES.get(c.consult_type, ""), "mode": c.mode,
            "mode_label": MODES.get(c.mode, ""), "urgency": c.urgency, "urgency_label": URGENCIES.get(c.urgency, ""),
            "specialty": c.specialty, "specialty_label": SPECIALTIES.get(c.specialty, c.specialty),
            "resident_id": c.resident_id, "resident_name": c.resident_name,
            "requester_org_code": c.requester_org_code, "requester_org_name": names.get(c.requester_org_code, ""),
            "requester_name": c.requester_name, "invited_org_code": c.invited_org_code,
            "invited_org_name": names.get(c.invited_org_code, ""), "reason": c.reason, "purpose": c.purpose,
            "requested_at": _iso(c.requested_at), "invited_at": _iso(c.invited_at),
            "accept_due_at": _iso(c.accept_due_at), "accepted_at": _iso(c.accepted_at),
            "declined_at": _iso(c.declined_at), "decline_reason": c.decline_reason,
            "scheduled_at": _iso(c.scheduled_at), "report_due_at": _iso(c.report_due_at),
            "report_signed_at": _iso(c.report_signed_at), "closed_at": _iso(c.closed_at),
            "lead_expert_id": c.lead_expert_id, "expert_ids": [int(u) for u in c.expert_ids or []],
            "overdue": bool((c.status == "invited" and c.accept_due_at and clock.now() > c.accept_due_at) or
                            (c.status == "scheduled" and c.report_due_at and clock.now() > c.report_due_at))}


def timeline(c: Consult) -> list[dict[str, Any]]:
    return [{"at": e.get("at"), "event": e.get("event"), "text": e.get("text")} for e in c.log or []]


def opinions(c: Consult) -> list[dict[str, Any]]:
    rows = session().scalars(select(ConsultOpinion).where(ConsultOpinion.consult_id == c.id)
                             .order_by(ConsultOpinion.signed_at, ConsultOpinion.id))
    return [{"id": o.id, "expert_id": o.expert_id, "expert_name": o.expert_name, "role": o.role,
             "role_label": "牵头专家汇总意见" if o.role == "lead" else "专家意见", "content": o.content,
             "signature": o.signature, "signed_at": _iso(o.signed_at)} for o in rows]


def detail(c: Consult, p: Principal) -> dict[str, Any]:
    docs = session().execute(select(ConsultDocument.side, ConsultDocument.sha256, ConsultDocument.archived_at)
                             .where(ConsultDocument.consult_id == c.id)).all()
    consent = {k: v for k, v in (c.consent or {}).items() if k != "signature"}
    consent["has_signature"] = bool((c.consent or {}).get("signature"))
    room = dict(c.room or {})
    participant = p.user_id in (room.get("participants") or [])
    signed = {o["expert_id"] for o in opinions(c) if o["role"] == "member"}
    return {**item(c), "summary": c.summary or {}, "attachments": c.attachments or [],
            "expected_at": _iso(c.expected_at), "consent": consent, "consent_signed_at": _iso(c.consent_signed_at),
            "review": {k: v for k, v in (c.review or {}).items() if k != "expert_rule"},
            "requested_title_label": TITLES.get(c.requested_title or "", ""),
            "sla_rule": c.sla_rule, "accept_sla": c.accept_sla, "report_sla": c.report_sla,
            "report": c.report or {}, "opinions": opinions(c), "adoption": c.adoption or {},
            "adoption_label": ADOPTION.get((c.adoption or {}).get("adoption", ""), ""),
            "evaluation": c.evaluation or {}, "satisfaction": c.satisfaction, "billing": c.billing or {},
            "referral_ids": [int(r) for r in c.referral_ids or []], "timeline": timeline(c),
            "documents": [{"side": d.side, "sha256": d.sha256, "archived_at": _iso(d.archived_at)} for d in docs],
            "room": {"status": room.get("status"), "external_url": room.get("external_url"),
                     "participant": participant, "opened_at": room.get("opened_at")},
            "network_record": is_open_participant(c, p),
            "can_reassign": c.status == "scheduled" and (p.has_role("supervisor") or p.has_role("county_admin")),
            "my_role": my_role(c, p), "pending_opinion": p.user_id in [int(u) for u in c.expert_ids or []]
            and p.user_id != c.lead_expert_id and p.user_id not in signed and c.status == "scheduled"}


def my_role(c: Consult, p: Principal) -> str:
    if p.user_id == c.lead_expert_id:
        return "lead"
    if p.user_id in [int(u) for u in c.expert_ids or []]:
        return "expert"
    if p.user_id == c.requester_user_id:
        return "requester"
    return "staff"


def list_consults(p: Principal, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    conds = [in_scope(p)]
    if args.get("status"):
        conds.append(C.status == args["status"])
    if args.get("side") == "sent":
        conds.append(org_scope_filter(C.requester_org_path, p))
    elif args.get("side") == "received":
        conds.append(org_scope_filter(C.invited_org_path, p))
    if args.get("open"):
        conds.append(C.closed_at.is_(None))
    stmt = select(C).where(*conds).order_by(C.requested_at.desc(), C.id.desc())
    size = args.get("per_page", 50)
    skip = (args.get("page", 1) - 1) * size
    if args.get("side") == "mine":       # requester or assigned expert (expert_ids is JSON: filtered here)
        mine = [r for r in session().scalars(stmt.limit(2000)) if r.requester_user_id == p.user_id
                or p.user_id in [int(u) for u in r.expert_ids or []]]
        total, rows = len(mine), mine[skip:skip + size]
    else:
        total = session().scalar(select(func.count()).select_from(C).where(*conds)) or 0
        rows = list(session().scalars(stmt.limit(size).offset(skip)))
    names = _org_names([c for r in rows for c in (r.requester_org_code, r.invited_org_code)])
    return [item(r, names) for r in rows], int(total)


def for_resident(resident_id: int) -> list[dict[str, Any]]:
    """A resident's consults with the signed opinion (the record's timeline)."""
    rows = list(session().scalars(select(C).where(C.resident_id == resident_id).order_by(C.requested_at.desc())))
    names = _org_names([c for r in rows for c in (r.requester_org_code, r.invited_org_code)])
    return [{**item(r, names), "diagnosis": (r.report or {}).get("diagnosis"),
             "treatment": (r.report or {}).get("treatment"),
             "adoption_label": ADOPTION.get((r.adoption or {}).get("adoption", ""), "")} for r in rows]


def options(p: Principal) -> dict[str, Any]:
    """What the request form offers: organisations the caller's organisation has an agreement in force with (and
    their departments), and the code lists with Chinese labels."""
    chain = [o.code for o in ancestors(p.org_code, include_self=True)] if find_org(p.org_code) else []
    today = clock.today()
    orgs: dict[str, str] = {}
    for a in session().scalars(select(ConsultAgreement).where(ConsultAgreement.requester_org_code.in_(chain),
                                                              ConsultAgreement.active.is_(True))):
        if not a.valid_from <= today <= a.valid_to:
            continue
        top = find_org(a.invited_org_code)
        if top is None:
            continue
        for o in [top, *children(top.code)]:
            if o.level in ("county", "department", "township") and o.code != p.org_code:
                orgs[o.code] = o.name if o.code == top.code else f"{top.name} {o.name}"
    pairs = lambda d: [{"value": k, "label": v} for k, v in d.items()]
    return {"invited_orgs": pairs(orgs), "types": pairs(TYPES), "modes": pairs(MODES), "urgencies": pairs(URGENCIES),
            "specialties": pairs(SPECIALTIES), "titles": pairs(TITLES)}


def indicator_rows(start: date, end: date, org_prefix: str) -> list[dict[str, Any]]:
    """One row per consult requested in [start, end] by an organisation under `org_prefix` (quality source
    `consults`, wave2 §2.5): the facts each indicator counts."""
    lo, hi = clock.start_of_day(start), clock.start_of_day(end + timedelta(days=1))
    stmt = (select(C, Resident.name).join(Resident, Resident.id == C.resident_id)
            .where(C.requester_org_path.startswith(org_prefix, autoescape=True), C.requested_at >= lo,
                   C.requested_at < hi))
    rows = []
    for c, name in session().execute(stmt):
        answered = c.accepted_at or c.declined_at
        rows.append({
            "key": f"c{c.id}", "resident_id": c.resident_id, "resident_name": name, "org_path": c.requester_org_path,
            "org_code": c.requester_org_code, "doctor_id": c.requester_user_id, "disease": None, "risk_level": None,
            "status": c.status, "mode": c.mode, "urgent": c.urgency == "urgent", "invited": c.invited_at is not None,
            "accepted_on_time": bool(c.accepted_at and c.accept_due_at and c.accepted_at <= c.accept_due_at),
            "response_minutes": round((answered - c.invited_at).total_seconds() / 60, 1)
            if answered and c.invited_at else None,
            "held": c.report_signed_at is not None,
            "report_on_time": bool(c.report_signed_at and c.report_due_at and c.report_signed_at <= c.report_due_at),
            "adopted": (c.adoption or {}).get("adoption") in ("all", "partial"), "evaluated": c.evaluated_at is not None,
            "avoided_transfer": (c.evaluation or {}).get("avoided_transfer") is True,
            "consent_before_invite": bool(c.invited_at and c.consent_signed_at and c.consent_signed_at <= c.invited_at),
            "surveyed": c.satisfaction is not None, "satisfied": (c.satisfaction or 0) >= 4})
    return rows

"""Read side of contracting: a resident's contract summary (portal, resident record), contracts in the caller's
scope, one contract with its ledger, payments flagged for the team."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.models import User
from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.org.queries import find_org
from app.org.scope import org_scope_filter
from app.residents.models import Resident
from app.residents.record_models import DiseaseEnrolment

from . import catalogue
from .models import Contract, ContractDelivery, ContractItem, ContractPayment
from .services import CHANNEL_LABELS, FLAG_LABELS, INFORMED_HOW, OPEN, SIGNATURE_METHODS, STATUS_LABELS


def in_scope(p: Principal) -> ColumnElement[bool]:
    conds = [org_scope_filter(Contract.org_path, p)]
    if p.resident_id is not None and p.has_role("patient"):
        conds.append(Contract.resident_id == p.resident_id)
    return or_(*conds)


def get(p: Principal, contract_id: int) -> Contract:
    row = session().scalars(select(Contract).where(Contract.id == contract_id, in_scope(p))).first()
    if row is None:
        raise NotFound("签约不存在 (contract not found)", code="contract_not_found", contract_id=contract_id)
    return row


def _org_name(code: str | None) -> str:
    org = find_org(code)
    return org.name if org else ""


def _doctor(user_id: int | None) -> dict[str, Any] | None:
    user = session().get(User, user_id) if user_id else None
    return {"name": user.display_name or "家庭医生", "org_name": _org_name(user.org_code)} if user else None


def ledger(contract_id: int) -> list[dict[str, Any]]:
    items = session().scalars(select(ContractItem).where(ContractItem.contract_id == contract_id)
                              .order_by(ContractItem.id))
    return [{"item_id": i.id, "package_code": i.package_code, "service_code": i.service_code, "name": i.name,
             "kind": i.kind, "kind_label": catalogue.KINDS.get(i.kind, i.kind), "disease": i.disease,
             "provider_level_label": catalogue.LEVELS.get(i.provider_level, i.provider_level),
             "quantity": i.quantity, "delivered": i.delivered, "remaining": i.quantity - i.delivered,
             "next_due_on": _day(i.due_dates[i.delivered]) if i.delivered < len(i.due_dates) else None}
            for i in items]


def _day(value: str | date) -> date:
    """A due date kept as ISO text in the item's JSON, as a date (the portal and staff schemas dump dates)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _packages(row: Contract) -> list[dict[str, Any]]:
    return [{"code": p["code"], "version": p["version"], "name": p["name"], "price_fen": p["price_fen"],
             "self_fen": p["payer_split"].get("self", 0), "payer_split": p["payer_split"]} for p in row.packages]


def resident_summary(resident_id: int) -> dict[str, Any]:
    """For the portal and the resident record: the active contract (or the one being signed), its doctor team,
    packages and ledger (delivered / quantity per item). No clinician free text, no signature image."""
    s = session()
    active = s.scalars(select(Contract).where(Contract.resident_id == resident_id, Contract.status == "active")
                       .order_by(Contract.id.desc())).first()
    pending = s.scalars(select(Contract).where(Contract.resident_id == resident_id, Contract.status.in_(OPEN))
                        .order_by(Contract.id.desc())).first()

    def brief(row: Contract | None) -> dict[str, Any] | None:
        if row is None:
            return None
        return {"contract_id": row.id, "contract_no": row.contract_no, "status": row.status,
                "status_label": STATUS_LABELS.get(row.status, row.status), "team_org_name": _org_name(row.org_code),
                "doctor": _doctor(row.doctor_user_id), "starts_on": row.starts_on, "ends_on": row.ends_on,
                "amount_due_fen": row.amount_due_fen, "paid": row.paid_at is not None,
                "packages": _packages(row), "ledger": ledger(row.id) if row.status == "active" else []}
    ended = s.scalars(select(Contract).where(Contract.resident_id == resident_id,
                                             Contract.status.in_(("ended", "terminated")))
                      .order_by(Contract.ends_on.desc(), Contract.id.desc())).first()
    last_ended = None if ended is None else {
        "contract_id": ended.id, "contract_no": ended.contract_no, "status": ended.status,
        "status_label": STATUS_LABELS.get(ended.status, ended.status), "team_org_name": _org_name(ended.org_code),
        "starts_on": ended.starts_on, "ends_on": ended.ends_on, "end_reason": ended.end_reason}
    return {"resident_id": resident_id, "active": brief(active), "pending": brief(pending),
            "last_ended": last_ended, "can_request": pending is None}


def resident_contract(resident_id: int, *, limit: int = 3) -> dict[str, Any]:
    """The staff resident record's section: `resident_summary` plus the active contract's next due items (the
    earliest next due date first, only items with units left)."""
    out = resident_summary(resident_id)
    items = [i for i in (out["active"] or {}).get("ledger", []) if i["remaining"] > 0 and i["next_due_on"]]
    out["next_due"] = sorted(items, key=lambda i: i["next_due_on"])[:limit]
    return out


def contracts(p: Principal, *, status: str | None = None, resident_id: int | None = None, q: str | None = None,
              page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    stmt = (select(Contract, Resident.name).join(Resident, Resident.id == Contract.resident_id)
            .where(in_scope(p)))
    if status:
        stmt = stmt.where(Contract.status == status)
    if resident_id:
        stmt = stmt.where(Contract.resident_id == resident_id)
    if q:
        stmt = stmt.where(or_(Resident.name.contains(q, autoescape=True),
                              Contract.contract_no.contains(q, autoescape=True)))
    total = session().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session().execute(stmt.order_by(Contract.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return [{"id": c.id, "contract_no": c.contract_no, "resident_id": c.resident_id, "resident_name": name,
             "status": c.status, "status_label": STATUS_LABELS.get(c.status, c.status),
             "channel_label": CHANNEL_LABELS.get(c.channel, c.channel), "org_name": _org_name(c.org_code),
             "packages": [p["name"] for p in c.packages], "amount_due_fen": c.amount_due_fen,
             "starts_on": c.starts_on, "ends_on": c.ends_on, "created_at": c.created_at} for c, name in rows], total


def termination(row: Contract) -> dict[str, Any] | None:
    """The 解约 record (reason, new contract, effective date, how the resident was told), labelled."""
    if not row.termination:
        return None
    t = row.termination
    return {**{k: t.get(k) for k in ("kind", "reason", "new_contract_no", "effective_on", "informed_how", "note",
                                     "confirmed_at", "ledger_delivered", "ledger_promised")},
            "informed_how_label": INFORMED_HOW.get(t.get("informed_how") or "")}


def detail(row: Contract) -> dict[str, Any]:
    resident = session().get(Resident, row.resident_id)
    deliveries = session().scalars(select(ContractDelivery).where(ContractDelivery.contract_id == row.id)
                                   .order_by(ContractDelivery.id))
    names = {i.id: i.name for i in session().scalars(select(ContractItem).where(ContractItem.contract_id == row.id))}
    payments = session().scalars(select(ContractPayment).where(ContractPayment.contract_no == row.contract_no)
                                 .order_by(ContractPayment.id))
    sig = row.signature or {}
    previous = session().get(Contract, row.previous_id) if row.previous_id else None
    return {
        "id": row.id, "contract_no": row.contract_no, "resident_id": row.resident_id,
        "resident_name": resident.name if resident else "", "status": row.status,
        "status_label": STATUS_LABELS.get(row.status, row.status), "channel": row.channel,
        "channel_label": CHANNEL_LABELS.get(row.channel, row.channel), "org_code": row.org_code,
        "org_name": _org_name(row.org_code), "doctor": _doctor(row.doctor_user_id),
        "assessment": {k: v for k, v in row.assessment.items() if k != "satisfaction_comment"},
        "recommended": row.recommended, "packages": _packages(row), "amount_due_fen": row.amount_due_fen,
        "offer_expires_at": row.offer_expires_at, "paid_at": row.paid_at,
        "signature": ({"method": sig.get("method"), "method_label": SIGNATURE_METHODS.get(sig.get("method", "")),
                       "signer": sig.get("signer"), "captured_at": sig.get("captured_at"),
                       "image": sig.get("image")} if sig else None),
        "starts_on": row.starts_on, "ends_on": row.ends_on, "renewal": row.renewal,
        "satisfaction": row.satisfaction, "end_reason": row.end_reason, "instance_id": row.instance_id,
        "termination": termination(row),
        "previous_contract_no": previous.contract_no if previous else None,
        "ledger": ledger(row.id),
        "deliveries": [{"id": d.id, "item_name": names.get(d.item_id, ""), "unit_no": d.unit_no,
                        "source": d.source, "source_label": "随访" if d.source == "follow_up" else "团队登记",
                        "delivered_on": d.delivered_on, "due_on": d.due_on, "on_time": d.on_time}
                       for d in deliveries],
        "payments": [{"id": p.id, "amount_fen": p.amount_fen, "payer": p.payer, "status": p.status,
                      "flag": p.flag, "flag_label": FLAG_LABELS.get(p.flag or ""), "received_at": p.received_at}
                     for p in payments],
        "created_at": row.created_at,
    }


def flagged_payments(p: Principal) -> list[dict[str, Any]]:
    """Payments kept but not applied (voided offer, unknown contract …) for contracts in scope; county-wide roles
    also see those naming no known contract."""
    stmt = (select(ContractPayment, Contract).outerjoin(Contract, Contract.id == ContractPayment.contract_id)
            .where(ContractPayment.status == "flagged").order_by(ContractPayment.id.desc()).limit(200))
    out = []
    for pay, row in session().execute(stmt):
        if row is None and not p.county_wide:
            continue
        if row is not None and session().scalars(select(Contract.id).where(Contract.id == row.id, in_scope(p))
                                                 ).first() is None:
            continue
        out.append({"id": pay.id, "contract_no": pay.contract_no, "contract_id": row.id if row else None,
                    "amount_fen": pay.amount_fen, "flag": pay.flag, "flag_label": FLAG_LABELS.get(pay.flag or ""),
                    "received_at": pay.received_at})
    return out


def key_groups(resident: Resident, diseases: set[str], on) -> list[str]:
    """The key groups (重点人群) the platform can tell from the record: 65+, HTN, T2DM enrolment."""
    groups = []
    if clock.age(resident.birth_date, on) >= 65:
        groups.append("老年人")
    if "htn" in diseases:
        groups.append("高血压")
    if "t2dm" in diseases:
        groups.append("2型糖尿病")
    return groups


def outreach_candidates(p: Principal, *, org_path: str, limit: int) -> list[dict[str, Any]]:
    """Key-group residents of the subtree with neither an active contract nor one being signed (the outreach
    list, oldest first)."""
    busy = select(Contract.resident_id).where(Contract.status.in_(("active", *OPEN)))
    cutoff = clock.today().replace(year=clock.today().year - 65)
    enrolled = select(DiseaseEnrolment.resident_id).where(DiseaseEnrolment.disease.in_(("htn", "t2dm")))
    stmt = (select(Resident).where(Resident.org_path.startswith(org_path, autoescape=True),
                                   Resident.id.not_in(busy),
                                   or_(Resident.birth_date <= cutoff, Resident.id.in_(enrolled)))
            .order_by(Resident.birth_date, Resident.id).limit(limit))
    residents_ = list(session().scalars(stmt))
    diseases: dict[int, set[str]] = {}
    if residents_:
        for rid, disease in session().execute(select(DiseaseEnrolment.resident_id, DiseaseEnrolment.disease).where(
                DiseaseEnrolment.resident_id.in_([r.id for r in residents_]))):
            diseases.setdefault(rid, set()).add(disease)
    return [{"resident_id": r.id, "resident_name": r.name,
             "groups": key_groups(r, diseases.get(r.id, set()), clock.today())} for r in residents_]


def family_doctor_teams() -> list[dict[str, Any]]:
    """The family-doctor teams of the county: each responsible doctor holding contracts (signed ones: active, ended
    or terminated), with the organisation most of their contracts belong to and how many they hold in force."""
    signed = ("active", "ended", "terminated")
    rows = session().execute(
        select(Contract.doctor_user_id, Contract.org_code, Contract.org_path, Contract.status, func.count())
        .where(Contract.doctor_user_id.is_not(None), Contract.status.in_(signed))
        .group_by(Contract.doctor_user_id, Contract.org_code, Contract.org_path, Contract.status))
    teams: dict[int, dict[str, Any]] = {}
    for doctor, org_code, org_path, status, n in rows:
        team = teams.setdefault(doctor, {"doctor_user_id": doctor, "orgs": {}, "active_contracts": 0})
        team["orgs"][(org_code, org_path)] = team["orgs"].get((org_code, org_path), 0) + n
        team["active_contracts"] += n if status == "active" else 0
    out = []
    for team in teams.values():
        (code, path), _n = max(team.pop("orgs").items(), key=lambda kv: (kv[1], kv[0][0]))
        out.append({**team, "org_code": code, "org_path": path})
    return sorted(out, key=lambda t: (t["org_path"], t["doctor_user_id"]))

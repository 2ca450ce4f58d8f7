"""远程医疗合作协议 between two organisations (W1 (二)): a consult is possible only under an active agreement that covers
today. An agreement between two organisations covers their sub-organisations (a township's agreement with the county
hospital covers its villages and the hospital's departments)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid, NotFound
from app.org.queries import ancestors, find_org

from .models import ConsultAgreement

TERMS = ("purpose", "conditions", "content", "process", "rights", "liability")   # W1: 目的 条件 内容 流程 权利义务 责任分担


@dataclass(frozen=True)
class Check:
    ok: bool
    reason: str
    code: str
    agreement: ConsultAgreement | None = None


def _chain(org_code: str) -> list[str]:
    return [o.code for o in ancestors(org_code, include_self=True)]


def check(requester_org: str, invited_org: str, on: date | None = None) -> Check:
    """Is there an active agreement between the two (or their parents) today? The reason says why not, in Chinese."""
    day = on or clock.today()
    rows = list(session().scalars(select(ConsultAgreement).where(
        ConsultAgreement.requester_org_code.in_(_chain(requester_org)),
        ConsultAgreement.invited_org_code.in_(_chain(invited_org)))))
    valid = [r for r in rows if r.active and r.valid_from <= day <= r.valid_to]
    if valid:
        return Check(True, "", "", valid[0])
    inviter, invited = find_org(requester_org), find_org(invited_org)
    names = f"{inviter.name if inviter else requester_org}与{invited.name if invited else invited_org}"
    if not rows:
        return Check(False, f"{names}之间没有远程医疗合作协议", "no_agreement")
    if any(r.active and r.valid_to < day for r in rows):
        last = max(r.valid_to for r in rows)
        return Check(False, f"{names}的远程医疗合作协议已于 {last.isoformat()} 到期", "agreement_expired")
    if any(r.active and r.valid_from > day for r in rows):
        return Check(False, f"{names}的远程医疗合作协议尚未生效", "agreement_not_started")
    return Check(False, f"{names}的远程医疗合作协议已终止", "agreement_inactive")


def upsert(*, agreement_no: str, requester_org_code: str, invited_org_code: str, valid_from: date, valid_to: date,
           active: bool = True, terms: dict[str, Any] | None = None) -> ConsultAgreement:
    for code in (requester_org_code, invited_org_code):
        if find_org(code) is None:
            raise NotFound("机构不存在 (organization not found)", code="organization_not_found", org_code=code)
    if valid_to < valid_from:
        raise Invalid("协议到期日早于生效日", code="invalid_period", field="valid_to")
    with unit_of_work() as s:
        row = s.scalars(select(ConsultAgreement).where(ConsultAgreement.agreement_no == agreement_no)).first()
        if row is None:
            row = ConsultAgreement(agreement_no=agreement_no)
            s.add(row)
        row.requester_org_code, row.invited_org_code = requester_org_code, invited_org_code
        row.valid_from, row.valid_to, row.active = valid_from, valid_to, active
        row.terms = {k: v for k, v in (terms or {}).items() if k in TERMS}
        row.updated_at = clock.now()
        s.flush()
        return row


def listing() -> list[dict[str, Any]]:
    rows = session().scalars(select(ConsultAgreement).order_by(ConsultAgreement.agreement_no))
    out = []
    for r in rows:
        a, b = find_org(r.requester_org_code), find_org(r.invited_org_code)
        out.append({"id": r.id, "agreement_no": r.agreement_no, "requester_org_code": r.requester_org_code,
                    "requester_org_name": a.name if a else "", "invited_org_code": r.invited_org_code,
                    "invited_org_name": b.name if b else "", "valid_from": r.valid_from, "valid_to": r.valid_to,
                    "active": r.active, "in_force": check(r.requester_org_code, r.invited_org_code).ok and r.active
                    and r.valid_from <= clock.today() <= r.valid_to, "terms": r.terms})
    return out

"""The expert registry and R5's filter-then-rank: specialty = requested, title ≥ the table's minimum, registered at
the invited organisation (多点执业: a row per organisation), not on leave on the consult day; ranked by open consults
ascending, then the patient's previous expert first (continuity)."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app.auth import queries as users
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid, NotFound
from app.org.queries import ancestors, find_org

from .labels import OPEN, TITLE_RANK, TITLES
from .models import Consult, ConsultExpert


def upsert(*, user_id: int, org_code: str, specialty: str, title: str, available: bool = True,
           leave_from: date | None = None, leave_to: date | None = None) -> ConsultExpert:
    if title not in TITLES:
        raise Invalid("未知职称", code="invalid_title", allowed=list(TITLES))
    if not users.user_exists(user_id):
        raise NotFound("用户不存在 (user not found)", code="user_not_found", user_id=user_id)
    if find_org(org_code) is None:
        raise NotFound("机构不存在 (organization not found)", code="organization_not_found", org_code=org_code)
    with unit_of_work() as s:
        row = s.scalars(select(ConsultExpert).where(ConsultExpert.user_id == user_id, ConsultExpert.org_code == org_code,
                                                    ConsultExpert.specialty == specialty)).first()
        if row is None:
            row = ConsultExpert(user_id=user_id, org_code=org_code, specialty=specialty)
            s.add(row)
        row.title, row.available, row.leave_from, row.leave_to = title, available, leave_from, leave_to
        row.updated_at = clock.now()
        s.flush()
        return row


def _on_leave(e: ConsultExpert, day: date) -> bool:
    return bool(e.leave_from and e.leave_to and e.leave_from <= day <= e.leave_to)


def open_load(user_ids) -> dict[int, int]:
    """Open consults per expert (lead or member), the ranking's first key."""
    load: dict[int, int] = {}
    for c in session().scalars(select(Consult).where(Consult.status.in_(OPEN), Consult.expert_ids != None)):
        for uid in c.expert_ids or []:
            load[int(uid)] = load.get(int(uid), 0) + 1
    return {int(u): load.get(int(u), 0) for u in user_ids}


def candidates(consult: Consult, *, min_rank: int, day: date | None = None) -> list[dict[str, Any]]:
    """Experts who qualify for the consult, best first (each with why they rank where they do)."""
    day = day or clock.today()
    orgs = [o.code for o in ancestors(consult.invited_org_code, include_self=True)]
    rows = [e for e in session().scalars(select(ConsultExpert).where(
        ConsultExpert.org_code.in_(orgs), ConsultExpert.specialty == consult.specialty))
        if e.available and not _on_leave(e, day) and TITLE_RANK.get(e.title, 0) >= min_rank]
    by_user: dict[int, ConsultExpert] = {}
    for e in rows:
        if e.user_id not in by_user or TITLE_RANK[e.title] > TITLE_RANK[by_user[e.user_id].title]:
            by_user[e.user_id] = e
    load = open_load(by_user)
    previous: set[int] = set()
    for c in session().scalars(select(Consult).where(Consult.resident_id == consult.resident_id,
                                                     Consult.id != consult.id)):
        previous.update(int(u) for u in c.expert_ids or [])
    names = users.users_by_id(list(by_user))
    out: list[dict[str, Any]] = []
    for uid, e in by_user.items():
        u = names.get(uid)
        name = (u.display_name or u.username) if u else "专家"
        out.append({"user_id": uid, "name": name, "title": e.title, "title_label": TITLES[e.title],
                    "rank": TITLE_RANK[e.title], "open_consults": load[uid], "previous": uid in previous,
                    "label": f"{name}（{TITLES[e.title]}，在办会诊 {load[uid]}）{'·曾会诊此患者' if uid in previous else ''}"})
    out.sort(key=lambda c: (c["open_consults"], not c["previous"], -c["rank"], c["user_id"]))
    return out


def listing(org_code: str | None = None) -> list[dict[str, Any]]:
    stmt = select(ConsultExpert).order_by(ConsultExpert.org_code, ConsultExpert.specialty, ConsultExpert.id)
    if org_code:
        stmt = stmt.where(ConsultExpert.org_code == org_code)
    rows = list(session().scalars(stmt))
    names = users.users_by_id([r.user_id for r in rows])
    load = open_load([r.user_id for r in rows])
    return [{"id": r.id, "user_id": r.user_id, "name": (names[r.user_id].display_name if r.user_id in names else ""),
             "org_code": r.org_code, "specialty": r.specialty, "title": r.title, "title_label": TITLES[r.title],
             "available": r.available, "leave_from": r.leave_from, "leave_to": r.leave_to,
             "open_consults": load.get(r.user_id, 0)} for r in rows]

"""Push education items to residents (from the care plan's topics, disease and risk) and record reads.

A push is recorded once per (resident, item, plan version's reason) — `dedupe_key` — so approving a plan again or a
retried job never pushes twice. A resident with a patient account also gets an in-platform notification.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from app.auth.queries import display_names
from app.core import clock
from app.core.db import is_postgres, session, unit_of_work
from app.core.errors import NotFound
from app.follow_up.reminders import _patient_accounts, patient_consents
from app.notifications.services import notify

from . import library
from .models import EducationItem, EducationPush


def matching_items(disease: str, risk_level: str | None, topics: list[str]) -> list[EducationItem]:
    """Items of the disease (or general) on the given topics that suit the risk level."""
    library.seed()
    rows = session().scalars(select(EducationItem).where(
        or_(EducationItem.disease == disease, EducationItem.disease == "general"),
        EducationItem.topic.in_(topics)).order_by(EducationItem.id))
    return [r for r in rows if not r.risk_levels or (risk_level in r.risk_levels)]


def push_for_plan(resident_id: int, *, care_plan_id: int, disease: str, risk_level: str | None,
                  topics: list[str], pushed_by: str) -> list[int]:
    """Push the plan's education topics to the resident; returns ids of new pushes (none on a repeat)."""
    pushed = []
    for item in matching_items(disease, risk_level, topics):
        push_id = push(item.id, resident_id, reason=f"管理方案 #{care_plan_id} 健康教育", pushed_by=pushed_by,
                       care_plan_id=care_plan_id, dedupe_key=f"plan:{care_plan_id}:{item.id}")
        if push_id:
            pushed.append(push_id)
    return pushed


def push(item_id: int, resident_id: int, *, reason: str, pushed_by: str, dedupe_key: str,
         care_plan_id: int | None = None, channel: str = "platform") -> int | None:
    """Record one push (unless `dedupe_key` was used) and notify the resident's patient accounts; the new id."""
    insert = postgresql.insert if is_postgres() else sqlite.insert
    stmt = insert(EducationPush).values(
        dedupe_key=dedupe_key[:160], item_id=item_id, resident_id=resident_id, care_plan_id=care_plan_id,
        reason=reason[:255], channel=channel, pushed_by=pushed_by, pushed_at=clock.now(), extra={}
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(EducationPush.id)
    with unit_of_work() as s:
        push_id = s.scalar(stmt)
        if push_id:
            _notify_patient(resident_id, item_id, push_id)
        return push_id


def _notify_patient(resident_id: int, item_id: int, push_id: int) -> None:
    if not patient_consents(resident_id):
        return
    item = session().get(EducationItem, item_id)
    if item is None:
        raise NotFound("宣教内容不存在 (education item not found)", item_id=item_id)
    for uid in _patient_accounts(resident_id):
        notify(uid, kind="education", title=f"健康教育：{item.title}", body=item.summary,
               link=f"/education/pushes/{push_id}", dedupe_key=f"education_push:{push_id}:{uid}")


def pushes_for(resident_id: int) -> list[dict[str, Any]]:
    rows = session().execute(select(EducationPush, EducationItem).join(
        EducationItem, EducationItem.id == EducationPush.item_id).where(EducationPush.resident_id == resident_id)
        .order_by(EducationPush.id)).all()
    names = display_names(p.pushed_by for p, _ in rows)
    return [{"id": p.id, "item_id": i.id, "code": i.code, "title": i.title, "topic": i.topic, "summary": i.summary,
             "reason": p.reason, "channel": p.channel, "pushed_at": p.pushed_at, "pushed_by": p.pushed_by,
             "pushed_by_name": names.get(p.pushed_by), "read_at": p.read_at} for p, i in rows]


def get_push(push_id: int) -> EducationPush:
    row = session().get(EducationPush, push_id) if 0 < push_id < 2**63 else None
    if row is None:
        raise NotFound("推送不存在 (push not found)", push_id=push_id)
    return row


def mark_read(push_id: int) -> EducationPush:
    """Record that the resident read the item (first read kept)."""
    with unit_of_work():
        row = get_push(push_id)
        if row.read_at is None:
            row.read_at = clock.now()
        return row


def list_items(*, disease: str | None = None, topic: str | None = None) -> list[EducationItem]:
    library.seed()
    stmt = select(EducationItem).order_by(EducationItem.id)
    if disease:
        stmt = stmt.where(or_(EducationItem.disease == disease, EducationItem.disease == "general"))
    if topic:
        stmt = stmt.where(EducationItem.topic == topic)
    return list(session().scalars(stmt))

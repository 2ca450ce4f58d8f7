"""Demo expert liaison (下沉专家与专科共建): the cardiology and endocrinology experts on 城关街道's rota this week (visits
with joint-clinic slots, today's on-call), last week's visits (two delivered, one not confirmed), a joint-clinic
booking, one at 石门镇; a specialty-building plan of 城关街道 approved with its first milestone reviewed (indicator
read from the quality library), and one of 石门镇 waiting for the county administrator's approval."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.consult import experts
from app.core import clock
from app.core.db import session, unit_of_work
from app.liaison import bookings, duties, plans
from app.liaison.models import LiaisonDuty
from app.residents.models import Resident
from app.workflows import jobs as workflow_jobs
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

ADMIN, TOWNSHIP, OTHER = "county_admin", "township_doctor1", "township_doctor3"
REGISTRY = (("specialist_cardio", "C01D01", "cardiology", "chief"),
            ("specialist_endo", "C01D02", "endocrinology", "associate_chief"),
            ("specialist_neuro", "C01D07", "neurology", "chief"))


def _open(instance_id: int | None, element_id: str) -> HumanTask | None:
    return session().scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.element_id == element_id,
                                                     HumanTask.status == "open")).first()


def _past_duty(user: User, specialty: str, org: str, day, half: str, delivered: bool, *, kind: str = "visit",
               note: str = "") -> None:
    """A duty of a past day, as it was worked (the rota refuses past days, so history is written as it stands)."""
    with unit_of_work() as s:
        now = clock.now()
        s.add(LiaisonDuty(kind=kind, expert_user_id=user.id, expert_name=user.display_name or user.username,
                          expert_org_code=org, specialty=specialty, township_code="C01T01",
                          township_path="/C01/C01T01/", on_date=day, half_day=half, capacity=6 if kind == "visit" else 0,
                          status="delivered" if delivered else "scheduled", note=note, created_by=ADMIN,
                          delivered_at=now if delivered else None, delivered_by=user.username if delivered else None,
                          created_at=now, updated_at=now))


def seed_liaison(complete: Callable[[str, Any, dict], Any], principal: Callable[[str], Any]) -> dict[str, int]:
    """`complete(username, task, data)` completes a task as that demo user; `principal(username)` is their Principal."""
    if "specialty_plan" not in latest_process_versions(session()):
        return {}
    if session().scalars(select(LiaisonDuty.id).limit(1)).first() is not None:
        return {}
    users = {u.username: u for u in session().scalars(select(User).where(
        User.username.in_([r[0] for r in REGISTRY])))}
    if len(users) < len(REGISTRY):
        return {}
    for username, org, specialty, title in REGISTRY:
        experts.upsert(user_id=users[username].id, org_code=org, specialty=specialty, title=title)
    admin, today = principal(ADMIN), clock.today()
    monday = today - timedelta(days=today.weekday())
    cardio, endo = users["specialist_cardio"], users["specialist_endo"]
    for k, (who, spec, org, delivered) in enumerate(((cardio, "cardiology", "C01D01", True),
                                                     (endo, "endocrinology", "C01D02", True),
                                                     (cardio, "cardiology", "C01D01", False))):
        _past_duty(who, spec, org, monday - timedelta(days=6 - 2 * k), "am", delivered)
    out = {"liaison_duties": 3}
    # this week and next: half-days already over are written as worked, the rest go through the rota's checks
    first_open = None
    for who, offset, half, cap in ((cardio, 1, "am", 6), (endo, 2, "am", 5), (cardio, 3, "pm", 4),
                                   (cardio, 8, "am", 6), (endo, 10, "pm", 5)):
        day = monday + timedelta(days=offset)
        spec, org = ("cardiology", "C01D01") if who is cardio else ("endocrinology", "C01D02")
        over = clock.start_of_day(day).replace(hour=17 if half == "pm" else 11, minute=30) <= clock.now()
        if over:
            _past_duty(who, spec, org, day, half, True)
        else:
            d = duties.schedule(admin, kind="visit", expert_user_id=who.id, township_code="C01T01", on_date=day,
                                half_day=half, capacity=cap, specialty=spec, note="联合门诊：慢病疑难病例、带教查房")
            first_open = first_open or d
        out["liaison_duties"] += 1
    on_call_note = "电话会诊：胸痛、急性心衰"
    duties.schedule(admin, kind="on_call", expert_user_id=cardio.id, township_code="C01T01", on_date=today, specialty="cardiology",
                    half_day="day", note=on_call_note)
    if clock.now() < clock.start_of_day(today).replace(hour=8):
        # an on-call day runs 08:00 to 08:00: before 08:00 it is yesterday's that covers the township now
        _past_duty(cardio, "cardiology", "C01D01", today - timedelta(days=1), "day", False, kind="on_call",
                   note=on_call_note)
        out["liaison_duties"] += 1
    duties.schedule(admin, kind="visit", expert_user_id=users["specialist_neuro"].id, township_code="C01T02",
                    on_date=today + timedelta(days=1), half_day="am", capacity=4, specialty="neurology")
    out["liaison_duties"] += 2
    resident = session().scalars(select(Resident).where(Resident.org_code.startswith("C01T01V"))
                                 .order_by(Resident.id).offset(20)).first()
    if resident is not None and first_open is not None:
        bookings.book(principal(TOWNSHIP), first_open.id, kind="joint_clinic", resident_id=resident.id,
                      reason="高血压合并胸闷，基层两次调整方案血压仍控制不佳，请心内科专家联合门诊")
        out["liaison_bookings"] = 1
    out.update(_plans(complete, principal, today))
    return out


def _plans(complete: Callable[[str, Any, dict], Any], principal: Callable[[str], Any], today) -> dict[str, int]:
    cardio = session().scalars(select(User).where(User.username == "specialist_cardio")).first()
    plan = plans.draft(principal(TOWNSHIP), township_code="C01T01", specialty="cardiology",
                       title="城关街道胸痛救治单元专科共建", starts_on=today - timedelta(days=60),
                       ends_on=today + timedelta(days=300), lead_expert_user_id=cardio.id if cardio else None,
                       goals=["建成基层胸痛救治单元并通过县级验收", "高血压规范管理率提升至 70%"],
                       activities=["心内科专家每周二上午坐诊、联合门诊", "每月一次疑难病例讨论与带教查房",
                                   "心电图远程诊断全覆盖"],
                       milestones=[
                           {"title": "第一阶段：专家坐诊常态化", "due_on": today - timedelta(days=3), "indicators": [
                               {"indicator_id": "liaison_days_delivered", "target": 60},
                               {"name": "联合门诊接诊人次", "unit": "人次", "target": 20}]},
                           {"title": "第二阶段：胸痛单元验收", "due_on": today + timedelta(days=90), "indicators": [
                               {"indicator_id": "liaison_slot_use", "target": 60},
                               {"name": "首份心电图10分钟内完成率", "unit": "%", "target": 90}]}])
    approve = _open(plan.instance_id, "approve_plan")
    if approve is not None:
        complete(ADMIN, approve, {"decision": "approve", "comment": "同意。医务科每月督导专家到岗，季度评估。"})
    workflow_jobs.enqueue_due_timers()             # the first milestone is due: its review task opens
    review = _open(plan.instance_id, "review_milestone")
    if review is not None:
        complete(TOWNSHIP, review, {"values": [None, 26], "review_note": "专家按排班坐诊，联合门诊接诊 26 人次。"})
    plans.draft(principal(OTHER), township_code="C01T02", specialty="neurology", title="石门镇卒中防治专科共建",
                starts_on=today, ends_on=today + timedelta(days=365),
                goals=["建立卒中高危人群筛查与转诊绿色通道"], activities=["神经内科专家每月两次坐诊", "卒中识别培训"],
                milestones=[{"title": "半年评估", "due_on": today + timedelta(days=180), "indicators": [
                    {"indicator_id": "liaison_days_delivered", "target": 80}]}])
    return {"specialty_plans": 2}

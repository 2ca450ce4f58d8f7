"""Demo referrals: the capability catalogue and referrals in several states, run through the real processes
(offered, accepted and booked, result returned with a down-referral, rejected, an emergency, out of county)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from app.referral import catalogue, exchange, summary
from app.referral import services as referral
from app.residents.models import Resident
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

CATALOGUE = (("C01D01", "cardiology"), ("C01D01", "pci"), ("C01D01", "emergency"), ("C01D04", "cardiology"), ("C01D02", "endocrinology"),
             ("C01D02", "insulin_management"), ("C01D06", "nephrology"), ("C01D07", "neurology"),
             ("C01D07", "emergency"), ("C01T01", "general_medicine"), ("C01T01", "insulin_management"))
OUT_OF_COUNTY = (("省人民医院", "stroke"), ("市第一人民医院", "stroke"), ("市第一人民医院", "pci"))


def _task(instance_id: int, element_id: str) -> HumanTask | None:
    return session().scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.element_id == element_id,
                                                     HumanTask.status == "open")).first()


def seed_referrals(complete) -> dict[str, int]:
    """`complete(username, task, data)` completes a task as that demo user (the activity seed's helper)."""
    deployed = latest_process_versions(session())
    if "referral_up" not in deployed or "referral_down" not in deployed:
        return {}
    for org, cap in CATALOGUE:
        catalogue.upsert(capability=cap, org_code=org)
    catalogue.upsert(capability="rehabilitation", org_code="C01T01")
    for name, cap in OUT_OF_COUNTY:
        catalogue.upsert(capability=cap, hospital_name=name)
    people = list(session().scalars(select(Resident).where(Resident.org_code == "C01T01V01")
                                    .order_by(Resident.id).limit(8)))
    if len(people) < 6:
        return {}
    vd = "village_doctor1"
    out = {"referrals": 0}

    def up(resident, reason, **kw):
        row = referral.request_referral(resident_id=resident.id, source=kw.pop("source", "manual"),
                                        trigger=kw.pop("trigger", "manual"), disease=kw.pop("disease", "htn"),
                                        reason=reason, from_org_code="C01T01V01", from_user=vd, **kw)
        out["referrals"] += 1
        return row

    def send(row, target="C01D01"):
        complete(vd, _task(row.instance_id, "fill_referral_form"),
                 {"target_org": target, "reason": row.reason, "chief_complaint": "头晕、头痛2周", "consent": True,
                  "insurance_type": "城乡居民医保"})

    waiting = up(people[0], "两次随访血压控制不满意 (170/100 mmHg)", trigger="follow_up", source="follow_up")
    send(waiting)
    booked = up(people[1], "疑继发性高血压：年轻起病伴低血钾", trigger="initial")
    send(booked)
    complete("specialist_cardio", _task(booked.instance_id, "review_referral"), {"decision": "accept", "visit_mode": "门诊"})
    complete("specialist_cardio", _task(booked.instance_id, "book_appointment"),
             {"appointment_at": (clock.now() + timedelta(days=2)).isoformat(), "place": "心内科门诊3诊室"})
    done = up(people[2], "血压波动明显，三药联合仍未达标")
    send(done)
    complete("specialist_cardio", _task(done.instance_id, "review_referral"), {"decision": "accept", "visit_mode": "住院"})
    complete("specialist_cardio", _task(done.instance_id, "book_appointment"),
             {"appointment_at": clock.now().isoformat(), "place": "心内科病区"})
    summary.record_arrival({"referral_no": done.referral_no, "visit_no": "ZY20260001"}, source="demo:HIS")
    complete("specialist_cardio", _task(done.instance_id, "return_result"),
             {"diagnosis": "原发性高血压3级 很高危", "plan": "氨氯地平5mg qd + 缬沙坦80mg qd", "advice": "每2周随访，目标<140/90",
              "down_referral": True})
    down = next(iter(referral.children(done.id)), None)
    if down is not None and down.instance_id is not None:              # 下转单 written: the village doctor receives
        complete("specialist_cardio", _task(down.instance_id, "fill_down_referral_form"),
                 {"discharge_diagnosis": "原发性高血压3级 很高危", "long_term_plan": "氨氯地平5mg qd + 缬沙坦80mg qd",
                  "follow_up_requirements": "每2周测血压，目标<140/90", "diagnosis_clear": True, "plan_clear": True,
                  "condition_stable": True})
    rejected = up(people[3], "血糖控制差，HbA1c 9.2%", disease="dm", trigger="dm")
    send(rejected, target="C01D02")
    complete("specialist_endo", _task(rejected.instance_id, "review_referral"),
             {"decision": "reject", "reject_reason": "床位已满", "reject_note": "请下周一再转或改门诊"})
    up(people[4], "随访时血压186/112伴剧烈头痛", trigger="emergency", source="follow_up")
    far = up(people[5], "脑动脉瘤术后复查，需神经介入 (县内无卒中中心)", disease=None, form={"capability": "stroke"})
    complete(vd, _task(far.instance_id, "fill_referral_form"), {"reason": far.reason, "consent": True})
    if len(people) > 6:                             # an outside hospital's discharge summary via the public-health platform
        exchange.receive_summary(people[6].id, {
            "id": "DEMO-PH-1", "hospital": "省人民医院", "disease": "htn", "discharge_on": clock.today().isoformat(),
            "discharge_diagnosis": "高血压3级 急性脑梗死恢复期", "long_term_plan": "阿司匹林100mg qd + 氨氯地平5mg qd",
            "follow_up_requirements": "每2周随访血压，康复训练"}, system="public_health")
        out["referrals"] += 1
    return out

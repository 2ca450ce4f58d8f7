"""Shared helpers of the care-plan / follow-up tests (no tests here): deploy the real models, a resident, tasks.

The `resident` fixture is `resident_fixture`: import that (`# noqa: F401`) where a test takes `resident`."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import schedules
from app.core import clock, db
from tests.helpers import REPO

MODELS = [REPO / "bpmn" / "care_plan.bpmn", REPO / "bpmn" / "follow_up.bpmn", REPO / "forms" / "care_plan",
          REPO / "forms" / "follow_up", REPO / "dmn"]


def deploy_care_models(app) -> dict:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        return deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder").to_dict()


def make_resident(app, *, org: str = "C01T01V01", name: str = "王建国", born: date = date(1956, 3, 14),
                  sex: str = "M", seed: int = 7) -> int:
    from app.auth.principal import SYSTEM
    from app.residents import idcard
    from app.residents.services import register_resident
    id_number = idcard.generate(random.Random(seed), area_code="330127", birth_date=born, sex=sex)
    with app.app_context():
        return register_resident({"id_number": id_number, "name": name, "phone": "13800001234",
                                  "address": "石门镇上塘村1组", "org_code": org}, principal=SYSTEM).id


@pytest.fixture(name="resident")
def resident_fixture(app, county):
    """A resident of C01T01V01 with the care-plan and follow-up models deployed."""
    deploy_care_models(app)
    return make_resident(app)


def classified_visit(app):
    """The one follow-up visit that has been classified."""
    from app.follow_up.models import FollowUpVisit
    with app.app_context():
        return db.session().scalars(select(FollowUpVisit).where(FollowUpVisit.classification.is_not(None))).one()


def open_tasks(api, element_id: str, **params) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in {"view": "org", "per_page": 200, **params}.items())
    resp = api.get(f"/api/v1/tasks?{query}")
    assert resp.status_code == 200, resp.json
    return [t for t in resp.json["items"] if t["element_id"] == element_id]


def one_task(api, element_id: str, **params) -> dict:
    tasks = open_tasks(api, element_id, **params)
    assert len(tasks) == 1, (element_id, tasks)
    return api.get(f"/api/v1/tasks/{tasks[0]['id']}").json


def complete(api, task: dict, data: dict):
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert resp.status_code == 200, resp.json
    return resp.json


def tick(app, days: float = 0) -> dict:
    """Move the platform clock and run every schedule once (the scheduler's work, with eager jobs)."""
    if days:
        clock.advance(timedelta(days=days))
    with app.app_context():
        return schedules.run_once()


def local_today(app) -> str:
    from app.core import clock
    with app.app_context():
        return clock.today().isoformat()


PLAN = {"targets": {"sbp_lt": 140, "dbp_lt": 90, "note": "血压<140/90"},
        "drugs": [{"drug": "amlodipine", "name": "氨氯地平片", "dose_mg": 5, "frequency": "qd"}],
        "lifestyle": {"salt_g_per_day": 5, "exercise": "每天快走30分钟", "smoking": "戒烟", "alcohol": "限酒",
                      "diet": "低盐饮食"},
        "follow_up_interval_days": 30, "education_topics": ["diet_salt", "medication", "danger_signs"],
        "notes": "高危患者每月随访"}


def htn_visit(today: str, sbp: int, dbp: int, *, adr: str = "无", complication: bool = False,
              visit_type: str = "outpatient", revision: bool = False) -> dict:
    """A completed 高血压随访服务记录表 (high-risk form: heart rate and weight required)."""
    return {
        "visit": {"visit_date": today, "visit_type": visit_type, "outcome": "完成随访"},
        "symptoms": {"items": ["无症状"]},
        "signs": {"bp_readings": [{"sbp": sbp, "dbp": dbp}, {"sbp": sbp, "dbp": dbp}], "bp_source": "诊室",
                  "heart_rate": 72, "weight_kg": 68.5},
        "lifestyle": {"smoking_per_day": 0, "salt_intake": "中", "salt_target": "轻", "compliance": "良好"},
        "labs": {},
        "medication": {"adherence": "规律", "adr": adr, **({"adr_description": "踝部水肿"} if adr != "无" else {}),
                       "drugs": [{"drug": "amlodipine", "name": "氨氯地平片", "dose_mg": 5, "frequency": "qd"}]},
        "assessment": {"new_complication": complication, "request_plan_revision": revision,
                       **({"revision_reason": "血压波动"} if revision else {})},
        "referral": {}}


def plan_in_force(app, login_as, resident_id: int, *, risk: str = "HIGH", content: dict | None = None,
                  disease: str = "htn") -> dict:
    """Run `care_plan` through the API: drafted by one specialist, approved by another, acknowledged."""
    low = risk == "LOW"
    drafter = login_as("township_doctor", org="C01T01") if low else login_as("county_specialist", org="C01")
    approver = login_as("county_specialist", org="C01")
    village = login_as("village_doctor", org="C01T01V01")
    resp = approver.post("/api/v1/care-plans/requests", json={"resident_id": resident_id, "disease": disease,
                                                             "risk_level": risk})
    assert resp.status_code == 202, resp.json
    complete(drafter, one_task(drafter, "draft_plan_township" if low else "draft_plan_county"),
             {"content": content or PLAN})
    complete(approver, one_task(approver, "approve_plan"), {"approved": True})
    complete(village, one_task(village, "acknowledge_plan"), {"acknowledged": True})
    plan = approver.get(f"/api/v1/care-plans?resident_id={resident_id}").json["items"][0]
    return {"plan": plan, "drafter": drafter, "approver": approver, "village": village}

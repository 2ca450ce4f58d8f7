"""Issue 12.9 "small truths": what the record page, inbox cards, task header and follow-up timeline show comes with
Chinese names from the API — the process name (not `follow_up`), who pushed / who visited (not usernames), the
drug's Chinese name (not `amlodipine`) and the organization's name (not `C01T01`)."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from tests.test_follow_up_support import (
    complete,
    htn_visit,
    local_today,
    one_task,
    plan_in_force,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
    tick,
)

FOLLOW_UP_NAME = "慢病随访 (一个周期)"          # bpmn/follow_up.bpmn <process name=…>


def _rename(app, user, display_name: str) -> None:
    from app.auth.models import User
    from app.core import db
    with app.app_context():
        db.session().execute(update(User).where(User.id == user.id).values(display_name=display_name))
        db.session().commit()


def test_open_instances_and_tasks_carry_the_process_name(app, login_as, resident):
    done = plan_in_force(app, login_as, resident, risk="HIGH")
    tick(app, 24)
    village = done["village"]
    record = village.get(f"/api/v1/residents/{resident}").json
    follow_ups = [i for i in record["summary"]["open_instances"] if i["process_id"] == "follow_up"]
    assert follow_ups and all(i["process_name"] == FOLLOW_UP_NAME for i in follow_ups), record["summary"]["open_instances"]
    cards = [t for t in village.get("/api/v1/tasks?view=org&per_page=200").json["items"] if t["process_id"] == "follow_up"]
    assert cards and all(t["process_name"] == FOLLOW_UP_NAME for t in cards)
    detail = village.get(f"/api/v1/tasks/{cards[0]['id']}").json
    assert detail["process_name"] == FOLLOW_UP_NAME


def test_pushes_and_visits_name_people_by_display_name(app, login_as, resident):
    done = plan_in_force(app, login_as, resident, risk="HIGH")
    _rename(app, done["approver"].user, "李审核")
    _rename(app, done["village"].user, "郭颖萍")
    pushes = done["village"].get(f"/api/v1/residents/{resident}/education").json
    assert pushes and {p["pushed_by_name"] for p in pushes} == {"李审核"}
    tick(app, 24)
    complete(done["village"], one_task(done["village"], "record_htn_visit_high_risk"),
             htn_visit(local_today(app), 132, 80))
    visits = done["village"].get(f"/api/v1/residents/{resident}/follow-ups").json["visits"]
    visited = [v for v in visits if v["performed_by"]]
    assert visited and {v["performed_by_name"] for v in visited} == {"郭颖萍"}


def test_medications_and_encounters_carry_chinese_names(app, login_as, resident):
    from app.core import db
    from app.residents import records
    from app.residents.record_models import Encounter
    with app.app_context():
        records.record_medication(resident, drug="amlodipine", dose="5mg", frequency="qd", started_on=None,
                                  source="his")
        records.record_medication(resident, drug="不在目录的药", dose="1片", frequency="qd", started_on=None,
                                  source="his")
        db.session().add(Encounter(resident_id=resident, kind="outpatient", org_code="C01T01",
                                   started_at=datetime(2026, 2, 1, tzinfo=UTC), diagnoses=[], source="his", recorded_by="test",
                                   recorded_at=datetime(2026, 2, 1, tzinfo=UTC)))
        db.session().commit()
    body = login_as("village_doctor", org="C01T01V01").get(f"/api/v1/residents/{resident}").json
    names = {m["drug"]: m["drug_name"] for m in body["summary"]["current_medications"]}
    assert names == {"amlodipine": "氨氯地平", "不在目录的药": None}
    assert [(e["org_code"], e["org_name"]) for e in body["encounters"]] == [("C01T01", "石门镇卫生院")]


def test_the_vocabulary_names_every_record_source(app, login_as, county):
    """The record shows where a value came from in words (follow_up → 随访), from GET /api/v1/vocabulary."""
    terms = login_as("village_doctor", org="C01T01V01").get("/api/v1/vocabulary").json["record_source"]
    labels = {t["code"]: t["label"] for t in terms}
    assert labels["follow_up"] == "随访" and labels["his"] == "医院信息系统" and labels["public_health"] == "基本公卫"


def test_work_the_platform_did_itself_is_named_system_also_when_the_names_come_as_a_generator(app, login_as):
    # the follow-up timeline and the education list pass a generator: the first pass consumed it and `system`
    # (a visit the platform closed, a push it made) was shown as a dash
    from app.auth.queries import display_names
    nurse = login_as("village_doctor", org="C01T01V01")
    with app.app_context():
        names = display_names(n for n in ("system", nurse.user.username, None))
    assert names["system"] == "系统"

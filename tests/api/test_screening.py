"""Screening end to end through the HTTP API as the real roles: a synthetic population → the batch → verification
tasks in the right township inboxes → verify → enrol → graded; re-running changes nothing; new data re-screens."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.residents import records
from tests.helpers import REPO

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
MODELS = ("bpmn/screening.bpmn", "bpmn/stratify.bpmn", "bpmn/cancer_screening.bpmn", "bpmn/merge_review.bpmn")


@pytest.fixture()
def deployed(app, org_tree):
    """The screening models, their forms and the decision pack, deployed as `ygt deploy` would."""
    from app.workflows.deploy import collect_folder_files, deploy_files
    paths = [REPO / p for p in MODELS] + [REPO / "dmn"] + [REPO / "forms" / p for p in
                                                         ("screening", "stratify", "cancer_screening", "merge_review")]
    with app.app_context():
        return deploy_files(collect_folder_files(REPO, paths), deployed_by="test", source="folder")


def observe(app, resident_id: int, code: str, value, unit: str | None, *, days_ago: int = 0, rescreen=False):
    with app.app_context():
        records.record_observation(resident_id, code=code, value=value, unit=unit,
                                   effective_at=AT - timedelta(days=days_ago), source="his", rescreen=rescreen)


def bp(app, resident_id: int, sbp: int, dbp: int, *, days_ago: int = 0):
    observe(app, resident_id, "8480-6", sbp, "mmHg", days_ago=days_ago)
    observe(app, resident_id, "8462-4", dbp, "mmHg", days_ago=days_ago)


@pytest.fixture()
def population(app, make_resident, deployed):
    """Four residents: raised BP in 上塘村 (township C01T01), diabetes-range FPG in 东坞村 (C01T02), a healthy one,
    and a prediabetic one (IFG → prevention list)."""
    people = {
        "htn": make_resident(org="C01T01V01", name="王建国", sex="M", born=date(1956, 3, 14)),
        "dm": make_resident(org="C01T02V01", name="李秀英", sex="F", born=date(1962, 8, 1)),
        "well": make_resident(org="C01T01V02", name="赵小明", sex="M", born=date(1990, 5, 5)),
        "ifg": make_resident(org="C01T01V02", name="陈芳", sex="F", born=date(1970, 2, 2)),
    }
    for days in (0, 3, 9):
        bp(app, people["htn"]["id"], 162, 98, days_ago=days)
    observe(app, people["dm"]["id"], "1558-6", 7.6, "mmol/L", days_ago=0)
    observe(app, people["dm"]["id"], "1558-6", 8.1, "mmol/L", days_ago=20)
    bp(app, people["dm"]["id"], 118, 76)
    bp(app, people["well"]["id"], 112, 72)
    observe(app, people["ifg"]["id"], "1558-6", 6.4, "mmol/L")
    bp(app, people["ifg"]["id"], 118, 74)
    return people


def run_batch(client_as) -> dict:
    admin = client_as("county_admin")
    started = admin.post("/api/v1/screening/runs", json={"chunk_size": 2})
    assert started.status_code == 202, started.get_json()
    run = admin.get(f"/api/v1/screening/runs/{started.get_json()['id']}").get_json()
    assert run["status"] == "completed" and run["processed"] == run["total"]
    return run


def tasks(api, **params) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in {"view": "groups", "per_page": 200, **params}.items())
    return api.get(f"/api/v1/tasks?{query}").get_json()["items"]


def complete(api, task: dict, data: dict) -> dict:
    response = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_batch_puts_verification_tasks_in_the_right_township_inboxes(client_as, population):
    run = run_batch(client_as)
    # T06: age ≥55 is a hypertension-prone factor; T09: hypertension + unknown lipids = stroke medium risk
    assert run["cases_created"] == 6 and run["counts"]["cases"] == {
        "htn:suspected": 1, "t2dm:confirmed": 1, "t2dm:high_risk": 1, "htn:high_risk": 2, "stroke:high_risk": 1}
    shimen = tasks(client_as("township_doctor", org="C01T01"))
    taoyuan = tasks(client_as("township_doctor", org="C01T02"))
    assert [(t["element_id"], t["resident"]["name"], t["disease"]) for t in shimen] == [
        ("verify_case", "王建国", "htn")]
    assert [(t["element_id"], t["resident"]["name"], t["disease"]) for t in taoyuan] == [
        ("verify_case", "李秀英", "t2dm")]
    assert tasks(client_as("village_doctor", org="C01T01V01")) == []


def test_rerunning_the_batch_creates_nothing(client_as, population):
    run_batch(client_as)
    again = run_batch(client_as)
    assert again["cases_created"] == 0
    cases = client_as("county_admin").get("/api/v1/screening/cases").get_json()
    assert cases["total"] == 6
    assert len(tasks(client_as("township_doctor", org="C01T01"))) == 1


def test_verify_enrol_and_grade_a_hypertensive_resident(app, client_as, population):
    run_batch(client_as)
    doctor = client_as("township_doctor", org="C01T01")
    verify = tasks(doctor)[0]
    complete(doctor, verify, {"verification": "confirm"})
    enrol = next(t for t in tasks(doctor) if t["element_id"] == "enrol_case")
    complete(doctor, enrol, {"icd10": "I10", "diagnosed_on": "2026-03-02", "village_code": "C01T01V01"})
    record = doctor.get(f"/api/v1/residents/{population['htn']['id']}").get_json()["summary"]
    assert [(e["disease"], e["icd10"]) for e in record["enrolments"]] == [("htn", "I10")]
    risk = record["risk_levels"][0]
    # 162/98 = G2; male 69 > 55 is one risk factor (C1) → T03 C1×G2 = 中/高危, resolved to the higher (HIGH)
    assert (risk["disease"], risk["level"], risk["label"]) == ("htn", "HIGH", "高危")
    assert "T03" in risk["reason"]
    review = [t for t in tasks(doctor) if t["element_id"] == "review_high_risk"]
    assert len(review) == 1 and review[0]["risk_level"] == "HIGH"
    stats = client_as("supervisor").get("/api/v1/screening/stats").get_json()
    htn = next(i for i in stats["items"] if i["disease"] == "htn")
    assert (htn["org_code"], htn["flagged"], htn["verified"], htn["enrolled"]) == ("C01T01", 1, 1, 1)


def test_a_rejected_case_is_counted_and_not_flagged_again(client_as, population):
    run_batch(client_as)
    doctor = client_as("township_doctor", org="C01T02")
    verify = tasks(doctor)[0]
    refused = doctor.post(f"/api/v1/tasks/{verify['id']}/complete", json={"data": {"verification": "reject"}})
    assert refused.status_code == 422
    complete(doctor, verify, {"verification": "reject", "reject_reason": "应激性高血糖, 已排除"})
    assert run_batch(client_as)["cases_created"] == 0
    stats = client_as("supervisor").get("/api/v1/screening/stats?group_by=township").get_json()
    dm = next(i for i in stats["items"] if i["disease"] == "t2dm")
    assert (dm["org_code"], dm["flagged"], dm["rejected"], dm["verified"]) == ("C01T02", 1, 1, 0)


def test_needs_test_waits_for_the_lab_result_then_verifies_again(app, client_as, population):
    from app.workflows.messages import deliver
    from app.workflows.runner import Actor
    run_batch(client_as)
    doctor = client_as("township_doctor", org="C01T02")
    complete(doctor, tasks(doctor)[0], {"verification": "needs_test", "test": "OGTT"})
    assert tasks(doctor) == []
    with app.app_context():
        delivery = deliver("lab_result", {"resident_id": population["dm"]["id"], "code": "20438-8",
                                          "value": 12.4, "unit": "mmol/L"}, actor=Actor("lis"), start=False)
    assert len(delivery.correlated) == 1
    again = tasks(doctor)
    assert [t["element_id"] for t in again] == ["verify_case"]


def test_prediabetes_is_on_the_prevention_list_not_in_an_inbox(client_as, population):
    run_batch(client_as)
    township = client_as("township_public_health", org="C01T01")
    listed = township.get("/api/v1/screening/high-risk?disease=t2dm").get_json()
    assert [(c["resident_name"], c["disease"], c["evidence"]["diagnosis"]) for c in listed["items"]] == [
        ("陈芳", "t2dm", "IFG")]
    other = client_as("township_public_health", org="C01T02")
    assert other.get("/api/v1/screening/high-risk?disease=t2dm").get_json()["total"] == 0


def test_a_referral_flagged_resident_is_highlighted_and_counted(app, client_as, population):
    with app.app_context():
        records.set_referral_flag(population["htn"]["id"], source="insurance", reason="医保双向转诊")
    run_batch(client_as)
    task = tasks(client_as("township_doctor", org="C01T01"))[0]
    assert task["priority"] == 1
    stats = client_as("county_admin").get("/api/v1/screening/stats").get_json()
    assert stats["referral_flags"] == {"residents": 1, "by_source": {"insurance": 1}, "with_open_case": 1}


def test_new_data_rescreens_the_resident_at_once(client_as, make_resident, deployed):
    resident = make_resident(org="C01T01V01", name="孙立", sex="M", born=date(1960, 1, 1))
    village = client_as("village_doctor", org="C01T01V01")
    url = f"/api/v1/residents/{resident['id']}/observations"
    for code, value in (("8480-6", 150), ("8462-4", 95)):
        assert village.post(url, json={"code": code, "value": value, "unit": "mmHg", "source": "village_app",
                                       "effective_at": "2026-03-02T09:00:00+08:00"}).status_code == 201
    cases = client_as("county_admin").get("/api/v1/screening/cases?kind=suspected").get_json()["items"]
    assert [(c["resident_id"], c["disease"], c["source"]) for c in cases] == [(resident["id"], "htn", "new_data")]
    assert [t["element_id"] for t in tasks(client_as("township_doctor", org="C01T01"))] == ["verify_case"]


def test_running_the_batch_needs_an_admin_or_public_health_role(client_as, deployed):
    assert client_as("village_doctor").post("/api/v1/screening/runs", json={}).status_code == 403


def test_a_case_needing_confirmation_upstairs_starts_a_real_up_referral(app, client_as, population):
    """R1 `SCR_CONFIRM`: the township's verification "需上级医院确诊" starts `referral_up` (trigger screening, routine,
    the DMN's capability) through the referral capability's public entry point, once; the case is closed as referred."""
    from tests.referral_support import deploy_referral_models
    deploy_referral_models(app)
    run_batch(client_as)
    doctor = client_as("township_doctor", org="C01T01")
    verify = tasks(doctor)[0]
    complete(doctor, verify, {"verification": "refer", "note": "非同日3次血压≥140/90，需上级确诊"})
    items = doctor.get(f"/api/v1/referrals?resident_id={population['htn']['id']}").get_json()["items"]
    assert len(items) == 1, items
    listed = items[0]
    assert (listed["direction"], listed["urgency"], listed["disease"]) == ("up", "routine", "htn")
    detail = doctor.get(f"/api/v1/referrals/{listed['id']}").get_json()
    assert detail["instance_id"] is not None and detail["source"] == "screening"
    assert detail["form"]["trigger"] == "screening" and detail["capability"] == "cardiology"
    case = client_as("county_admin").get("/api/v1/screening/cases?disease=htn").get_json()["items"]
    assert [(c["status"], c["kind"]) for c in case if c["track"] != "prevention"] == [("referred", "suspected")]
    assert [t["element_id"] for t in tasks(doctor) if t["element_id"] == "verify_case"] == []

"""Dose and interaction checks before approval (issue 12.5): every regimen line is checked on submission of the draft
and on approval; above-maximum doses and contraindicated combinations are refused naming the line, warnings need an
acknowledgement with a comment that reaches the approver, unknown drugs are refused with a pick list."""
from __future__ import annotations

from tests.test_follow_up_support import (
    PLAN,
    complete,
    one_task,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
)


def _draft(login_as, resident):
    specialist = login_as("county_specialist", org="C01")
    resp = specialist.post("/api/v1/care-plans/requests", json={"resident_id": resident, "disease": "htn",
                                                                "risk_level": "HIGH"})
    assert resp.status_code == 202, resp.json
    return specialist, one_task(specialist, "draft_plan_county")


def _submit(client, task, drugs, **content):
    return client.post(f"/api/v1/tasks/{task['id']}/complete",
                       json={"data": {"content": {**PLAN, "drugs": drugs, **content}, "change_reason": "首次制订"}})


def test_losartan_200_mg_a_day_is_blocked_naming_the_line(app, login_as, resident):
    drafter, task = _draft(login_as, resident)
    resp = _submit(drafter, task, [
        {"drug": "amlodipine", "name": "氨氯地平片", "dose_mg": 5, "frequency": "qd"},
        {"drug": "losartan", "name": "氯沙坦钾片", "dose_mg": 100, "frequency": "bid"}])
    assert resp.status_code == 422, resp.json
    assert resp.json["code"] == "dose_above_maximum"
    assert resp.json["details"]["line"] == 1 and resp.json["details"]["field"] == "content.drugs[1].dose_mg"
    finding = resp.json["details"]["findings"][0]
    assert (finding["daily_mg"], finding["max_daily_mg"]) == (200, 100) and "氯沙坦" in resp.json["message"]
    assert one_task(drafter, "draft_plan_county")["status"] == "open"       # nothing was submitted


def test_acei_with_arb_is_a_contraindicated_combination(app, login_as, resident):
    drafter, task = _draft(login_as, resident)
    resp = _submit(drafter, task, [
        {"drug": "enalapril", "name": "依那普利片", "dose_mg": 10, "frequency": "qd"},
        {"drug": "valsartan", "name": "缬沙坦胶囊", "dose_mg": 80, "frequency": "qd"}])
    assert resp.status_code == 422 and resp.json["code"] == "contraindicated_combination", resp.json
    assert resp.json["details"]["findings"][0]["lines"] == [0, 1]


def test_an_unknown_drug_is_refused_with_a_pick_list(app, login_as, resident):
    drafter, task = _draft(login_as, resident)
    resp = _submit(drafter, task, [{"drug": "amlodipin", "name": "氨氯地平片", "dose_mg": 5, "frequency": "qd"}])
    assert resp.status_code == 422 and resp.json["code"] == "unknown_drug", resp.json
    picks = resp.json["details"]["suggestions"]
    assert picks[0]["drug"] == "amlodipine" and picks[0]["name_zh"] == "氨氯地平" and picks[0]["atc"] == "C08CA01"
    catalogue = drafter.get("/api/v1/vocabulary/drugs?q=沙坦")
    assert catalogue.status_code == 200 and {d["drug"] for d in catalogue.json} >= {"losartan", "valsartan"}
    form_drug = task["form"]["schema"]["properties"]["content"]["properties"]["drugs"]["items"]["properties"]["drug"]
    assert "amlodipine" in form_drug["examples"]


def test_a_warning_needs_an_acknowledgement_that_reaches_the_approver(app, login_as, resident):
    drafter, task = _draft(login_as, resident)
    regimen = [{"drug": "losartan", "name": "氯沙坦钾片", "dose_mg": 50, "frequency": "qd"},
               {"drug": "potassium_chloride", "name": "氯化钾缓释片", "dose_mg": 500, "frequency": "bid"}]
    resp = _submit(drafter, task, regimen)
    assert resp.status_code == 422 and resp.json["code"] == "acknowledgement_required", resp.json
    finding = resp.json["details"]["findings"][0]
    assert finding["key"] == "ras_potassium:losartan+potassium_chloride" and "高钾" in finding["message"]
    empty = _submit(drafter, task, regimen, acknowledgements=[{"finding": finding["key"], "comment": " "}])
    assert empty.status_code == 422, empty.json                               # a comment is required
    complete(drafter, task, {"content": {**PLAN, "drugs": regimen, "acknowledgements": [
        {"finding": finding["key"], "comment": "低钾血症（血钾3.2），短期补钾，2周复查血钾"}]}, "change_reason": "首次制订"})
    approver = login_as("county_specialist", org="C01", username="li_director")
    approve = one_task(approver, "approve_plan")
    shown = approve["form"]["schema"]["properties"]["approved"]["description"]
    assert "高钾" in shown and "低钾血症（血钾3.2），短期补钾，2周复查血钾" in shown
    complete(approver, approve, {"approved": True, "approval_comment": "同意，注意复查血钾"})
    plans = approver.get(f"/api/v1/care-plans?resident_id={resident}").json["items"]
    detail = approver.get(f"/api/v1/care-plans/{plans[0]['id']}").json
    stored = str(detail)
    assert "低钾血症（血钾3.2），短期补钾，2周复查血钾" in stored


def test_approval_checks_the_regimen_again(app, login_as, resident):
    from app.core import db
    from app.workflows.models import HumanTask
    drafter, task = _draft(login_as, resident)
    complete(drafter, task, {"content": PLAN, "change_reason": "首次制订"})
    approver = login_as("county_specialist", org="C01", username="li_director")
    approve = one_task(approver, "approve_plan")
    with app.app_context():                 # the regimen the approver is shown changed under them (e.g. a data fix)
        row = db.session().get(HumanTask, approve["id"])
        data = dict(row.data)
        data["content"] = {**data["content"], "drugs": [{**PLAN["drugs"][0], "dose_mg": 20}]}
        row.data = data
        db.session().commit()
    resp = approver.post(f"/api/v1/tasks/{approve['id']}/complete", json={"data": {"approved": True}})
    assert resp.status_code == 422 and resp.json["code"] == "dose_above_maximum", resp.json
    sent_back = approver.post(f"/api/v1/tasks/{approve['id']}/complete",
                              json={"data": {"approved": False, "approval_comment": "剂量超过说明书上限，请修改"}})
    assert sent_back.status_code == 200, sent_back.json


def test_a_revision_proposed_through_the_api_is_checked_before_it_starts(app, login_as, resident):
    from tests.test_follow_up_support import plan_in_force
    done = plan_in_force(app, login_as, resident)
    township = login_as("township_doctor", org="C01T01")
    plan_id = done["plan"]["id"]
    too_much = {**PLAN, "drugs": [{"drug": "losartan", "name": "氯沙坦钾片", "dose_mg": 200, "frequency": "qd"}]}
    resp = township.post(f"/api/v1/care-plans/{plan_id}/revisions", json={"content": too_much, "reason": "血压未达标"})
    assert resp.status_code == 422 and resp.json["code"] == "dose_above_maximum", resp.json
    both = {**PLAN, "drugs": [{"drug": "losartan", "name": "氯沙坦钾片", "dose_mg": 50, "frequency": "qd"},
                              {"drug": "spironolactone", "name": "螺内酯片", "dose_mg": 20, "frequency": "qd"}],
            "acknowledgements": [{"finding": "ras_potassium:losartan+spironolactone", "comment": "难治性高血压，加用螺内酯，1周查血钾"}]}
    resp = township.post(f"/api/v1/care-plans/{plan_id}/revisions", json={"content": both, "reason": "难治性高血压"})
    assert resp.status_code == 202, resp.json
    approve = one_task(done["approver"], "approve_plan")
    assert "难治性高血压，加用螺内酯，1周查血钾" in approve["form"]["schema"]["properties"]["approved"]["description"]

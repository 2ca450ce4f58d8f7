"""Care plans through the API: routing by risk, four eyes, revision proposals with comments and a version diff,
medication guidance, and the printable PDF with Chinese text."""
from __future__ import annotations

import copy
import io

from tests.test_follow_up_support import (
    PLAN,
    complete,
    one_task,
    open_tasks,
    plan_in_force,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
)


def test_a_low_risk_plan_is_drafted_by_the_township(app, login_as, resident):
    township = login_as("township_doctor", org="C01T01")
    specialist = login_as("county_specialist", org="C01")
    assert township.post("/api/v1/care-plans/requests",
                         json={"resident_id": resident, "disease": "htn", "risk_level": "LOW"}).status_code == 202
    assert open_tasks(specialist, "draft_plan_county") == []
    draft = one_task(township, "draft_plan_township")
    assert draft["form"]["schema"]["properties"]["content"]["default"]["follow_up_interval_days"] == 90


def test_requesting_a_plan_twice_starts_one_process(app, login_as, resident):
    specialist = login_as("county_specialist", org="C01")
    body = {"resident_id": resident, "disease": "htn", "risk_level": "HIGH"}
    first = specialist.post("/api/v1/care-plans/requests", json=body).json
    second = specialist.post("/api/v1/care-plans/requests", json=body).json
    assert first["status"] == "started" and second["status"] == "in_progress"
    assert len(open_tasks(specialist, "draft_plan_county")) == 1


def test_the_approval_is_never_offered_to_the_drafter(app, login_as, resident):
    """12.8: separation of duties before the fact: the drafter's inbox, counts and next steps never hold the
    approval of their own plan; claiming or completing it answers 403 separation_of_duties."""
    drafter = login_as("county_specialist", org="C01")
    other = login_as("county_specialist", org="C01")
    drafter.post("/api/v1/care-plans/requests", json={"resident_id": resident, "disease": "htn", "risk_level": "HIGH"})
    before = drafter.get("/api/v1/tasks/counts").json
    done = complete(drafter, one_task(drafter, "draft_plan_county"), {"content": PLAN})
    assert [t for t in done["next_tasks"] if t["element_id"] == "approve_plan"] == []
    assert open_tasks(drafter, "approve_plan", view="groups") == []
    assert drafter.get("/api/v1/tasks/counts").json["groups"] == before["groups"] - 1
    offered = open_tasks(other, "approve_plan", view="groups")
    assert len(offered) == 1
    task_id = offered[0]["id"]
    detail = drafter.get(f"/api/v1/tasks/{task_id}").json
    assert detail["can"]["claim"] is False and detail["can"]["complete"] is False
    assert drafter.user.username not in [c["username"] for c in detail["candidates"]]
    for attempt in (drafter.post(f"/api/v1/tasks/{task_id}/claim"),
                    drafter.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"approved": True}})):
        assert attempt.status_code == 403 and attempt.json["code"] == "separation_of_duties", attempt.json
    complete(other, one_task(other, "approve_plan", view="groups"), {"approved": True})
    plan = drafter.get(f"/api/v1/care-plans?resident_id={resident}").json["items"][0]
    detail = drafter.get(f"/api/v1/care-plans/{plan['id']}").json
    assert detail["current"]["drafted_by"] == drafter.user.username
    assert detail["current"]["approved_by"] == other.user.username


def test_a_returned_draft_goes_back_to_its_drafter_with_the_comment(app, login_as, resident):
    drafter = login_as("county_specialist", org="C01")
    reviewer = login_as("county_specialist", org="C01")
    drafter.post("/api/v1/care-plans/requests", json={"resident_id": resident, "disease": "htn", "risk_level": "HIGH"})
    complete(drafter, one_task(drafter, "draft_plan_county"), {"content": PLAN})
    rejected = reviewer.post(f"/api/v1/tasks/{one_task(reviewer, 'approve_plan')['id']}/complete",
                             json={"data": {"approved": False}})
    assert rejected.status_code == 422                          # returning needs a comment
    complete(reviewer, one_task(reviewer, "approve_plan"), {"approved": False, "approval_comment": "请加用利尿剂"})
    assert one_task(drafter, "draft_plan_county")
    plan = drafter.get(f"/api/v1/care-plans?resident_id={resident}").json["items"][0]
    assert [c["body"] for c in drafter.get(f"/api/v1/care-plans/{plan['id']}").json["comments"]] == ["请加用利尿剂"]


def test_a_township_revision_is_approved_by_the_county_with_a_diff(app, login_as, resident):
    done = plan_in_force(app, login_as, resident)
    plan_id = done["plan"]["id"]
    township = login_as("township_doctor", org="C01T01")
    revised = copy.deepcopy(PLAN)
    revised["drugs"][0]["dose_mg"] = 10
    revised["drugs"].append({"drug": "hydrochlorothiazide", "name": "氢氯噻嗪片", "dose_mg": 12.5, "frequency": "qd"})
    resp = township.post(f"/api/v1/care-plans/{plan_id}/revisions", json={"content": revised, "reason": "血压未达标"})
    assert resp.status_code == 202, resp.json
    again = township.post(f"/api/v1/care-plans/{plan_id}/revisions", json={"content": revised, "reason": "重复"})
    assert again.status_code == 409 and again.json["code"] == "revision_in_progress"
    assert township.post(f"/api/v1/care-plans/{plan_id}/comments",
                         json={"body": "患者依从性好，建议加量", "version": 2}).status_code == 201
    complete(done["approver"], one_task(done["approver"], "approve_plan"), {"approved": True})
    complete(done["village"], one_task(done["village"], "acknowledge_plan"), {"acknowledged": True})

    diff = township.get(f"/api/v1/care-plans/{plan_id}/versions/1/diff/2").json
    assert {(c["path"], c["change"]) for c in diff["changes"]} == {("drugs.amlodipine", "changed"),
                                                                   ("drugs.hydrochlorothiazide", "added")}
    assert diff["change_reason"] == "血压未达标" and [c["body"] for c in diff["comments"]] == ["患者依从性好，建议加量"]
    detail = township.get(f"/api/v1/care-plans/{plan_id}").json
    assert [v["status"] for v in detail["versions"]] == ["superseded", "acknowledged"]
    assert detail["current"]["drafted_by"] == township.user.username


def test_plans_outside_the_callers_scope_do_not_exist(app, login_as, resident):
    plan_id = plan_in_force(app, login_as, resident)["plan"]["id"]
    elsewhere = login_as("township_doctor", org="C01T02")
    assert elsewhere.get(f"/api/v1/care-plans/{plan_id}").status_code == 404
    assert elsewhere.get(f"/api/v1/care-plans/{plan_id}/pdf").status_code == 404


def test_guidance_warns_of_an_acei_with_potassium(app, login_as, resident):
    # a dose above the label maximum never reaches a plan in force any more (refused on submission, issue 12.5);
    # the acknowledged ACEI + potassium warning stays in the guidance
    content = copy.deepcopy(PLAN)
    content["drugs"] = [{"drug": "enalapril", "name": "依那普利片", "dose_mg": 20, "frequency": "bid"},
                        {"drug": "potassium_chloride", "name": "氯化钾缓释片", "dose_mg": 500, "frequency": "tid"}]
    content["acknowledgements"] = [{"finding": "ras_potassium:enalapril+potassium_chloride",
                                    "comment": "低钾血症，短期补钾并每周复查血钾"}]
    done = plan_in_force(app, login_as, resident, content=content)
    guidance = done["drafter"].get(f"/api/v1/care-plans/{done['plan']['id']}/guidance").json
    assert {w["code"] for w in guidance["warnings"]} == {"ras_potassium"}
    assert guidance["drugs"][0]["drug_class"] == "ACEI" and guidance["drugs"][0]["max_daily_mg"] == 40
    assert guidance["decision_versions"]["drug_dose_limits"] >= 1


def test_the_plan_pdf_carries_chinese_text(app, login_as, resident):
    from pypdf import PdfReader
    done = plan_in_force(app, login_as, resident)
    resp = done["village"].get(f"/api/v1/care-plans/{done['plan']['id']}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
    for expected in ("高血压患者个体化管理方案", "王建国", "氨氯地平片", "每日1次", "高血压患者如何限盐"):
        assert expected in text.replace(" ", "").replace("\n", ""), expected


def test_a_specialists_own_revision_proposal_is_offered_to_another_specialist_only(app, login_as, resident):
    """12.8 for a proposal (mode `proposed`: no drafting task, the proposer is the drafter)."""
    done = plan_in_force(app, login_as, resident)
    proposer, other = done["approver"], done["drafter"]
    revised = copy.deepcopy(PLAN)
    revised["drugs"][0]["dose_mg"] = 10
    resp = proposer.post(f"/api/v1/care-plans/{done['plan']['id']}/revisions",
                         json={"content": revised, "reason": "血压未达标"})
    assert resp.status_code == 202, resp.json
    assert open_tasks(proposer, "approve_plan", view="groups") == []
    task_id = open_tasks(other, "approve_plan", view="groups")[0]["id"]
    refused = proposer.post(f"/api/v1/tasks/{task_id}/claim")
    assert refused.status_code == 403 and refused.json["code"] == "separation_of_duties"
    complete(other, one_task(other, "approve_plan", view="groups"), {"approved": True})


def test_a_fhir_care_plan_carries_its_activities_in_chinese(app, login_as, resident):
    """FHIR R4 (4.0.1): the CarePlan names the disease in Chinese and carries what the plan asks for (each drug with its
    dose and frequency, the follow-up interval, the targets) instead of an empty shell titled `htn 管理方案`."""
    from tests.api.test_fhir import valid_r4
    plan_in_force(app, login_as, resident)
    reader = login_as("county_specialist", org="C01")
    assert reader.get("/fhir/metadata").get_json()["fhirVersion"] == "4.0.1"
    found = reader.get(f"/fhir/CarePlan?patient={resident}").get_json()
    [entry] = found["entry"]
    care_plan = valid_r4(entry["resource"])
    assert care_plan["title"] == "高血压管理方案" and care_plan["category"][0]["text"] == "高血压"
    assert care_plan["status"] == "active" and "血压<140/90" in care_plan["description"]
    details = [a["detail"] for a in care_plan["activity"]]
    drug = next(d for d in details if d["kind"] == "MedicationRequest")
    assert drug["productCodeableConcept"]["text"] == "氨氯地平片" and drug["dailyAmount"] == {
        "value": 5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
    assert drug["description"] == "氨氯地平片 5 mg 每日1次"
    visit = next(d for d in details if d["kind"] == "Appointment")
    assert visit["code"]["text"] == "随访" and visit["scheduledTiming"]["repeat"] == {"frequency": 1, "period": 30,
                                                                                    "periodUnit": "d"}
    assert all(d["status"] == "scheduled" for d in details)

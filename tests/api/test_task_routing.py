"""A care-plan task of the village doctor goes to the township when the resident is managed by a township centre
(the care_plans task enricher asks, the inbox writes the role)."""
from __future__ import annotations

from tests.test_follow_up_support import PLAN, complete, deploy_care_models, make_resident, one_task, open_tasks


def test_the_acknowledgement_of_a_township_managed_residents_plan_is_offered_to_the_township(app, county,
                                                                                              login_as):
    deploy_care_models(app)
    resident = make_resident(app, org="C01T01")
    specialist = login_as("county_specialist", org="C01")
    approver = login_as("county_specialist", org="C01")
    assert specialist.post("/api/v1/care-plans/requests", json={"resident_id": resident, "disease": "htn",
                                                                 "risk_level": "HIGH"}).status_code == 202
    complete(specialist, one_task(specialist, "draft_plan_county"), {"content": PLAN})
    complete(approver, one_task(approver, "approve_plan"), {"approved": True})
    township = login_as("township_doctor", org="C01T01")
    village = login_as("village_doctor", org="C01T01V01")
    task = one_task(township, "acknowledge_plan")
    assert task["role"] == "township_doctor"
    assert open_tasks(village, "acknowledge_plan") == []

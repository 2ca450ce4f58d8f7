"""Issue 14.11: an instance started by a signed webhook offers its lane tasks to staff like any other instance, and
completing a task stores only the fields of the task's form."""
from __future__ import annotations

import pytest

from tests.api.test_webhooks import _fresh_rate_limits, integration_client, lab, signed_post, wang  # noqa: F401  (fixtures)


@pytest.fixture()
def started(app, client, integration_client, wang,  # noqa: F811
            deploy_models):
    deploy_models("reading_review.bpmn", "reading_review", with_dmn=False)
    response = signed_post(client, integration_client, "device_reading", lab(code="8480-6", value=162, unit="mmHg"))
    assert response.status_code == 200, response.get_json()
    [instance_id] = response.get_json()["started_instances"]
    return instance_id


def _groups(api):
    response = api.get("/api/v1/tasks?view=groups")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_webhook_started_instance_offers_its_lane_task_to_the_township_doctor_of_the_resident(
        started, login_as):
    doctor = login_as("township_doctor", org="C01T01")
    other_township = login_as("township_doctor", org="C01T02")
    [task] = [t for t in _groups(doctor) if t["instance_id"] == started]
    assert task["element_id"] == "review_reading"
    assert not [t for t in _groups(other_township) if t["instance_id"] == started]
    claimed = doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200, claimed.get_json()


def test_completing_a_task_keeps_only_the_form_fields(app, started, login_as):
    doctor = login_as("township_doctor", org="C01T01")
    [task] = [t for t in _groups(doctor) if t["instance_id"] == started]
    response = doctor.post(f"/api/v1/tasks/{task['id']}/complete",
                           json={"data": {"reviewed": True, "note": "复测正常", "resident_id": 999999,
                                          "injected": "x"}})
    assert response.status_code == 200, response.get_json()
    history = doctor.get(f"/api/v1/process-instances/{started}").get_json()["history"]
    [done] = [e for e in history if e["type"] == "task_completed" and e["element_id"] == "review_reading"]
    assert done["data"] == {"reviewed": True, "note": "复测正常"}



def test_a_laneless_task_of_a_webhook_started_instance_is_offered_to_the_staff_of_the_residents_organization(
        app, client, integration_client, wang, deploy_models, login_as):  # noqa: F811
    """A task in no lane goes to the user who started the instance; an integration client is no such user, so the
    task is offered by organization (the resident's) to the staff who treat patients there."""
    deploy_models("message_start.bpmn", with_dmn=False)
    response = signed_post(client, integration_client, "device_reading", lab(code="8480-6", value=150, unit="mmHg"))
    [instance_id] = response.get_json()["started_instances"]
    village = login_as("village_doctor", org="C01T01V01")
    township = login_as("township_doctor", org="C01T01")
    [task] = [t for t in _groups(township) if t["instance_id"] == instance_id]
    assert [t["id"] for t in _groups(village) if t["instance_id"] == instance_id] == [task["id"]]
    assert not [t for t in _groups(login_as("township_doctor", org="C01T02")) if t["instance_id"] == instance_id]
    assert not [t for t in _groups(login_as("trainer", org="C01T01")) if t["instance_id"] == instance_id]
    candidates = {c["username"] for c in township.get(f"/api/v1/tasks/{task['id']}").get_json()["candidates"]}
    assert candidates == {village.user.username, township.user.username}
    done = township.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert done.status_code == 200, done.get_json()


def test_the_staff_offered_a_laneless_webhook_task_are_told_of_it(app, client, integration_client, wang,  # noqa: F811
                                                                   deploy_models, login_as):
    village = login_as("village_doctor", org="C01T01V01")
    trainer = login_as("trainer", org="C01T01V01")
    deploy_models("message_start.bpmn", with_dmn=False)
    response = signed_post(client, integration_client, "device_reading", lab(code="8480-6", value=150, unit="mmHg"))
    assert response.status_code == 200, response.get_json()
    kinds = [n["kind"] for n in village.get("/api/v1/notifications").get_json()["items"]]
    assert kinds.count("task_new") == 1
    assert "task_new" not in [n["kind"] for n in trainer.get("/api/v1/notifications").get_json()["items"]]

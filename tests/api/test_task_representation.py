"""One task representation (issue 15.3): a process instance's open tasks are the inbox's task objects, so the
instance page names who holds a task and its organization instead of showing a user id."""
from __future__ import annotations


def test_an_instances_open_tasks_are_the_inboxs_tasks(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"}).json
    [task] = inst["open_tasks"]
    assert doctor.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    [shown] = doctor.get(f"/api/v1/process-instances/{inst['id']}").json["open_tasks"]
    [listed] = doctor.get("/api/v1/tasks?view=mine").json["items"]
    assert shown == listed
    assert shown["assignee"]["display_name"] and shown["org_name"] and "assignee_id" not in shown


def test_a_task_with_values_not_loaded_is_the_same_inbox_item(login_as, deploy_models, app):
    """An inbox item is built from a loaded task's values; a task with some of them expired loads them first."""
    from app.core import db
    from app.tasks import queries
    from app.workflows.models import HumanTask
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"}).json
    [shown] = inst["open_tasks"]
    with app.app_context(), db.unit_of_work() as s:
        row = s.get(HumanTask, shown["id"])
        assert queries.items([row]) == [shown]
        s.expire(row, ["due_at", "etag_version", "name"])
        assert queries.items([row]) == [shown]
        s.expire(row)
        assert queries.items([row]) == [shown]

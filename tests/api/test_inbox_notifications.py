"""In-platform notifications: created once for new tasks, assignments, delegations and overdue tasks; listed and
marked read by their user only."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core import clock, db
from app.notifications.jobs import notify_overdue
from app.workflows.models import HumanTask


@pytest.fixture()
def approval(deploy_models):
    deploy_models("approval.bpmn", "approval")


def start_task(api):
    inst = api.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01V01"}).json
    return next(t for t in api.get("/api/v1/tasks?view=org").json["items"] if t["instance_id"] == inst["id"])


def kinds(api, query=""):
    return [n["kind"] for n in api.get(f"/api/v1/notifications{query}").json["items"]]


def test_a_new_task_is_announced_once_to_its_candidates(login_as, approval):
    admin = login_as("county_admin")
    doctor = login_as("township_doctor", org="C01T01")
    outsider = login_as("township_doctor", org="C01T02")
    task = start_task(admin)
    notes = doctor.get("/api/v1/notifications").json
    assert [(n["kind"], n["task_id"], n["link"]) for n in notes["items"]] == [
        ("task_new", task["id"], f"/tasks/{task['id']}")]
    assert notes["unread"] == 1
    assert kinds(outsider) == [] and kinds(admin) == []
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")        # later steps of the same task announce nothing new
    assert kinds(doctor) == ["task_new"]


def test_assignment_and_delegation_notify_the_new_holder(login_as, approval):
    admin = login_as("county_admin")
    doctor = login_as("township_doctor", org="C01T01")
    helper = login_as("township_public_health", org="C01T01")
    task = start_task(admin)
    admin.post(f"/api/v1/tasks/{task['id']}/assign", json={"user_id": doctor.user.id})
    assert kinds(doctor) == ["task_assigned", "task_new"]
    doctor.post(f"/api/v1/tasks/{task['id']}/delegate", json={"user_id": helper.user.id})
    assert kinds(helper) == ["task_delegated"]
    helper.post(f"/api/v1/tasks/{task['id']}/return")
    assert kinds(doctor)[0] == "task_returned"


def test_the_overdue_sweep_notifies_once(app, login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    with app.app_context():
        with db.unit_of_work() as s:
            s.execute(update(HumanTask).where(HumanTask.id == task["id"])
                      .values(due_at=clock.now() - timedelta(hours=2)))
        assert notify_overdue() == 1
        assert notify_overdue() == 0
    assert kinds(doctor).count("task_overdue") == 1
    assert doctor.get("/api/v1/tasks/counts").json["overdue"] == 1


def test_a_notification_names_the_disease_and_risk_in_chinese(app, login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    with app.app_context():
        with db.unit_of_work() as s:
            s.execute(update(HumanTask).where(HumanTask.id == task["id"]).values(
                due_at=clock.now() - timedelta(hours=2), resident_name="王建国", disease="t2dm", risk_level="HIGH"))
        assert notify_overdue() == 1
    [overdue] = [n for n in doctor.get("/api/v1/notifications").json["items"] if n["kind"] == "task_overdue"]
    assert overdue["body"].startswith("王建国，2型糖尿病，高危，截止 ")
    assert "t2dm" not in overdue["body"] and "HIGH" not in overdue["body"]


def test_notifications_are_read_by_their_user_only(login_as, approval):
    doctor, other = login_as("township_doctor", org="C01T01"), login_as("township_doctor", org="C01T02")
    start_task(doctor)
    note = doctor.get("/api/v1/notifications?unread=1").json["items"][0]
    assert other.post(f"/api/v1/notifications/{note['id']}/read").status_code == 404
    read = doctor.post(f"/api/v1/notifications/{note['id']}/read")
    assert read.status_code == 200 and read.json["read_at"]
    assert doctor.get("/api/v1/notifications?unread=1").json == {"items": [], "total": 0, "unread": 0}
    assert doctor.get("/api/v1/notifications").json["total"] == 1
    start_task(doctor)
    assert doctor.post("/api/v1/notifications/read-all").json == {"unread": 0}
    assert doctor.get("/api/v1/notifications?unread=1").json["total"] == 0


def test_a_task_for_a_large_group_is_not_announced_and_its_candidates_are_not_all_loaded(app, login_as, approval):
    """A township of 150 doctors made every completion load them all with their roles, only to announce nothing
    (more than MAX_GROUP): the candidates are now read as ids, at most MAX_GROUP + 1 of them."""
    from sqlalchemy import event

    from app.auth.services import create_user
    from app.notifications.jobs import MAX_GROUP, recipients

    admin = login_as("county_admin")
    with app.app_context():
        for i in range(MAX_GROUP + 5):
            create_user(f"td_{i:02d}", password=None, roles=["township_doctor"], org_code="C01T01")
    task = start_task(admin)
    assert all(k != "task_new" for k in kinds(login_as("township_doctor", org="C01T01")))
    statements: list[str] = []
    with app.app_context():
        engine = db.session().get_bind()
        listener = lambda *a: statements.append(a[2])       # before_cursor_execute(conn, cursor, statement, …)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            row = db.session().get(HumanTask, task["id"])
            assert recipients(row) == []
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    users_reads = [s for s in statements if "FROM users" in s]
    assert len(users_reads) == 1 and "LIMIT" in users_reads[0]            # ids, capped: not every doctor
    assert not any("user_roles.user_id IN" in s for s in statements)     # and no roles loaded per user


def test_candidate_ids_leave_out_the_excluded_user_and_stop_at_the_limit(app, county):
    from app.auth.queries import candidate_user_ids
    from app.auth.services import create_user

    with app.app_context():
        ids = [create_user(f"doc_{i}", password=None, roles=["township_doctor"], org_code="C01T01").id
               for i in range(4)]
        create_user("doc_other", password=None, roles=["township_doctor"], org_code="C01T02")
        assert candidate_user_ids("township_doctor", "C01T01V01") == ids
        assert candidate_user_ids("township_doctor", "C01T01V01", excluding="doc_1") == [ids[0], *ids[2:]]
        assert candidate_user_ids("township_doctor", "C01T01V01", limit=2) == ids[:2]
        assert candidate_user_ids("township_doctor", "NOPE") == []


def test_a_new_tasks_candidates_take_the_organizations_path_from_the_cached_tree(app, login_as, approval):
    """Issue 23.5 (completion): announcing a new task read its organization's path with a statement of its own
    (`candidate_user_ids`); the path now comes from the per-worker organization facts (one read of the whole tree,
    kept 2 s), so a completion's announcement sends the task's read and the candidates' only."""
    from app.notifications.jobs import recipients
    from app.org.queries import org_facts
    from tests.helpers import statements_sent

    task = start_task(login_as("county_admin"))
    with app.app_context():
        assert org_facts("C01T01V01") is not None           # the tree is cached, as on a worker that ran a step
        row = db.session().get(HumanTask, task["id"])
        with statements_sent() as seen:
            recipients(row)
    assert not [s for s in seen if "FROM organizations" in s]
    assert len([s for s in seen if "FROM users" in s]) == 1

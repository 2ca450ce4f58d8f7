"""Completing a task writes only the inbox rows the step changed (issue 23.5): the new tasks, the closed ones; an
open task the step did not touch is neither read nor written, and every projection equals what a full
re-projection of the same step gives (`tests/projection_oracle.py`)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import clock, db
from tests.helpers import statements_sent
from tests.projection_oracle import oracle_fixture  # noqa: F401
from tests.test_follow_up_support import (
    complete,
    deploy_care_models,
    htn_visit,
    local_today,
    make_resident,
    one_task,
    plan_in_force,
    tick,
)


def _reads_open_tasks_of_instance(seen: list[str]) -> list[str]:
    flat = [" ".join(s.split()) for s in seen]
    return [s for s in flat if s.upper().startswith("SELECT") and "FROM human_tasks" in s
            and "human_tasks.instance_id =" in s]


def _row(app, task_id):
    from app.workflows.models import HumanTask
    with app.app_context():
        return db.session().get(HumanTask, task_id)


def _open(app, instance_id):
    from app.workflows.models import HumanTask
    with app.app_context():
        return db.session().scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.status == "open")).all()


@pytest.fixture()
def loop_model(deploy_models):
    deploy_models("monitoring_loop.bpmn", with_dmn=False)


def test_a_completion_that_opens_the_next_task_reads_no_open_task_rows(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"}).json
    with statements_sent() as seen:
        a = doctor.post(f"/api/v1/tasks/{inst['open_tasks'][0]['id']}/complete",
                        json={"data": {"amount": 150, "comment": "x"}})
    assert a.status_code == 200 and [t["element_id"] for t in a.json["next_tasks"]] == ["task_b"]
    assert _reads_open_tasks_of_instance(seen) == []
    with statements_sent() as seen:
        b = doctor.post(f"/api/v1/tasks/{a.json['next_tasks'][0]['id']}/complete", json={"data": {"approved": True}})
    assert b.status_code == 200 and b.json["next_tasks"] == []
    assert _reads_open_tasks_of_instance(seen) == []


def test_completing_one_of_two_parallel_tasks_leaves_the_other_row_alone(app, login_as, loop_model,
                                                                          full_projection_oracle):
    doctor = login_as("county_admin", org="C01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "monitoring_loop", "org_code": "C01T01",
                                                          "data": {"rounds": 2}}).json
    assert "open_tasks" in inst, inst
    tasks = {t["element_id"]: t for t in inst["open_tasks"]}
    reading = _row(app, tasks["record_reading"]["id"])
    clock.advance(timedelta(days=2))
    done = complete(doctor, tasks["check_dose"], {})
    assert [t["element_id"] for t in done["next_tasks"]] == ["record_reading"]
    after = _row(app, reading.id)
    # untouched: a full re-projection used to move a relative due date (dueIn P3D) to now + 3 days here
    assert (after.etag_version, after.due_at, after.data) == (reading.etag_version, reading.due_at, reading.data)
    complete(doctor, tasks["record_reading"], {})        # the round ends; the next one opens both again
    assert sorted(r.element_id for r in _open(app, inst["id"])) == ["check_dose", "record_reading"]
    resp = doctor.post(f"/api/v1/process-instances/{inst['id']}/terminate", json={"reason": "结束"})
    assert resp.status_code == 200, resp.json
    assert _open(app, inst["id"]) == []
    assert full_projection_oracle.incremental >= 3 and full_projection_oracle.differences == []


def test_a_year_of_care_projects_as_a_full_re_projection_would(app, login_as, full_projection_oracle):
    deploy_care_models(app)
    resident = make_resident(app)
    village = plan_in_force(app, login_as, resident)["village"]
    for n in range(4):
        tick(app, 27 if n == 0 else 30)
        complete(village, one_task(village, "record_htn_visit_high_risk"), htn_visit(local_today(app), 132, 84))
    assert full_projection_oracle.incremental >= 7 and full_projection_oracle.differences == []


def test_terminating_an_instance_cancels_its_open_tasks(app, login_as, loop_model):
    from app.workflows.models import HumanTask
    doctor = login_as("county_admin", org="C01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "monitoring_loop", "org_code": "C01T01",
                                                          "data": {"rounds": 2}}).json
    assert doctor.post(f"/api/v1/process-instances/{inst['id']}/terminate", json={"reason": "x"}).status_code == 200
    with app.app_context():
        rows = db.session().scalars(select(HumanTask).where(HumanTask.instance_id == inst["id"])).all()
        assert sorted(r.status for r in rows) == ["cancelled", "cancelled"]


def test_a_steps_new_task_rows_are_held_as_they_were_stored(app, login_as, loop_model, monkeypatch):
    """What the session holds of a step's new tasks (the start's answer and `next_tasks` read it, nothing reads it
    back) is what was stored, column for column: new tasks two at once (one multi-row INSERT); a task's unset draft is
    SQL NULL, not JSON null. (One new task at a time: tests/api/test_engine_path_statements.py's answers.)"""
    from sqlalchemy import bindparam, inspect, text

    from app.tasks import projection
    from app.workflows import hooks
    from app.workflows.models import HumanTask
    columns = [c.key for c in HumanTask.__mapper__.column_attrs]
    held: dict[int, dict] = {}
    project = hooks._inbox["project"]

    def watched(session, inst, views, now, **kw):
        project(session, inst, views, now, **kw)
        for row in (session.info.get(projection._LAST_STEP) or (None, []))[1]:
            state = inspect(row)
            if row.status == "open" and state.persistent and not state.modified:
                held[row.id] = {c: getattr(row, c) for c in columns}
    monkeypatch.setitem(hooks._inbox, "project", watched)

    def stored() -> tuple[dict, int]:
        with app.app_context():
            db.session().expire_all()
            rows = {r.id: {c: getattr(r, c) for c in columns}
                    for r in db.session().scalars(select(HumanTask).where(HumanTask.id.in_(held)))}
            no_draft = db.session().execute(text(
                "SELECT count(*) FROM human_tasks WHERE id IN :ids AND draft IS NULL").bindparams(
                bindparam("ids", expanding=True)), {"ids": list(held)}).scalar_one()
        return rows, no_draft
    doctor = login_as("county_admin", org="C01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "monitoring_loop", "org_code": "C01T01",
                                                          "data": {"rounds": 2}}).json
    assert len(held) == 2 and stored() == (held, 2)
    tasks = {t["element_id"]: t for t in inst["open_tasks"]}
    complete(doctor, tasks["check_dose"], {})
    held.clear()
    complete(doctor, tasks["record_reading"], {})        # the round ends; the next one opens both again
    assert len(held) == 2 and stored() == (held, 2)

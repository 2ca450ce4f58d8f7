"""Issue 12.2: the facts of one submission are applied as one unit — one follow-up visit re-screens its resident
once, re-grades each disease once and asks for at most one plan revision; replaying changes nothing."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.core import clock, db
from app.residents import records
from app.residents.management import enrol
from tests.api.test_screening import deployed  # noqa: F401  (fixture)
from tests.test_follow_up_support import (
    PLAN,
    complete,
    deploy_care_models,
    htn_visit,
    local_today,
    make_resident,
    one_task,
    open_tasks,
    tick,
)


def count(app, process_id: str, resident_id: int, *, open_only: bool = False) -> int:
    from app.workflows.models import ProcessInstance
    with app.app_context():
        stmt = select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.process_id == process_id, ProcessInstance.resident_id == resident_id)
        if open_only:
            stmt = stmt.where(ProcessInstance.status.notin_(("completed", "terminated")))
        return db.session().scalar(stmt)


def open_task_count(app, resident_id: int) -> dict[str, int]:
    from app.workflows.models import HumanTask
    with app.app_context():
        rows = db.session().execute(select(HumanTask.element_id, func.count()).where(
            HumanTask.resident_id == resident_id, HumanTask.status == "open").group_by(HumanTask.element_id))
        return dict(rows.tuples().all())


@pytest.fixture()
def worker(app, monkeypatch):
    """Jobs go to a FIFO queue that one worker drains, as rq does in production (not run inline at enqueue, which
    would finish each grading before the next fact's re-grade looks at the record)."""
    from app.jobs import queue
    pending: list[tuple[str, tuple, dict]] = []
    failures: list[str] = []

    def capture(func, *args, job_id=None, retries=3, backoff=(2, 10, 60), delay_s=0.0, **kwargs):
        pending.append((func, args, kwargs))

    def drain() -> list[str]:
        monkeypatch.setattr(queue, "enqueue", capture)
        ran = []
        while pending:
            func, args, kwargs = pending.pop(0)
            ran.append(func)
            with app.app_context():
                try:
                    queue.resolve(func)(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001  (a worker logs and goes on; the test reports it)
                    failures.append(f"{func}: {exc!r}")
        return ran

    def start() -> None:
        monkeypatch.setattr(queue, "enqueue", capture)
    drain.start, drain.failures = start, failures
    return drain


@pytest.fixture()
def managed(app, login_as, deployed):  # noqa: F811
    """A man of 70 graded 高危 at 170/100 (height on record, so a visit's weight changes his BMI input), his
    high-risk review done and his plan in force; his first follow-up cycle is due."""
    deploy_care_models(app)
    rid = make_resident(app, born=date(1956, 3, 14), sex="M")
    with app.app_context():
        at = clock.now() - timedelta(days=30)
        for code, value, unit in (("8480-6", 170, "mmHg"), ("8462-4", 100, "mmHg"), ("8302-2", 165, "cm")):
            records.record_observation(rid, code=code, value=value, unit=unit, effective_at=at, source="his",
                                       rescreen=False)
        enrol(rid, disease="htn", icd10="I10", diagnosed_on=clock.today() - timedelta(days=30),
              managing_doctor_user_id=None, village_code="C01T01V01", screening_case_id=None, source="test",
              actor="test")
        from app.screening.stratify import start_grading
        assert start_grading(rid, "htn", reason="enrolled", force=True) is not None
    township = login_as("township_doctor", org="C01T01")
    complete(township, one_task(township, "review_high_risk", resident_id=rid),
             {"confirmed_level": "HIGH", "plan": "加强随访"})
    drafter, approver = login_as("county_specialist", org="C01"), login_as("county_specialist", org="C01")
    village = login_as("village_doctor", org="C01T01V01")
    complete(drafter, one_task(drafter, "draft_plan_county", resident_id=rid), {"content": PLAN})
    complete(approver, one_task(approver, "approve_plan", resident_id=rid), {"approved": True})
    complete(village, one_task(village, "acknowledge_plan", resident_id=rid), {"acknowledged": True})
    tick(app, 24)
    return {"id": rid, "village": village, "township": township}


def test_one_follow_up_visit_regrades_once_and_asks_for_at_most_one_revision(app, managed, worker):
    rid, village = managed["id"], managed["village"]
    assert (count(app, "stratify", rid), count(app, "care_plan", rid)) == (1, 1)
    assert count(app, "stratify", rid, open_only=True) == 0
    task = one_task(village, "record_htn_visit_high_risk", resident_id=rid)
    worker.start()
    complete(village, task, htn_visit(local_today(app), 128, 78))
    ran = worker()
    assert not worker.failures, worker.failures
    assert ran.count("app.screening.jobs.screen_resident") == 1, ran     # the visit's facts: one unit
    assert count(app, "stratify", rid) == 2                  # exactly one re-grade (the weight changed the BMI)
    assert count(app, "care_plan", rid) <= 2                 # at most one revision
    assert count(app, "stratify", rid, open_only=True) == 0
    tasks = open_task_count(app, rid)
    assert all(n == 1 for n in tasks.values()), tasks        # no duplicate task
    assert "review_high_risk" not in tasks                   # 高危 stays 高危: nothing to review
    # replaying: the same completion again is refused, and re-screening the same facts starts nothing
    again = village.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": htn_visit(local_today(app), 128, 78)})
    assert again.status_code >= 400
    from app.jobs.queue import enqueue
    with app.app_context():
        enqueue("app.screening.jobs.screen_resident", rid)
        enqueue("app.screening.jobs.regrade_resident", rid)
    worker()
    assert (count(app, "stratify", rid), count(app, "care_plan", rid)) == (2, 1)
    assert open_task_count(app, rid) == tasks
    assert not open_tasks(managed["township"], "propose_revision", resident_id=rid)


def test_a_change_while_a_grading_runs_is_graded_once_after_it(app, managed, worker):
    """A fact that arrives while a grading has not written its level yet starts no second grading at once; the
    running one re-grades exactly once when it has written its level, seeing the new fact."""
    from app.screening.models import GradingState
    from app.screening.stratify import start_grading
    rid = managed["id"]
    worker.start()
    with app.app_context():
        records.record_observation(rid, code="8280-0", value=95, unit="cm", effective_at=clock.now(), source="his",
                                   rescreen=False)
        assert start_grading(rid, "htn", reason="new_data") is not None    # its level: a queued service call
        records.record_observation(rid, code="2093-3", value=6.2, unit="mmol/L", effective_at=clock.now(),
                                   source="his", rescreen=False)
        assert start_grading(rid, "htn", reason="new_data") is None        # in flight: marked, nothing started
        assert start_grading(rid, "htn", reason="new_data") is None
        assert db.session().get(GradingState, (rid, "htn")).dirty
    assert count(app, "stratify", rid) == 2
    worker()
    assert not worker.failures, worker.failures
    assert count(app, "stratify", rid) == 3                                # exactly one re-grade after it
    assert count(app, "stratify", rid, open_only=True) == 0
    with app.app_context():
        state = db.session().get(GradingState, (rid, "htn"))
        assert not state.dirty and state.recorded_instance_id == state.instance_id
        assert state.inputs["inputs"]["tc"] == 6.2 and state.inputs["inputs"]["waist"] == 95

"""Real rq workers on Redis: a worker killed in the middle of a job; the step still happens exactly once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.core import db
from app.jobs import backend, queue
from app.workflows import jobs, runner
from app.workflows.models import HumanTask, ProcessEvent, ServiceCall
from tests.helpers import REPO

pytestmark = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgresql")),
    reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")


@pytest.fixture()
def rq_mode(settings, monkeypatch):
    name = f"ygt-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(backend, "QUEUE_NAME", name)
    monkeypatch.setenv("YGT_OPERATOR_MODULES", "tests.fixtures.operators")
    import tests.fixtures.operators  # noqa: F401  (registers test/slow_call here too)
    queue.configure(Settings.from_env(data_dir=str(settings.data_dir), database_url=settings.database_url,
                                      redis_url=os.environ["REDIS_URL"], jobs_mode="rq", scheduler_enabled=False))
    yield name
    queue.configure(settings)


def _worker(settings, queue_name, *, burst=False):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "DATA_DIR": str(settings.data_dir),
           "YGT_QUEUE": queue_name, "YGT_OPERATOR_MODULES": "tests.fixtures.operators", "YGT_SERVICE_LEASE_S": "2",
           "PYTHONPATH": str(REPO), "TZ": "UTC"}
    cmd = [str(os.path.join(os.path.dirname(sys.executable), "ygt")), "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_killed_worker_job_is_retried_and_the_step_happens_once(app, settings, deploy_models, rq_mode,
                                                                  tmp_path, monkeypatch):
    deploy_models("slow_service.bpmn", with_dmn=False)
    marker = tmp_path / "his.marker"
    with app.app_context():
        inst = runner.start_instance("slow_service", actor=runner.Actor("tester"), data={"marker": str(marker)})
    first = _worker(settings, rq_mode)
    try:
        assert _wait_for(marker.exists), "the worker never started the job"
        os.killpg(first.pid, signal.SIGKILL)                       # mid-job: the handler is sleeping
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    time.sleep(2.5)                                                # the claim's lease (YGT_SERVICE_LEASE_S) expires
    with app.app_context():
        assert jobs.sweep_outbox() == 1
    second = _worker(settings, rq_mode, burst=True)
    assert second.wait(timeout=60) == 0
    with app.app_context():
        s = db.session()
        task = s.execute(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.status == "open")
                         ).scalar_one()
        completed = s.execute(select(func.count()).select_from(ProcessEvent).where(
            ProcessEvent.instance_id == inst.id, ProcessEvent.type == "service_completed")).scalar_one()
        call = s.execute(select(ServiceCall).where(ServiceCall.instance_id == inst.id)).scalar_one()
    assert task.element_id == "review_his"
    assert completed == 1
    assert (call.status, call.attempts) == ("done", 2)
    keys = marker.with_suffix(".calls").read_text().split()
    assert keys == [call.idempotency_key, call.idempotency_key]   # same key both times: the handler can dedupe


def test_a_failing_service_call_is_retried_later_by_the_worker(app, settings, deploy_models, rq_mode, tmp_path):
    deploy_models("flaky_service.bpmn", with_dmn=False)
    marker = tmp_path / "flaky.marker"
    with app.app_context():
        inst = runner.start_instance("flaky_service", actor=runner.Actor("tester"), data={"marker": str(marker)})
    worker = _worker(settings, rq_mode)                 # with its scheduler: runs the delayed retry
    try:
        def advanced():
            with app.app_context():
                db.remove_session()
                return db.session().execute(select(HumanTask).where(
                    HumanTask.instance_id == inst.id, HumanTask.status == "open")).scalar_one_or_none() is not None
        assert _wait_for(advanced, timeout=45), "the retry never ran"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    with app.app_context():
        call = db.session().execute(select(ServiceCall).where(ServiceCall.instance_id == inst.id)).scalar_one()
    assert (call.status, call.attempts) == ("done", 2)

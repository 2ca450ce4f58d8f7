"""Batch starts on real rq workers (PostgreSQL + Redis): the chunks of one batch are shared by the workers, a worker
killed in the middle loses nothing and `resume` finishes the batch without starting any instance twice."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.config import Settings
from app.core import clock, db
from app.jobs import backend, queue
from tests.helpers import REPO
from tests.test_follow_up_support import deploy_care_models

pytestmark = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgresql")),
    reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")

N = 600


@pytest.fixture()
def rq_mode(settings, monkeypatch):
    name = f"ygt-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(backend, "QUEUE_NAME", name)
    queue.configure(Settings.from_env(data_dir=str(settings.data_dir), database_url=settings.database_url,
                                      redis_url=os.environ["REDIS_URL"], jobs_mode="rq", scheduler_enabled=False))
    yield name
    queue.configure(settings)


def _worker(settings, queue_name, *, burst=False):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "DATA_DIR": str(settings.data_dir),
           "YGT_QUEUE": queue_name, "PYTHONPATH": str(REPO), "TZ": "UTC"}
    cmd = [str(os.path.join(os.path.dirname(sys.executable), "ygt")), "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _progress(app, batch_id):
    from app.workflows import batch
    with app.app_context():
        p = batch.progress(batch_id)
        db.session().rollback()
        return p


def test_a_worker_killed_mid_batch_loses_nothing_and_resume_starts_nothing_twice(app, settings, county, rq_mode):
    from app.follow_up import scheduling
    from app.follow_up.models import FollowUpVisit
    from app.workflows import batch
    from app.workflows.models import ProcessInstance
    deploy_care_models(app)
    with app.app_context(), db.unit_of_work() as s:
        s.execute(text("INSERT INTO follow_up_schedules (resident_id, disease, risk_level, org_code, org_path, "
                       "interval_days, next_due_on, consecutive_uncontrolled, cycle_no, status, updated_at) "
                       "VALUES (:r, 'htn', 'MODERATE', 'C01T01V01', '/C01/C01T01/C01T01V01/', 90, :due, 0, 0, "
                       "'active', :now)"),
                  [{"r": i + 1, "due": clock.today() - timedelta(days=1), "now": clock.now()} for i in range(N)])
    with app.app_context():
        assert scheduling.generate_due_cycles() == N
        ids = scheduling.pending_visit_ids(limit=N)
        batch_id = batch.create_batch("follow_up", "follow_up", [
            batch.StartItem(ref=str(v), business_key=f"follow_up:{v}") for v in ids], chunk_size=50)
    first, second = _worker(settings, rq_mode), _worker(settings, rq_mode)
    try:
        deadline = time.monotonic() + 120
        while _progress(app, batch_id)["started"] < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)                # mid-batch, probably mid-chunk
        os.killpg(second.pid, signal.SIGKILL)
        first.wait(timeout=10)
        second.wait(timeout=10)
    finally:
        for w in (first, second):
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
    killed_at = _progress(app, batch_id)
    assert 0 < killed_at["started"] < N and killed_at["status"] == "running", killed_at
    from redis import Redis
    Redis.from_url(os.environ["REDIS_URL"]).delete(f"rq:queue:{rq_mode}")     # the queued chunks are lost too
    with app.app_context():
        assert batch.resume(batch_id) >= 1
    assert _worker(settings, rq_mode, burst=True).wait(timeout=300) == 0
    done = _progress(app, batch_id)
    assert (done["status"], done["started"], done["failed"], done["pending"]) == ("done", N, 0, 0), done
    with app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == N
        assert s.scalar(select(func.count(func.distinct(ProcessInstance.business_key)))) == N
        assert s.scalar(select(func.count()).select_from(FollowUpVisit).where(
            FollowUpVisit.status == "started", FollowUpVisit.instance_id.is_not(None))) == N
        assert batch.resume(batch_id) == 0

"""A population run on real rq workers (PostgreSQL + Redis): a worker killed in the middle of a chunk; the chunk is
put back when its lease expires, another worker screens it, and every resident is screened and counted once."""
from __future__ import annotations

import contextlib
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
from app.screening import batch
from app.screening.models import ScreeningCase, ScreeningRun, ScreeningRunChunk
from tests.api.test_screening_chunks import synthetic_population
from tests.helpers import REPO

pytestmark = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgresql")),
    reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")


@pytest.fixture()
def rq_queue_name(settings, monkeypatch):
    name = f"ygt-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(backend, "QUEUE_NAME", name)
    queue.configure(Settings.from_env(data_dir=str(settings.data_dir), database_url=settings.database_url,
                                      redis_url=os.environ["REDIS_URL"], jobs_mode="rq", scheduler_enabled=False))
    yield name
    queue.configure(settings)


def _worker(settings, queue_name, log, *, burst=False):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "DATA_DIR": str(settings.data_dir),
           "YGT_QUEUE": queue_name, "YGT_SCREENING_LEASE_S": "2", "PYTHONPATH": str(REPO), "TZ": "UTC"}
    cmd = [str(os.path.join(os.path.dirname(sys.executable), "ygt")), "worker"] + (["--burst"] if burst else [])
    return subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


def _state(app, run_id):
    with app.app_context():
        db.remove_session()
        s = db.session()
        run = s.get(ScreeningRun, run_id)
        chunks = s.scalars(select(ScreeningRunChunk).where(ScreeningRunChunk.run_id == run_id)
                           .order_by(ScreeningRunChunk.seq)).all()
        s.expunge_all()
        return run, chunks


def test_a_worker_killed_mid_chunk_loses_nothing_and_screens_nothing_twice(app, settings, county, rq_queue_name,
                                                                           tmp_path):
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, [REPO / "dmn"]), deployed_by="test", source="folder")
    synthetic_population(app, 6000)
    with app.app_context():
        run_id = batch.create_chunked_run(started_by="test", chunk_size=1000).id   # 6 jobs to Redis
    first = _worker(settings, rq_queue_name, tmp_path / "first.log")    # claims with a 2 s lease
    killed = None
    try:
        def mid_chunk():
            nonlocal killed
            _run, chunks = _state(app, run_id)
            running = [c for c in chunks if c.status == "running"]
            if running:
                # mid-chunk: the worker and its work horse (rq forks one per job, in a session of its own; the
                # chunk records its pid), so the chunk's transaction never commits
                os.killpg(first.pid, signal.SIGKILL)
                horse = int(running[0].worker.rpartition(":")[2])
                with contextlib.suppress(ProcessLookupError):
                    os.kill(horse, signal.SIGKILL)
                killed = running[0].seq
                return True
            return False
        deadline = time.monotonic() + 180
        while not mid_chunk() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert killed is not None, "the worker never took a chunk: " + (tmp_path / "first.log").read_text()[-3000:]
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    run, chunks = _state(app, run_id)
    assert run.status == "running" and run.done_chunks < run.total_chunks == 6
    assert chunks[killed].status == "running"
    time.sleep(2.5)
    with app.app_context():
        assert batch.sweep_chunks() == 1                           # put back and queued again (a new job id)
    second = _worker(settings, rq_queue_name, tmp_path / "second.log", burst=True)
    assert second.wait(timeout=120) == 0
    run, chunks = _state(app, run_id)
    with app.app_context():
        cases = db.session().scalar(select(func.count()).select_from(ScreeningCase))
        per_run = db.session().scalar(select(func.count()).select_from(ScreeningCase)
                                      .where(ScreeningCase.run_id == run_id))
    assert (run.status, run.done_chunks, run.failed_chunks) == ("completed", 6, 0), (
        [(c.seq, c.status, c.attempts, c.error) for c in chunks], (tmp_path / "second.log").read_text()[-3000:])
    assert run.processed == run.total == 6000                      # each resident counted once
    assert run.cases_created == cases == per_run > 0               # each case opened and counted once
    assert chunks[killed].attempts == 2 and chunks[killed].status == "done"
    assert all(c.status == "done" for c in chunks)
    assert sum(c.processed for c in chunks) == 6000

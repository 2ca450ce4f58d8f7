"""Production job queue (issue 13.1/13.3): writes that queue background work against real Redis + rq.

Marked `redis`: they run when REDIS_URL is set (the PostgreSQL + Redis CI run) and are skipped otherwise.
"""
from __future__ import annotations

import os
import uuid

import pytest

from app.config import Settings
from app.jobs import queue

pytestmark = [pytest.mark.redis, pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")]
AT = "2026-03-01T08:30:00+08:00"


@pytest.fixture()
def rq_mode(app, settings, monkeypatch):
    """Jobs go to a private rq queue on the REDIS_URL server (nobody works it: the test reads what was queued)."""
    name = f"ygt-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(queue, "QUEUE_NAME", name)
    queue.configure(Settings.from_env(data_dir=str(settings.data_dir), database_url=settings.database_url,
                                      redis_url=os.environ["REDIS_URL"], jobs_mode="rq", scheduler_enabled=False))
    yield queue.rq_queue()
    q = queue.rq_queue()
    q.empty()
    q.delete(delete_jobs=True)
    queue.configure(settings)


@pytest.fixture()
def resident(make_resident):
    return make_resident(org="C01T01V01", name="张桂兰", sex="F")


@pytest.fixture()
def doctor(client_as):
    return client_as("village_doctor", org="C01T01V01")


def _obs(**overrides) -> dict:
    return {"code": "8480-6", "value": 152, "unit": "mm[Hg]", "effective_at": AT, "source": "village_app",
            **overrides}


def test_a_new_observation_answers_201_and_its_rescreen_job_is_on_the_rq_queue(doctor, resident, rq_mode):
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs())
    assert response.status_code == 201, response.get_json()
    funcs = [job.func_name for job in rq_mode.get_jobs()]
    assert funcs == ["app.screening.jobs.screen_resident"]

"""The embedded default (no Redis) keeps running after-commit jobs in-process at once: the job outbox is for rq
mode only (issue 13.3)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core import db
from app.jobs import queue
from app.jobs.models import JobOutbox

AT = "2026-03-01T08:30:00+08:00"


def test_without_redis_the_rescreen_runs_right_after_the_commit_and_no_outbox_row_is_written(
        app, client_as, make_resident, monkeypatch):
    ran = []
    monkeypatch.setattr("app.screening.jobs.screen_resident", lambda resident_id: ran.append(resident_id))
    assert queue.mode() == "eager"
    resident = make_resident(org="C01T01V01", name="张桂兰", sex="F")
    doctor = client_as("village_doctor", org="C01T01V01")
    resp = doctor.post(f"/api/v1/residents/{resident['id']}/observations", json={
        "code": "8480-6", "value": 152, "unit": "mm[Hg]", "effective_at": AT, "source": "village_app"})
    assert resp.status_code == 201
    assert ran == [resident["id"]]
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(JobOutbox)) == 0

"""Background exports never leave a requester watching 生成中 for ever: a job whose worker died is reported failed
once it is past the queue's time limit, a job nobody took once it waited an hour; live jobs are left alone."""
from __future__ import annotations

from datetime import timedelta

from app.core import clock, db
from app.reports import background
from app.reports.models import ExportJob


def _job(status: str, *, age: timedelta, owner_id: int = 7, kind: str = "appraisal") -> int:
    with db.unit_of_work() as s:
        row = ExportJob(owner_id=owner_id, kind=kind, title="全部类型", builder="x.y", params={}, status=status,
                        done_steps=3, total_steps=9, created_at=clock.now() - age,
                        started_at=clock.now() - age if status == "running" else None)
        s.add(row)
        s.flush()
        return row.id


def test_a_job_whose_worker_died_is_reported_failed_not_running_for_ever(app):
    with app.app_context():
        dead = _job("running", age=timedelta(minutes=16))
        live = _job("running", age=timedelta(minutes=2))
        forgotten = _job("queued", age=timedelta(hours=2))
        waiting = _job("queued", age=timedelta(minutes=5))
        other_owner = _job("running", age=timedelta(hours=3), owner_id=8)

        row = background.get(7, dead, kind="appraisal")
        assert (row.status, row.error_code) == ("failed", "export_interrupted")
        assert "重新生成" in background.describe(row, "/x")["error_message"]
        by_id = {r.id: r for r in background.recent(7, kind="appraisal")}
        assert by_id[live].status == "running" and by_id[waiting].status == "queued"
        assert (by_id[forgotten].status, by_id[forgotten].error_code) == ("failed", "export_not_started")
        assert db.session().get(ExportJob, other_owner).status == "running"      # only the requester's own jobs


def test_a_late_worker_does_not_revive_an_expired_job(app):
    with app.app_context():
        job = _job("queued", age=timedelta(hours=2))
        assert background.get(7, job, kind="appraisal").status == "failed"
        background.run(job)                      # the worker finally takes it: it is no longer queued, nothing runs
        db.session().expire_all()
        assert db.session().get(ExportJob, job).status == "failed"

"""Export jobs (app.reports.models.ExportJob): start one, run it in the background, answer its status and file.

A capability starts a job with the dotted path of its builder, `builder(params, owner_id, progress) -> (content,
filename, mime)`; the builder works with the requester's scope (it is given the owner's id, never a wider one) and
calls `progress(done, total)` as it goes. The job runs through `app.jobs.queue` (rq in production, the in-process
worker thread on the embedded default, at once in tests). A job runs once: a second delivery of the same job finds
it no longer queued and does nothing. A builder's `DomainError` fails the job with its code and message (shown to
the requester); anything else fails it as `export_failed` and is logged. Only the requester sees a job. A requester
keeps their newest `KEEP` finished jobs of a kind: starting another deletes the older ones (and their files).

A job whose worker died (killed, machine restarted) never reports back: whoever looks at it after `RUNNING_LIMIT`
(beyond the queue's own job timeout) finds it failed as `export_interrupted`, and a job no worker took within
`QUEUED_LIMIT` as `export_not_started`, so a requester is never left watching 生成中 for ever."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import DomainError, NotFound
from app.jobs.queue import enqueue_after_commit, resolve

from .models import ExportJob

log = logs.get("export_jobs")
Progress = Callable[[int, int], None]
STATUS_LABELS = {"queued": "排队中", "running": "生成中", "done": "已完成", "failed": "失败"}
KEEP = 20
RUNNING_LIMIT = timedelta(minutes=15)            # the queue stops a job after 10 minutes (app.jobs.queue.enqueue)
QUEUED_LIMIT = timedelta(hours=1)
INTERRUPTED = ("export_interrupted", "后台生成中断（服务重启或超时），请重新生成")
NOT_STARTED = ("export_not_started", "后台任务长时间未开始，请稍后重新生成或联系管理员检查后台服务")


def start(owner_id: int, *, kind: str, title: str, builder: str, params: dict[str, Any]) -> ExportJob:
    """Record a job and queue it (after the commit)."""
    with unit_of_work() as s:
        row = ExportJob(owner_id=owner_id, kind=kind, title=title[:200], builder=builder, params=params,
                        status="queued", done_steps=0, total_steps=0, created_at=clock.now())
        s.add(row)
        s.flush()
        keep = select(ExportJob.id).where(ExportJob.owner_id == owner_id, ExportJob.kind == kind) \
            .order_by(ExportJob.id.desc()).limit(KEEP)
        s.execute(delete(ExportJob).where(ExportJob.owner_id == owner_id, ExportJob.kind == kind,
                                          ExportJob.status.in_(("done", "failed")), ExportJob.id.not_in(keep))
                  .execution_options(synchronize_session=False))
        enqueue_after_commit(s, "app.reports.background.run", row.id, job_id=f"export-{row.id}", retries=0)
    return row


def _set(job_id: int, **values: Any) -> None:
    with unit_of_work() as s:
        row = s.get(ExportJob, job_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)


def run(job_id: int) -> None:
    """Build the file of a queued job (the job named `export-<id>`)."""
    with unit_of_work() as s:
        row = s.scalars(select(ExportJob).where(ExportJob.id == job_id).with_for_update()).first()
        if row is None or row.status != "queued":
            return
        row.status, row.started_at = "running", clock.now()
        builder, params, owner_id = row.builder, dict(row.params), row.owner_id

    def progress(done: int, total: int) -> None:
        _set(job_id, done_steps=done, total_steps=total)

    try:
        content, filename, mime = resolve(builder)(params, owner_id, progress)
    except DomainError as exc:
        session().rollback()
        _set(job_id, status="failed", error_code=exc.code, error_message=str(exc)[:400], finished_at=clock.now())
        return
    except Exception:
        session().rollback()
        log.exception("export job failed", extra={"job": f"export-{job_id}"})
        _set(job_id, status="failed", error_code="export_failed", error_message="生成失败, 请稍后重试或联系管理员",
             finished_at=clock.now())
        return
    with unit_of_work() as s:
        row = s.get(ExportJob, job_id)
        if row is not None:
            row.status, row.content, row.filename, row.mime = "done", content, filename, mime
            row.done_steps = row.total_steps = max(row.total_steps, 1)
            row.finished_at = clock.now()


def _expire_stale(owner_id: int, kind: str) -> None:
    """Fail the requester's jobs that can no longer finish (see the module doc)."""
    now = clock.now()
    mine = (ExportJob.owner_id == owner_id, ExportJob.kind == kind)
    with unit_of_work() as s:
        for status, since, limit, (code, message) in (("running", ExportJob.started_at, RUNNING_LIMIT, INTERRUPTED),
                                                      ("queued", ExportJob.created_at, QUEUED_LIMIT, NOT_STARTED)):
            s.execute(update(ExportJob).where(*mine, ExportJob.status == status,
                                              since < now - limit)
                      .values(status="failed", error_code=code, error_message=message, finished_at=now)
                      .execution_options(synchronize_session=False))


def get(owner_id: int, job_id: int, *, kind: str) -> ExportJob:
    _expire_stale(owner_id, kind)
    row = session().get(ExportJob, job_id)
    if row is None or row.owner_id != owner_id or row.kind != kind:
        raise NotFound("后台任务不存在 (export job not found)", code="export_job_not_found")
    return row


def recent(owner_id: int, *, kind: str) -> list[ExportJob]:
    _expire_stale(owner_id, kind)
    return list(session().scalars(select(ExportJob).where(ExportJob.owner_id == owner_id, ExportJob.kind == kind)
                                  .order_by(ExportJob.id.desc()).limit(KEEP)))


def describe(row: ExportJob, download: str) -> dict[str, Any]:
    """The job as an API answers it (`download` is the file's URL once done)."""
    percent = 100.0 if row.status == "done" else (
        round(100.0 * row.done_steps / row.total_steps, 1) if row.total_steps else 0.0)
    return {"id": row.id, "title": row.title, "status": row.status, "status_label": STATUS_LABELS[row.status],
            "percent": percent, "filename": row.filename, "error_code": row.error_code,
            "error_message": row.error_message, "created_at": row.created_at, "finished_at": row.finished_at,
            "download": download if row.status == "done" else None}

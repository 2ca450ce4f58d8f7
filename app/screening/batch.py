"""The population batch: screen every resident in chunks, resumably and idempotently.

Each chunk is one transaction: gather features for the next `chunk_size` residents by id (set-based SQL), evaluate
the decisions in bulk (`bulk.BulkEvaluator`, pinned to the versions current when the run started), insert the new
cases in one statement (`ON CONFLICT (open_key) DO NOTHING`), and move the run's cursor. A crash loses at most the
chunk in flight; `resume` continues from the cursor; running again creates nothing that is already open. Process
starts for new cases are queued after each chunk's commit (workers start them), so screening speed does not depend
on how fast instances start.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app.core import clock, logs
from app.core.db import remove_session, unit_of_work
from app.core.errors import Conflict
from app.jobs.queue import enqueue_after_commit
from app.residents.models import Resident

from .bulk import BulkEvaluator
from .features import gather
from .models import ScreeningRun
from .queries import stored_run
from .rules import findings
from .services import case_rows, insert_cases, township_codes

log = logs.get("screening.batch")
DEFAULT_CHUNK = 5000
START_JOB_BATCH = 500


def create_run(*, started_by: str, chunk_size: int = DEFAULT_CHUNK, as_of: date | None = None) -> ScreeningRun:
    """Record a new run (status running, cursor 0); refuse while another run is running."""
    with unit_of_work() as s:
        running = s.scalars(select(ScreeningRun.id).where(ScreeningRun.status == "running")).first()
        if running is not None:
            raise Conflict("已有筛查批次在运行 (a run is in progress)", code="run_in_progress", run_id=running)
        now = clock.now()
        run = ScreeningRun(status="running", as_of=as_of or clock.today(), cursor=0,
                           total=s.scalar(select(func.count()).select_from(Resident)) or 0, processed=0,
                           cases_created=0, chunk_size=chunk_size, started_by=started_by, started_at=now,
                           updated_at=now, decision_versions=BulkEvaluator(s).versions, counts={})
        s.add(run)
        s.flush()
        return run


def resumable_run() -> ScreeningRun | None:
    """The latest run that did not finish (running when its process died, failed or interrupted)."""
    with unit_of_work() as s:
        return s.scalars(select(ScreeningRun).where(ScreeningRun.status != "completed")
                         .order_by(ScreeningRun.id.desc())).first()


def run(run_id: int, *, max_chunks: int | None = None, on_chunk=None) -> ScreeningRun:
    """Screen from the run's cursor to the end (or `max_chunks` chunks); return the run."""
    with unit_of_work() as s:
        r = stored_run(run_id)
        if r.status == "completed":
            return r
        r.status, r.error = "running", None
        evaluator = BulkEvaluator(s, r.decision_versions)
        townships = township_codes()
    chunks = 0
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="screening-prefetch") as pool:
            prefetch = _Prefetch(pool, r.cursor, r.chunk_size, r.as_of)
            while max_chunks is None or chunks < max_chunks:
                if not _chunk(run_id, evaluator, townships, prefetch):
                    break
                chunks += 1
                if on_chunk:
                    on_chunk(run_id)
    except Exception as exc:
        with unit_of_work() as s:
            r = stored_run(run_id)
            r.status, r.error, r.updated_at = "failed", f"{type(exc).__name__}: {exc}"[:2000], clock.now()
        raise
    with unit_of_work():
        return stored_run(run_id)


def _next_bound(s, cursor: int, size: int) -> int | None:
    ids = select(Resident.id).where(Resident.id > cursor).order_by(Resident.id).limit(size).subquery()
    return s.scalar(select(func.max(ids.c.id)))


class _Prefetch:
    """Gather the next chunk's features in a second thread while this one evaluates and inserts: the database
    works on one core while Python works on the other. Chunks are disjoint id ranges, so nothing read ahead can be
    changed by the chunk in flight."""

    def __init__(self, pool: ThreadPoolExecutor, cursor: int, size: int, as_of: date):
        self.pool, self.size, self.as_of = pool, size, as_of
        self.future = pool.submit(self._gather, cursor)

    def _gather(self, cursor: int) -> tuple[int | None, dict]:
        try:
            with unit_of_work() as s:
                hi = _next_bound(s, cursor, self.size)
                return hi, ({} if hi is None else gather(cursor, hi, as_of=self.as_of))
        finally:
            remove_session()

    def take(self, cursor: int) -> tuple[int | None, dict]:
        hi, population = self.future.result()
        if hi is not None:
            self.future = self.pool.submit(self._gather, hi)
        return hi, population


def _chunk(run_id: int, evaluator: BulkEvaluator, townships: dict[str, str | None], prefetch: _Prefetch) -> bool:
    """Screen the next chunk in one transaction; False when the population is done."""
    hi, population = prefetch.take(0)
    with unit_of_work() as s:
        r = stored_run(run_id)
        if hi is None:
            r.status, r.finished_at, r.updated_at = "completed", clock.now(), clock.now()
            return False
        errors: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        for features in population.values():
            found = findings(features, evaluator.evaluate, errors)
            if found:
                rows += case_rows(features, found, source="batch", run_id=run_id, townships=townships)
        created = insert_cases(rows)
        evaluator.flush_samples()
        r.cursor, r.processed = hi, r.processed + len(population)
        r.cases_created += created["count"]
        r.counts = _merge_counts(r.counts, created["by_kind"], errors)
        r.updated_at = clock.now()
        for i in range(0, len(created["start"]), START_JOB_BATCH):
            ids = created["start"][i:i + START_JOB_BATCH]
            enqueue_after_commit(s, "app.screening.jobs.start_case_processes", ids, job_id=f"cases-{ids[0]}")
        return True


def _merge_counts(counts: dict[str, Any], by_kind: dict[str, int], errors: dict[str, int]) -> dict[str, Any]:
    merged = {"cases": dict(counts.get("cases", {})), "input_errors": dict(counts.get("input_errors", {}))}
    for key, n in by_kind.items():
        merged["cases"][key] = merged["cases"].get(key, 0) + n
    for key, n in errors.items():
        merged["input_errors"][key] = merged["input_errors"].get(key, 0) + n
    return merged


def progress(r: ScreeningRun) -> dict[str, Any]:
    """The run as the API shows it, with a percentage and the rate so far."""
    elapsed = ((r.finished_at or r.updated_at) - r.started_at).total_seconds()
    return {"id": r.id, "status": r.status, "as_of": r.as_of.isoformat(), "cursor": r.cursor, "total": r.total,
            "processed": r.processed, "percent": round(100 * r.processed / r.total, 1) if r.total else 100.0,
            "cases_created": r.cases_created, "chunk_size": r.chunk_size, "started_by": r.started_by,
            "started_at": r.started_at.isoformat(), "updated_at": r.updated_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "residents_per_second": round(r.processed / elapsed, 1) if elapsed > 0 else None,
            "decision_versions": r.decision_versions, "counts": r.counts, "error": r.error}


def start_run(*, started_by: str, resume: bool = False, chunk_size: int = 5000) -> dict[str, Any]:
    """Create (or pick up) a run and queue it; the run's progress is answered at once."""
    run = resumable_run() if resume else None
    if run is None:
        run = create_run(started_by=started_by, chunk_size=chunk_size)
    with unit_of_work() as s:
        enqueue_after_commit(s, "app.screening.jobs.run_batch", run.id, job_id=f"screening-run-{run.id}",
                             retries=0)
    with unit_of_work() as s:
        return progress(stored_run(run.id))

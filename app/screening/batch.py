"""The population batch: screen every resident in chunks, resumably and idempotently.

Chunked runs (issue 23.4, `create_chunked_run` / `screen_chunk`): the run is split into disjoint resident-id
ranges, one row of `screening_run_chunks` and one rq job each, so every worker of every machine takes chunks of the
same province. A chunk is claimed with a lease, screened in one transaction (features with set-based SQL, decisions
from one evaluator per worker and decision pins, cases COPYed in, `ON CONFLICT (open_key) DO NOTHING` when one was opened meanwhile) and marked
done with the run's counters in that same transaction — only if its claim still holds, so a chunk whose worker died
is re-run by the sweep and nothing is counted or opened twice. `run` below is the older single-process cursor run
(kept for `ygt screen --cursor` and as the reference the chunked path is tested against).

Each chunk is one transaction: gather features for the next `chunk_size` residents by id (set-based SQL), evaluate
the decisions in bulk (`bulk.BulkEvaluator`, pinned to the versions current when the run started), insert the new
cases in one statement (`ON CONFLICT (open_key) DO NOTHING`), and move the run's cursor. A crash loses at most the
chunk in flight; `resume` continues from the cursor; running again creates nothing that is already open. Process
starts for new cases are queued after each chunk's commit (workers start them), so screening speed does not depend
on how fast instances start.
"""
from __future__ import annotations

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update

from app.auth.queries import user_id_by_username
from app.core import clock, logs
from app.core.collection import paused as collections_paused
from app.core.db import remove_session, rowcount, unit_of_work
from app.core.errors import Conflict
from app.jobs.queue import enqueue_after_commit
from app.notifications.services import notify
from app.residents.models import Resident

from .bulk import BulkEvaluator
from .features import gather
from .models import ScreeningRun, ScreeningRunChunk
from .queries import stored_run
from .rules import findings
from .services import case_rows, insert_cases, township_codes

log = logs.get("screening.batch")
DEFAULT_CHUNK = 5000
START_JOB_BATCH = 500
CHUNK_JOB = "app.screening.jobs.screen_chunk"
START_JOB = "app.screening.jobs.start_case_batch"
MAX_ATTEMPTS = 3
LEASE_S = float(os.environ.get("YGT_SCREENING_LEASE_S", "900"))   # > the rq job timeout (600 s): rq kills first
# chunk jobs queued when a run starts or resumes: each job screens chunk after chunk (`screen_chunks`), so a few
# jobs per worker keep every worker busy; one job per chunk queued ≈ 98 of 100 jobs that only found their chunk
# done by another job's loop, each a work horse forked and a connection opened for nothing (≈ 60 ms of CPU,
# ≈ 12 s per 1,000,000 residents on 2 workers; docs/benchmarks.md). More workers than this: raise it.
CHUNK_JOBS = int(os.environ.get("YGT_SCREENING_CHUNK_JOBS", "16"))


def create_run(*, started_by: str, chunk_size: int = DEFAULT_CHUNK, as_of: date | None = None) -> ScreeningRun:
    """Record a new run (status running, cursor 0); refuse while another run is running."""
    with unit_of_work():
        return _new_run(started_by=started_by, chunk_size=chunk_size, as_of=as_of)


def _new_run(*, started_by: str, chunk_size: int, as_of: date | None) -> ScreeningRun:
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
        if r.total_chunks:
            raise Conflict("分块筛查批次由队列执行 (a chunked run is run by its chunk jobs)", code="chunked_run",
                           run_id=run_id)
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
        flagged_at = clock.now()
        for features in population.values():
            found = findings(features, evaluator.evaluate, errors)
            if found:
                rows += case_rows(features, found, source="batch", run_id=run_id, townships=townships, now=flagged_at)
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
            "decision_versions": r.decision_versions, "counts": r.counts, "error": r.error,
            "total_chunks": r.total_chunks, "done_chunks": r.done_chunks, "failed_chunks": r.failed_chunks}


def start_run(*, started_by: str, resume: bool = False, chunk_size: int = 5000) -> dict[str, Any]:
    """Create (or pick up) a run and queue its chunks; the run's progress is answered at once."""
    run = resumable_run() if resume else None
    if run is not None and not run.total_chunks:          # an unfinished cursor run from before 23.4
        with unit_of_work() as s:
            enqueue_after_commit(s, "app.screening.jobs.run_batch", run.id, job_id=f"screening-run-{run.id}",
                                 retries=0)
    elif run is not None:
        resume_run(run.id)
    else:
        run = create_chunked_run(started_by=started_by, chunk_size=chunk_size)
    with unit_of_work() as s:
        return progress(stored_run(run.id))


# -- chunked runs (issue 23.4) -----------------------------------------------------------------------------------

def chunk_bounds(s, size: int) -> list[tuple[int, int]]:
    """Disjoint (lo, hi] resident-id ranges of `size` residents each (the last one smaller), one set-based query."""
    rows = s.execute(text("SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM residents) AS r "
                          "WHERE n % :size = 0 ORDER BY id"), {"size": size}).scalars().all()
    top = s.scalar(select(func.max(Resident.id)))
    bounds = list(rows) + ([top] if top is not None and (not rows or rows[-1] != top) else [])
    return [(lo, hi) for lo, hi in zip([0, *bounds[:-1]], bounds)]


def create_chunked_run(*, started_by: str, chunk_size: int = DEFAULT_CHUNK, as_of: date | None = None,
                       enqueue: bool = True) -> ScreeningRun:
    """Record a new run and its chunks, and (with `enqueue`) queue one job per chunk after the commit; refuse
    while another run is running. `enqueue=False`: the caller runs the chunks itself (`ygt screen` in-process)."""
    with unit_of_work() as s:
        run = _new_run(started_by=started_by, chunk_size=chunk_size, as_of=as_of)
        bounds = chunk_bounds(s, chunk_size)
        if bounds:                                        # nothing to insert for a county without residents
            s.execute(insert(ScreeningRunChunk), [
                {"run_id": run.id, "seq": n, "lo": lo, "hi": hi, "status": "pending", "attempts": 0,
                 "processed": 0, "cases_created": 0} for n, (lo, hi) in enumerate(bounds)])
        run.total_chunks = len(bounds)
        if not bounds:
            run.status, run.finished_at = "completed", clock.now()
        if enqueue:
            for n in range(min(len(bounds), CHUNK_JOBS)):
                _enqueue_chunk(s, run.id, n, 0)
        return run


def _enqueue_chunk(s, run_id: int, seq: int, attempts: int) -> None:
    # the attempt is in the job id: a chunk put back after its worker died is a new job, whatever rq still thinks
    # of the dead worker's one; so is the run's start (micro)second: run ids of a restored or recreated database
    # are not new to Redis
    started = s.scalar(select(ScreeningRun.started_at).where(ScreeningRun.id == run_id))
    stamp = int(started.timestamp() * 1e6) if started else 0
    enqueue_after_commit(s, CHUNK_JOB, run_id, seq, job_id=f"screening-{run_id}-{stamp}-{seq}-{attempts}",
                         retries=0)


_EVALUATORS: dict[tuple, BulkEvaluator] = {}


def _evaluator(s, pins: dict[str, int]) -> BulkEvaluator:
    """One evaluator (compiled decisions and their memo) per worker process and decision pins, for every chunk."""
    key = tuple(sorted(pins.items()))
    if key not in _EVALUATORS:
        if len(_EVALUATORS) >= 4:
            _EVALUATORS.clear()
        _EVALUATORS[key] = BulkEvaluator(s, pins)
    return _EVALUATORS[key]


class _LostClaim(Exception):
    """The chunk was put back (lease expired) and claimed again while this worker was still on it."""


def _claim(run_id: int, seq: int) -> tuple[int, ScreeningRunChunk, ScreeningRun] | None:
    now = clock.now()
    with unit_of_work() as s:
        claimed = rowcount(s.execute(update(ScreeningRunChunk).where(
            ScreeningRunChunk.run_id == run_id, ScreeningRunChunk.seq == seq, ScreeningRunChunk.status == "pending")
            .values(status="running", attempts=ScreeningRunChunk.attempts + 1, error=None,
                    lease_until=now + timedelta(seconds=LEASE_S), worker=f"{socket.gethostname()}:{os.getpid()}")))
        if claimed != 1:
            return None
        chunk = s.execute(select(ScreeningRunChunk).where(ScreeningRunChunk.run_id == run_id,
                                                          ScreeningRunChunk.seq == seq)
                          .execution_options(populate_existing=True)).scalar_one()
        run = stored_run(run_id)
        s.expunge(chunk)
        s.expunge(run)
        return chunk.attempts, chunk, run


def screen_chunk(run_id: int, seq: int) -> bool:
    """Screen one chunk of a run (its job); False when it was not pending (done, or another worker has it)."""
    claimed = _claim(run_id, seq)
    if claimed is None:
        return False
    attempt, chunk, run = claimed
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        with collections_paused(), unit_of_work() as s:   # app.core.collection: ~1/5 of a warm chunk
            evaluator = _evaluator(s, run.decision_versions)
            townships = township_codes()
            population = gather(chunk.lo, chunk.hi, as_of=run.as_of)
            errors: dict[str, int] = {}
            rows: list[dict[str, Any]] = []
            flagged_at = clock.now()        # one instant for the chunk's cases (its one transaction)
            for features in population.values():
                found = findings(features, evaluator.evaluate, errors)
                if found:
                    rows += case_rows(features, found, source="batch", run_id=run_id, townships=townships,
                                      now=flagged_at)
            created = insert_cases(rows)
            evaluator.flush_samples()
            now = clock.now()
            done = rowcount(s.execute(update(ScreeningRunChunk).where(
                ScreeningRunChunk.run_id == run_id, ScreeningRunChunk.seq == seq,
                ScreeningRunChunk.status == "running", ScreeningRunChunk.attempts == attempt).values(
                status="done", processed=len(population), cases_created=created["count"], lease_until=None,
                cpu_s=round(time.process_time() - cpu, 3), wall_s=round(time.perf_counter() - wall, 3),
                finished_at=now)))
            if done != 1:
                raise _LostClaim
            r = s.execute(select(ScreeningRun).where(ScreeningRun.id == run_id).with_for_update()).scalar_one()
            r.processed, r.cases_created = r.processed + len(population), r.cases_created + created["count"]
            r.counts = _merge_counts(r.counts, created["by_kind"], errors)
            r.done_chunks, r.cursor, r.updated_at = r.done_chunks + 1, max(r.cursor, chunk.hi), now
            _finish_if_all_chunks(r)
            if created["start"]:        # one job: the batch-start service chunks the starts across the workers
                ids = created["start"]
                enqueue_after_commit(s, START_JOB, ids, job_id=f"cases-{ids[0]}")
        return True
    except _LostClaim:
        log.warning("screening chunk claimed again meanwhile; this attempt's work is discarded",
                    extra={"job": f"{run_id}:{seq}"})
        return False
    except Exception as exc:
        _release(run_id, seq, attempt, exc)
        raise


STEAL_S = 120.0     # a chunk job goes on with the run's next pending chunks this long (rq timeout: 600 s)


def screen_chunks(run_id: int, seq: int, *, budget_s: float = STEAL_S) -> int:
    """A chunk job: its own chunk, then the run's next pending ones until none is left or for up to `budget_s` — rq
    forks a work horse per job, so this keeps one compiled evaluator and its memo for many chunks instead of one.
    Only `CHUNK_JOBS` jobs are queued for a run, so a job whose time is up while chunks are still pending queues the
    next one (a chunk whose worker died is put back and queued by `sweep_chunks`). Returns how many chunks this job
    screened."""
    done = int(screen_chunk(run_id, seq))
    deadline = time.monotonic() + budget_s
    while True:
        pending = pending_chunks(run_id, limit=4)
        if not pending:
            return done
        if time.monotonic() >= deadline:
            break
        done += sum(1 for n in pending if screen_chunk(run_id, n))     # those another job took meanwhile: 0
    with unit_of_work() as s:   # time is up, chunks are left: the next job goes on with them
        attempts = s.scalar(select(ScreeningRunChunk.attempts).where(
            ScreeningRunChunk.run_id == run_id, ScreeningRunChunk.seq == pending[0]))
        _enqueue_chunk(s, run_id, pending[0], attempts or 0)
    return done


def _release(run_id: int, seq: int, attempt: int, exc: Exception) -> None:
    """A chunk whose work raised: pending again (and queued) or, after the last attempt, failed."""
    with unit_of_work() as s:
        chunk = s.get(ScreeningRunChunk, (run_id, seq))
        if chunk is None or chunk.status != "running" or chunk.attempts != attempt:
            return
        chunk.error, chunk.lease_until = f"{type(exc).__name__}: {exc}"[:2000], None
        if chunk.attempts < MAX_ATTEMPTS:
            chunk.status = "pending"
            _enqueue_chunk(s, run_id, seq, chunk.attempts)
            return
        chunk.status = "failed"
        r = s.execute(select(ScreeningRun).where(ScreeningRun.id == run_id).with_for_update()).scalar_one()
        r.failed_chunks, r.error, r.updated_at = r.failed_chunks + 1, chunk.error, clock.now()
        _finish_if_all_chunks(r)


def _finish_if_all_chunks(r: ScreeningRun) -> None:
    if r.done_chunks + r.failed_chunks >= r.total_chunks:
        r.status = "completed" if not r.failed_chunks else "failed"
        r.finished_at = r.updated_at = clock.now()
        if r.failed_chunks:
            _tell_failed(r)


def _tell_failed(r: ScreeningRun) -> None:
    """A run that ended with chunks failed for good is never left for someone to notice: the one who started it is
    told in the same transaction (once per run and ending), and the log says it at error level."""
    log.error("screening run ended with failed chunks",
              extra={"job": f"screening-run-{r.id}", "status": f"{r.failed_chunks}/{r.total_chunks}"})
    user_id = user_id_by_username(r.started_by)
    if user_id is not None:
        notify(user_id, kind="screening_run_failed", title=f"人群筛查未全部完成：{r.failed_chunks}/{r.total_chunks} 块失败",
               body="部分居民尚未筛查（已重试 3 次）。请到 慢病筛查 → 筛查批次 点击 继续，完成其余部分。",
               link="/screening?tab=runs", dedupe_key=f"screening-run-failed-{r.id}-{r.failed_chunks}-{r.done_chunks}")


def sweep_chunks(*, enqueue: bool = True) -> int:
    """Put back chunks whose worker died (running past their lease) and queue them again; return how many."""
    now = clock.now()
    with unit_of_work() as s:
        stale = s.execute(select(ScreeningRunChunk.run_id, ScreeningRunChunk.seq, ScreeningRunChunk.attempts).join(
            ScreeningRun, ScreeningRun.id == ScreeningRunChunk.run_id).where(
            ScreeningRun.status == "running", ScreeningRunChunk.status == "running",
            ScreeningRunChunk.lease_until < now)).all()
        for run_id, seq, attempts in stale:
            s.execute(update(ScreeningRunChunk).where(
                ScreeningRunChunk.run_id == run_id, ScreeningRunChunk.seq == seq,
                ScreeningRunChunk.status == "running", ScreeningRunChunk.attempts == attempts).values(
                status="pending", lease_until=None, error="worker lost (lease expired)"))
            if enqueue:
                _enqueue_chunk(s, run_id, seq, attempts)
        return len(stale)


def resume_run(run_id: int, *, enqueue: bool = True) -> ScreeningRun:
    """Go on with a chunked run: failed chunks get their attempts back, chunks whose lease expired are put back,
    and the first `CHUNK_JOBS` pending chunks are queued (again: a chunk still queued is not queued twice), whose
    jobs go on with the others."""
    sweep_chunks(enqueue=enqueue)
    with unit_of_work() as s:
        r = s.execute(select(ScreeningRun).where(ScreeningRun.id == run_id).with_for_update()).scalar_one()
        failed = rowcount(s.execute(update(ScreeningRunChunk).where(
            ScreeningRunChunk.run_id == run_id, ScreeningRunChunk.status == "failed").values(
            status="pending", attempts=0)))
        r.failed_chunks = max(0, r.failed_chunks - failed)
        if r.done_chunks < r.total_chunks:
            r.status, r.error, r.finished_at, r.updated_at = "running", None, None, clock.now()
        for seq, attempts in s.execute(select(ScreeningRunChunk.seq, ScreeningRunChunk.attempts).where(
                ScreeningRunChunk.run_id == run_id, ScreeningRunChunk.status == "pending")
                .order_by(ScreeningRunChunk.seq).limit(CHUNK_JOBS)).all() if enqueue else ():
            _enqueue_chunk(s, run_id, seq, attempts)
        return r


def pending_chunks(run_id: int, *, limit: int | None = None) -> list[int]:
    """Chunks of the run not yet claimed, in order (the CLI's in-process loop takes them one by one)."""
    with unit_of_work() as s:
        return list(s.scalars(select(ScreeningRunChunk.seq).where(
            ScreeningRunChunk.run_id == run_id, ScreeningRunChunk.status == "pending")
            .order_by(ScreeningRunChunk.seq).limit(limit)))

"""Batch starts: start thousands of instances of one process as a set operation (issue 23.3).

A capability that has many instances to start at once (follow-up cycles coming due, a training roster, a cohort)
calls `create_batch(...)` with one `StartItem` per instance, or with references only and a registered `source` that
computes each instance's data when its chunk runs (`register_source`). The batch row (`batch_starts`) counts total,
started, skipped and failed; `GET /api/v1/batches/{id}` and `ygt batch show ID` show it.

The items are split into chunks, one rq job per chunk (`app.workflows.jobs.run_batch_chunk`), so every worker shares
the work. A chunk is one transaction:

* the pending items of the chunk are locked (PostgreSQL `FOR UPDATE SKIP LOCKED`), so a chunk job delivered twice or
  re-run after a worker was killed starts nothing twice — the items it started are `started`, and a business key that
  already has an instance of the process (started singly, or by an earlier run) is `skipped`;
* the deployed version, its parsed spec, its decision pins and the organisations are looked up once per chunk, the
  residents of the chunk with one query;
* every instance runs to its first wait in memory (`runtime.start_many`: per instance what `runtime.start` does for
  a single start, but the scripts the chunk's instances run on the way — with `YGT_SCRIPT_ISOLATION=process` each
  one a round trip to a pooled worker process — are gathered and sent to the pool in one request per round; a
  script that fails, times out or exceeds its memory fails its own instance only);
* instances, open tasks, timers and history events skip the ORM's unit of work: each table gets one write of plain
  rows — on PostgreSQL a COPY for the instances (ids drawn from their sequence first, each state sent as the JSON
  text it was serialized to once), the timers here and the open tasks by their one writer, the inbox
  (`app.tasks.bulk`, a chunk finisher), the history events at the end of `runner.events_in_bulk`; elsewhere a Core
  multi-row INSERT (the instances' with RETURNING id); all with the values the unit of work would have sent
  (`row_values`). Whatever else a start added (subscriptions, service calls, the announcements' outbox rows) is
  flushed once at the end;
* the chunk runs with the garbage collector's young threshold raised (`app.core.collection.fewer_collections`):
  at its default pace the collector walked what the chunk keeps alive hundreds of times per chunk.

An instance whose start raises (bad data) is `failed` with the reason on its item, counted on the batch and logged;
the others of its chunk are written. If the chunk's write itself fails, the chunk is retried one item per transaction
so one bad row never loses the others. Instances started here are the rows a single start writes: both go through
the runner's `start_setup`, `start_data`, `new_instance` and `record_start`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.core import clock, logs
from app.core.collection import fewer_collections
from app.core.db import (
    JSONText,
    copy_rows,
    insert_params,
    is_postgres,
    next_ids,
    rowcount,
    session,
    unit_of_work,
)
from app.core.errors import NotFound
from app.engine import runtime
from app.jobs.queue import enqueue

from . import hooks, runner
from .models import BatchStart, BatchStartItem, ProcessInstance, Timer

log = logs.get("workflows.batch")
DEFAULT_CHUNK = 500
CHUNK_JOB = "app.workflows.jobs.run_batch_chunk"


@dataclass
class StartItem:
    """One instance to start: `ref` is the caller's reference (a visit id, a trainee id), `business_key` makes the
    start happen once per process."""

    ref: str
    business_key: str
    data: dict[str, Any] | None = None
    resident_id: int | None = None
    org_code: str | None = None


@dataclass
class Source:
    """How a kind of batch computes its items' data when a chunk runs and what it records once they started.

    `prepare(session, items)` returns, per ref, a `StartItem` with data, a string (the reason it cannot start: the
    item fails) or None (nothing to start any more: skipped); it may lock its own rows. `started(session, {ref:
    instance_id})` runs in the chunk's transaction after the instances were written."""

    prepare: Callable[[Any, list[StartItem]], Mapping[str, StartItem | str | None]] | None = None
    started: Callable[[Any, dict[str, int]], None] | None = None


_sources: dict[str, Source] = {}


def register_source(kind: str, *, prepare=None, started=None) -> None:
    """Plug in a capability's source (from app/wiring.py)."""
    _sources[kind] = Source(prepare=prepare, started=started)


@dataclass
class ChunkResult:
    started: dict[str, int] = field(default_factory=dict)      # ref -> instance id
    skipped: dict[str, int | None] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)       # ref -> reason (no instance)
    incidents: dict[str, str] = field(default_factory=dict)    # ref -> reason: started, but the instance is in error


# -- the set operation -----------------------------------------------------------------------------------------

def start_many(s, process_id: str, items: Sequence[StartItem], *, actor: runner.Actor,
               version: int | None = None) -> ChunkResult:
    """Start one instance per item in the caller's transaction `s` (a chunk: hundreds, not millions). Items whose
    business key already has an instance of `process_id` are skipped; an item whose engine start raises fails
    alone. Nothing is committed here."""
    result = ChunkResult()
    if not items:
        return result
    setup = runner.start_setup(s, process_id, version)
    existing = dict(s.execute(select(ProcessInstance.business_key, ProcessInstance.id).where(
        ProcessInstance.process_id == process_id,
        ProcessInstance.business_key.in_([i.business_key for i in items]))).all())
    todo = []
    for item in items:
        if item.business_key in existing:
            result.skipped[item.ref] = existing[item.business_key]
        else:
            todo.append(item)
    if not todo:
        return result
    residents = _residents({i.resident_id or runner.as_int((i.data or {}).get("resident_id")) for i in todo})
    now = clock.now()
    ready: list[tuple[StartItem, dict[str, Any], str | None]] = []
    for item in todo:
        try:
            data = dict(item.data or {})
            if item.resident_id is not None:
                data.setdefault("resident_id", item.resident_id)
            rid = item.resident_id or runner.as_int(data.get("resident_id"))
            resident = residents.get(rid, {}) if rid is not None else {}
            data, org_code = runner.start_data(data, business_key=item.business_key, resident=resident,
                                               org_code=item.org_code)
            runtime.to_json_value(data)     # data the history cannot record fails here, not in the chunk's write
        except Exception as exc:  # noqa: BLE001 — bad data: this one fails, the chunk goes on
            _fail(result, item, exc)
            continue
        ready.append((item, data, org_code))
    # every instance to its first wait; the scripts they run on the way go to the isolation pool together
    snaps = runtime.start_many(setup.context, [data for _, data, _ in ready])
    paths: dict[str | None, str | None] = {}
    made: list[tuple[StartItem, ProcessInstance, runtime.Snapshot, dict[str, Any]]] = []
    for (item, data, org_code), snap in zip(ready, snaps):
        if isinstance(snap, Exception):
            _fail(result, item, snap)
            continue
        if org_code not in paths:
            paths[org_code] = runner.org_path(org_code)
        inst = runner.new_instance(setup, snap, data, business_key=item.business_key, resident_id=item.resident_id,
                                   org_code=org_code, org_path=paths[org_code], started_by=actor.name, now=now)
        made.append((item, inst, snap, data))
    _insert_instances(s, [(inst, snap) for _, inst, snap, _ in made])
    s.info[hooks.BATCH_CHUNK] = {}              # enrichers collect per chunk (one announcement job, not one per task)
    with s.no_autoflush, runner.events_in_bulk(s):  # lookups must not flush instance by instance; the history
        for item, inst, snap, data in made:           # events go in one multi-row INSERT of plain rows
            runner.record_start(s, inst, snap, actor, now, data=data, business_key=item.business_key, flush=False)
            result.started[item.ref] = inst.id
            if snap.error is not None:   # started, but stopped at an incident (as a single start would): reported
                result.incidents[item.ref] = (f"instance {inst.id} error at {snap.error.element_id}: "
                                              f"{snap.error.message}")[:2000]
    insert_new(s, Timer)
    hooks.finish_batch_chunk(s)                 # the inbox inserts the chunk's new tasks (app.tasks.bulk)
    s.flush()
    return result


def _insert_instances(s, made: list[tuple[ProcessInstance, runtime.Snapshot]]) -> None:
    """The chunk's instance rows, the objects staying out of the session (nothing reads them back in the chunk) and
    taking their ids. PostgreSQL: the ids drawn from the table's sequence, the rows in one COPY, each state sent as
    the JSON text its snapshot was serialized to (`Snapshot.state_text`, serialized once); elsewhere one INSERT …
    RETURNING id."""
    if not made:
        return
    table = _table(ProcessInstance)
    if is_postgres():
        ids = next_ids(s, table, len(made))
        rows = []
        for (inst, snap), id_ in zip(made, ids, strict=True):
            inst.id = id_
            row = {"id": id_, **row_values(inst)}
            if snap.state_text is not None and snap.state is inst.state:
                row["state"] = JSONText(snap.state_text)
            rows.append(row)
        copy_rows(s, table, [table.c.id, *_insert_columns(ProcessInstance)], rows)
        return
    ids = s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                    [row_values(i) for i, _ in made]).scalars().all()
    for (inst, _), id_ in zip(made, ids, strict=True):
        inst.id = id_


def insert_new(s, model) -> int:
    """Write the session's new objects of `model` (`take_new`) as one COPY (PostgreSQL) or one multi-row INSERT of
    the values the unit of work would send (`row_values`); nothing reads their ids back. Returns how many."""
    objs = take_new(s, model)
    if not objs:
        return 0
    rows = [row_values(obj) for obj in objs]
    if is_postgres():
        copy_rows(s, _table(model), _insert_columns(model), rows)
    else:
        s.execute(insert(_table(model)), rows)
    return len(objs)


def _table(model) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def take_new(s, model) -> list[Any]:
    """The session's new (not yet flushed) objects of `model`, taken out of its unit of work in the order they were
    added: a batch chunk writes them with one COPY or Core INSERT (`insert_new`, `row_values`) instead."""
    found = [obj for obj in s.new if isinstance(obj, model)]
    found.sort(key=lambda obj: inspect(obj).insert_order)
    for obj in found:
        s.expunge(obj)
    return found


_INSERT_COLUMNS: dict[type, list] = {}    # per model: the columns a new row's INSERT names


def _insert_columns(model) -> list:
    columns = _INSERT_COLUMNS.get(model)
    if columns is None:
        columns = _INSERT_COLUMNS[model] = [c for c in _table(model).columns
                                            if not c.primary_key and c.computed is None]
    return columns


def row_values(obj) -> dict[str, Any]:
    """A new object's INSERT parameters as the ORM's unit of work sends them (`app.core.db.insert_params`): every
    column but the primary key and computed ones; the object gets the defaults too, as after a flush."""
    return insert_params(obj, _insert_columns(type(obj)))


def _fail(result: ChunkResult, item: StartItem, exc: Exception) -> None:
    result.failed[item.ref] = f"{type(exc).__name__}: {exc}"[:2000]
    log.warning("batch start failed", extra={"job": item.ref})


def _residents(ids: Iterable[int | None]) -> dict[int, dict]:
    """The resident context of many residents (`hooks.resident_context`), with one query where the provider can."""
    return hooks.resident_contexts(ids)


def warm_caches() -> int:
    """Before rq forks its job processes (`ygt worker`): build what a chunk of the latest versions reads first — each
    version's setup with its decision pins (every deployed DMN parsed for the registry) and its engine spec objects —
    so every job inherits them instead of building them again (≈ 0.3–0.4 s of CPU per job, measured 2026-12-05).
    Every cache filled here is keyed by immutable content (version ids, content hashes): a job forked after a new
    deployment misses and builds its own, exactly as before. Returns the versions warmed; never raises (a worker
    starts without warm caches rather than not at all)."""
    from .deploy import latest_process_versions  # noqa: PLC0415 — only a worker's start needs the deploy module

    warmed = 0
    s = session()
    try:
        for process_id in latest_process_versions(s):
            runtime.warm(runner.start_setup(s, process_id).context)
            warmed += 1
    except Exception:  # an optimisation: the jobs build what they need themselves
        log.exception("warming the batch-start caches failed")
    finally:
        try:
            s.rollback()
        except SQLAlchemyError:
            log.exception("ending the warm-up's transaction failed")
    return warmed


# -- batches: rows, chunks, progress ---------------------------------------------------------------------------

def create_batch(kind: str, process_id: str, items: Iterable[StartItem], *, created_by: str = "system",
                 label: str | None = None, chunk_size: int = DEFAULT_CHUNK, run: bool = True) -> int:
    """Record a batch and its items (multi-row INSERTs) and enqueue one job per chunk; returns the batch id."""
    now = clock.now()
    with unit_of_work() as s:
        batch = BatchStart(kind=kind, process_id=process_id, label=label, status="running", total=0, started=0,
                           skipped=0, failed=0, chunk_size=chunk_size, created_by=created_by, created_at=now,
                           updated_at=now)
        s.add(batch)
        s.flush()
        batch_id: int = batch.id
        seq, rows = 0, []
        for item in items:
            seq += 1
            rows.append({"batch_id": batch_id, "seq": seq, "ref": item.ref, "business_key": item.business_key,
                         "resident_id": item.resident_id, "org_code": item.org_code, "data": item.data,
                         "status": "pending"})
            if len(rows) >= 5000:
                s.execute(insert(BatchStartItem), rows)
                rows = []
        if rows:
            s.execute(insert(BatchStartItem), rows)
        batch.total = seq
        if seq == 0:
            batch.status, batch.finished_at = "done", now
    if run:
        enqueue_chunks(batch_id)
    return batch_id


def chunks_of(batch: BatchStart) -> list[tuple[int, int]]:
    size = max(1, batch.chunk_size)
    return [(lo, min(lo + size - 1, batch.total)) for lo in range(1, batch.total + 1, size)]


def enqueue_chunks(batch_id: int, *, only_pending: bool = False) -> int:
    """Enqueue the chunk jobs of a batch (all, or those with pending items: `resume`). Jobs are keyed by batch and
    chunk, and a chunk job only takes pending items, so enqueueing twice starts nothing twice."""
    s = session()
    batch = s.get(BatchStart, batch_id)
    if batch is None:
        raise NotFound("批量启动不存在 (batch not found)", batch_id=batch_id)
    ranges = chunks_of(batch)
    if only_pending:
        size = max(1, batch.chunk_size)
        pending = {((seq - 1) // size) for (seq,) in s.execute(select(BatchStartItem.seq).where(
            BatchStartItem.batch_id == batch_id, BatchStartItem.status == "pending"))}
        ranges = [r for r in ranges if (r[0] - 1) // size in pending]
    # job ids name the batch by its creation time too: a batch id seen again (a restored or scratch database) must not
    # meet the old batch's jobs still known to rq (a job of a killed worker stays "started" there)
    made = f"{batch.created_at:%Y%m%d%H%M%S%f}"
    s.rollback()            # end the read before jobs run (eager mode runs them now)
    attempt = clock.now().strftime("%Y%m%d%H%M%S") if only_pending else "0"
    for lo, hi in ranges:
        enqueue(CHUNK_JOB, batch_id, lo, hi, job_id=f"batch-{batch_id}-{made}-{lo}-{attempt}", retries=3,
                timeout_s=1800)
    return len(ranges)


def resume(batch_id: int) -> int:
    """Re-enqueue the chunks that still have pending items (after a worker was killed); returns chunks enqueued."""
    return enqueue_chunks(batch_id, only_pending=True)


def run_chunk(batch_id: int, lo: int, hi: int) -> ChunkResult:
    """Start the pending items `lo..hi` of a batch in one transaction (see the module doc)."""
    try:
        return _run_chunk(batch_id, lo, hi, one_by_one=False)
    except SQLAlchemyError:
        log.exception("batch chunk failed as a whole; retrying it one item per transaction",
                      extra={"job": f"batch-{batch_id}-{lo}"})
        return _run_chunk(batch_id, lo, hi, one_by_one=True)


def _run_chunk(batch_id: int, lo: int, hi: int, *, one_by_one: bool) -> ChunkResult:
    total = ChunkResult()
    with unit_of_work() as s:
        batch = s.get(BatchStart, batch_id)
        if batch is None:
            return total
        kind, process_id = batch.kind, batch.process_id
        seqs = list(s.scalars(select(BatchStartItem.seq).where(
            BatchStartItem.batch_id == batch_id, BatchStartItem.seq.between(lo, hi),
            BatchStartItem.status == "pending").order_by(BatchStartItem.seq)))
    groups = [[q] for q in seqs] if one_by_one else ([seqs] if seqs else [])
    for group in groups:
        try:
            part = _run_group(batch_id, kind, process_id, group)
        except SQLAlchemyError as exc:
            if not one_by_one:
                raise
            _mark_failed(batch_id, group[0], f"{type(exc).__name__}: {exc}"[:2000])
            total.failed[str(group[0])] = str(exc)[:200]
            continue
        total.started.update(part.started)
        total.skipped.update(part.skipped)
        total.failed.update(part.failed)
        total.incidents.update(part.incidents)
    _finish_if_done(batch_id)
    return total


def _run_group(batch_id: int, kind: str, process_id: str, seqs: list[int]) -> ChunkResult:
    with fewer_collections():      # a chunk's allocations: the collector's default pace cost ≈ 17 % of its CPU
        return _run_group_now(batch_id, kind, process_id, seqs)


def _run_group_now(batch_id: int, kind: str, process_id: str, seqs: list[int]) -> ChunkResult:
    with unit_of_work() as s:
        stmt = select(BatchStartItem).where(BatchStartItem.batch_id == batch_id, BatchStartItem.seq.in_(seqs),
                                            BatchStartItem.status == "pending").order_by(BatchStartItem.seq)
        if is_postgres():
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(s.scalars(stmt))
        if not rows:
            return ChunkResult()
        by_ref = {r.ref: r for r in rows}
        items = [StartItem(ref=r.ref, business_key=r.business_key, data=r.data, resident_id=r.resident_id,
                           org_code=r.org_code) for r in rows]
        source = _sources.get(kind)
        result = ChunkResult()
        if source is not None and source.prepare is not None:
            prepared = source.prepare(s, items)
            ready = []
            for item in items:
                found = prepared.get(item.ref)
                if isinstance(found, StartItem):
                    ready.append(found)
                elif isinstance(found, str):
                    result.failed[item.ref] = found
                else:
                    result.skipped[item.ref] = None
            items = ready
        part = start_many(s, process_id, items, actor=runner.Actor("scheduler" if kind != "manual" else "system"))
        result.started.update(part.started)
        result.skipped.update(part.skipped)
        result.failed.update(part.failed)
        if source is not None and source.started is not None and result.started:
            source.started(s, result.started)
        for ref, inst_id in result.started.items():
            by_ref[ref].status, by_ref[ref].instance_id = "started", inst_id
        for ref, reason in part.incidents.items():       # the instance exists (retry it), the item counts as failed
            by_ref[ref].status, by_ref[ref].error = "failed", reason
            log.error("batch item started in error", extra={"job": f"batch-{batch_id}:{ref}"})
        for ref, known in result.skipped.items():
            by_ref[ref].status, by_ref[ref].instance_id = "skipped", known
        for ref, reason in result.failed.items():
            by_ref[ref].status, by_ref[ref].error = "failed", reason
            log.error("batch item failed", extra={"job": f"batch-{batch_id}:{ref}"})
        s.execute(update(BatchStart).where(BatchStart.id == batch_id).values(
            started=BatchStart.started + len(result.started) - len(part.incidents),
            skipped=BatchStart.skipped + len(result.skipped),
            failed=BatchStart.failed + len(result.failed) + len(part.incidents), updated_at=clock.now()))
        result.incidents.update(part.incidents)
        return result


def _mark_failed(batch_id: int, seq: int, reason: str) -> None:
    with unit_of_work() as s:
        n = rowcount(s.execute(update(BatchStartItem).where(
            BatchStartItem.batch_id == batch_id, BatchStartItem.seq == seq, BatchStartItem.status == "pending")
            .values(status="failed", error=reason)))
        if n:
            s.execute(update(BatchStart).where(BatchStart.id == batch_id).values(
                failed=BatchStart.failed + 1, updated_at=clock.now()))
    log.error("batch item failed", extra={"job": f"batch-{batch_id}:{seq}"})


def _finish_if_done(batch_id: int) -> None:
    with unit_of_work() as s:
        left = s.scalar(select(func.count()).select_from(BatchStartItem).where(
            BatchStartItem.batch_id == batch_id, BatchStartItem.status == "pending"))
        if left:
            return
        batch = s.get(BatchStart, batch_id)
        if batch is not None and batch.finished_at is None:
            batch.status = "done_with_failures" if batch.failed else "done"
            batch.finished_at = batch.updated_at = clock.now()
            if batch.failed:
                hooks.emit(hooks.BATCH_FAILURES, batch_id=batch.id, kind=batch.kind, process_id=batch.process_id,
                           failed=batch.failed, total=batch.total)


# -- reads -----------------------------------------------------------------------------------------------------

def progress(batch_id: int, *, failures: int = 50) -> dict[str, Any]:
    """The batch's counters and its first failures (ref and reason)."""
    s = session()
    batch = s.get(BatchStart, batch_id)
    if batch is None:
        raise NotFound("批量启动不存在 (batch not found)", batch_id=batch_id)
    failed = s.execute(select(BatchStartItem.ref, BatchStartItem.business_key, BatchStartItem.error,
                              BatchStartItem.instance_id).where(
        BatchStartItem.batch_id == batch_id, BatchStartItem.status == "failed")
        .order_by(BatchStartItem.seq).limit(failures)).all()
    done = batch.started + batch.skipped + batch.failed
    return {"id": batch.id, "kind": batch.kind, "process_id": batch.process_id, "label": batch.label,
            "status": batch.status, "total": batch.total, "started": batch.started, "skipped": batch.skipped,
            "failed": batch.failed, "pending": max(0, batch.total - done),
            "percent": math.floor(100 * done / batch.total) if batch.total else 100,
            "chunk_size": batch.chunk_size, "created_by": batch.created_by, "created_at": batch.created_at,
            "updated_at": batch.updated_at, "finished_at": batch.finished_at,
            "failures": [{"ref": r.ref, "business_key": r.business_key, "error": r.error,
                          "instance_id": r.instance_id} for r in failed]}


def list_batches(*, kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    stmt = select(BatchStart.id).order_by(BatchStart.id.desc()).limit(limit)
    if kind:
        stmt = stmt.where(BatchStart.kind == kind)
    return [progress(i, failures=0) for i in session().scalars(stmt)]


def unfinished(kind: str) -> int | None:
    """The id of the kind's batch still running, if any."""
    return session().scalar(select(BatchStart.id).where(BatchStart.kind == kind, BatchStart.status == "running")
                            .order_by(BatchStart.id).limit(1))

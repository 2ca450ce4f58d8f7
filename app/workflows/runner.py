"""Run instances: every step is one transaction under a row lock, with its projections written alongside.

Steps: lock the instance row (PostgreSQL `FOR UPDATE`, with a short lock timeout for interactive calls; SQLite `BEGIN
IMMEDIATE`), run the pure engine, then write state (optimistic `lock_version`), open human tasks, timers, message
subscriptions, outbox service calls and history events. Jobs are enqueued only after commit.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, event, insert, inspect, literal_column, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.exc import StaleDataError

from app import engine as eng
from app.auth.principal import Principal
from app.core import clock, logs
from app.core.db import JSONText, copy_rows, hold_as_loaded, is_postgres, send_deferred, session, unit_of_work
from app.core.errors import Conflict, NotFound
from app.core.hot import HotStatement, update_then_insert
from app.core.hot_reads import HotSelect
from app.engine import runtime
from app.jobs.queue import enqueue_after_commit
from app.org.queries import org_facts

from . import bindings, decisions, hooks, versions
from .limits import limits, script_isolation
from .models import (
    HumanTask,
    MessageSubscription,
    ProcessEvent,
    ProcessInstance,
    ProcessVersion,
    ServiceCall,
    Timer,
)
from .rows import NewRowParams
from .versions import StoreCallees, VersionInfo, version_info

log = logs.get("workflows")
form_of = versions.form_of              # the inbox reads task forms through the runner
clear_caches = versions.clear_caches    # tests empty the tables between cases
runtime.set_clock(clock.now)
FINAL = ("completed", "terminated")


class InstanceBusy(Conflict):
    code = "instance_busy"


class InvalidState(Conflict):
    code = "invalid_state"


@dataclass
class Actor:
    name: str
    user_id: int | None = None

    @classmethod
    def of(cls, principal: Principal | None) -> Actor:
        return cls(principal.username, principal.user_id) if principal else cls("system")


# -- context -------------------------------------------------------------------------------------------------

def _context(version: VersionInfo, pins: Mapping[str, int]) -> runtime.Context:
    """Engine context; the decision registry is built only if a business-rule task actually runs."""
    def evaluate(decision_id: str, data: Mapping[str, Any]):
        pinned = decisions.registry(session(), pins or None)
        return decisions.process_evaluator(pinned)(decision_id, data)
    return runtime.Context(spec_json=version.spec_json, spec_key=f"{version.process_id}:{version.content_hash}",
                           helpers=bindings.SCRIPT_HELPERS, decisions=evaluate, callees=StoreCallees(version),
                           script_timeout_s=limits.script_timeout_s, isolation=script_isolation(),
                           step_budget=limits.step_budget, max_call_depth=limits.max_call_depth)


# built once: every step reuses the statements and their memoized cache keys
INTERACTIVE_LOCK_TIMEOUT = "3s"
_SELECT_INSTANCE = select(ProcessInstance).where(ProcessInstance.id == bindparam("instance_id"))
_LOCK_INSTANCE = _SELECT_INSTANCE.with_for_update()
# An interactive step's lock statement sets the transaction's lock timeout itself (what `SET LOCAL lock_timeout`
# did in a round trip of its own, issue 23.2): set_config(…, true) is SET LOCAL, and as a volatile condition on the
# row it is evaluated as the row is read, before the row lock (the statement's last step) is waited for.
_LOCK_INSTANCE_BRIEFLY = _SELECT_INSTANCE.where(
    literal_column(f"set_config('lock_timeout', '{INTERACTIVE_LOCK_TIMEOUT}', true)").is_not(None)).with_for_update()
# run on the DBAPI connection, the instance held as the ORM loads it (app.core.hot_reads); SQLite: the session
_HOT_SELECT_INSTANCE, _HOT_LOCK_INSTANCE, _HOT_LOCK_INSTANCE_BRIEFLY = (
    HotSelect(_SELECT_INSTANCE), HotSelect(_LOCK_INSTANCE), HotSelect(_LOCK_INSTANCE_BRIEFLY))


def _lock(session, instance_id: int, *, interactive: bool) -> ProcessInstance:
    hot = _HOT_SELECT_INSTANCE
    if is_postgres():
        # interactive calls wait briefly (a concurrent step on the same instance usually takes milliseconds),
        # then answer 409 instance_busy instead of hanging; workers wait as long as it takes
        hot = _HOT_LOCK_INSTANCE_BRIEFLY if interactive else _HOT_LOCK_INSTANCE
        send_deferred(session)      # a deferred write's error is its own, not the lock's (app.core.pgexec)
    # what the caller changed is written with the step's own writes: no autoflush (`session.no_autoflush`'s own
    # steps, without its generator-based context manager)
    autoflush, session.autoflush = session.autoflush, False
    try:
        inst = hot.scalar_one_or_none(session, {"instance_id": instance_id})
    except OperationalError as exc:
        raise InstanceBusy("流程实例正被其他操作处理，请稍后重试 (instance busy)", instance_id=instance_id) from exc
    finally:
        session.autoflush = autoflush
    if inst is None:
        raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
    logs.instance_id.set(inst.id)
    return inst


# -- start ---------------------------------------------------------------------------------------------------

def start_instance(process_id: str, *, data: Mapping[str, Any] | None = None, business_key: str | None = None,
                   actor: Actor, resident_id: int | None = None, org_code: str | None = None,
                   version: int | None = None, message: tuple[str, Mapping[str, Any]] | None = None,
                   parent_instance_id: int | None = None, started_by: str | None = None) -> ProcessInstance:
    """Start the latest (or the given) version of a process and run it until it waits. `started_by` is the user the
    instance works for when that is not the actor (default: the actor)."""
    with unit_of_work() as session:
        outer = session.info.get(_WRITTEN_EVENTS)
        written: list[ProcessEvent] = []
        session.info[_WRITTEN_EVENTS] = written
        try:
            inst = _start(session, process_id, data=data, business_key=business_key, actor=actor,
                          resident_id=resident_id, org_code=org_code, version=version, message=message,
                          parent_instance_id=parent_instance_id, started_by=started_by)
            session.flush()             # whatever a hook added last is collected too
        finally:
            if outer is None:
                session.info.pop(_WRITTEN_EVENTS, None)
            else:
                outer.extend(written)
                session.info[_WRITTEN_EVENTS] = outer
        if any(e.id is None for e in written):
            send_deferred(session)      # the history's keys (`_write_events`) read now, if no statement took them
        session.info[_STARTED] = (inst.id, sorted((e for e in written if e.instance_id == inst.id),
                                                  key=lambda e: e.id))
        return inst


_WRITTEN_EVENTS = "workflows.written_events"
_STARTED = "workflows.started"


def _collect_event(session, obj) -> None:
    """While an instance starts, every history event its transaction inserts (whoever writes it) is kept, so the
    start's answer need not read back what was just written (`started_history`)."""
    written = session.info.get(_WRITTEN_EVENTS)
    if written is not None and isinstance(obj, ProcessEvent):
        written.append(obj)


def watch_started_events() -> None:
    """Collect the history events a start inserts (`app.wiring` calls this once at start-up); until it runs,
    `started_history` answers None and the start's answer reads them."""
    if not event.contains(Session, "pending_to_persistent", _collect_event):
        event.listen(Session, "pending_to_persistent", _collect_event)


def started_history(session, instance_id: int) -> list[ProcessEvent] | None:
    """The history events (in id order) of the instance this session started last, if that is `instance_id`; None
    otherwise (read them). Taken once."""
    started = session.info.pop(_STARTED, None)
    if started is None or started[0] != instance_id or not event.contains(Session, "pending_to_persistent",
                                                                            _collect_event):
        return None
    return started[1]


def _start(session, process_id: str, *, data, business_key, actor: Actor, resident_id, org_code, version, message,
           parent_instance_id, started_by) -> ProcessInstance:
    setup = start_setup(session, process_id, version)
    data = dict(data or {})
    if resident_id is not None:
        data.setdefault("resident_id", resident_id)
    resident = hooks.resident_context(resident_id or as_int(data.get("resident_id")))
    data, org_code = start_data(data, business_key=business_key, resident=resident, org_code=org_code)
    if message:
        snap = runtime.start_by_message(setup.context, message[0], message[1], data)
    else:
        snap = runtime.start(setup.context, data)
    now = clock.now()
    inst = new_instance(setup, snap, data, business_key=business_key, resident_id=resident_id, org_code=org_code,
                        org_path=org_path(org_code), started_by=started_by or actor.name, now=now,
                        parent_instance_id=parent_instance_id)
    _insert_instance(session, inst, snap)
    logs.instance_id.set(inst.id)
    # not flushed here: what the ORM still holds (timers, outbox rows) is written by start_instance's one flush
    record_start(session, inst, snap, actor, now, data=data, business_key=business_key, flush=False)
    return inst


def _insert_instance(session, inst: ProcessInstance, snap: runtime.Snapshot) -> None:
    """One Core INSERT … RETURNING id of a new instance row, then held by the session as loaded (what the start's
    answer and later steps in this transaction read), without the unit of work; the state sent as the text the
    engine serialized it to."""
    params = _INSTANCE_PARAMS(inst)
    inst.id = _INSERT_INSTANCE.scalar(session, _state_as_text(params, snap))
    hold_as_loaded(session, inst)


# -- starts, step by step (a batch start, app.workflows.batch, does each step once for many instances) -----------

@dataclass(frozen=True)
class StartSetup:
    """What every start of one version needs: the version, its decision pins and the engine context."""

    version: VersionInfo
    pins: dict[str, int]
    context: runtime.Context


def start_setup(session, process_id: str, version: int | None = None) -> StartSetup:
    """The deployed version (latest, or `version`) with its decisions pinned now. Raises NotFound."""
    pv = _find_version(session, process_id, version)
    pins = _pins_for(session, pv)
    return StartSetup(version=pv, pins=pins, context=_context(version_info(pv.id), pins))


def start_data(data: Mapping[str, Any], *, business_key: str | None, resident: Mapping[str, Any],
               org_code: str | None) -> tuple[dict[str, Any], str | None]:
    """A start's data completed from its business key and resident context, and the organisation it belongs to."""
    data = dict(data)
    if business_key is not None:
        data.setdefault("business_key", business_key)
    for key in ("resident_name", "village_code"):
        if resident.get(key) is not None:
            data.setdefault(key, resident[key])
    return data, org_code or data.get("org_code") or resident.get("org_code")


def new_instance(setup: StartSetup, snap: runtime.Snapshot, data: Mapping[str, Any], *, business_key: str | None,
                 resident_id: int | None, org_code: str | None, org_path: str | None, started_by: str, now,
                 parent_instance_id: int | None = None) -> ProcessInstance:
    """The row of a started instance (not added to a session), its values set without the ORM's attribute events
    (a few µs each; what they record nobody reads: the row is held as loaded right after its INSERT, or a batch
    start's stays out of the session), the snapshot's columns with them (one INSERT)."""
    pv = setup.version
    inst = _NEW_INSTANCE()
    values = inst.__dict__
    values.update(
        process_version_id=pv.id, process_id=pv.process_id, version=pv.version, started_at=now,
        business_key=business_key, resident_id=resident_id or as_int(data.get("resident_id")),
        resident_name=data.get("resident_name"), org_code=org_code, org_path=org_path,
        started_by=started_by, engine_format=eng.ENGINE_FORMAT, decision_versions=setup.pins,
        parent_instance_id=parent_instance_id, status=snap.status)
    values.update(_applied(inst, snap, now))
    return inst


_NEW_INSTANCE = ProcessInstance.__mapper__.class_manager.new_instance


def record_start(session, inst: ProcessInstance, snap: runtime.Snapshot, actor: Actor, now, *,
                 data: Mapping[str, Any], business_key: str | None, flush: bool = True) -> None:
    """The history and projections of an instance just inserted (`flush=False`: the caller flushes many at once)."""
    started = _event_row(inst, "instance_started", actor, data={"data": runtime.to_json_value(data),
                                                               "business_key": business_key})
    _project(session, inst, snap, actor, now, new=True, flush=flush, events_before=[started])


def as_int(value) -> int | None:
    """An id given as text or number, or None when it is none."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def org_path(org_code: str | None) -> str | None:
    """The organisation path an instance of `org_code` is filed under (scope checks read it)."""
    org = org_facts(org_code)
    return org.path if org else None


def _find_version(session, process_id: str, version: int | None) -> VersionInfo:
    if version is not None:
        known = versions.numbered_version_id(process_id, version)       # immutable: cached
        if known is not None:
            return version_info(known)
    stmt = select(ProcessVersion.id, ProcessVersion.content_hash).where(ProcessVersion.process_id == process_id)
    stmt = stmt.where(ProcessVersion.version == version) if version is not None else \
        stmt.order_by(ProcessVersion.version.desc()).limit(1)
    found = session.execute(stmt).one_or_none()
    if found is None:
        raise NotFound(f"流程 {process_id} 未部署 (process not deployed)", process_id=process_id)
    return version_info(found.id)


def _pins_for(session, pv: VersionInfo) -> dict[str, int]:
    """Pin the decisions this version uses (and what they require) to their current versions."""
    used = pv.meta.get("decisions") or []
    if not used:
        return {}
    pinned = decisions.registry(session)
    return {d: pinned.versions[d] for d in sorted(decisions.closure(pinned.registry, used)) if d in pinned.versions}


# -- steps on an existing instance ---------------------------------------------------------------------------

def _step(instance_id: int, actor: Actor, fn: Callable[[runtime.Context, ProcessInstance], runtime.Snapshot], *,
          interactive: bool = True, allow_suspended: bool = False, session_hook=None,
          history_before: Sequence[dict[str, Any]] = ()):
    try:
        with unit_of_work() as session:
            inst = _lock(session, instance_id, interactive=interactive)
            if inst.status in FINAL:
                raise InvalidState(f"流程实例已{'完成' if inst.status == 'completed' else '终止'} (instance is "
                                   f"{inst.status})", instance_status=inst.status)
            if inst.status == "suspended" and not allow_suspended:
                raise InvalidState("流程实例已挂起 (instance is suspended)", instance_status=inst.status)
            ctx = _context(version_info(inst.process_version_id), inst.decision_versions)
            snap = fn(ctx, inst)
            if session_hook:
                session_hook(session, inst, snap)
            _persist(session, inst, snap, actor, history_before)
            return inst, snap
    except StaleDataError as exc:
        raise Conflict("流程实例已被其他操作更新 (version conflict)", code="version_conflict",
                       instance_id=instance_id) from exc


def complete_human_task(task: HumanTask, data: Mapping[str, Any], actor: Actor, *, completion_id: str | None = None,
                        interactive: bool = True, history_before: Sequence[dict[str, Any]] = ()):
    """Complete an open human task (the caller validated form data and permissions). `history_before`: history rows
    of the caller's (a claim's: every process_events column but the id) written first with the step's history,
    after any history event the session holds, as if it had been added to the session last."""
    def run(ctx, inst):
        return runtime.complete_task(ctx, inst.state, task.task_guid, data)

    def mark(session, inst, snap):
        hooks.complete_task(session, task.id, data, actor.name, completion_id)   # the inbox (app.tasks) writes it
        for ev in snap.events:
            if ev["type"] == "task_completed" and ev["task_guid"] == task.task_guid:
                ev["actor"] = actor.name
    try:
        return _step(task.instance_id, actor, run, interactive=interactive, session_hook=mark,
                     history_before=history_before)
    except eng.TaskNotReady as exc:
        raise Conflict("任务已完成 (task already completed)", code="task_already_completed",
                       task_id=task.id) from exc


def advance_instance(instance_id: int, actor: Actor | None = None, *, interactive: bool = False):
    """Fire due timers and run on (used by the timer job); each timer that fired is recorded once."""
    actor = actor or Actor("scheduler")

    def record(session, inst, snap):
        pending = dict(session.execute(select(Timer.task_guid, Timer.element_id)
                                       .where(Timer.instance_id == inst.id)).all())
        still = {t.task_guid for t in snap.timers}
        for guid, element in pending.items():
            if guid not in still:
                snap.events.append({"type": "timer_fired", "element_id": element, "task_guid": guid, "data": {}})
    return _step(instance_id, actor, lambda ctx, inst: runtime.advance(ctx, inst.state), interactive=interactive,
                 session_hook=record)


def correlate(instance_id: int, message_name: str, payload: Mapping[str, Any], actor: Actor, *, interactive=False):
    return _step(instance_id, actor, lambda ctx, inst: runtime.correlate(ctx, inst.state, message_name, payload),
                 interactive=interactive)


_CALL_FINISHED = ("done", "failed", "cancelled")


def _service_call(session, call_id: int) -> ServiceCall:
    call = session.get(ServiceCall, call_id)
    if call is None:
        raise NotFound("服务调用不存在 (service call not found)", call_id=call_id)
    return call


def complete_service_call(call_id: int, result: Any) -> None:
    """Feed a service call's result into its instance; a late duplicate (another worker already completed the call
    after this one's lease ran out) changes nothing."""
    with unit_of_work() as session:
        call = _service_call(session, call_id)
        inst_id, guid, status = call.instance_id, call.task_guid, call.status
    if status in _CALL_FINISHED:
        return

    def mark(session, inst, snap):
        row = _service_call(session, call_id)
        row.status, row.result, row.finished_at = "done", runtime.to_json_value(result), clock.now()
    try:
        _step(inst_id, Actor("worker"), lambda ctx, inst: runtime.complete_service_call(ctx, inst.state, guid, result),
              interactive=False, session_hook=mark)
    except eng.TaskNotReady:
        with unit_of_work() as session:
            if _service_call(session, call_id).status in _CALL_FINISHED:
                log.info("duplicate service call result ignored", extra={"job": str(call_id)})
                return
        raise


def fail_service_call(call_id: int, *, code: str, message: str) -> bool:
    """Throw the failure into the model (error boundary) or raise an incident on the instance."""
    handled = {}
    with unit_of_work() as session:
        call = _service_call(session, call_id)
        inst_id, guid, element = call.instance_id, call.task_guid, call.element_id

    def run(ctx, inst):
        snap, ok = runtime.fail_service_call(ctx, inst.state, guid, error_code=code, message=message)
        handled["ok"] = ok
        if not ok:
            snap.status = "error"
            snap.error = runtime.ErrorInfo(element_id=element, task_guid=guid, message=message, code=code)
            snap.events.append({"type": "incident", "element_id": element, "task_guid": guid,
                                "data": {"code": code, "message": message, "service_call_id": call_id}})
        return snap

    def mark(session, inst, snap):
        row = session.get(ServiceCall, call_id)
        row.status, row.last_error, row.finished_at = "failed", f"{code}: {message}", clock.now()
    _step(inst_id, Actor("worker"), run, interactive=False, session_hook=mark)
    return handled.get("ok", False)


def retry_instance(instance_id: int, actor: Actor, *, data_patch: Mapping[str, Any] | None = None):
    """Retry what failed: re-run a failed service call, or reset the task in error and run it again."""
    with unit_of_work() as session:
        failed_call = session.execute(select(ServiceCall).where(
            ServiceCall.instance_id == instance_id, ServiceCall.status == "failed")).scalars().first()
    if failed_call is not None:
        def requeue(session, inst, snap):
            row = session.get(ServiceCall, failed_call.id)
            row.status, row.attempts, row.next_attempt_at = "pending", 0, clock.now()
            snap.status = "waiting"
            snap.error = None
            snap.events.append({"type": "retried", "element_id": row.element_id, "task_guid": row.task_guid,
                                "data": {"service_call_id": row.id}})
            enqueue_after_commit(session, "app.workflows.jobs.run_service_call", row.id, job_id=f"svc-{row.id}-0")
        return _step(instance_id, actor, lambda ctx, inst: runtime.advance(ctx, inst.state), interactive=True,
                     session_hook=requeue)
    try:
        return _step(instance_id, actor, lambda ctx, inst: runtime.retry(ctx, inst.state, data_patch=data_patch))
    except eng.TaskNotReady as exc:
        raise InvalidState("没有出错的任务可重试 (nothing to retry)") from exc


def terminate_instance(instance_id: int, actor: Actor, *, reason: str | None = None):
    def run(ctx, inst):
        snap = runtime.cancel(ctx, inst.state)
        snap.events.append({"type": "terminated", "element_id": None, "task_guid": None, "data": {"reason": reason}})
        return snap

    def tell(session, inst, snap):
        hooks.instance_terminated(inst.process_id, inst.id, actor.name, reason)
    return _step(instance_id, actor, run, allow_suspended=True, session_hook=tell)


def suspend_instance(instance_id: int, actor: Actor):
    with unit_of_work() as session:
        inst = _lock(session, instance_id, interactive=True)
        if inst.status in FINAL or inst.status == "suspended":
            raise InvalidState(f"流程实例状态为 {inst.status}，不能挂起 (cannot suspend)", instance_status=inst.status)
        inst.suspended_status, inst.status, inst.updated_at = inst.status, "suspended", clock.now()
        _event(session, inst, "suspended", actor)
        return inst


def resume_instance(instance_id: int, actor: Actor):
    with unit_of_work() as session:
        inst = _lock(session, instance_id, interactive=True)
        if inst.status != "suspended":
            raise InvalidState("流程实例未挂起 (instance is not suspended)", instance_status=inst.status)
        inst.status, inst.suspended_status, inst.updated_at = inst.suspended_status or "waiting", None, clock.now()
        _event(session, inst, "resumed", actor)
        due = inst.next_timer_at is not None and inst.next_timer_at <= clock.now()
        if due:
            enqueue_after_commit(session, "app.workflows.jobs.fire_timers", inst.id, job_id=f"timer-{inst.id}")
        return inst


# -- persistence of a snapshot -------------------------------------------------------------------------------

_EVENT_ROWS = "workflows.event_rows"
_EVENTS = cast(Table, ProcessEvent.__table__)
_INSTANCES = cast(Table, ProcessInstance.__table__)
# the step's writes are Core statements built once (their cache keys are memoized), not the ORM's unit of work
_INSERT_EVENTS = insert(_EVENTS)
_EVENT_COPY_COLUMNS = [c for c in _EVENTS.columns if not c.primary_key]
_HOT_INSERT_EVENTS = HotStatement(_INSERT_EVENTS)     # a step's history, run on the DBAPI (app.core.hot)
_INSERT_EVENTS_RETURNING = HotStatement(insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True))
_INSTANCE_COLUMNS = [c for c in _INSTANCES.columns if not c.primary_key]
_INSTANCE_PARAMS = NewRowParams(_INSTANCE_COLUMNS)     # `insert_params` for a new instance, held as loaded after
_INSERT_INSTANCE = HotStatement(insert(_INSTANCES).returning(_INSTANCES.c.id))
_UPDATE_INSTANCE = HotStatement(update(_INSTANCES).where(_INSTANCES.c.id == bindparam("b_id"),
                                                        _INSTANCES.c.lock_version == bindparam("b_lock_version")))


@contextlib.contextmanager
def events_in_bulk(session) -> Iterator[None]:
    """History events the runner writes inside the block are inserted together when it ends: plain rows instead of
    an ORM object each (a batch start writes four per instance), one COPY on PostgreSQL (`copy_rows`: the values
    through the same bind processors, the ids drawn in the rows' order as the INSERT draws them), one multi-row
    INSERT elsewhere. Only for new instances whose events nobody reads back in the same block."""
    rows: list[dict[str, Any]] = []
    session.info[_EVENT_ROWS] = rows
    try:
        yield
    finally:
        session.info.pop(_EVENT_ROWS, None)
    if not rows:
        return
    if is_postgres() and all(c.key in rows[0] for c in _EVENT_COPY_COLUMNS):    # every column given: no default
        copy_rows(session, _EVENTS, _EVENT_COPY_COLUMNS, rows)
    else:
        session.execute(_INSERT_EVENTS, rows)     # Core on the table: every row with every column, one INSERT


def _event_row(inst: ProcessInstance, type_: str, actor: Actor | str, *, element_id=None, task_guid=None,
               data=None, at=None) -> dict[str, Any]:
    return {"instance_id": inst.id, "at": at or clock.now(), "type": type_, "element_id": element_id,
            "task_guid": task_guid, "actor": actor if isinstance(actor, str) else actor.name, "data": data or {}}


def _event(session, inst: ProcessInstance, type_: str, actor: Actor | str, **fields) -> None:
    _write_events(session, [_event_row(inst, type_, actor, **fields)])


def _write_events(session, rows: list[dict[str, Any]]) -> None:
    """Insert history rows in one statement (after whatever the ORM holds, so ids keep the order things happened
    in); while a start collects its events (`started_history`), their ids come back with RETURNING."""
    if not rows:
        return
    bulk = session.info.get(_EVENT_ROWS)
    if bulk is not None:
        bulk.extend(rows)
        return
    rows = _pending_events(session) + rows      # (what else the ORM holds is written at its next flush)
    written = session.info.get(_WRITTEN_EVENTS)
    if written is None:
        _HOT_INSERT_EVENTS.defer(session, rows)    # sent with the next statement or the COMMIT (PostgreSQL, issue 23)
        return
    events = []
    for row in rows:
        written_event = _NEW_EVENT()    # the row as written, outside the session: no attribute events to record
        written_event.__dict__.update(row)
        events.append(written_event)
    written.extend(events)
    # their keys are read with the step's next round trip (PostgreSQL: the new tasks' INSERT, or the COMMIT); the
    # start reads them only when it is done (`start_instance`: sent then if still held)
    _INSERT_EVENTS_RETURNING.scalars_later(session, rows, partial(_keyed, events))


def _keyed(events: list[ProcessEvent], ids: list[int]) -> None:
    for id_, written_event in zip(ids, events, strict=True):
        written_event.__dict__["id"] = id_


_NEW_EVENT = ProcessEvent.__mapper__.class_manager.new_instance


def _pending_events(session) -> list[dict[str, Any]]:
    """History events added to the session before the step's (a claim's, `app.tasks`), taken out of it as rows: they
    go first in the step's INSERT, as the unit of work would have written them with it."""
    pending = [obj for obj in session.new if isinstance(obj, ProcessEvent)]
    if not pending:
        return []
    pending.sort(key=lambda obj: inspect(obj).insert_order or 0)
    rows = []
    for obj in pending:
        session.expunge(obj)
        rows.append({c: getattr(obj, c) for c in _EVENT_COLUMNS})
        rows[-1]["data"] = rows[-1]["data"] or {}
    return rows


_EVENT_COLUMNS = [c.key for c in _EVENTS.columns if not c.primary_key]


def _applied(inst: ProcessInstance, snap: runtime.Snapshot, now) -> dict[str, Any]:
    """The instance columns a snapshot sets."""
    values = {"state": snap.state, "status": snap.status if inst.status != "suspended" else "suspended",
              "diagram": snap.diagram, "error": vars(snap.error) if snap.error else None,
              "next_timer_at": snap.next_timer_at,
              "waiting_messages": sorted({s.message_name for s in snap.subscriptions}), "updated_at": now}
    if snap.status in FINAL:
        values.update(ended_at=now, result=snap.data)
    return values


def _state_as_text(params: dict[str, Any], snap: runtime.Snapshot) -> dict[str, Any]:
    """`params` with the snapshot's state as the JSON text the engine serialized it to (`Snapshot.state_text`, a text
    that decodes to exactly the state), so it is not serialized a second time (app.core.hot sends a `JSONText` as
    is)."""
    if snap.state_text is not None and params.get("state") is snap.state and is_postgres():
        return {**params, "state": JSONText(snap.state_text)}
    return params


def _update_instance(session, inst: ProcessInstance, values: dict[str, Any],
                     snap: runtime.Snapshot | None = None, *, events: Sequence[dict[str, Any]] = ()) -> None:
    """One UPDATE of the locked instance row under its optimistic version (as the ORM's `version_id_col` would);
    the loaded object takes the values as committed, so nothing writes them again. With the step's `snap`, the
    state is sent as the text the engine serialized it to. With `events`, the step's history rows are written by
    the same statement when the UPDATE touched the row (`hot.update_then_insert`: one round trip on PostgreSQL)."""
    if instance_state(inst).modified:
        session.flush()             # what the caller changed on the instance is written (and versioned) first
    lock_version = inst.lock_version
    values = {**values, "lock_version": lock_version + 1}
    params = {"b_id": inst.id, "b_lock_version": lock_version, **values}
    if snap is not None:
        params = _state_as_text(params, snap)
    touched = update_then_insert(session, _UPDATE_INSTANCE, params, _HOT_INSERT_EVENTS, events) if events else \
        _UPDATE_INSTANCE.execute(session, params)
    if touched != 1:
        raise StaleDataError(f"process_instances {inst.id}: version {lock_version} was changed meanwhile")
    _hold_as_committed(inst, values)


def _hold_as_committed(inst: ProcessInstance, values: dict[str, Any]) -> None:
    """The loaded instance takes `values` as committed (what `set_committed_value` does per attribute: the value in
    the object's dict, the attribute's change history and expiry dropped), for all of them at once (SQLAlchemy 2.0,
    pinned <2.1)."""
    state = instance_state(inst)
    state.dict.update(values)
    state._commit(state.dict, list(values))


def _persist(session, inst: ProcessInstance, snap: runtime.Snapshot, actor: Actor,
             history_before: Sequence[dict[str, Any]] = ()) -> None:
    now = clock.now()
    had_timers, had_messages = inst.next_timer_at is not None, bool(inst.waiting_messages)
    # a claim's history goes in the step's INSERT, not a flush of its own
    before = _pending_events(session) + [{**row, "data": row["data"] or {}} for row in history_before]
    if session.info.get(_EVENT_ROWS) is None and session.info.get(_WRITTEN_EVENTS) is None:
        # the step's history rides in the instance UPDATE's statement (written only if it touched the row)
        _update_instance(session, inst, _applied(inst, snap, now), snap,
                         events=_history_rows(inst, snap, actor, before))
        _project(session, inst, snap, actor, now, new=False, had_timers=had_timers, had_messages=had_messages,
                 history_written=True, flush=False)
        return
    _update_instance(session, inst, _applied(inst, snap, now), snap)
    _project(session, inst, snap, actor, now, new=False, had_timers=had_timers, had_messages=had_messages,
             events_before=before, flush=False)     # the rest the ORM holds is written at the commit's flush


def _history_rows(inst, snap, actor, events_before: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """A step's history rows: `events_before`, the snapshot's events, its end."""
    rows = [*events_before, *[_event_row(inst, ev["type"], ev.get("actor") or actor, element_id=ev.get("element_id"),
                                         task_guid=ev.get("task_guid"), data=ev.get("data")) for ev in snap.events]]
    if snap.status in FINAL:
        rows.append(_event_row(inst, f"instance_{snap.status}", actor))
    return rows


def _project(session, inst, snap, actor, now, *, new: bool, had_timers: bool = False,
             had_messages: bool = False, flush: bool = True, events_before: Sequence[dict[str, Any]] = (),
             history_written: bool = False) -> None:
    """Write history and the projections of one step (skipping what cannot have existed before); a batch start
    (app.workflows.batch) flushes once for all its instances (`flush=False`). `events_before`: history rows that
    go first in the step's INSERT; `history_written`: the step's history was written with the instance row."""
    if not history_written:
        _write_events(session, _history_rows(inst, snap, actor, events_before))
    hooks.project_tasks(session, inst, snap.human_tasks, now, new=new,     # the inbox (app.tasks) writes them
                        closed=snap.closed_tasks)
    if had_timers or snap.timers:
        _project_timers(session, inst, snap, new=new)
    if had_messages or snap.subscriptions:
        _project_subscriptions(session, inst, snap, new=new)
    _project_service_calls(session, inst, snap, now)
    _send_thrown_messages(session, inst, snap, actor, now)
    if flush:
        session.flush()


def _send_thrown_messages(session, inst, snap, actor, now) -> None:
    """A message thrown to another process is recorded in this step and delivered by a job after commit."""
    for message in snap.thrown_messages:
        event = ProcessEvent(instance_id=inst.id, at=now, type="message_sent", element_id=None, task_guid=None,
                             actor=actor.name, data={"message": message["name"], "payload": message["payload"]})
        session.add(event)
        session.flush()
        enqueue_after_commit(session, "app.workflows.jobs.deliver_thrown_message", event.id, job_id=f"msg-{event.id}",
                             retries=0)


def _project_timers(session, inst, snap, *, new: bool) -> None:
    if not new:
        session.execute(delete(Timer).where(Timer.instance_id == inst.id))
    for t in snap.timers:
        session.add(Timer(instance_id=inst.id, task_guid=t.task_guid, element_id=t.element_id, fire_at=t.fire_at))


def _project_subscriptions(session, inst, snap, *, new: bool) -> None:
    if not new:
        session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == inst.id))
    for s in snap.subscriptions:
        session.add(MessageSubscription(instance_id=inst.id, task_guid=s.task_guid, element_id=s.element_id,
                                        message_name=s.message_name, correlation=s.correlation,
                                        correlation_hash=s.correlation_hash, retrieval=s.retrieval,
                                        correlation_keys=",".join(sorted(s.correlation))))


def _project_service_calls(session, inst, snap, now) -> None:
    if not snap.service_calls:
        return
    known = {c for (c,) in session.execute(select(ServiceCall.task_guid).where(ServiceCall.instance_id == inst.id))}
    for call in snap.service_calls:
        if call.task_guid in known:
            continue
        row = ServiceCall(idempotency_key=f"{inst.id}:{call.task_guid}", instance_id=inst.id,
                          task_guid=call.task_guid, element_id=call.element_id, operator=call.operator,
                          params=call.params, status="pending", attempts=0,
                          max_attempts=(call.retries if call.retries is not None else 3) + 1,
                          backoff_base=call.backoff_base or 2.0, next_attempt_at=now, created_at=now)
        session.add(row)
        session.flush()
        enqueue_after_commit(session, "app.workflows.jobs.run_service_call", row.id, job_id=f"svc-{row.id}-0",
                             retries=0)

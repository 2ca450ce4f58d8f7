"""Read side of definitions and instances; every instance query goes through the caller's data scope."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.auth.principal import Principal
from app.core.db import session
from app.core.errors import NotFound
from app.org.scope import row_in_scope, row_scope_filter
from app.tasks import projection as task_projection
from app.tasks import queries as task_queries
from app.workflows import runner
from app.workflows.deploy import latest_process_versions
from app.workflows.models import (
    HumanTask,
    MessageSubscription,
    ProcessEvent,
    ProcessInstance,
    ProcessVersion,
    ServiceCall,
    Timer,
)

from .policy import policy_of


def _scoped(principal: Principal):
    return select(ProcessInstance).where(_scope(principal))


def _scope(principal: Principal):
    return row_scope_filter(principal, org_path=ProcessInstance.org_path, resident_id=ProcessInstance.resident_id)


def list_definitions() -> list[dict]:
    s = session()
    latest = latest_process_versions(s)
    versions: dict[str, list[ProcessVersion]] = {}
    for row in s.execute(select(ProcessVersion).order_by(ProcessVersion.process_id,
                                                         ProcessVersion.version.desc())).scalars():
        versions.setdefault(row.process_id, []).append(row)
    return [_definition(latest[pid], versions[pid]) for pid in sorted(latest)]


def _definition(pv: ProcessVersion, versions: list[ProcessVersion]) -> dict:
    return {"process_id": pv.process_id, "name": pv.name, "latest_version": pv.version, "versions": versions,
            "start_messages": pv.meta.get("start_messages", []), "user_tasks": pv.meta.get("user_tasks", []),
            "decisions": pv.meta.get("decisions", []), "start": policy_of(pv.meta, pv.process_id).to_dict()}


def definition(process_id: str) -> dict:
    rows = list(session().execute(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                  .order_by(ProcessVersion.version.desc())).scalars())
    if not rows:
        raise NotFound("流程定义不存在 (process definition not found)", process_id=process_id)
    return _definition(rows[0], rows)


def version(process_id: str, number: int) -> ProcessVersion:
    row = session().execute(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                         ProcessVersion.version == number)).scalar_one_or_none()
    if row is None:
        raise NotFound("流程版本不存在 (process version not found)", process_id=process_id, version=number)
    return row


def list_instances(principal: Principal, args: dict) -> tuple[list[ProcessInstance], int]:
    stmt = _scoped(principal)
    for key in ("process_id", "status", "org_code", "resident_id", "business_key"):
        if args.get(key) is not None:
            stmt = stmt.where(getattr(ProcessInstance, key) == args[key])
    if args.get("started_from"):
        stmt = stmt.where(ProcessInstance.started_at >= args["started_from"])
    if args.get("started_to"):
        stmt = stmt.where(ProcessInstance.started_at <= args["started_to"])
    total = session().execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page, per_page = args.get("page", 1), args.get("per_page", 25)
    items = session().execute(stmt.order_by(ProcessInstance.id.desc()).offset((page - 1) * per_page)
                              .limit(per_page)).scalars().all()
    return list(items), total


def instance(principal: Principal, instance_id: int) -> ProcessInstance:
    row = session().execute(_scoped(principal).where(ProcessInstance.id == instance_id)).scalar_one_or_none()
    if row is None:
        raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
    return row


def instance_visible(principal: Principal, instance_id: int) -> bool:
    """Whether the instance is in the caller's scope (message senders reach only those)."""
    return session().execute(select(ProcessInstance.id).where(ProcessInstance.id == instance_id,
                                                              _scope(principal))).first() is not None


def instance_detail(principal: Principal, instance_id: int) -> dict:
    inst = instance(principal, instance_id)
    s = session()
    open_tasks = s.execute(select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.status == "open")
                           .order_by(HumanTask.id)).scalars().all()
    history = s.execute(select(ProcessEvent).where(ProcessEvent.instance_id == inst.id)
                        .order_by(ProcessEvent.id)).scalars().all()
    return _detail(s, inst, open_tasks, history)


def started_instance_detail(principal: Principal, inst: ProcessInstance) -> dict:
    """`instance_detail` of an instance this request has just started, built from what the start wrote (the row,
    its history events and open tasks are in the session) instead of reading them back (issue 23.2). The same
    answer: the same scope rule (in Python) and the same fields; anything not at hand is read as before."""
    s = session()
    history = runner.started_history(s, inst.id)
    if history is None or not row_in_scope(principal, org_path=inst.org_path, resident_id=inst.resident_id):
        return instance_detail(principal, inst.id)
    return _detail(s, inst, task_projection.open_rows_in_session(s, inst.id), history)


def _detail(s, inst: ProcessInstance, open_tasks, history) -> dict:
    timers = [] if inst.next_timer_at is None else [
        {"element_id": t.element_id, "fire_at": t.fire_at.isoformat()}
        for t in s.execute(select(Timer).where(Timer.instance_id == inst.id)).scalars()]
    waiting = [] if not inst.waiting_messages else [
        {"element_id": m.element_id, "message_name": m.message_name, "correlation": m.correlation}
        for m in s.execute(select(MessageSubscription).where(MessageSubscription.instance_id == inst.id)).scalars()]
    called = _called(s, history)
    return {**_columns(inst), "open_tasks": task_queries.items(open_tasks), "history": history, "timers": timers,
            "waiting_messages": waiting, "called": called}


_DETAIL_COLUMNS = tuple(c.key for c in ProcessInstance.__table__.columns if c.key != "state")
_DETAIL_KEYS = frozenset(_DETAIL_COLUMNS)


def _columns(inst: ProcessInstance) -> dict[str, Any]:
    """The instance's columns but its state: its loaded values as they are (no call of SQLAlchemy's attribute
    descriptor for each), through its attributes when one is not loaded (they load it)."""
    values = inst.__dict__
    if _DETAIL_KEYS <= values.keys():
        return {key: values[key] for key in _DETAIL_COLUMNS}
    return {key: getattr(inst, key) for key in _DETAIL_COLUMNS}


def _called(s, history) -> list[dict]:
    """The processes this instance called, each with the version that ran and that version's name (issue 14.5)."""
    calls = [(e.element_id, e.data.get("process_id"), e.data.get("version")) for e in history
             if e.type == "call_started"]
    if not calls:
        return []
    names = {(pid, v): name for pid, v, name in s.execute(
        select(ProcessVersion.process_id, ProcessVersion.version, ProcessVersion.name)
        .where(ProcessVersion.process_id.in_({pid for _, pid, _ in calls if pid})))}
    return [{"element_id": element_id, "process_id": pid, "version": version,
             "process_name": names.get((pid, version))} for element_id, pid, version in calls]


def element_stats(principal: Principal, process_id: str) -> dict:
    """Where tokens wait now, per element, without deserializing a workflow."""
    s = session()
    scope = _scope(principal)
    counts: dict[str, int] = {}
    for model in (HumanTask, Timer, MessageSubscription, ServiceCall):
        stmt = (select(model.element_id, func.count()).join(ProcessInstance, ProcessInstance.id == model.instance_id)
                .where(ProcessInstance.process_id == process_id, scope,
                       ProcessInstance.status.notin_(("completed", "terminated"))).group_by(model.element_id))
        if model is HumanTask:
            stmt = stmt.where(HumanTask.status == "open")
        if model is ServiceCall:
            stmt = stmt.where(ServiceCall.status.in_(("pending", "running", "failed")))
        for element_id, n in s.execute(stmt):
            counts[element_id] = counts.get(element_id, 0) + n
    errors: dict[str, int] = {}
    for inst_error in s.execute(select(ProcessInstance.error).where(
            ProcessInstance.process_id == process_id, ProcessInstance.status == "error", scope)).scalars():
        element = (inst_error or {}).get("element_id") or "?"
        errors[element] = errors.get(element, 0) + 1
    return {"process_id": process_id, "elements": counts, "errors": errors}


def instance_stats(principal: Principal) -> dict:
    rows = session().execute(_scoped(principal).with_only_columns(
        ProcessInstance.process_id, ProcessInstance.status, func.count()).group_by(
        ProcessInstance.process_id, ProcessInstance.status)).all()
    by_status: dict[str, int] = {}
    by_process: dict[str, dict[str, int]] = {}
    for process_id, status, n in rows:
        by_status[status] = by_status.get(status, 0) + n
        by_process.setdefault(process_id, {})[status] = n
    return {"by_status": by_status, "by_process": by_process}

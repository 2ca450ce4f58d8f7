"""The inbox's own writes of `human_tasks`: the open-task projection of a workflow step, a completion, task data.

The tasks package is the one writer of `human_tasks` (issue 15.3). The runner (app.workflows) does not write the
table: it hands each step's task views to `project` and a completion to `complete`, both plugged in by
`app/wiring.py` (`hooks.inbox_writer`) and run inside the runner's transaction. Other capabilities change a task
through the public functions here (`put_open_task_data`) or through `app.tasks.services` (claim, assign, …).

The projection holds what inboxes filter by, so filters are indexed queries.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm.attributes import instance_state

from app.auth.principal import ROLES
from app.core import clock
from app.core.db import hold_as_loaded, hold_as_written, unit_of_work
from app.core.errors import Conflict
from app.core.hot import HotStatement
from app.org.queries import org_facts
from app.workflows import hooks
from app.workflows.models import NO_RISK_RANK, RISK_RANK, HumanTask, ProcessInstance, township_path_of
from app.workflows.rows import NewRowParams
from app.workflows.versions import version_id_of

DEFAULT_PRIORITY = 3
_ROLE_IN_LANE = re.compile(r"[a-z_]+")
_LAST_STEP = "tasks.last_projection"
_TASKS = HumanTask.__table__
assert isinstance(_TASKS, Table)
# a step's new task rows: one INSERT … RETURNING id built once, run on the DBAPI (app.core.hot), not the unit of work
_INSERT_TASKS = HotStatement(insert(_TASKS).returning(_TASKS.c.id, sort_by_parameter_order=True))
_NEW_TASK = HumanTask.__mapper__.class_manager.new_instance    # a task row without attribute events (`_new_row`)
_INSERTED = [c for c in _TASKS.columns if not c.primary_key and c.computed is None]
_INSERT_PARAMS = NewRowParams(_INSERTED)     # `insert_params` for a row `_new_row` made
_UPDATE_TASK = HotStatement(update(_TASKS).where(_TASKS.c.id == bindparam("b_id")))
_WRITABLE = frozenset(c.key for c in _INSERTED)


def project(session, inst: ProcessInstance, views: list[Any], now: datetime, *, new: bool,
            closed: list[str] | None = None) -> None:
    """Make the open tasks of `inst` match the step's task views: add the new ones, refresh the open ones, cancel
    those the step closed (a boundary event, a terminated instance).

    With `closed` (the engine's list of tasks that were open before the step and are not any more) only what the
    step changed is written: rows for the fresh views, the closed rows cancelled; an open task the step did not
    touch keeps its row as it is (no read, no write). Without it, every open task is re-projected."""
    if closed is None or new:
        _project_all(session, inst, views, now, new=new)
        return
    fresh = [v for v in views if v.fresh]
    in_session = {r.task_guid: r for r in _session_rows(session, inst.id)}
    wanted = {v.task_guid for v in fresh if v.was_open} | set(closed)
    wanted -= set(in_session)
    rows = dict(in_session)
    if wanted:
        rows.update((r.task_guid, r) for r in session.execute(select(HumanTask).where(
            HumanTask.instance_id == inst.id, HumanTask.status == "open",
            HumanTask.task_guid.in_(sorted(wanted)))).scalars())
    created: list[HumanTask] = []
    kept: list[HumanTask] = []
    if fresh:
        with session.no_autoflush:   # an enricher's lookup must not flush a new task before the next one sees it new
            kept = [_refresh(session, inst, rows.get(view.task_guid), view, now, created) for view in fresh]
    _insert_new(session, created)
    for guid in closed:
        row = rows.get(guid)
        if row is not None and row.status == "open":
            _cancel(row, now)
    # the step's open tasks are all known only when none was left untouched
    session.info[_LAST_STEP] = (inst.id, kept) if len(fresh) == len(views) else None


def _project_all(session, inst: ProcessInstance, views: list[Any], now: datetime, *, new: bool) -> None:
    """The full re-projection: read every open task of the instance and make the rows match the views."""
    existing = {} if new else {t.task_guid: t for t in session.execute(select(HumanTask).where(
        HumanTask.instance_id == inst.id, HumanTask.status == "open")).scalars()}
    seen = set()
    kept: list[HumanTask] = []
    created: list[HumanTask] = []
    with session.no_autoflush:   # an enricher's lookup must not flush a new task before the next one sees it new
        for view in views:
            seen.add(view.task_guid)
            kept.append(_refresh(session, inst, existing.get(view.task_guid), view, now, created))
    _insert_new(session, created)
    for guid, row in existing.items():
        if guid not in seen:
            _cancel(row, now)
    session.info[_LAST_STEP] = (inst.id, kept)     # one entry: the step that ran last in this session


def _refresh(session, inst: ProcessInstance, row: HumanTask | None, view, now: datetime,
             created: list[HumanTask]) -> HumanTask:
    if row is None:
        row = _new_row(inst, view, now)
        created.append(row)     # inserted with the step's other new tasks (`_insert_new`)
    else:
        for field, value in _filled(view, inst).items():
            setattr(row, field, value)
    for field, value in hooks.enrich_task(row).items():
        setattr(row, field, value)
    return row


def _new_row(inst: ProcessInstance, view, now: datetime) -> HumanTask:
    """A new task row with the values `_filled` gives, set without the ORM's attribute events (each a few µs; nothing
    tracks the changes of a row not yet written). What it leaves unset takes its default in `_insert_new`."""
    row = _NEW_TASK()
    values = row.__dict__
    values.update(task_guid=view.task_guid, instance_id=inst.id, process_id=inst.process_id,
                  element_id=view.element_id, name=view.name, lane=view.lane,
                  role=_candidate_role(view) or role_of_lane(view.lane), status="open", created_at=now,
                  started_by=inst.started_by, form_key=f"{view.process_id}/{view.element_id}",
                  process_version_id=version_id_of(view.spec_key) if view.spec_key else None)
    values.update(_filled(view, inst))
    if view.assign_user is not None:
        values["assignee_id"] = view.assign_user      # assigned by the model (assignUser) when the task appears
    return row


def _insert_new(session, rows: list[HumanTask]) -> None:
    """Insert a step's new task rows with one Core INSERT … RETURNING id and hand them to the session as loaded
    rows (what reads them next in this request, `next_tasks` or the start's answer, finds them with their ids and
    reads nothing back). A batch start's chunk adds them to the session instead: it flushes all its tasks at once."""
    if not rows:
        return
    if hooks.in_batch_chunk(session) is not None:
        session.add_all(rows)
        return
    ids = _INSERT_TASKS.scalars(session, [_INSERT_PARAMS(row) for row in rows])
    for row, id_ in zip(rows, ids, strict=True):
        values = row.__dict__       # a new row: nothing tracks its changes (`_new_row`), held as loaded below
        values["id"] = id_
        values["risk_rank"] = RISK_RANK.get(row.risk_level or "", NO_RISK_RANK)   # as the database computes them
        values["township_path"] = township_path_of(row.org_path)
        hold_as_loaded(session, row)


def _cancel(row: HumanTask, now: datetime) -> None:
    row.status = "cancelled"
    row.completed_at = now
    row.etag_version += 1


def _session_rows(session, instance_id: int) -> list[HumanTask]:
    """The instance's task rows this transaction already holds (the task being completed, locked by the caller)."""
    return [obj for obj in session.identity_map.values()
            if isinstance(obj, HumanTask) and obj.instance_id == instance_id]


def complete(session, task_id: int, data: Any, actor_name: str, completion_id: str | None) -> HumanTask:
    """Mark an open task completed by `actor_name` (409 task_already_completed when it is not open any more) and
    run the reactions to its completion (`hooks.on_task_completed`), in the completing transaction."""
    row = _held_task(session, task_id)
    if row.status != "open":
        raise Conflict("任务已完成 (task already completed)", code="task_already_completed", task_id=task_id)
    state = instance_state(row)
    values = state.dict
    if _COMPLETED <= values.keys():
        # the completion's values held as written at once (`_write_changes` writes them with the step): set in the
        # loaded row's dict, without an attribute event each (what those record, `_write_changes` would only undo)
        completed = {"status": "completed", "completed_at": clock.now(), "completed_by": actor_name,
                     "completion_id": completion_id, "etag_version": values["etag_version"] + 1}
        values.update(completed)
    else:
        completed = {}
        row.status, row.completed_at, row.completed_by = "completed", clock.now(), actor_name
        row.completion_id = completion_id
        row.etag_version += 1
    hooks.task_completed(row, data, actor_name)
    _write_changes(session, row, completed)   # in the step (a completion id used before fails in it), with the claim's
    return row


def _held_task(session, task_id: int) -> HumanTask:
    """The task row, usually already loaded (and locked) by the caller: what `session.get` answers, the session's
    own loaded object looked up in its identity map directly (`session.get`'s identity lookup is some twenty calls);
    one it does not hold, or holds expired, through `session.get`."""
    row = session.identity_map.get((_TASK_IDENTITY, (task_id,), None))
    if row is None or instance_state(row).expired:
        row = session.get(HumanTask, task_id)
    return row


_TASK_IDENTITY = HumanTask.__mapper__._identity_class      # (no inheritance: HumanTask)
_COMPLETED = frozenset(("status", "completed_at", "completed_by", "completion_id", "etag_version"))


def _write_changes(session, row: HumanTask, written: dict[str, Any]) -> None:
    """One Core UPDATE of what changed on a loaded task row (the claim's changes, the completion's `written` values
    already held as committed), the row then holding its values as written, so the unit of work writes nothing of it
    again."""
    state = instance_state(row)
    values = state.dict
    tracked = {key: values[key] for key in state.committed_state if key in _WRITABLE}
    changed = {**{key: values[key] for key in written}, **tracked}
    if not changed:
        return
    # deferred to the step's next statement (PostgreSQL, issue 23): the instance row's UPDATE always follows in the
    # step (`runner._update_instance`), so a completion id used before still fails inside the completion's step
    _UPDATE_TASK.defer(session, {"b_id": row.id, **changed})
    if tracked:
        hold_as_written(session, row, tracked)


def open_rows_in_session(session, instance_id: int) -> list[HumanTask]:
    """The open tasks of `instance_id` as the step that just ran left them in the session (when `project` knew every
    open task of the instance: it loaded them all, or the step left no task untouched), in id order: the caller's
    next tasks without reading back what was just written."""
    last = session.info.pop(_LAST_STEP, None)
    if last is None or last[0] != instance_id:
        return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.status == "open").order_by(HumanTask.id)))
    rows = [r for r in last[1] if r.status == "open"]
    if any(r.id is None for r in rows):     # a batch chunk's rows wait for its flush; a step's are written
        session.flush()
    return sorted(rows, key=lambda r: r.id)


def put_open_task_data(*, resident_id: int, process_id: str, key: str, value: Any) -> int:
    """Set `key` in the data of the resident's open tasks of `process_id` (what their forms resolve defaults
    against; the engine's data is not touched). The number of tasks changed."""
    with unit_of_work() as s:
        rows = list(s.scalars(select(HumanTask).where(HumanTask.resident_id == resident_id,
                                                      HumanTask.process_id == process_id,
                                                      HumanTask.status == "open")))
        for row in rows:
            row.data = {**(row.data or {}), key: value}
        return len(rows)


def role_of_lane(lane: str | None) -> str | None:
    """The role a lane names (`village_doctor`, or a lane titled with it), or None."""
    if not lane:
        return None
    if lane in ROLES:
        return lane
    return next((w for w in _ROLE_IN_LANE.findall(lane) if w in ROLES), None)


def _candidate_role(view) -> str | None:
    """A task's role chosen by data (`candidateRole` property: e.g. the sender's role), when it names a real role."""
    role = getattr(view, "candidate_role", None)
    return role if role in ROLES else None


def _filled(view, inst: ProcessInstance) -> dict[str, Any]:
    """The fields a task's view sets on its row, new or open (the model's assignee only on a new one: `_new_row`)."""
    data = view.data
    org_code = view.assign_org or inst.org_code
    return {"data": data, "instructions": view.instructions, "due_at": view.due_at,
            "priority": view.priority if view.priority is not None else DEFAULT_PRIORITY, "org_code": org_code,
            "org_path": inst.org_path if org_code == inst.org_code else _org_path(org_code),
            "resident_id": inst.resident_id, "resident_name": data.get("resident_name"),
            "village_code": data.get("village_code"), "disease": view.disease or data.get("disease"),
            "risk_level": view.risk_level or data.get("risk_level"), "excluded_user": view.exclude_user}


def _org_path(org_code: str | None) -> str | None:
    org = org_facts(org_code)
    return org.path if org else None

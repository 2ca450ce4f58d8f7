"""Save and load workflow state as plain JSON, without the spec (stored once per deployed version).

Our own format marker (`ENGINE_FORMAT`) is written beside the state; the library's own migration chain is not
trusted (ENGINE_NOTES §1.11), so a format change here needs a migration step and a fixture test.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .compaction import PRUNED_KEY
from .ids import TaskId, task_id_of_text
from .sandbox import Record
from .tasks import CALLEE_KEY, ENGINE_CONFIG

ENGINE_FORMAT = "spiff-3.2.0/1.5+ygt1"
SERIALIZER_VERSION = "1.5"


class _SplicedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Leave the specs out when saving; accept already-restored spec objects when loading."""

    def to_dict(self, workflow):
        """The library's `WorkflowConverter.to_dict` (SpiffWorkflow 3.2.0) without the specs, each task id written
        as `str(id)` or with the text it was read as (`_namer`)."""
        name = _namer(_id_texts(workflow))
        registry = self.registry
        return {
            "data": registry.convert(registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": name(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": _tasks_to_dict(registry, workflow.tasks, name),
            "root": name(workflow.task_tree.id),
            "subprocesses": self.mapping_to_dict(workflow.subprocesses),
            "bpmn_events": registry.convert(workflow.bpmn_events),
        }

    def from_dict(self, dct):
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.ygt_ids = ids = _TaskIds()      # for the load only (load_state drops it)
        workflow.ygt_id_texts = ids.texts
        workflow.tasks = _tasks_from_dict(self.registry, dct["tasks"], workflow, ids)
        workflow.task_tree = workflow.tasks.get(ids[dct["root"]])
        self.set_default_attributes(workflow, dct)
        workflow.correlations = _json_copy(workflow.correlations)      # the library keeps the given dict
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _tasks_to_dict(registry, tasks: dict[UUID, Task], name: Callable[[UUID], str]) -> dict[str, Any]:
    """`mapping_to_dict(tasks)` as the library writes it, a `Task` by its converter's `to_dict` directly (with the
    ids named by `name`) instead of through the registry's generic dispatch."""
    task_to_dict = registry.convert_to_dict[registry.typenames[Task]]
    return {name(k): task_to_dict(v, name=name) if type(v) is Task else registry.convert(v)
            for k, v in tasks.items()}


def _tasks_from_dict(registry, tasks: dict[str, Any], workflow, ids: _TaskIds) -> dict[UUID, Task]:
    """`{ids[k]: registry.restore(v, workflow=workflow)}` over a saved task mapping, a task saved by the `Task`
    converter handed to its `from_dict` directly: the registry's dispatch copied each task's dict to drop its
    `typename` key, which `from_dict` does not read."""
    typename = registry.typenames[Task]
    task_from_dict = registry.convert_from_dict[typename]
    restore = registry.restore
    return {ids[k]: task_from_dict(v, workflow=workflow) if type(v) is dict and v.get("typename") == typename
            else restore(v, workflow=workflow) for k, v in tasks.items()}


def _restore(registry, value: Any) -> Any:
    """`registry.restore(value)` (SpiffWorkflow 3.2.0's `DictionaryConverter.restore`: registered types by their
    `typename`, new dicts and lists for the rest), plain JSON dicts and lists walked here without its dispatch."""
    kind = type(value)
    if kind is dict:
        if "typename" in value:
            return registry.restore(value)
        return {k: v if type(v) in _LEAVES else _restore(registry, v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _LEAVES else _restore(registry, v) for v in value]
    return registry.restore(value)


class _CalleeAwareSubWorkflowConverter(BpmnSubWorkflowConverter):
    """A called process is restored with the callee version it started with (kept on its call activity task)."""

    def from_dict(self, dct, task, top_workflow):
        key = task.internal_data.get(CALLEE_KEY)
        spec = top_workflow.subprocess_specs.get(key) if key else None
        if spec is None:        # the library's choice (BpmnSubWorkflowConverter.from_dict)
            spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        ids = getattr(top_workflow, "ygt_ids", None)
        if ids is None:
            ids = _TaskIds()
        subprocess.tasks = _tasks_from_dict(self.registry, dct["tasks"], subprocess, ids)
        subprocess.task_tree = subprocess.tasks.get(ids[dct["root"]])
        self.set_default_attributes(subprocess, dct)
        subprocess.correlations = _json_copy(subprocess.correlations)     # the library keeps the given dict
        return subprocess


class _TaskIds(dict):
    """The task ids of one load, each parsed once: `ids[text]` is the UUID of `text` (an `ids.TaskId`: hashed and
    printed from C), the same object every time a task's id, its parent's `_children` entry, its children's
    `_parent` and the task mapping's key name it (as they are in a workflow that ran in memory). The library parsed
    each occurrence, and every lookup of a task by an id parsed apart compared the two UUIDs in Python
    (`UUID.__eq__`) besides hashing them."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[UUID, str] = {}        # ids read in another form: kept by the workflow (`_id_texts`)

    def __missing__(self, text: str) -> UUID:
        uuid = self[text] = task_id_of_text(text)
        if type(uuid) is not TaskId:        # a text not in the canonical form: saved again as it was read
            self.texts[uuid] = text
        return uuid


def _id_texts(workflow) -> dict[UUID, str]:
    """The ids a workflow's load read in a form other than the canonical `str(uuid)` (upper case, braces …; never
    written by this codec), with the text each was read as: saved again as read. Empty for a state this codec
    wrote."""
    return getattr(workflow.top_workflow, "ygt_id_texts", None) or {}


def _namer(texts: dict[UUID, str]) -> Callable[[UUID], str]:
    """How a save writes a task id: `str(id)` (from C for a `TaskId`: every task id a load parses or the library
    creates), or the text it was read as (`_id_texts`)."""
    if not texts:
        return str
    return lambda uuid: texts.get(uuid) or str(uuid)


class _LoadTaskConverter(TaskConverter):
    """The library's `TaskConverter` (SpiffWorkflow 3.2.0): `from_dict` takes its ids from the load's `_TaskIds`,
    `to_dict` writes them as `_namer` says."""

    def to_dict(self, task, name: Callable[[UUID], str] | None = None):
        workflow = task.workflow
        if name is None:
            name = _namer(_id_texts(workflow))
        parent = workflow.tasks.get(task._parent)
        if parent is None:
            data, delta = task.data, {}
        else:
            data = {}
            delta = {"updates": DeepMerge.get_updated_keys(parent.data, task.data),
                     "deletions": DeepMerge.get_deleted_keys(parent.data, task.data)}
        return {
            "id": name(task.id),
            "parent": name(task._parent) if parent is not None else None,
            "children": list(map(name, task._children)),
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(task.internal_data),
            "data": data,
            "delta": delta,
        }

    def from_dict(self, dct, workflow):
        ids = getattr(workflow.top_workflow, "ygt_ids", None)
        if ids is None:
            return super().from_dict(dct, workflow)
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=ids[dct["id"]])
        task._parent = ids[dct["parent"]] if dct["parent"] is not None else None
        task._children = [ids[child] for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = _restore(self.registry, dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)

        delta = dct.get("delta")
        if delta and task.parent is not None:
            data = DeepMerge.merge({}, task.parent.data)
            data.update(_restore(self.registry, delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                if key in data:
                    del data[key]
        else:
            data = _restore(self.registry, dct["data"])
        task.data = data
        return task


def _json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts and lists copied, leaves shared: they are immutable)."""
    if isinstance(value, dict):
        return {k: v if type(v) in _LEAVES else _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _LEAVES else _json_copy(v) for v in value]
    return value


def callee_keys(state: dict[str, Any]) -> list[str]:
    """The callee spec keys a saved state refers to (its call activities' started callee versions)."""
    keys = set()
    for tasks in [state.get("tasks") or {}, *((sp or {}).get("tasks") or {} for sp in
                                               (state.get("subprocesses") or {}).values())]:
        for task in tasks.values():
            key = (task.get("internal_data") or {}).get(CALLEE_KEY)
            if key:
                keys.add(key)
    return sorted(keys)


def _register_value_types(registry) -> None:
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]),
                      typename="date")
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]), typename="Decimal")
    # the registry converts by exact class: a task id (`ids.TaskId`) kept in data is written as the UUID it is
    registry.typenames[TaskId] = registry.typenames[UUID]
    # a site function's record kept in task data (sandbox.as_data): its fields, read back with attribute access
    registry.register(Record, lambda v: {"fields": dict(v)},
                      lambda d: Record({k: registry.restore(v) for k, v in d["fields"].items()}), typename="Record")


_LEAVES = frozenset({str, int, float, bool, type(None)})     # returned as they are: no call for them


def _records_out(value: Any) -> Any:
    """Mark the Records in saved state (JSON would write them as plain dicts and lose their attribute access)."""
    if type(value) is Record:
        return {"typename": "Record", "fields": {k: v if type(v) in _LEAVES else _records_out(v)
                                                 for k, v in value.items()}}
    if isinstance(value, dict):
        return {k: v if type(v) in _LEAVES else _records_out(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _LEAVES else _records_out(v) for v in value]
    return value


@lru_cache(maxsize=1)
def serializer() -> BpmnWorkflowSerializer:
    registry = BpmnWorkflowSerializer.configure(ENGINE_CONFIG)
    _register_value_types(registry)
    _SplicedSpecWorkflowConverter(BpmnWorkflow, registry)
    _LoadTaskConverter(Task, registry)
    _CalleeAwareSubWorkflowConverter(BpmnSubWorkflow, registry)
    return BpmnWorkflowSerializer(registry, version=SERIALIZER_VERSION)


def dump_state(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Return the JSON-safe state of a workflow, without its specs."""
    return dump_state_text(workflow)[0]


def dump_state_text(workflow: BpmnWorkflow) -> tuple[dict[str, Any], str]:
    """The JSON-safe state of a workflow and its JSON text, the text a `json` column stores (a writer sends it
    without serializing the state again). `json.loads(text)` gives the state back, key order kept.

    The state is written by orjson (compact separators, non-ASCII characters as UTF-8, no escapes) and read back by
    orjson into fresh dicts and lists, when everything in it is what orjson and the library's encoder write alike
    (`_orjson_safe`): dicts with str keys, lists, exact str/int/bool/None, finite floats, and Records (written as
    `{"typename": "Record", "fields": …}`). A state holding anything else (a date, a set, a tuple, a UUID, a
    callable, a str subclass, a non-str key, NaN, an int beyond 64 bits, a lone surrogate …) is written by the
    library's encoder through `json.dumps` (default separators, ASCII escapes) and read back, as before issue 23.2:
    the two texts differ in form only, never in the value they hold."""
    ser = serializer()
    ser.registry._encoder_mode = True
    try:
        dct = ser.to_dict(workflow)
        pruned = getattr(workflow, "ygt_pruned", None)
        full = {**dct, PRUNED_KEY: pruned} if pruned else dct
        try:
            raw = orjson.dumps(full, default=_record_or_refuse, option=_ORJSON_OPTIONS)
            state = orjson.loads(raw)
            # read back equal (compared in C): nothing in it that orjson writes its own way; else a Record or a
            # tuple (read back as what they are written as), or a UUID, an enum or NaN (`_orjson_safe` tells)
            if state != full:
                _orjson_safe(full)
        except (_NotPlain, orjson.JSONEncodeError):
            text = json.dumps(_records_out(dct), cls=ser._encoder_cls)
        else:
            return state, raw.decode()
    finally:
        ser.registry._encoder_mode = False
    state = json.loads(text)
    if pruned:
        if state and PRUNED_KEY not in state:        # appended last: the text json.dumps(state) would end with
            text = f"{text[:-1]}, {json.dumps(PRUNED_KEY)}: {json.dumps(pruned)}}}"
            state[PRUNED_KEY] = pruned
        else:
            state[PRUNED_KEY] = pruned
            text = json.dumps(state)
    return state, text


# every value orjson would write in a way of its own goes to `_record_or_refuse` (subclasses of str, int, float,
# dict and list; dates and times; dataclasses) except UUIDs, enums and non-finite floats: `_orjson_safe` looks for those
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class _NotPlain(Exception):
    """A value only the library's JSON encoder writes (its `default` hook) or that orjson writes otherwise."""


def _record_or_refuse(value: Any) -> Any:
    """orjson's `default`: a Record as the library's encoder writes `_records_out(record)`; nothing else."""
    if type(value) is Record:
        return {"typename": "Record", "fields": dict(value)}
    raise _NotPlain


_FLOAT_LIMIT = float("inf")


def _orjson_safe(value: Any) -> None:
    """Raise `_NotPlain` at a value orjson writes natively but not as `json.dumps` with the library's encoder and
    `_records_out` would: a UUID or an enum (the encoder converts or refuses them), NaN or ±Infinity (orjson writes
    null), a tuple (a Record in it is written as a plain dict: `_records_out` does not look into tuples). Everything
    else orjson writes as they do, or refuses (`_ORJSON_OPTIONS`)."""
    for v in value.values() if isinstance(value, dict) else value:
        t = type(v)
        if t is str or t is int or t is bool or v is None:
            continue
        if t is float:
            if not -_FLOAT_LIMIT < v < _FLOAT_LIMIT:
                raise _NotPlain
        elif isinstance(v, dict | list):
            _orjson_safe(v)
        elif isinstance(v, UUID | Enum | float | tuple):
            raise _NotPlain


def load_state(state: dict[str, Any], spec, subprocess_specs) -> BpmnWorkflow:
    """Rebuild a workflow from saved state and the (cached) spec objects of its version."""
    ser = serializer()
    # No deep copy of `state` (the session's value): the workflow built holds none of its dicts or lists and the
    # caller's dict is left as it was. The converters restore task data, internal data and workflow data into new
    # dicts and lists (`registry.restore` copies every container) and read the rest; what they take as given or
    # consume is copied here: the top level and its `subprocesses` (popped one by one), the correlations (kept as
    # given: copied by the workflow converters above), the pending events (their event definitions keep lists) and
    # the record of pruned history.
    dct = dict(state)
    dct["subprocesses"] = dict(dct.get("subprocesses") or {})
    if dct.get("bpmn_events"):
        dct["bpmn_events"] = json.loads(json.dumps(dct["bpmn_events"]))
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    pruned = dct.pop(PRUNED_KEY, None)
    workflow = ser.from_dict(dct)
    del workflow.ygt_ids
    if pruned:
        workflow.ygt_pruned = _json_copy(pruned)      # what compaction dropped earlier (app.engine.compaction)
    return workflow


def dump_spec(spec, subprocess_specs) -> dict[str, Any]:
    ser = serializer()
    return {"spec": ser.to_dict(spec), "subprocess_specs": {k: ser.to_dict(v) for k, v in subprocess_specs.items()}}


def restore_spec(spec_json: dict[str, Any]):
    ser = serializer()
    spec = ser.from_dict(json.loads(json.dumps(spec_json["spec"])))
    subs = {k: ser.from_dict(json.loads(json.dumps(v))) for k, v in spec_json["subprocess_specs"].items()}
    _requalify_triggers(spec, subs)
    return spec, subs


def _requalify_triggers(spec, subs: dict[str, Any]) -> None:
    """Versions compiled before event-subprocess triggers were qualified name them by element id: point them at the
    qualified key (`<process>#<hash>/<element id>`) so a thrown event finds the event subprocess."""
    by_element = {key.rsplit("/", 1)[-1]: key for key in subs if "/" in key}
    for wf_spec in (spec, *subs.values()):
        start: Any = getattr(wf_spec, "start", None)
        names = getattr(start, "trigger_specs", None)
        if names:
            start.trigger_specs = [n if n in subs else by_element.get(n, n) for n in names]


def to_json_value(value: Any) -> Any:
    """Make task data JSON-safe for projections (dates and decimals as ISO strings / numbers)."""
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_json_value(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)

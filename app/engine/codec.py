"""Save and load workflow state as plain JSON, without the spec (stored once per deployed version).

Our own format marker (`ENGINE_FORMAT`) is written beside the state; the library's own migration chain is not
trusted (ENGINE_NOTES §1.11), so a format change here needs a migration step and a fixture test.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

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
from .sandbox import Record
from .tasks import CALLEE_KEY, ENGINE_CONFIG

ENGINE_FORMAT = "spiff-3.2.0/1.5+ygt1"
SERIALIZER_VERSION = "1.5"


class _SplicedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Leave the specs out when saving; accept already-restored spec objects when loading."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.ygt_ids = ids = _TaskIds()      # for the load only (load_state drops it)
        restore = self.registry.restore
        workflow.tasks = {ids[k]: restore(v, workflow=workflow) for k, v in dct["tasks"].items()}
        workflow.task_tree = workflow.tasks.get(ids[dct["root"]])
        self.set_default_attributes(workflow, dct)
        workflow.correlations = _json_copy(workflow.correlations)      # the library keeps the given dict
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


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
        restore = self.registry.restore
        subprocess.tasks = {ids[k]: restore(v, workflow=subprocess) for k, v in dct["tasks"].items()}
        subprocess.task_tree = subprocess.tasks.get(ids[dct["root"]])
        self.set_default_attributes(subprocess, dct)
        subprocess.correlations = _json_copy(subprocess.correlations)     # the library keeps the given dict
        return subprocess


class _TaskIds(dict):
    """The task ids of one load, each parsed once: `ids[text]` is the UUID of `text`, the same object every time a
    task's id, its parent's `_children` entry, its children's `_parent` and the task mapping's key name it (as they
    are in a workflow that ran in memory). The library parsed each occurrence, and every lookup of a task by an id
    parsed apart compared the two UUIDs in Python (`UUID.__eq__`) besides hashing them."""

    def __missing__(self, text: str) -> UUID:
        uuid = self[text] = UUID(text)
        return uuid


class _LoadTaskConverter(TaskConverter):
    """The library's `TaskConverter.from_dict` (SpiffWorkflow 3.2.0), its ids taken from the load's `_TaskIds`."""

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
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)

        delta = dct.get("delta")
        if delta and task.parent is not None:
            data = DeepMerge.merge({}, task.parent.data)
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                if key in data:
                    del data[key]
        else:
            data = self.registry.restore(dct["data"])
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
    """The JSON-safe state of a workflow and its JSON text: the text `json.dumps(state)` gives (default separators,
    ASCII escapes), the one a `json` column stores, so a writer can send it without serializing the state again.

    The state is built once as plain JSON values (fresh dicts and lists, str keys, exact str/int/float/bool/None
    leaves: what `json.loads(text)` would give back) and serialized without the library's encoder hook; a state
    holding anything else (a date, a tuple, a set, a callable, a non-str key ...) is serialized by the library's
    encoder and read back, as before."""
    ser = serializer()
    ser.registry._encoder_mode = True
    try:
        dct = ser.to_dict(workflow)
        try:
            state = _plain(dct)
        except _NotPlain:
            text = json.dumps(_records_out(dct), cls=ser._encoder_cls)
            state = json.loads(text)
        else:
            text = json.dumps(state)
    finally:
        ser.registry._encoder_mode = False
    pruned = getattr(workflow, "ygt_pruned", None)
    if pruned:
        if state and PRUNED_KEY not in state:        # appended last: the text json.dumps(state) would end with
            text = f"{text[:-1]}, {json.dumps(PRUNED_KEY)}: {json.dumps(pruned)}}}"
            state[PRUNED_KEY] = pruned
        else:
            state[PRUNED_KEY] = pruned
            text = json.dumps(state)
    return state, text


class _NotPlain(Exception):
    """A value only the library's JSON encoder writes (its `default` hook) or that JSON reads back changed."""


def _plain(value: Any) -> Any:
    """A copy of `value` made of plain JSON values only, written by `json.dumps` exactly as the library's encoder
    writes `_records_out(value)`: a `Record` as `{"typename": "Record", "fields": …}`, any other dict as a dict, a
    list as a list. Raises `_NotPlain` at anything else (a tuple, set, date, UUID, callable, str or int subclass,
    a non-str key): those the encoder converts, and JSON would read back as another value."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise _NotPlain
            out[k] = v if type(v) in _LEAVES else _plain(v)
        return {"typename": "Record", "fields": out} if type(value) is Record else out
    if isinstance(value, list):
        return [v if type(v) in _LEAVES else _plain(v) for v in value]
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

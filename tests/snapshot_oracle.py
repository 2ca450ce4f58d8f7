"""The snapshot as the engine took it before it walked the task tree once (issue 23): one `get_tasks` query per
view. Kept here, frozen, as an oracle: `install` makes every `_Run` check that its snapshot is the oracle's, byte
for byte (every field's repr and the state text), and that the human tasks open before a step are the same. It also
checks every task iterator's `next()` against the library's own (`install_iteration_check`): the views of the
oracle query the library through them.

The state is checked against the codec as it was before issue 23.2 (`reference_dump`: the library's own converters'
`to_dict` and its encoder, the text read back; `reference_load`: a deep copy of the saved state first), and every
step's opening against a load of the same state by that reference: the workflow loaded holds no dict or list of the
caller's state (`reachable`), the state is left as it was, and the loaded workflow saves to the state the reference's
does. The state text is compared by what it holds (`same_text`): the codec writes plain state with orjson (compact,
UTF-8, no escapes), the reference with `json.dumps` (default separators, ASCII escapes); both must read back to the
same value, key order included, and both must be JSON a `json` column accepts (no NaN).

The oracle runs on its own copy of the workflow (a deep copy taken just before the snapshot), so what the
snapshot changes in the tree (multiple-wait correlations, compaction) is done and checked on each side
independently; the platform clock is held still while both run (a due date is "now + n days").
"""
from __future__ import annotations

import contextlib
import copy
import functools
import json
import types

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

from app.engine import codec, patches
from app.engine import runtime as rt
from app.engine.codec import to_json_value
from app.engine.compaction import pruned_of
from app.engine.tasks import ENGINE_CONFIG, SERVICE_CALL_KEY, OutboxServiceTask, spec_key_of

SNAPSHOT_FIELDS = ("status", "human_tasks", "timers", "subscriptions", "service_calls", "events", "diagram", "error",
                   "data", "thrown_messages", "closed_tasks", "state", "state_text")


class Checked:
    """How many snapshots, step openings and task iterations the oracle compared (a test asserts it saw its models'
    steps)."""

    snapshots = 0
    openings = 0
    nexts = 0


def install_iteration_check(monkeypatch) -> None:
    """Every `next()` of a task iterator (app/engine/patches.py's one loop) is checked against the library's own
    `__next__` run at the same moment on a copy of the iterator: the same task (or the same end, or the same
    exception) and the same tasks left to visit, in the same order."""
    for cls in (TaskIterator, BpmnTaskIterator):
        one_loop = cls.__dict__["__next__"]

        def checked(self, one_loop=one_loop):
            twin = copy.copy(self)
            twin.task_list = list(self.task_list)
            want = got = None
            try:
                want = patches.library_next(twin)
            except Exception as exc:  # noqa: BLE001 — StopIteration, or what the filter raised
                want = type(exc)
            try:
                got = one_loop(self)
            except Exception as exc:  # noqa: BLE001
                got = type(exc)
            assert got is want, (got, want)
            assert len(self.task_list) == len(twin.task_list)
            assert all(a is b for a, b in zip(self.task_list, twin.task_list, strict=True))
            Checked.nexts += 1
            if isinstance(got, type):
                raise got()
            return got

        monkeypatch.setattr(cls, "__next__", checked)


def reference_snapshot(run) -> rt.Snapshot:
    """`_Run.snapshot` before issue 23's single walk, verbatim but for the helpers' names."""
    wf = run.wf
    _correlate_multiple_waits(wf)
    for call in run.env.call_log:
        run.events.append({"type": "call_started", "element_id": call["element_id"],
                           "task_guid": call["task_guid"],
                           "data": {"process_id": call["process_id"], "version": call["version"],
                                    "callee": call["key"]}})
    for record in run.env.decision_log:
        run.events.append({"type": "decision_evaluated", "element_id": record.get("element_id"),
                           "task_guid": record.get("task_guid"), "data": to_json_value(record)})
    for task in wf.get_tasks(state=TaskState.COMPLETED, updated_ts=run.started_ts):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id is not None and not task.task_spec.manual:
            run.events.append({"type": "element_completed", "element_id": bpmn_id,
                               "task_guid": str(task.id), "data": {"name": task.task_spec.bpmn_name}})
    error_tasks = wf.get_tasks(state=TaskState.ERROR)
    if error_tasks and run.error is None:
        t = error_tasks[0]
        run.error = rt.ErrorInfo(element_id=t.task_spec.bpmn_id, task_guid=str(t.id), message="task in error")
    status = "error" if run.error else _status(wf)
    views = _human_tasks(wf, run.ready_before)
    still = {v.task_guid for v in views}
    snap = rt.Snapshot(
        state={}, status=status, human_tasks=views, timers=_timers(wf),
        subscriptions=_subscriptions(wf), service_calls=_service_calls(wf), events=run.events,
        diagram=_diagram(wf), error=run.error,
        data=to_json_value(wf.data) if wf.is_completed() else {}, thrown_messages=run.thrown,
        closed_tasks=[guid for guid in run.ready_before if guid not in still])
    rt.compact(wf)                      # through the module: a test may replace it
    snap.state, snap.state_text = reference_dump(wf)
    return snap


class _ReferenceWorkflowConverter(codec._SplicedSpecWorkflowConverter):
    """The spliced-spec converter's `to_dict` before issue 23.2: the library's own, each task by the library's
    `TaskConverter.to_dict` (through the registry's dispatch, ids formatted by `str`)."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


@functools.lru_cache(maxsize=1)
def reference_serializer() -> BpmnWorkflowSerializer:
    """`codec.serializer()` with the library's converters for saving (its loading converters are the codec's)."""
    registry = BpmnWorkflowSerializer.configure(ENGINE_CONFIG)
    codec._register_value_types(registry)
    _ReferenceWorkflowConverter(BpmnWorkflow, registry)
    _ReferenceTaskConverter(Task, registry)
    codec._CalleeAwareSubWorkflowConverter(BpmnSubWorkflow, registry)
    return BpmnWorkflowSerializer(registry, version=codec.SERIALIZER_VERSION)


class _ReferenceTaskConverter(codec._LoadTaskConverter):
    """The library's `TaskConverter.to_dict`; the codec's `from_dict` (the reference load is the codec's)."""

    to_dict = TaskConverter.to_dict


def same_text(text: str, want_text: str) -> None:
    """`text` holds what the reference's `want_text` holds: the same value, keys in the same order (a NaN the
    reference wrote is NaN, not null)."""
    if text != want_text:
        assert repr(json.loads(text)) == repr(json.loads(want_text)), "the state text holds another value"


def reference_dump(wf) -> tuple[dict, str]:
    """`codec.dump_state_text` before issue 23.2, verbatim: the library's encoder, then the text read back."""
    ser = reference_serializer()
    ser.registry._encoder_mode = True
    try:
        text = json.dumps(codec._records_out(ser.to_dict(wf)), cls=ser._encoder_cls)
    finally:
        ser.registry._encoder_mode = False
    state = json.loads(text)
    pruned = getattr(wf, "ygt_pruned", None)
    if pruned:
        if state and codec.PRUNED_KEY not in state:
            text = f"{text[:-1]}, {json.dumps(codec.PRUNED_KEY)}: {json.dumps(pruned)}}}"
            state[codec.PRUNED_KEY] = pruned
        else:
            state[codec.PRUNED_KEY] = pruned
            text = json.dumps(state)
    return state, text


def reference_load(state, spec, subprocess_specs):
    """`codec.load_state` before issue 23.2: on a deep copy of the saved state."""
    dct = json.loads(json.dumps(state))
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    pruned = dct.pop(codec.PRUNED_KEY, None)
    workflow = reference_serializer().from_dict(dct)
    del workflow.ygt_ids
    if pruned:
        workflow.ygt_pruned = pruned
    return workflow


def containers(value) -> dict[int, object]:
    """Every dict and list inside a JSON value, by id (kept alive by the mapping)."""
    found: dict[int, object] = {}
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict | list) and id(v) not in found:
            found[id(v)] = v
            stack.extend(v.values() if isinstance(v, dict) else v)
    return found


_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
           types.CodeType, types.FrameType)


def reachable(wf, *, stop: list) -> set[int]:
    """The ids of every object reachable from a loaded workflow (gc referents), not through `stop` (its specs and
    script engine: they were not loaded from the state) nor through classes, modules and functions."""
    import gc
    blocked = {id(o) for o in stop}
    seen: set[int] = set()
    stack = [wf]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in blocked or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return seen


def check_opening(wf, state) -> None:
    """A workflow loaded from `state` owns what it holds, left `state` as it was and saves as the reference's
    load of the same state saves."""
    spec_objects = [wf.spec, *wf.subprocess_specs.values(), wf.subprocess_specs, wf.script_engine]
    for spec in (wf.spec, *wf.subprocess_specs.values()):
        spec_objects.extend(spec.task_specs.values())
    shared = set(containers(state)) & reachable(wf, stop=spec_objects)
    assert not shared, f"the loaded workflow holds {len(shared)} dicts/lists of the caller's state"
    ref = reference_load(state, wf.spec, wf.subprocess_specs)
    assert reference_dump(ref)[1] == reference_dump(wf)[1]


def reference_ready_before(wf) -> dict[str, float]:
    return {str(t.id): t.last_state_change for t in wf.get_tasks(state=TaskState.READY, manual=True)}


def _status(wf) -> str:
    if wf.is_completed():
        return "completed"
    if wf.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        return "waiting"
    return "running"


def _human_tasks(wf, before) -> list[rt.HumanTaskView]:
    views = []
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        ts = task.task_spec
        ext = getattr(ts, "extensions", {}) or {}
        props = dict(ext.get("properties") or {})
        instructions = ext.get("instructionsForEndUser")
        if instructions:
            with contextlib.suppress(Exception):
                instructions = rt._template(instructions).render(**to_json_value(dict(task.data)))
        priority = rt._evaluate_property(task, props.get("priority"))
        views.append(rt.HumanTaskView(
            task_guid=str(task.id), element_id=ts.bpmn_id, name=ts.bpmn_name or ts.bpmn_id, lane=ts.lane,
            process_id=task.workflow.spec.name, properties=props, data=to_json_value(dict(task.data)),
            instructions=instructions, due_at=rt._due_at(task, props),
            priority=int(priority) if priority is not None else None,
            assign_org=rt._evaluate_property(task, props.get("assignOrg")),
            candidate_role=rt._evaluate_property(task, props.get("candidateRole")),
            disease=rt._evaluate_property(task, props.get("disease")),
            risk_level=rt._evaluate_property(task, props.get("riskLevel")), spec_key=spec_key_of(task.workflow),
            assign_user=rt._user_id(rt._evaluate_property(task, props.get("assignUser"))),
            exclude_user=rt._username(rt._evaluate_property(task, props.get("excludeUser"))),
            fresh=(before or {}).get(str(task.id)) != task.last_state_change, was_open=str(task.id) in (before or {})))
    return views


def _timers(wf) -> list[rt.TimerView]:
    views = []
    for task in wf.get_tasks(state=TaskState.WAITING):
        definitions = rt._definitions(getattr(task.task_spec, "event_definition", None))
        if not any(isinstance(d, TimerEventDefinition) for d in definitions):
            continue
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):
            value = value.get("next")
        if value:
            views.append(rt.TimerView(str(task.id), task.task_spec.bpmn_id, TimerEventDefinition.get_datetime(value)))
    return views


def _correlate_multiple_waits(wf) -> None:
    for task in wf.get_tasks(state=TaskState.WAITING):
        ed = getattr(task.task_spec, "event_definition", None)
        inner = getattr(ed, "event_definitions", None) or []
        for definition in inner:
            if getattr(definition, "process_correlations", None) and hasattr(definition, "update_task"):
                definition.update_task(task)


def _subscriptions(wf) -> list[rt.SubscriptionView]:
    views = []
    for task in wf.get_tasks(state=TaskState.WAITING):
        for ed in rt._definitions(getattr(task.task_spec, "event_definition", None)):
            if not isinstance(ed, MessageEventDefinition):
                continue
            correlation, retrieval = {}, {}
            for prop in ed.correlation_properties:
                retrieval[prop.name] = prop.retrieval_expression
                for key in prop.correlation_keys or ["MainCorrelationKey"]:
                    values = task.workflow.correlations.get(key, {}) or wf.correlations.get(key, {})
                    if prop.name in values:
                        correlation[prop.name] = values[prop.name]
            views.append(rt.SubscriptionView(str(task.id), task.task_spec.bpmn_id, ed.name,
                                             to_json_value(correlation), retrieval))
    return views


def _service_calls(wf) -> list[rt.ServiceCallView]:
    views = []
    for task in wf.get_tasks(state=TaskState.STARTED):
        ts = task.task_spec
        call = task.internal_data.get(SERVICE_CALL_KEY)
        if isinstance(ts, OutboxServiceTask) and call:
            views.append(rt.ServiceCallView(str(task.id), ts.bpmn_id, call["operator"], to_json_value(call["params"]),
                                            call["result_variable"], ts.retries, ts.retry_backoff_base))
    return views


def _diagram(wf) -> dict[str, list[str]]:
    def ids(state):
        return sorted({t.task_spec.bpmn_id for t in wf.get_tasks(state=state)
                       if getattr(t.task_spec, "bpmn_id", None)})
    completed = sorted(set(ids(TaskState.COMPLETED)) | set(pruned_of(wf)["completed"]))
    return {"completed": completed, "active": ids(TaskState.READY | TaskState.WAITING | TaskState.STARTED),
            "error": ids(TaskState.ERROR)}


def _copy_of(run):
    """The run as it stands, on an exact copy of its workflow (the oracle's side): the task tree and data are copied,
    the specs and the script engine shared (immutable during a snapshot)."""
    wf = run.wf
    memo = {id(wf.script_engine): wf.script_engine}
    for spec in (wf.spec, *wf.subprocess_specs.values()):
        memo[id(spec)] = spec
        for task_spec in spec.task_specs.values():
            memo[id(task_spec)] = task_spec
    twin = object.__new__(type(run))
    twin.__dict__.update(run.__dict__)
    twin.wf = copy.deepcopy(wf, memo)
    twin.events, twin.thrown, twin.ready_before = list(run.events), list(run.thrown), dict(run.ready_before)
    return twin


def compare(expected: rt.Snapshot, got: rt.Snapshot) -> None:
    for name in SNAPSHOT_FIELDS:
        if name == "state_text" and expected.state_text is not None and got.state_text is not None:
            same_text(got.state_text, expected.state_text)
            continue
        want, have = repr(getattr(expected, name)), repr(getattr(got, name))
        if have != want:
            at = next((i for i, (a, b) in enumerate(zip(have, want)) if a != b), min(len(have), len(want)))
            raise AssertionError(f"snapshot field {name!r} differs from the reference at character {at}:\n"
                                 f"  new: …{have[max(0, at - 200):at + 200]}\n  old: …{want[max(0, at - 200):at + 200]}")


def install(monkeypatch) -> None:
    """Check every snapshot and every step's opening against the reference for the rest of the test."""
    snapshot, init = rt._Run.snapshot, rt._Run.__init__

    def checked_init(self, *args, **kwargs):
        state = args[1] if len(args) > 1 else kwargs.get("state")
        kept = copy.deepcopy(state)
        init(self, *args, **kwargs)
        if state is not None:
            assert state == kept, "loading changed the caller's state"
            check_opening(self.wf, state)
        want = reference_ready_before(self.wf)
        assert list(self.ready_before.items()) == list(want.items()), (self.ready_before, want)
        Checked.openings += 1

    def checked_snapshot(self):
        clock = rt._now
        frozen = clock()
        rt._now = lambda: frozen
        try:
            try:
                expected = reference_snapshot(_copy_of(self))
            except Exception as exc:            # the snapshot must fail just as it did (a property that fails)
                with pytest.raises(type(exc)) as raised:
                    snapshot(self)
                assert str(raised.value) == str(exc)
                Checked.snapshots += 1
                raise
            got = snapshot(self)
        finally:
            rt._now = clock
        compare(expected, got)
        Checked.snapshots += 1
        return got

    monkeypatch.setattr(rt._Run, "__init__", checked_init)
    monkeypatch.setattr(rt._Run, "snapshot", checked_snapshot)
    install_iteration_check(monkeypatch)

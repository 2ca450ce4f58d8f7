"""Run workflows: start, advance, complete a task, correlate a message, fire timers, finish service calls.

Every operation takes the saved state (or nothing, to start) and returns a `Snapshot`: the new state plus
everything the persistence layer projects into its own tables (open human tasks, timers, message subscriptions,
pending service calls, history events, diagram element ids, status). Callers never see SpiffWorkflow objects.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from jinja2.sandbox import SandboxedEnvironment
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import isolation, sandbox
from .codec import callee_keys, dump_state_text, load_state, restore_spec, to_json_value
from .compaction import compact, pruned_of
from .environment import (
    DecisionEvaluator,
    EngineEnvironment,
    EngineScriptEngine,
    Isolation,
    ScriptDeferred,
    ScriptReplay,
)
from .errors import InvalidTaskData, MessageNotWaiting, TaskNotReady
from .tasks import SERVICE_CALL_KEY, EngineLimitExceeded, OutboxServiceTask, spec_key_of
from .walk import Tasks, walk

_JINJA = SandboxedEnvironment(autoescape=False)


@functools.lru_cache(maxsize=512)
def _template(source: str):
    """A task's instructions template, compiled once per text (compiling took ~15 ms, rendering well under 1)."""
    return _JINJA.from_string(source)

_now: Callable[[], datetime] = lambda: datetime.now(UTC)


class _PlatformDatetime(datetime):
    """`datetime` whose now() is the platform clock, so timers follow a test's or demo's fake clock."""

    @classmethod
    def now(cls, tz=None):
        current = _now()
        return current.astimezone(tz) if tz else current.replace(tzinfo=None)


def set_clock(now: Callable[[], datetime]) -> None:
    """Make timer evaluation use `now` (an aware-UTC clock) instead of the system time."""
    global _now
    _now = now


_timer_module.datetime = _PlatformDatetime


@dataclass
class HumanTaskView:
    task_guid: str
    element_id: str
    name: str
    lane: str | None
    process_id: str
    properties: dict[str, str]
    data: dict[str, Any]
    instructions: str | None
    due_at: datetime | None
    priority: int | None
    assign_org: str | None
    disease: str | None
    candidate_role: str | None
    risk_level: str | None
    spec_key: str | None = None      # the called-process version the task belongs to (None: the instance's own)
    assign_user: int | None = None     # `assignUser`: the task goes straight to this user (e.g. one per trainee)
    # `excludeUser`: a username never offered this task (separation of duties: the drafter of what is approved)
    exclude_user: str | None = None
    # False: the task was READY, unchanged, before this step (its projection row needs no refresh)
    fresh: bool = True
    was_open: bool = False      # READY before this step too (True and fresh: reset and READY again)


@dataclass
class TimerView:
    task_guid: str
    element_id: str
    fire_at: datetime


@dataclass
class SubscriptionView:
    task_guid: str
    element_id: str
    message_name: str
    correlation: dict[str, Any]
    retrieval: dict[str, str] = field(default_factory=dict)   # property -> expression over the message payload

    @property
    def correlation_hash(self) -> str:
        return correlation_hash(self.correlation)


@dataclass
class ServiceCallView:
    task_guid: str
    element_id: str
    operator: str
    params: dict[str, Any]
    result_variable: str
    retries: int | None
    backoff_base: float | None


@dataclass
class ErrorInfo:
    element_id: str | None
    task_guid: str | None
    message: str
    line: int | None = None
    source_line: str | None = None
    code: str = "script_error"


@dataclass
class Snapshot:
    state: dict[str, Any]
    status: str
    human_tasks: list[HumanTaskView]
    timers: list[TimerView]
    subscriptions: list[SubscriptionView]
    service_calls: list[ServiceCallView]
    events: list[dict[str, Any]]
    diagram: dict[str, list[str]]
    error: ErrorInfo | None
    data: dict[str, Any] = field(default_factory=dict)
    thrown_messages: list[dict[str, Any]] = field(default_factory=list)
    # human tasks that were READY before this step and are not any more (completed, cancelled, reset); None: unknown
    closed_tasks: list[str] | None = None
    # `state` as a JSON text (`codec.dump_state_text`: orjson's, or `json.dumps`'s for data only the library's
    # encoder writes); a writer stores it without serializing the state again
    state_text: str | None = None

    @property
    def next_timer_at(self) -> datetime | None:
        return min((t.fire_at for t in self.timers), default=None)


def correlation_hash(values: Mapping[str, Any]) -> str:
    text = json.dumps(to_json_value(dict(values)), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Callee:
    """The process version a call activity starts: `key` names its spec for the run and for saved state."""

    key: str
    process_id: str
    version: int | None = None


class CalleeResolver(Protocol):
    def resolve(self, process_id: str, *, caller: str | None, element_id: str) -> Callee:
        """Choose the version of `process_id` that the call activity `element_id` of version `caller` (a callee
        key, or None for the instance's own version) starts now."""

    def spec_json(self, key: str) -> dict[str, Any]:
        """The serialized specs of a callee key returned by `resolve` (immutable per key)."""


class StaticCallees:
    """Callees from a fixed set of drafts (tests and tools without a store): every call gets the given spec."""

    def __init__(self, specs: Mapping[str, tuple[dict[str, Any], str]]):
        self._specs = dict(specs)      # process id -> (spec_json, content hash)

    @classmethod
    def of(cls, drafts) -> StaticCallees:
        """From process drafts (`parse_bundle(...).processes`)."""
        return cls({d.process_id: (d.spec_json, d.content_hash) for d in drafts})

    def resolve(self, process_id: str, *, caller: str | None, element_id: str) -> Callee:
        if process_id not in self._specs:
            raise LookupError(f"called process '{process_id}' is not deployed")
        return Callee(f"{process_id}@{self._specs[process_id][1][:16]}", process_id)

    def spec_json(self, key: str) -> dict[str, Any]:
        return self._specs[key.split("@", 1)[0]][0]


@dataclass
class Context:
    """What a run needs besides state: the version's specs and the app's helpers and decision evaluator."""

    spec_json: dict[str, Any]
    spec_key: str
    helpers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    decisions: DecisionEvaluator | None = None
    script_timeout_s: float = 2.0
    callees: CalleeResolver | None = None
    step_budget: int | None = 1000        # engine steps (task runs) one operation may take
    max_call_depth: int | None = 16       # nesting of called processes and subprocesses
    isolation: Isolation | None = None    # where scripts run (default: in this process)


_SPEC_CACHE: OrderedDict[str, tuple[Any, dict[str, Any]]] = OrderedDict()
_SPEC_CACHE_SIZE = 256


def _cached_specs(key: str, load: Callable[[], dict[str, Any]]):
    """Spec objects by immutable key (a version's `process:content_hash`, or a callee key), LRU-bounded."""
    found = _SPEC_CACHE.get(key)
    if found is None:
        found = restore_spec(load())
        _SPEC_CACHE[key] = found
        if len(_SPEC_CACHE) > _SPEC_CACHE_SIZE:
            _SPEC_CACHE.popitem(last=False)
    else:
        _SPEC_CACHE.move_to_end(key)
    return found


def _spec_objects(ctx: Context):
    return _cached_specs(ctx.spec_key, lambda: ctx.spec_json)


def warm(ctx: Context) -> None:
    """Build a version's spec objects now (a worker does it before rq forks its job processes, which inherit them;
    the cache is keyed by the version's content hash, so a job forked after a new deployment builds its own)."""
    _spec_objects(ctx)


class _Callees:
    """The resolver as the call activity uses it: resolve, then the spec objects to merge into the workflow."""

    def __init__(self, resolver: CalleeResolver):
        self.resolver = resolver

    def resolve(self, process_id: str, *, caller: str | None, element_id: str) -> Callee:
        return self.resolver.resolve(process_id, caller=caller, element_id=element_id)

    def specs(self, key: str) -> dict[str, Any]:
        spec, embedded = _cached_specs(f"callee:{key}", lambda: self.resolver.spec_json(key))
        return {key: spec, **embedded}


class _Run:
    """One engine step on one loaded workflow; collects what happened for the snapshot."""

    def __init__(self, ctx: Context, state: dict[str, Any] | None, *, replay: ScriptReplay | None = None):
        spec, embedded = _spec_objects(ctx)
        subs = dict(embedded)          # the cached dict is shared: callees are merged into a copy
        callees = _Callees(ctx.callees) if ctx.callees is not None else None
        self.env = EngineEnvironment(ctx.helpers, ctx.decisions, script_timeout_s=ctx.script_timeout_s,
                                     isolation_=ctx.isolation)
        self.env.callees, self.env.max_call_depth = callees, ctx.max_call_depth
        self.env.replay = replay
        engine = EngineScriptEngine(environment=self.env)
        if state is None:
            self.wf = BpmnWorkflow(spec, subs, script_engine=engine)
        else:
            for key in callee_keys(state):
                if callees is None:
                    raise LookupError("this instance runs called processes but no callee resolver is configured")
                subs.update(callees.specs(key))
            self.wf = load_state(state, spec, subs)
            self.wf.script_engine = engine
        # the human tasks open before the step, to tell the projection what changed (task guid → last change)
        self.ready_before = {} if state is None else {
            str(t.id): t.last_state_change for t in walk(self.wf).ready if t.task_spec.manual}
        self.budget = ctx.step_budget
        self.steps = 0
        self.step_task: Task | None = None      # the task of the current engine step, and the scripts answered
        self.asked_before = 0                   # before it (a deferred batch start resumes at that step)
        self.started_ts = time.time()
        self.events: list[dict[str, Any]] = []
        self.error: ErrorInfo | None = None
        self.thrown: list[dict[str, Any]] = []

    def count_step(self, task) -> None:
        """Called before each engine step: a run that exceeds its budget stops with an incident at that task."""
        self.step_task, self.asked_before = task, self.env.replay.asked if self.env.replay is not None else 0
        self.steps += 1
        if self.budget is not None and self.steps > self.budget:
            task.error()
            raise EngineLimitExceeded("step_budget_exceeded", f"一次运行超过 {self.budget} 步，可能是死循环 "
                                      f"(engine run exceeded its budget of {self.budget} steps; a loop that "
                                      "never ends?) — 重试将从此任务继续 (retry continues from this task)", task)

    def guarded(self, fn: Callable[[], Any]) -> None:
        """Run engine work; a script/decision failure becomes the instance's error, not an exception."""
        try:
            fn()
        except SpiffWorkflowException as exc:
            task = getattr(exc, "task", None) or _errored_task(self.wf, getattr(exc, "task_spec", None))
            code = _error_code(exc)
            element_id = getattr(task.task_spec, "bpmn_id", None) if task else None
            message = _message(exc)
            if code == "no_matching_condition":
                message = (f"网关 {element_id} 没有满足的条件，也没有默认路径 (no condition of gateway "
                           f"'{element_id}' is true and it has no default flow)")
            self.error = ErrorInfo(
                element_id=element_id, task_guid=str(task.id) if task else None, message=message,
                line=getattr(exc, "line_number", None) or None,
                source_line=getattr(exc, "error_line", None) or None, code=code)
            self.events.append({"type": "error", "element_id": self.error.element_id,
                                "task_guid": self.error.task_guid,
                                "data": {"message": self.error.message, "line": self.error.line}})

    def advance(self, *, resume: bool = False) -> None:
        """Fire what is due and run until the workflow waits (`resume`: go on with the engine steps a deferred script
        interrupted, as the interrupted `do_engine_steps` would have, without refreshing the timers first)."""
        def step():
            if not resume:
                self.wf.refresh_timers()
            self.wf.do_engine_steps(will_complete_task=self.count_step)
            for ev in self.wf.get_events():
                if isinstance(ev.event_definition, MessageEventDefinition):
                    self.thrown.append({"name": ev.event_definition.name, "payload": to_json_value(ev.payload)})
        self.guarded(step)

    def snapshot(self) -> Snapshot:
        wf = self.wf
        tasks = walk(wf)            # once: no step below changes a task's state or the tree
        _correlate_multiple_waits(tasks.waiting)
        for call in self.env.call_log:
            self.events.append({"type": "call_started", "element_id": call["element_id"],
                                "task_guid": call["task_guid"],
                                "data": {"process_id": call["process_id"], "version": call["version"],
                                         "callee": call["key"]}})
        for record in self.env.decision_log:
            self.events.append({"type": "decision_evaluated", "element_id": record.get("element_id"),
                                "task_guid": record.get("task_guid"), "data": to_json_value(record)})
        for task in tasks.completed:
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if bpmn_id is not None and not task.task_spec.manual and task.last_state_change >= self.started_ts:
                self.events.append({"type": "element_completed", "element_id": bpmn_id,
                                    "task_guid": str(task.id), "data": {"name": task.task_spec.bpmn_name}})
        if tasks.error and self.error is None:
            t = tasks.error[0]
            self.error = ErrorInfo(element_id=t.task_spec.bpmn_id, task_guid=str(t.id), message="task in error")
        completed = wf.is_completed()
        status = "error" if self.error else _status(completed, tasks)
        views = _human_tasks(tasks, self.ready_before)
        still = {v.task_guid for v in views}
        snap = Snapshot(
            state={}, status=status, human_tasks=views, timers=_timers(tasks),
            subscriptions=_subscriptions(wf, tasks), service_calls=_service_calls(tasks), events=self.events,
            diagram=_diagram(wf, tasks), error=self.error,
            data=to_json_value(wf.data) if completed else {}, thrown_messages=self.thrown,
            closed_tasks=[guid for guid in self.ready_before if guid not in still])
        compact(wf)             # last: the views above were taken from the whole tree
        snap.state, snap.state_text = dump_state_text(wf)
        return snap


def _message(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    notes = [n for n in getattr(exc, "__notes__", []) if "line" not in n.lower()]
    return "; ".join([text, *notes]) if notes else text


def _errored_task(wf: BpmnWorkflow, task_spec):
    """The task a spec-level exception (no `task` attribute) came from: the one left in ERROR for that spec."""
    if task_spec is None:
        return None
    return next((t for t in wf.get_tasks(state=TaskState.ERROR) if t.task_spec is task_spec), None)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, EngineLimitExceeded):
        return exc.code
    if getattr(exc, "ygt_code", None):
        return exc.ygt_code
    if str(exc).startswith("No conditions satisfied"):
        return "no_matching_condition"
    inner = getattr(exc, "exception", None)
    if isinstance(inner, sandbox.SandboxError):
        return inner.code
    return getattr(inner, "code", None) or "script_error"


def _status(completed: bool, tasks: Tasks) -> str:
    if completed:
        return "completed"
    if tasks.active:
        return "waiting"
    return "running"


def _evaluate_property(wf_task, expr: str | None):
    if not expr:
        return None
    return sandbox.evaluate(expr, dict(wf_task.data), helpers=wf_task.workflow.script_engine.environment.helpers)


def _due_at(task, props) -> datetime | None:
    value = _evaluate_property(task, props.get("dueAt")) if props.get("dueAt") else None
    if value is None and props.get("dueIn"):
        value = _evaluate_property(task, props.get("dueIn"))
        if isinstance(value, (int, float)):
            return _now() + timedelta(days=float(value))
        if isinstance(value, str) and value.startswith("P"):
            now = _now()
            return now + TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(value), now)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _human_tasks(tasks: Tasks, before: Mapping[str, float] | None = None) -> list[HumanTaskView]:
    """The READY human tasks; `before` (guid → last state change of the tasks READY before the step) marks those
    that did not change as not fresh."""
    views = []
    for task in tasks.ready:
        ts = task.task_spec
        if not ts.manual:
            continue
        ext = getattr(ts, "extensions", {}) or {}
        props = dict(ext.get("properties") or {})
        instructions = ext.get("instructionsForEndUser")
        if instructions:
            with contextlib.suppress(Exception):         # a broken template must not block the task; show it raw
                instructions = _template(instructions).render(**to_json_value(dict(task.data)))
        priority = _evaluate_property(task, props.get("priority"))
        views.append(HumanTaskView(
            task_guid=str(task.id), element_id=ts.bpmn_id, name=ts.bpmn_name or ts.bpmn_id, lane=ts.lane,
            process_id=task.workflow.spec.name, properties=props, data=to_json_value(dict(task.data)),
            instructions=instructions, due_at=_due_at(task, props),
            priority=int(priority) if priority is not None else None,
            assign_org=_evaluate_property(task, props.get("assignOrg")),
            candidate_role=_evaluate_property(task, props.get("candidateRole")),
            disease=_evaluate_property(task, props.get("disease")),
            risk_level=_evaluate_property(task, props.get("riskLevel")), spec_key=spec_key_of(task.workflow),
            assign_user=_user_id(_evaluate_property(task, props.get("assignUser"))),
            exclude_user=_username(_evaluate_property(task, props.get("excludeUser"))),
            fresh=(before or {}).get(str(task.id)) != task.last_state_change, was_open=str(task.id) in (before or {})))
    return views


def _definitions(ed) -> list[Any]:
    """The event definitions a waiting task listens for (an event-based gateway or a multiple event: several)."""
    if ed is None:
        return []
    return list(getattr(ed, "event_definitions", None) or [ed])


def _username(value) -> str | None:
    return str(value) if value not in (None, "") else None


def _user_id(value) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _timers(tasks: Tasks) -> list[TimerView]:
    views = []
    for task in tasks.waiting:
        definitions = _definitions(getattr(task.task_spec, "event_definition", None))
        if not any(isinstance(d, TimerEventDefinition) for d in definitions):
            continue
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):
            value = value.get("next")
        if value:
            views.append(TimerView(str(task.id), task.task_spec.bpmn_id, TimerEventDefinition.get_datetime(value)))
    return views


def _correlate_multiple_waits(waiting: Sequence[Task]) -> None:
    """An event-based gateway (or a multiple catch) waits on its catch events' messages, but SpiffWorkflow does not
    evaluate their process-variable correlations (an intermediate catch does, when it starts waiting), so the wait
    would take a message for any case. Evaluate them here, as the single catch would."""
    for task in waiting:
        ed = getattr(task.task_spec, "event_definition", None)
        inner = getattr(ed, "event_definitions", None) or []
        for definition in inner:
            if getattr(definition, "process_correlations", None) and hasattr(definition, "update_task"):
                definition.update_task(task)


def _subscriptions(wf: BpmnWorkflow, tasks: Tasks) -> list[SubscriptionView]:
    """One subscription per message a waiting task listens for; `correlation` holds the values known so far (a key
    whose value is not known yet is left out: the first message with that property sets it, as in SpiffWorkflow)."""
    views = []
    for task in tasks.waiting:
        for ed in _definitions(getattr(task.task_spec, "event_definition", None)):
            if not isinstance(ed, MessageEventDefinition):
                continue
            correlation, retrieval = {}, {}
            for prop in ed.correlation_properties:
                retrieval[prop.name] = prop.retrieval_expression
                for key in prop.correlation_keys or ["MainCorrelationKey"]:
                    values = task.workflow.correlations.get(key, {}) or wf.correlations.get(key, {})
                    if prop.name in values:
                        correlation[prop.name] = values[prop.name]
            views.append(SubscriptionView(str(task.id), task.task_spec.bpmn_id, ed.name,
                                          to_json_value(correlation), retrieval))
    return views


def _service_calls(tasks: Tasks) -> list[ServiceCallView]:
    views = []
    for task in tasks.started:
        ts = task.task_spec
        call = task.internal_data.get(SERVICE_CALL_KEY)
        if isinstance(ts, OutboxServiceTask) and call:
            views.append(ServiceCallView(str(task.id), ts.bpmn_id, call["operator"], to_json_value(call["params"]),
                                         call["result_variable"], ts.retries, ts.retry_backoff_base))
    return views


def _diagram(wf: BpmnWorkflow, tasks: Tasks) -> dict[str, list[str]]:
    def ids(found: list[Task]) -> list[str]:
        return sorted({t.task_spec.bpmn_id for t in found if getattr(t.task_spec, "bpmn_id", None)})
    completed = sorted(set(ids(tasks.completed)) | set(pruned_of(wf)["completed"]))
    return {"completed": completed, "active": ids(tasks.active), "error": ids(tasks.error)}


# -- operations --------------------------------------------------------------------------------------------

def start(ctx: Context, data: Mapping[str, Any] | None = None) -> Snapshot:
    """Create a workflow, seed its start data and run it until it waits."""
    return _start(ctx, data, replay=None)


REPLAY_ROUNDS = 4      # scripts before the first wait that a batch start gathers; further ones run one by one


def start_many(ctx: Context, datas: Sequence[Mapping[str, Any] | None]) -> list[Snapshot | Exception]:
    """Start many instances of one version, each as `start` would (the same snapshot), with the scripts they run
    before their first wait sent to the isolation pool together: per round, every start runs until its next
    unanswered script (`ScriptDeferred`), the round's scripts go to one worker in one request (`run_many`), and
    the starts go on with the answers. Runs are deterministic, so a start that asked for `k` scripts replays them
    without asking. A start whose deferred script is the only engine work ready (a plain script task, no
    subprocess: `_resumable`) goes on from that task in the same loaded workflow; any other is run again from the
    beginning with the answers. A script that fails, times out or exceeds its memory fails its own
    instance (an incident, as in a single start); an exception that a single start would raise is returned in its
    place. Without process isolation each start simply runs."""
    results: list[Snapshot | Exception | None] = [None] * len(datas)
    iso = ctx.isolation
    gather = iso is not None and iso.mode == "process"
    replays = [ScriptReplay() for _ in datas]
    paused: dict[int, _Run] = {}        # starts waiting for their script's answer, resumable where they stopped
    todo = list(range(len(datas)))
    for rounds in itertools.count():
        asks: dict[int, Any] = {}
        for i in todo:
            replays[i].live = rounds >= REPLAY_ROUNDS
            run = paused.pop(i, None)
            try:
                resume = run is not None
                if run is None:
                    replays[i].asked = 0
                    run = _Run(ctx, None, replay=replays[i] if gather else None)
                    run.wf.get_next_task(state=TaskState.READY).data.update(dict(datas[i] or {}))
                run.advance(resume=resume)
                results[i] = run.snapshot()
            except ScriptDeferred as deferred:
                asks[i] = deferred.request
                if _resumable(run):
                    paused[i] = run
            except Exception as exc:  # noqa: BLE001 — this start fails alone, as it would singly
                results[i] = exc
        if not asks:
            break
        assert iso is not None
        answers = _pool_of(iso).run_many(list(asks.values()))
        for (i, request), answer in zip(asks.items(), answers):
            replays[i].answers.append((request[1], answer))
        todo = list(asks)
    return [r if r is not None else RuntimeError("not started") for r in results]


def _resumable(run: _Run) -> bool:
    """After a deferred script: can the run go on from the deferring task and end as a run from the beginning
    would? Yes when that task is a plain script task (no pre/post script, no multi-instance) and the only engine
    task ready in a workflow without subprocesses: the steps before it are done exactly as a rerun would replay
    them, and nothing else can run in between. Its state is put back to READY, its step and script uncounted."""
    task, wf = run.step_task, run.wf
    spec = getattr(task, "task_spec", None)
    if (task is None or wf.subprocesses or type(spec).__name__ != "ScriptTask"
            or getattr(spec, "prescript", None) or getattr(spec, "postscript", None)
            or task.state != TaskState.ERROR):
        return False
    ready = [t for t in wf.get_tasks(state=TaskState.READY | TaskState.ERROR) if not t.task_spec.manual]
    if ready != [task]:
        return False
    task._set_state(TaskState.READY)      # the library's own setter refuses to go back; the script never ran
    run.steps -= 1
    assert run.env.replay is not None
    run.env.replay.asked = run.asked_before
    return True


def _pool_of(iso: Isolation) -> isolation.ScriptPool:
    return isolation.pool(size=iso.pool_size, memory_mb=iso.memory_mb, preload=iso.preload)


def _start(ctx: Context, data: Mapping[str, Any] | None, *, replay: ScriptReplay | None) -> Snapshot:
    run = _Run(ctx, None, replay=replay)
    run.wf.get_next_task(state=TaskState.READY).data.update(dict(data or {}))
    run.advance()
    return run.snapshot()


def start_by_message(ctx: Context, message_name: str, payload: Mapping[str, Any],
                     data: Mapping[str, Any] | None = None) -> Snapshot:
    """Start a workflow whose start event waits for `message_name`, delivering the payload."""
    run = _Run(ctx, None)
    run.wf.get_next_task(state=TaskState.READY).data.update(dict(data or {}))
    run.advance()
    _deliver(run, message_name, payload)
    return run.snapshot()


def advance(ctx: Context, state: dict[str, Any]) -> Snapshot:
    """Fire what is due (timers) and run until the workflow waits again."""
    run = _Run(ctx, state)
    run.advance()
    return run.snapshot()


def _task(run: _Run, task_guid: str):
    try:
        task = run.wf.get_task_from_id(UUID(task_guid))
    except (ValueError, KeyError, WorkflowException) as exc:
        raise TaskNotReady(f"task {task_guid} not found", task_guid=task_guid) from exc
    if task is None:
        raise TaskNotReady(f"task {task_guid} not found", task_guid=task_guid)
    return task


def complete_task(ctx: Context, state: dict[str, Any], task_guid: str, data: Mapping[str, Any]) -> Snapshot:
    """Complete a READY human task with form data and run on."""
    run = _Run(ctx, state)
    task = _task(run, task_guid)
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReady(f"task {task_guid} is {TaskState.get_name(task.state)}", task_guid=task_guid,
                           state=TaskState.get_name(task.state))
    if not isinstance(data, Mapping):
        raise InvalidTaskData("form data must be an object")
    if hasattr(task.task_spec, "add_data_from_form"):
        task.task_spec.add_data_from_form(task, dict(data))
    else:
        task.data.update(dict(data))
    run.events.append({"type": "task_completed", "element_id": task.task_spec.bpmn_id, "task_guid": task_guid,
                       "data": to_json_value(dict(data))})
    run.guarded(task.run)
    if run.error is None:
        run.advance()
    return run.snapshot()


def correlate(ctx: Context, state: dict[str, Any], message_name: str, payload: Mapping[str, Any]) -> Snapshot:
    """Deliver a message to this workflow; raises MessageNotWaiting if it does not wait for it (or not for
    these correlation values)."""
    run = _Run(ctx, state)
    _deliver(run, message_name, payload)
    return run.snapshot()


def _waiting_for(wf: BpmnWorkflow, message_name: str):
    for task in wf.get_tasks(state=TaskState.WAITING):
        for ed in _definitions(getattr(task.task_spec, "event_definition", None)):
            if isinstance(ed, MessageEventDefinition) and ed.name == message_name:
                yield task, ed


def _deliver(run: _Run, message_name: str, payload: Mapping[str, Any]) -> None:
    wf = run.wf
    refused = None
    for task, ed in _waiting_for(wf, message_name):
        try:
            correlations = ed.calculate_correlations(wf.script_engine, ed.correlation_properties, dict(payload))
        except (SpiffWorkflowException, NameError, KeyError) as exc:
            raise MessageNotWaiting(f"message '{message_name}' lacks its correlation values: {exc}",
                                    message_name=message_name) from exc
        event = BpmnEvent(ed, dict(payload), correlations)
        if not task.task_spec.event_definition.catches(task, event):
            refused = refused or MessageNotWaiting(f"waiting for '{message_name}' with other correlation values",
                                                   message_name=message_name)
            continue
        try:
            wf.send_event(event)
        except WorkflowException as exc:
            raise MessageNotWaiting(str(exc), message_name=message_name) from exc
        run.events.append({"type": "message_received", "element_id": task.task_spec.bpmn_id,
                           "task_guid": str(task.id), "data": {"message": message_name,
                                                               "payload": to_json_value(dict(payload))}})
        run.advance()
        return
    raise refused or MessageNotWaiting(f"not waiting for message '{message_name}'", message_name=message_name)


def complete_service_call(ctx: Context, state: dict[str, Any], task_guid: str, result: Any) -> Snapshot:
    """Finish a STARTED service task with the handler's result and run on."""
    run = _Run(ctx, state)
    task = _task(run, task_guid)
    if task.state != TaskState.STARTED or not isinstance(task.task_spec, OutboxServiceTask):
        raise TaskNotReady(f"service task {task_guid} is not waiting for a result", task_guid=task_guid)
    task.data[task.task_spec.result_variable] = to_json_value(result)
    task.internal_data.pop(SERVICE_CALL_KEY, None)
    run.events.append({"type": "service_completed", "element_id": task.task_spec.bpmn_id, "task_guid": task_guid,
                       "data": {"operator": task.task_spec.operation_name}})
    run.guarded(task.complete)
    if run.error is None:
        run.advance()
    return run.snapshot()


def fail_service_call(ctx: Context, state: dict[str, Any], task_guid: str, *, error_code: str,
                      message: str) -> tuple[Snapshot, bool]:
    """Report a finally failed service call. The failure travels as a BPMN error does: caught by an error boundary
    on the task, else on the embedded subprocess or call activity enclosing it (innermost first), that names this
    error (its `errorCode`, or the `bpmn:error`'s name as SpiffArena models name the errors their services raise)
    or no error at all; the modeled path runs and the second value is True. Otherwise the task stays STARTED and
    the caller raises an incident."""
    run = _Run(ctx, state)
    task = _task(run, task_guid)
    for boundary, ed in _error_catches(task):
        if ed.code not in (None, "", error_code) and ed.name != error_code:
            continue
        run.events.append({"type": "service_failed", "element_id": task.task_spec.bpmn_id, "task_guid": task_guid,
                           "data": {"code": error_code, "message": message,
                                    "handled_by": boundary.task_spec.bpmn_id}})
        event = BpmnEvent(ed, {"code": error_code, "message": message}, target=boundary.workflow)

        def catch(boundary: Task = boundary, event: BpmnEvent = event) -> None:
            boundary.task_spec.catch(boundary, event)
            boundary.task_spec._update(boundary)

        run.guarded(catch)
        if run.error is None:
            run.advance()
        return run.snapshot(), True
    return run.snapshot(), False


def _error_catches(task: Task) -> Iterator[tuple[Task, ErrorEventDefinition]]:
    """The waiting error boundaries a failure of `task` reaches, innermost first: those on the task itself, then
    those on each subprocess or call activity whose run encloses it."""
    current: Task | None = task
    while current is not None:
        for sibling in current.parent.children if current.parent is not None else []:
            ed = getattr(sibling.task_spec, "event_definition", None)
            if sibling is not current and sibling.state == TaskState.WAITING and isinstance(ed, ErrorEventDefinition):
                yield sibling, ed
        parent_id = getattr(current.workflow, "parent_task_id", None)
        current = current.workflow.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None


def retry(ctx: Context, state: dict[str, Any], *, data_patch: Mapping[str, Any] | None = None) -> Snapshot:
    """Reset the task in error (optionally patching its data) and run it again."""
    run = _Run(ctx, state)
    errored = run.wf.get_tasks(state=TaskState.ERROR)
    if not errored:
        raise TaskNotReady("no task in error")
    task = errored[0]
    guid = task.id
    if data_patch and task.parent is not None:
        # the reset re-reads the data flowing in (a multi-instance task evaluates its cardinality right then)
        task.parent.data.update(dict(data_patch))
    run.guarded(lambda: run.wf.reset_from_task_id(guid))
    if run.error is not None:
        return run.snapshot()
    task = run.wf.get_task_from_id(guid)
    if data_patch:
        task.data.update(dict(data_patch))
    run.events.append({"type": "retried", "element_id": task.task_spec.bpmn_id, "task_guid": str(guid),
                       "data": {"patch": to_json_value(dict(data_patch or {}))}})
    run.advance()
    return run.snapshot()


def cancel(ctx: Context, state: dict[str, Any]) -> Snapshot:
    """Terminate the workflow: every open task is cancelled."""
    run = _Run(ctx, state)
    run.wf.cancel()
    snap = run.snapshot()
    snap.status = "terminated"
    snap.human_tasks, snap.timers, snap.subscriptions, snap.service_calls = [], [], [], []
    return snap


def message_correlation(ctx: Context, message_name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The correlation values an incoming message carries, as the waiting side indexes them."""
    spec, subs = _spec_objects(ctx)
    for wf_spec in [spec, *subs.values()]:
        for ts in wf_spec.task_specs.values():
            for ed in _definitions(getattr(ts, "event_definition", None)):
                if isinstance(ed, MessageEventDefinition) and ed.name == message_name:
                    retrieval = {p.name: p.retrieval_expression for p in ed.correlation_properties}
                    return payload_correlation(retrieval, payload, helpers=ctx.helpers, message_name=message_name)
    raise MessageNotWaiting(f"process does not use message '{message_name}'", message_name=message_name)


def payload_correlation(retrieval: Mapping[str, str], payload: Mapping[str, Any], *,
                        helpers: Mapping[str, Callable[..., Any]] | None = None,
                        message_name: str = "") -> dict[str, Any]:
    """Evaluate correlation retrieval expressions over a message payload (MessageNotWaiting if one cannot be)."""
    values = {}
    for name, expression in retrieval.items():
        try:
            values[name] = sandbox.evaluate(expression, dict(payload), helpers=helpers or {})
        except sandbox.SandboxError as exc:
            raise MessageNotWaiting(f"message lacks correlation property '{name}'", message_name=message_name,
                                    property=name) from exc
    return to_json_value(values)

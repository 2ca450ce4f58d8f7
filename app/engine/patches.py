"""Fixes to SpiffWorkflow 3.2.0 behaviour we cannot reach by subclassing; each is checked against the pinned
release when imported (a changed library fails loudly here instead of silently behaving differently).

* Task iterators stop descending at depth 1000 (`max_depth=1000` default in `TaskIterator` and
  `BpmnTaskIterator`). A loop deepens the task tree by two or three levels per iteration, so after ~500 iterations
  the next READY task became invisible: no engine step found it, `is_completed()` found nothing unfinished, and the
  instance ended "completed" with its last steps never run (issue 13.4). The depth is unbounded here; runaway
  loops are stopped by the step budget instead (`runtime.Context.step_budget`), with an incident.
* A multi-instance loop cardinality that is not a non-negative integer ("abc", 2.5, -1, True) made the library fail
  with a bare TypeError (a 500: only SpiffWorkflow's own exceptions become incidents) or, for a negative or
  fractional value, silently run zero or a rounded-up number of instances. It is checked before the library uses
  it and raised as a task error, which the runtime turns into a retryable incident naming the task (issue 14.10).
* Every task state change (`Task._set_state`, ≈ 13 per follow-up start) built a log record's extras
  (`collect_log_extras`: spec names, ids, the state's name) and an f-string before calling `logger.info`, even though
  the `spiff.task` logger is not enabled at INFO (only the `ygt` loggers are configured, app.core.logs): ≈ 8 % of a
  batch start's CPU in a profile. The state change itself is unchanged; the library's own method runs whenever the
  logger would emit (INFO, or DEBUG for a state set again).
* The workflow's log extras (`Workflow.collect_log_extras`, built for 'Initialized workflow' and 'Workflow completed')
  listed every task id of the tree, a whole walk, whenever the `spiff.workflow` logger's own level is unset — also
  when the record is then dropped because the logger does not listen at INFO: ≈ 4 % of the engine's CPU on the
  approval model. Built as before whenever the logger would emit.
* Task iteration (`get_tasks`, `get_next_task`, `is_completed`, the WAITING tasks refreshed after every completed
  task, the READY tasks of each engine step: ≈ 20 walks of the tree per approval instance) went through four to six
  Python calls per task visited (`_next`, the filter's `matches`, `has_state`, `state`, `children`, the depth
  bookkeeping). `__next__` of both iterators does the same visit in one loop: the same tasks in the same order, the
  tree read at the same moments (a task's children are looked up when it is taken, as `_next` does, before the
  filter sees it). The depth bookkeeping is skipped when the depth is unbounded (the default set above), where it
  decides nothing; an iterator with a depth limit, a breadth-first one, a subclass or a filter of another class goes
  through the library's own methods.
* A new task's id (`Task.__init__`: `uuid4()`) is an `ids.TaskId`: a UUID that hashes and prints from C (every task
  lookup hashes an id). Drawn as `uuid4` draws it.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import SpiffWorkflow.task as _task_module
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    LoopTask,
    MultiInstanceTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.bpmn.util.task import BpmnTaskFilter, BpmnTaskIterator
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskFilter, TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

from .ids import new_task_id

UNBOUNDED_DEPTH = 10**9


def _unbound_iterator_depth() -> None:
    for cls in (TaskIterator, BpmnTaskIterator):
        defaults = list(cls.__init__.__defaults__)
        if defaults[1] not in (1000, UNBOUNDED_DEPTH):
            raise RuntimeError(f"{cls.__name__}.__init__ defaults changed ({defaults}); re-check app/engine/patches.py")
        defaults[1] = UNBOUNDED_DEPTH
        cls.__init__.__defaults__ = tuple(defaults)


_unbound_iterator_depth()


def _checked_cardinality(inherited):
    """`MultiInstanceTask._update_hook`: what both kinds call first (`super()._update_hook`), once the task has its
    data; checks the cardinality before their own hook evaluates and uses it."""

    def _update_hook(self, my_task):
        result = inherited(self, my_task)
        if self.data_input is None and self.cardinality is not None:
            try:
                value = my_task.workflow.script_engine.evaluate(my_task, self.cardinality)
            except SpiffWorkflowException:
                my_task.error()          # in ERROR, so that the incident's retry finds and resets it
                raise
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                my_task.error()
                error = WorkflowTaskException(
                    f"多实例数量必须是非负整数 (loop cardinality '{self.cardinality}' of '{self.bpmn_id}' is "
                    f"{value!r}; it must be a non-negative integer)", task=my_task)
                error.ygt_code = "bad_cardinality"
                raise error
        return result

    _update_hook.ygt_checked = True
    return _update_hook


def _check_multi_instance_cardinality() -> None:
    if "_update_hook" in MultiInstanceTask.__dict__ and not getattr(MultiInstanceTask._update_hook, "ygt_checked",
                                                                     False):
        raise RuntimeError("MultiInstanceTask._update_hook now exists; re-check app/engine/patches.py")
    for cls in (SequentialMultiInstanceTask, ParallelMultiInstanceTask):
        if "_update_hook" not in cls.__dict__:
            raise RuntimeError(f"{cls.__name__}._update_hook moved; re-check app/engine/patches.py")
    if not getattr(MultiInstanceTask.__dict__.get("_update_hook"), "ygt_checked", False):
        MultiInstanceTask._update_hook = _checked_cardinality(LoopTask._update_hook)


_check_multi_instance_cardinality()


def _pinned(function, names: tuple[str, ...], what: str) -> None:
    """Refuse to patch a library function whose code names other things than the pinned release's."""
    if function.__code__.co_names != names:
        raise RuntimeError(f"{what} changed; re-check app/engine/patches.py")


_SET_STATE_NAMES = ('state', 'time', 'last_state_change', '_state', 'logger', 'info', 'TaskState', 'get_name',
                    'collect_log_extras', 'debug')


def _quiet_state_changes() -> None:
    inherited = Task._set_state
    if getattr(inherited, "ygt_quiet", False):
        return
    _pinned(inherited, _SET_STATE_NAMES, "Task._set_state")
    task_log = logging.getLogger("spiff.task")        # the library's module logger (SpiffWorkflow.task.logger)

    def _set_state(self, value: int) -> None:
        if task_log.isEnabledFor(logging.INFO if value != self._state else logging.DEBUG):
            inherited(self, value)
        elif value != self._state:
            self.last_state_change = time.time()
            self._state = value

    _set_state.ygt_quiet = True  # type: ignore[attr-defined]
    Task._set_state = _set_state


_quiet_state_changes()


_WORKFLOW_EXTRAS_NAMES = ('update', 'spec', 'name', 'success', 'completed', 'task_tree', 'id', 'logger', 'level',
                          'Workflow', 'get_tasks')


def _quiet_workflow_extras() -> None:
    inherited = Workflow.collect_log_extras
    if getattr(inherited, "ygt_quiet", False):
        return
    _pinned(inherited, _WORKFLOW_EXTRAS_NAMES, "Workflow.collect_log_extras")
    workflow_log = logging.getLogger("spiff.workflow")      # the library's module logger (SpiffWorkflow.workflow)

    def collect_log_extras(self, dct=None):
        if workflow_log.isEnabledFor(logging.INFO):
            return inherited(self, dct)
        # only 'info' records carry these extras (`Workflow.__init__`, `cancel`, `_mark_complete`): dropped unbuilt
        extra = dct or {}
        extra.update({"workflow_spec": self.spec.name, "success": self.success, "completed": self.completed,
                      "root": self.task_tree.id})
        return extra

    collect_log_extras.ygt_quiet = True  # type: ignore[attr-defined]
    Workflow.collect_log_extras = collect_log_extras


_quiet_workflow_extras()


# what the one-loop `__next__` below does in place of these (their names checked against the pinned release)
_ITERATION_NAMES = {
    (TaskIterator, "__next__"): ('_next', 'task_filter', 'matches'),
    (TaskIterator, "_next"): ('task_list', 'StopIteration', 'pop', '_children', 'state', 'min_state', 'depth',
                              'max_depth', 'task_spec', 'name', 'end_at_spec', 'depth_first', 'children', 'extend',
                              '_update_depth', '_handle_leaf_depth'),
    (BpmnTaskIterator, "_next"): ('task_list', 'StopIteration', 'pop', 'workflow', 'top_workflow', 'subprocesses',
                                  'get', 'id', '_children', 'state', 'min_state', 'depth', 'max_depth', 'task_spec',
                                  'name', 'end_at_spec', 'skip_subprocesses', 'TaskState', 'FINISHED_MASK',
                                  'task_filter', 'task_tree', 'depth_first', 'children', 'extend', '_update_depth',
                                  '_handle_leaf_depth'),
    (TaskIterator, "_update_depth"): ('depth_first', 'depth', 'task_list', 'range', 'parent'),
    (TaskIterator, "_handle_leaf_depth"): ('task_list', 'parent', 'depth'),
    (TaskFilter, "matches"): ('has_state', 'state', 'last_state_change', 'updated_ts', 'manual', 'task_spec',
                              'spec_name', 'name', 'spec_class', 'isinstance'),
    (BpmnTaskFilter, "matches"): ('super', 'matches', 'catches_event', 'lane', 'task_spec'),
}
_TASK_PROPERTY_NAMES = {"children": ('_children',), "state": ('_state',)}
_HAS_STATE_NAMES = ('_state',)

# the library's own, for what the one loop does not take (and for tests: `library_next`)
_LIBRARY_NEXT = TaskIterator.__dict__["__next__"]
_FINISHED_MASK = TaskState.FINISHED_MASK


def library_next(iterator):
    """The library's `TaskIterator.__next__` (through the iterator's own `_next` and its filter's `matches`)."""
    return _LIBRARY_NEXT(iterator)


def _next_in_one_loop(self, bpmn: bool):
    """`TaskIterator.__next__` (the library's: `_next` then the filter's `matches` until a task matches) as one loop,
    over `BpmnTaskIterator._next` when `bpmn` (a task running a subprocess is followed by the subprocess's root, then
    its children); see the module docstring."""
    if type(self) is not (BpmnTaskIterator if bpmn else TaskIterator) or not self.depth_first \
            or self.max_depth < UNBOUNDED_DEPTH:
        return _LIBRARY_NEXT(self)
    task_filter = self.task_filter
    plain = type(task_filter) is (BpmnTaskFilter if bpmn else TaskFilter)
    if plain:
        state, updated_ts, manual = task_filter.state, task_filter.updated_ts, task_filter.manual
        spec_name, spec_class = task_filter.spec_name, task_filter.spec_class
        catches_event, lane = (task_filter.catches_event, task_filter.lane) if bpmn else (None, None)
    task_list, min_state, end_at = self.task_list, self.min_state, self.end_at_spec
    seen_workflow = subprocess = None
    subprocesses: Any = None
    while task_list:
        task = task_list.pop(0)
        workflow = task.workflow
        if bpmn:
            if workflow is not seen_workflow:
                seen_workflow, subprocesses = workflow, workflow.top_workflow.subprocesses
            subprocess = subprocesses.get(task.id)
        if subprocess is None:
            children = task._children
            if children and task._state >= min_state and task.task_spec.name != end_at:
                task_list[:0] = map(workflow.tasks.get, children)
        elif task.task_spec.name != end_at:
            below = list(map(workflow.tasks.get, task._children))
            if not (self.skip_subprocesses
                    or (task._state >= _FINISHED_MASK and self.task_filter.state <= _FINISHED_MASK)):
                below.insert(0, subprocess.task_tree)
            task_list[:0] = below
        if not plain:
            if task_filter.matches(task):
                return task
        elif (task._state & state and task.last_state_change >= updated_ts
              and (manual is None or task.task_spec.manual == manual)
              and (spec_name is None or task.task_spec.name == spec_name)
              and (spec_class is None or isinstance(task.task_spec, spec_class))
              and (catches_event is None
                   or (isinstance(task.task_spec, CatchingEvent) and task.task_spec.catches(task, catches_event)))
              and (lane is None or task.task_spec.lane == lane)):
            return task
    raise StopIteration()


def _task_iterator_next(self):
    return _next_in_one_loop(self, False)


def _bpmn_task_iterator_next(self):
    return _next_in_one_loop(self, True)


def _one_loop_iteration() -> None:
    if getattr(TaskIterator.__dict__["__next__"], "ygt_one_loop", False):
        return
    if "__next__" in BpmnTaskIterator.__dict__:
        raise RuntimeError("BpmnTaskIterator.__next__ now exists; re-check app/engine/patches.py")
    for (cls, name), names in _ITERATION_NAMES.items():
        _pinned(cls.__dict__[name], names, f"{cls.__name__}.{name}")
    for name, names in _TASK_PROPERTY_NAMES.items():
        _pinned(getattr(Task, name).fget, names, f"Task.{name}")
    _pinned(Task.has_state, _HAS_STATE_NAMES, "Task.has_state")
    _task_iterator_next.ygt_one_loop = True  # type: ignore[attr-defined]
    TaskIterator.__next__ = _task_iterator_next
    BpmnTaskIterator.__next__ = _bpmn_task_iterator_next


_one_loop_iteration()


def _task_ids_hashed_in_c() -> None:
    drawn = _task_module.uuid4
    if drawn is new_task_id:
        return
    if drawn is not uuid.uuid4:
        raise RuntimeError("SpiffWorkflow.task draws task ids otherwise; re-check app/engine/patches.py")
    _task_module.uuid4 = new_task_id


_task_ids_hashed_in_c()

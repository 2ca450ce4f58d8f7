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
"""
from __future__ import annotations

import logging
import time

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    LoopTask,
    MultiInstanceTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator

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


_SET_STATE_NAMES = ('state', 'time', 'last_state_change', '_state', 'logger', 'info', 'TaskState', 'get_name',
                    'collect_log_extras', 'debug')


def _quiet_state_changes() -> None:
    inherited = Task._set_state
    if getattr(inherited, "ygt_quiet", False):
        return
    if inherited.__code__.co_names != _SET_STATE_NAMES:
        raise RuntimeError("Task._set_state changed; re-check app/engine/patches.py")
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

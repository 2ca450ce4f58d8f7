"""Fixes to SpiffWorkflow 3.2.0 behaviour we cannot reach by subclassing; each is checked against the pinned
release when imported (a changed library fails loudly here instead of silently behaving differently).

* Task iterators stop descending at depth 1000 (`max_depth=1000` default in `TaskIterator` and
  `BpmnTaskIterator`). A loop deepens the task tree by two or three levels per iteration, so after ~500 iterations
  the next READY task became invisible: no engine step found it, `is_completed()` found nothing unfinished, and the
  instance ended "completed" with its last steps never run (issue 13.4). The depth is unbounded here; runaway
  loops are stopped by the step budget instead (`runtime.Context.step_budget`), with an incident.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
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

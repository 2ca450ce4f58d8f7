"""Walk a workflow's task tree once and sort its tasks by state, as the snapshot needs them (issue 23).

A step's snapshot used to ask `get_tasks` about ten times (READY human tasks, WAITING, STARTED, COMPLETED, ERROR,
the active ones, the diagram's ids ...), each a walk of the whole tree. `walk` visits every task once and returns
the same tasks in the same order each of those queries returns. The library's iterator decides what a query sees by
its state mask: it descends only through tasks whose state is at least the mask's lowest class (FUTURE for a query
about READY/WAITING/STARTED, COMPLETED for one about COMPLETED/ERROR), except that it always descends into a task
that runs a subprocess (its subprocess first, then its children). So a STARTED multi-instance task hides its
COMPLETED instances from a COMPLETED query; `walk` keeps that by carrying the lowest state on the way down.

The iterator also stops descending 1000 levels down. A tree that deep (never seen: compaction keeps looping trees
short) is answered by the library's own queries instead, so the answer is the same there too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

_DEEP = 900             # below the iterator's max_depth (1000), with room for its depth count's drift
_NO_GATE = 1 << 30      # above every state


@dataclass
class Tasks:
    """The tasks of one tree by state, each list in the order `get_tasks` with that state returns them."""

    ready: list[Task] = field(default_factory=list)
    waiting: list[Task] = field(default_factory=list)
    started: list[Task] = field(default_factory=list)
    active: list[Task] = field(default_factory=list)        # READY | WAITING | STARTED
    completed: list[Task] = field(default_factory=list)
    error: list[Task] = field(default_factory=list)

    def add_definite(self, task: Task) -> None:
        state = task.state
        if state == TaskState.READY:
            self.ready.append(task)
        elif state == TaskState.WAITING:
            self.waiting.append(task)
        elif state == TaskState.STARTED:
            self.started.append(task)
        else:
            return
        self.active.append(task)

    def add_finished(self, task: Task) -> None:
        if task.state == TaskState.COMPLETED:
            self.completed.append(task)
        elif task.state == TaskState.ERROR:
            self.error.append(task)


def walk(wf) -> Tasks:
    """The tasks of `wf` (a top workflow, its subprocesses included) sorted by state in one pass (`Tasks.add_definite`
    and `add_finished` inlined, a task's state and children read from its fields)."""
    found = Tasks()
    ready, waiting, started, active = found.ready, found.waiting, found.started, found.active
    completed, error = found.completed, found.error
    subprocesses = wf.subprocesses
    definite_min, finished_min = TaskState.FUTURE, TaskState.COMPLETED
    stack = [(wf.task_tree, _NO_GATE, 0)]           # task, lowest state above it (subprocess tasks pass), depth
    pop, push = stack.pop, stack.append
    while stack:
        task, gate, depth = pop()
        if depth >= _DEEP:
            return _by_queries(wf)
        state = task._state
        if gate >= definite_min:
            if state == _READY:
                ready.append(task)
                active.append(task)
            elif state == _WAITING:
                waiting.append(task)
                active.append(task)
            elif state == _STARTED:
                started.append(task)
                active.append(task)
            elif gate >= finished_min:
                if state == _COMPLETED:
                    completed.append(task)
                elif state == _ERROR:
                    error.append(task)
        subprocess = subprocesses.get(task.id)
        children = task._children
        if subprocess is None:
            if not children:
                continue
            below = gate if gate < state else state  # noqa: FURB136 — no call
            if below < definite_min:
                continue            # a predicted task: nothing below it is definite or finished
        else:
            below = gate
        get = task.workflow.tasks.get
        for child in reversed(children):
            push((get(child), below, depth + 1))
        if subprocess is not None:
            push((subprocess.task_tree, below, depth + 1))
    return found


_READY, _WAITING, _STARTED = TaskState.READY, TaskState.WAITING, TaskState.STARTED
_COMPLETED, _ERROR = TaskState.COMPLETED, TaskState.ERROR


def _by_queries(wf) -> Tasks:
    found = Tasks()
    for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        found.add_definite(task)
    for task in wf.get_tasks(state=TaskState.COMPLETED | TaskState.ERROR):
        found.add_finished(task)
    return found

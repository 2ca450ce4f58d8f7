"""Keep a looping instance's state bounded: drop the finished iterations of the task tree before saving.

SpiffWorkflow never prunes completed tasks (ENGINE_NOTES §1.11, fact 12): a loop that runs for years (an
anticoagulant episode's INR rounds, a contract's checks) adds its tasks to the tree every round, so the saved state
grows without bound. The history of those rounds is already kept outside the state (the `process_events` rows
of every step), so the state only needs the part of the tree the engine still works on.

The cut: all tasks that are not finished (anything but COMPLETED or CANCELLED: READY, WAITING, STARTED, ERROR and the
predicted ones) lie in the subtree of one task — the lowest common ancestor of the live tasks, or its parent when
that is live itself. Everything between the root and that task is finished history: the task is re-attached to the
root (the `Start` task, which event subprocesses hang from, stays) and the history is dropped. Its data is kept in
full (it becomes a delta against the root's start data). What the diagram needs of the dropped history (the ids of
elements that completed) is kept in the state under `PRUNED_KEY`, with the number of tasks dropped.

Nothing is cut when the live tasks do not share an ancestor below the root (parallel branches that started at the
top, an event subprocess waiting on the root), when a dropped task still has a subprocess or is the workflow's
`last_task`, or when fewer than `MIN_DROPPED` tasks would go (short instances keep their whole tree).
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

PRUNED_KEY = "ygt_pruned"
MIN_DROPPED = 40
_FINISHED = (TaskState.COMPLETED, TaskState.CANCELLED)


def pruned_of(workflow: BpmnWorkflow) -> dict[str, Any]:
    """What earlier saves dropped from this workflow: `{"tasks": n, "completed": [element ids]}`."""
    return getattr(workflow, "ygt_pruned", None) or {"tasks": 0, "completed": []}


def _ancestors(task) -> list:
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    return path[::-1]           # root first


def _cut_point(workflow: BpmnWorkflow):
    live = [t for t in workflow.tasks.values() if t.state not in _FINISHED]
    if not live:
        return None
    common = _ancestors(live[0])
    for task in live[1:]:
        path = _ancestors(task)
        n = 0
        while n < len(common) and n < len(path) and common[n] is path[n]:
            n += 1
        common = common[:n]
    if len(common) < 2:
        return None
    cut = common[-1] if common[-1].state in _FINISHED else common[-2]
    return cut if cut is not workflow.task_tree and cut.parent is not workflow.task_tree else None


def _subtree_ids(task) -> set:
    ids, stack = set(), [task]
    while stack:
        t = stack.pop()
        ids.add(t.id)
        stack.extend(t.children)
    return ids


def compact(workflow: BpmnWorkflow, *, min_dropped: int = MIN_DROPPED) -> int:
    """Drop the finished history above the live part of the task tree (see the module docstring); the number of
    tasks dropped (0: nothing was cut). Call it just before saving: the workflow object is not run again."""
    if len(workflow.tasks) - 2 < min_dropped:
        return 0            # the root and the cut point stay: fewer than `min_dropped` could go
    cut = _cut_point(workflow)
    if cut is None:
        return 0
    root = workflow.task_tree
    keep = _subtree_ids(cut) | {root.id}
    dropped = [t for tid, t in workflow.tasks.items() if tid not in keep]
    if len(dropped) < min_dropped or any(t.state not in _FINISHED for t in dropped):
        return 0
    dropped_ids = {t.id for t in dropped}
    if dropped_ids & set(workflow.subprocesses) or (workflow.last_task is not None
                                                    and workflow.last_task.id in dropped_ids):
        return 0
    before = pruned_of(workflow)
    completed = set(before["completed"]) | {t.task_spec.bpmn_id for t in dropped if t.state == TaskState.COMPLETED
                                            and getattr(t.task_spec, "bpmn_id", None)}
    data = dict(cut.data)           # in memory a task holds its full data; keep it across the new parent
    for tid in dropped_ids:
        del workflow.tasks[tid]
    root._children = [cut.id]
    cut._parent = root.id
    cut.data = data
    workflow.ygt_pruned = {"tasks": before["tasks"] + len(dropped), "completed": sorted(completed)}
    return len(dropped)

"""Extension points other capabilities plug into (explicit, set at import time by their modules)."""
from __future__ import annotations

from collections.abc import Callable

_task_enrichers: list[Callable] = []


def task_enricher(fn: Callable) -> Callable:
    """Register `fn(human_task_row)` to add business fields (resident name, village, org path) to a new task."""
    _task_enrichers.append(fn)
    return fn


def enrich_task(row) -> None:
    for fn in _task_enrichers:
        fn(row)


_resident_context: list[Callable] = []


def resident_context_provider(fn: Callable) -> Callable:
    """Register `fn(resident_id) -> {"org_code", "resident_name", "village_code", ...} | None`."""
    _resident_context.append(fn)
    return fn


def resident_context(resident_id: int | None) -> dict:
    if resident_id is None:
        return {}
    for fn in _resident_context:
        found = fn(resident_id)
        if found:
            return found
    return {}


_completion_listeners: dict[tuple[str, str], list[Callable]] = {}


def on_task_completed(process_id: str, *element_ids: str) -> Callable:
    """Register `fn(task_row, data, actor_name)`, run inside the transaction that completes one of these user tasks
    (so what a capability records about the answer commits, or rolls back, with the step)."""
    def register(fn: Callable) -> Callable:
        for element_id in element_ids:
            _completion_listeners.setdefault((process_id, element_id), []).append(fn)
        return fn
    return register


def task_completed(row, data, actor_name: str) -> None:
    for fn in _completion_listeners.get((row.process_id, row.element_id), ()):
        fn(row, data, actor_name)


_termination_listeners: dict[str, list[Callable]] = {}


def on_instance_terminated(process_id: str) -> Callable:
    """Register `fn(instance_id, actor_name, reason)`, run inside the transaction that terminates an instance of
    `process_id` (so what a capability keeps about the instance, e.g. an open plan version, ends with it)."""
    def register(fn: Callable) -> Callable:
        _termination_listeners.setdefault(process_id, []).append(fn)
        return fn
    return register


def instance_terminated(process_id: str, instance_id: int, actor_name: str, reason: str | None) -> None:
    for fn in _termination_listeners.get(process_id, ()):
        fn(instance_id, actor_name, reason)

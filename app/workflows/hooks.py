"""Extension points other capabilities plug into, and events one capability tells the others about.

Nothing registers here by being imported: `app/wiring.py` is the one place that plugs every reaction in, at
start-up, so a reader finds in that one file what happens when, say, a care plan is approved.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_task_enrichers: list[Callable] = []


def task_enricher(fn: Callable) -> Callable:
    """Register `fn(human_task_row) -> dict | None`: fields to change on a new or refreshed task (e.g. its role),
    which the inbox (app.tasks, the one writer of `human_tasks`) applies; `fn` reads the row, never writes it."""
    _task_enrichers.append(fn)
    return fn


def enrich_task(row) -> dict[str, Any]:
    """The changes every enricher asks for, merged in the order of registration."""
    changes: dict[str, Any] = {}
    for fn in _task_enrichers:
        changes.update(fn(row) or {})
    return changes


BATCH_CHUNK = "workflows.batch_chunk"
_chunk_finishers: list[Callable] = []


def in_batch_chunk(session) -> dict | None:
    """Inside a batch start's chunk (`app.workflows.batch`): a dict where an enricher may collect what it would
    otherwise queue per task (so one job per chunk does it); else None."""
    return session.info.get(BATCH_CHUNK)


def batch_chunk_finisher(fn: Callable) -> Callable:
    """Register `fn(session, collected)`, run once per batch chunk after its projections, in its transaction."""
    _chunk_finishers.append(fn)
    return fn


def finish_batch_chunk(session) -> None:
    collected = session.info.pop(BATCH_CHUNK, None) or {}
    for fn in _chunk_finishers:
        fn(session, collected)


_inbox: dict[str, Callable] = {}


def inbox_writer(*, project: Callable, complete: Callable) -> None:
    """Plug in the one writer of `human_tasks` (app.tasks.projection): `project(session, inst, views, now, new=,
    closed=)` makes the open tasks match a step's task views; `complete(session, task_id, data, actor_name, completion_id)`
    marks one completed. Both run in the runner's transaction."""
    _inbox.update(project=project, complete=complete)


def project_tasks(session, inst, views, now, *, new: bool, closed: list[str] | None = None) -> None:
    """`closed`: the tasks the step closed, when the engine knows them (then only what changed is written)."""
    _inbox["project"](session, inst, views, now, new=new, closed=closed)


def complete_task(session, task_id: int, data, actor_name: str, completion_id: str | None):
    return _inbox["complete"](session, task_id, data, actor_name, completion_id)


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


_resident_contexts: list[Callable] = []


def resident_contexts_provider(fn: Callable) -> Callable:
    """Register `fn(resident_ids) -> {resident_id: context}`: the contexts of many residents at once (batch starts)."""
    _resident_contexts.append(fn)
    return fn


def resident_contexts(resident_ids) -> dict[int, dict]:
    """`resident_context` of many residents, with the bulk provider where one is registered."""
    wanted = sorted({i for i in resident_ids if i is not None})
    if not _resident_contexts:
        return {i: resident_context(i) for i in wanted}
    found: dict[int, dict] = {}
    for fn in _resident_contexts:
        found.update({k: v for k, v in (fn([i for i in wanted if i not in found]) or {}).items() if v})
    return {i: found.get(i) or {} for i in wanted}


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


# Events: a capability announces what happened (`emit`), the others react (`subscribe`, only in app/wiring.py).
CARE_PLAN_APPROVED = "care_plan.approved"
"""A care-plan version came into force: `plan` (CarePlan), `version` (CarePlanVersion), `approver` (str | None)."""

RESIDENT_FACTS_RECORDED = "resident.facts_recorded"
"""One submission to `app.residents.intake` created rows (once per submission, in its transaction): `resident_id`,
`source`, `actor`, `recorded` (the new rows as `intake.Recorded`: record_type, row, created), `rescreen` (False when
the submitter asked for no re-screen: an enrolment, the seed, home readings)."""

LIVE_ALARM = "live.alarm"
"""A live room's vital sign crossed a configured alarm threshold (once per crossing, in the ingesting transaction):
`kind`, `ref` (the room's owner, e.g. "consult", 12), `channel` (hr | spo2 | sbp | dbp | rr | temp), `value`
(float), `threshold` (e.g. "<90"), `at` (datetime measured). Consult subscribes in app/wiring.py for its record."""

LIVE_ROOM_EXPIRED = "live.room_expired"
"""A live room was closed because it stayed open past the configured maximum (`YGT_LIVE_MAX_MINUTES`, default 120;
`live.close_expired_rooms`, in the closing transaction): `kind`, `ref`, `opened_at`, `closed_at`, `max_minutes`.
Consult subscribes in app/wiring.py to log it and mark its room copy closed."""

FOLLOW_UP_RECORDED = "follow_up.recorded"
"""A follow-up visit was completed (once per visit, in the recording transaction): `resident_id`, `visit_id`,
`disease`, `visited_on` (date | None), `visit_type` (outpatient/home/phone/online | None), `performed_by`."""

PRESCRIPTION_RELEASED = "prescription.released"
"""A supervised-drug prescription passed pre-review (`rx_prereview`: auto-pass, pharmacist or double signature; once
per version, in the deciding transaction): `resident_id`, `prescription_id`, `rx_id`, `org_code` (prescribing),
`items` (lines: drug, dose_mg, frequency …), `indication`, `clinical` (age, sex, weight, CrCl, target INR …),
`actor`. Anticoagulant monitoring subscribes in app/wiring.py to start or continue the patient's episode."""

BATCH_FAILURES = "workflows.batch_failures"
"""A batch start (`app.workflows.batch`) finished with failed items (once per batch, in the finishing transaction):
`batch_id`, `kind`, `process_id`, `failed`, `total`."""

_subscribers: dict[str, list[Callable]] = {}


def subscribe(event: str, fn: Callable) -> None:
    """Let `fn(**payload)` react to `event`, in the order of subscription."""
    _subscribers.setdefault(event, []).append(fn)


def emit(event: str, **payload) -> None:
    """Run every reaction to `event` now, inside the caller's transaction (they commit, or roll back, with it)."""
    for fn in _subscribers.get(event, ()):
        fn(**payload)

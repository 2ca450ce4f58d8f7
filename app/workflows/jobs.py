"""Jobs of the workflow layer: run outbox service calls, fire due timers, and the scheduler's sweeps.

All take ids and are idempotent: a service call is claimed with a lease before its handler runs, so duplicate
deliveries (rq retries, a re-enqueue after a worker was killed) never call a handler twice at once, and a finished
call is never run again.
"""
from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update

from app.core import clock, logs
from app.core.db import is_postgres, rowcount, unit_of_work
from app.jobs.queue import enqueue, enqueue_after_commit

from . import batch, bindings, messages, runner
from .models import ProcessEvent, ProcessInstance, ServiceCall, Timer

log = logs.get("workflows.jobs")
LEASE = timedelta(seconds=float(os.environ.get("YGT_SERVICE_LEASE_S", "300")))
TIMER_CLAIM = timedelta(seconds=60)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def _claim_call(call_id: int) -> ServiceCall | None:
    now = clock.now()
    with unit_of_work() as session:
        result = session.execute(
            update(ServiceCall).where(
                ServiceCall.id == call_id,
                or_(ServiceCall.status == "pending",
                    (ServiceCall.status == "running") & (ServiceCall.next_attempt_at < now)))
            .values(status="running", attempts=ServiceCall.attempts + 1, next_attempt_at=now + LEASE))
        if rowcount(result) != 1:
            return None
        return session.get(ServiceCall, call_id)


def run_batch_chunk(batch_id: int, lo: int, hi: int) -> int:
    """Start the pending items `lo..hi` of a batch start (`app.workflows.batch`); idempotent."""
    return len(batch.run_chunk(batch_id, lo, hi).started)


def run_service_call(call_id: int) -> None:
    """Call the operator of an outbox row and feed the result (or the failure) back into its instance."""
    call = _claim_call(call_id)
    if call is None:
        return
    try:
        handler = bindings.get_operator(call.operator)
        result = handler(idempotency_key=call.idempotency_key, instance_id=call.instance_id, **call.params)
    except bindings.ServiceError as exc:
        runner.fail_service_call(call_id, code=exc.code, message=exc.message)
        return
    except Exception as exc:  # noqa: BLE001 (any connector failure is recorded on the call and retried)
        _after_failure(call, exc)
        return
    runner.complete_service_call(call_id, result)


def _after_failure(call: ServiceCall, exc: Exception) -> None:
    message = f"{type(exc).__name__}: {exc}"
    log.warning("service call failed", extra={"job": call.operator, "code": message})
    if call.attempts >= call.max_attempts:
        runner.fail_service_call(call.id, code="service_failed", message=message)
        return
    delay = call.backoff_base ** call.attempts
    with unit_of_work() as session:
        row = session.get(ServiceCall, call.id)
        assert row is not None  # the call this worker claimed; service calls are never deleted
        row.status, row.last_error = "pending", message
        row.next_attempt_at = clock.now() + timedelta(seconds=delay)
    enqueue("app.workflows.jobs.run_service_call", call.id, job_id=f"svc-{call.id}-{call.attempts}",
            delay_s=delay, retries=0)


THROWN_RETRIES = (5, 30, 120, 600)       # seconds before each new try of an undelivered thrown message


def deliver_thrown_message(event_id: int, attempt: int = 0) -> None:
    """Deliver a message one instance threw (its `message_sent` event) to the process waiting for it or started by
    it; retried while nobody waits yet, then recorded as `message_undelivered` on the sender (never dropped)."""
    with unit_of_work() as session:
        sent = session.get(ProcessEvent, event_id)
        if sent is None or sent.data.get("delivered"):
            return
        name, payload, sender = sent.data["message"], sent.data.get("payload") or {}, sent.instance_id
        origin = session.get(ProcessInstance, sender)
        # a process this message starts works for the sender's starter, in its organization and for its resident
        # (SpiffArena starts it for the sending instance's user)
        on_behalf: dict[str, Any] = {"started_by": origin.started_by, "org_code": origin.org_code,
                     "resident_id": origin.resident_id} if origin is not None else {}
    try:
        delivery = messages.deliver(name, payload, actor=runner.Actor(f"instance:{sender}"), **on_behalf)
    except messages.AmbiguousMessage as exc:
        _undelivered(event_id, reason=exc.message, details=exc.details)
        return
    if delivery.matched:
        with unit_of_work() as session:
            row = session.get(ProcessEvent, event_id)
            assert row is not None  # read above; events are an append-only log
            row.data = {**row.data, "delivered": delivery.to_dict()}
        return
    if attempt < len(THROWN_RETRIES):
        enqueue("app.workflows.jobs.deliver_thrown_message", event_id, attempt + 1,
                job_id=f"msg-{event_id}-{attempt + 1}", delay_s=THROWN_RETRIES[attempt], retries=0)
        return
    _undelivered(event_id, reason=f"no process waits for or starts on message '{name}'", details={})


def _undelivered(event_id: int, *, reason: str, details: dict) -> None:
    with unit_of_work() as session:
        sent = session.get(ProcessEvent, event_id)
        assert sent is not None  # read by deliver_thrown_message; events are an append-only log
        session.add(ProcessEvent(instance_id=sent.instance_id, at=clock.now(), type="message_undelivered",
                                 element_id=sent.element_id, task_guid=sent.task_guid, actor="system",
                                 data={"message": sent.data["message"], "reason": reason, **details}))
    log.warning("thrown message undelivered", extra={"code": reason})


def fire_timers(instance_id: int) -> None:
    """Advance one instance whose timer is due (idempotent: a second run finds nothing due)."""
    try:
        runner.advance_instance(instance_id)
    except runner.InvalidState:
        return


# -- scheduler sweeps (see app/schedules.py) ----------------------------------------------------------------

def enqueue_due_timers(limit: int = 500) -> int:
    """Claim due timers (FOR UPDATE SKIP LOCKED on PostgreSQL) and enqueue one firing job per instance."""
    now = clock.now()
    with unit_of_work() as session:
        stmt = (select(Timer.id, Timer.instance_id).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                .where(Timer.fire_at <= now, ProcessInstance.status.notin_(("suspended", "error")))
                .order_by(Timer.fire_at).limit(limit))
        if is_postgres():
            stmt = stmt.with_for_update(skip_locked=True, of=Timer)
        rows = session.execute(stmt).all()
        if rows:
            # push the claimed timers forward so a concurrent or next sweep does not enqueue them again
            session.execute(update(Timer).where(Timer.id.in_([r.id for r in rows]))
                            .values(fire_at=now + TIMER_CLAIM))
        instances = sorted({r.instance_id for r in rows})
        for instance_id in instances:   # the claim and the firing jobs commit together (job outbox in rq mode)
            enqueue_after_commit(session, "app.workflows.jobs.fire_timers", instance_id,
                                 job_id=f"timer-{instance_id}-{int(now.timestamp())}")
    return len(instances)


def sweep_outbox(limit: int = 500) -> int:
    """Re-enqueue service calls whose retry is due or whose worker died holding the lease.

    The job id names the call and its attempt: while that job waits in the queue a later sweep adds nothing."""
    now = clock.now()
    with unit_of_work() as session:
        due = session.execute(select(ServiceCall.id, ServiceCall.attempts).where(
            ServiceCall.status.in_(("pending", "running")), ServiceCall.next_attempt_at <= now)
            .order_by(ServiceCall.next_attempt_at).limit(limit)).all()
    for call_id, attempts in due:
        enqueue("app.workflows.jobs.run_service_call", call_id, job_id=f"svc-{call_id}-{attempts}", retries=0)
    return len(due)

"""Prometheus metrics: requests, latency, and gauges read from the database at scrape time."""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()
REQUESTS = Counter("ygt_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("ygt_http_request_seconds", "HTTP request latency", ["method", "route"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
JOB_FAILURES = Counter("ygt_job_failures_total", "Jobs that failed (each attempt)", ["job"], registry=REGISTRY)
INSTANCES = Gauge("ygt_instances", "Process instances by status", ["status"], registry=REGISTRY)
TIMER_LAG = Gauge("ygt_timer_lag_seconds", "Age of the oldest due, unfired timer", registry=REGISTRY)
QUEUE_DEPTH = Gauge("ygt_queue_depth", "Jobs waiting in the queue", registry=REGISTRY)
OUTBOX_PENDING = Gauge("ygt_outbox_pending", "Service calls waiting in the outbox", registry=REGISTRY)
TIMERS_DUE = Gauge("ygt_timers_due", "Timers whose time has come and that have not fired yet", registry=REGISTRY)
SCHEDULER_HEARTBEAT_AGE = Gauge("ygt_scheduler_heartbeat_age_seconds",
                                "Seconds since the leading scheduler last beat (-1: never)", registry=REGISTRY)
SCHEDULER_LEADERS = Gauge("ygt_scheduler_leaders", "Schedulers beating as leader now (1 is healthy)",
                          registry=REGISTRY)
SCHEDULERS_RUNNING = Gauge("ygt_schedulers_running", "Scheduler processes beating now (leader + standbys)",
                           registry=REGISTRY)
JOB_OUTBOX_PENDING = Gauge("ygt_job_outbox_pending", "Jobs written after a commit and not yet relayed to rq",
                           registry=REGISTRY)
JOB_OUTBOX_AGE = Gauge("ygt_job_outbox_oldest_age_seconds", "Age of the oldest job outbox row not yet relayed",
                       registry=REGISTRY)
WORKERS = Gauge("ygt_queue_workers", "rq workers listening on the queue", registry=REGISTRY)
QUEUE_FAILED = Gauge("ygt_queue_failed", "Jobs in the queue's failed registry", registry=REGISTRY)

_collectors: list[Callable[[], object]] = []
# the counter and histogram children of each (method, route, status), looked up once: `labels()` checks, converts and
# locks on every call (issue 23.2: a fixed cost of every request); the children are the metrics' own
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    children = _request_children.get((method, route, status))
    if children is None:
        children = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        if len(_request_children) < 10_000:        # a client's made-up methods are not kept without end
            _request_children[(method, route, status)] = children
    children[0].inc()
    children[1].observe(seconds)


def on_scrape(fn: Callable[[], object]) -> None:
    """Register a function that refreshes gauges just before a scrape."""
    _collectors.append(fn)


def render() -> bytes:
    for fn in _collectors:
        with contextlib.suppress(Exception):             # a broken gauge must not break the scrape
            fn()
    return generate_latest(REGISTRY)

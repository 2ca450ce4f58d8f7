"""Recent inputs of decisions evaluated outside processes — the population screening batch and a resident's
re-screen (`app.screening.bulk.BulkEvaluator`) — kept for draft replays (issue 14.14).

Business-rule tasks already record their inputs in the instance's `decision_evaluated` event; the screening rules
evaluate directly, so a sample of their inputs lands here: at most `SAMPLE_PER_DECISION` per evaluator (one batch
chunk, one re-screen), and at most `KEEP` per decision overall (newest first, `YGT_DMN_HISTORY_KEEP`, default 5000;
30 days in Redis). Only the decision's inputs are stored (clinical values, no names or ID numbers). Redis in
production (shared by workers and web), memory in the embedded default. Recording never fails a screening: an
unavailable store is logged and the sample dropped.
"""
from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from redis.exceptions import RedisError

from app.core import clock, logs
from app.jobs import queue

KEEP = int(os.environ.get("YGT_DMN_HISTORY_KEEP", "5000"))
SAMPLE_PER_DECISION = 200
KEEP_S = 30 * 86400
log = logs.get("decisions.history")

_memory: dict[str, deque] = {}
_lock = threading.Lock()


def record(samples: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Keep the given inputs (decision id → list of input dicts), newest last, trimmed to `KEEP` per decision."""
    at = clock.now().isoformat()
    rows = {d: [json.dumps({"at": at, "inputs": dict(i)}, default=str) for i in items]
            for d, items in samples.items()}
    rows = {d: r for d, r in rows.items() if r}
    if not rows:
        return
    if queue.mode() != "rq":
        with _lock:
            for d, r in rows.items():
                _memory.setdefault(d, deque(maxlen=KEEP)).extend(r)
        return
    try:
        pipe = queue.redis_connection().pipeline()
        for d, r in rows.items():
            key = f"ygt:dmn-history:{d}"
            pipe.lpush(key, *r)
            pipe.ltrim(key, 0, KEEP - 1)
            pipe.expire(key, KEEP_S)
        pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("decision input history not recorded", extra={"error": str(exc), "decisions": sorted(rows)})


def recent(decision_id: str, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` recorded evaluations of a decision: [{at, inputs}], newest first."""
    if queue.mode() != "rq":
        with _lock:
            items = list(_memory.get(decision_id, ()))[::-1][:limit]
    else:
        try:
            items = queue.redis_connection().lrange(f"ygt:dmn-history:{decision_id}", 0, limit - 1)
        except (RedisError, OSError) as exc:
            log.warning("decision input history unavailable", extra={"error": str(exc)})
            items = []
    return [json.loads(x) for x in items]


def forget(decision_id: str) -> None:
    """Drop the recorded inputs of a decision (tests; a decision whose inputs changed meaning)."""
    with _lock:
        _memory.pop(decision_id, None)
    if queue.mode() == "rq":
        try:
            queue.redis_connection().delete(f"ygt:dmn-history:{decision_id}")
        except (RedisError, OSError) as exc:
            log.warning("decision input history not dropped", extra={"error": str(exc)})

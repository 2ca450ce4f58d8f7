"""Decision analysis off the request path (issue 13.8): running a draft's (or the deployed table's) conformance
cases parses and analyses the whole table (overlaps, gaps: about cells² steps), so it runs as a background job.

* `start()` — checks the size limit (rules × inputs ≤ `YGT_DMN_ANALYSIS_MAX_CELLS`, default 2,000, and rules ≤
  `YGT_DMN_ANALYSIS_MAX_RULES`, default 300: the overlap analysis compares every pair of rules, so its cost grows
  with rules² × inputs — 300 rules × 6 inputs take a few seconds; the largest bundled table has 36 rules × 6
  inputs), stores the request and queues `app.decisions.jobs.run_analysis`; answers its id.
* `get()` — status (`queued` → `running` → `done` | `failed`), progress 0–100, and the result when done. Only
  the user who asked may read it.
* The job stops with `analysis_timeout` when it runs longer than `YGT_DMN_ANALYSIS_TIME_S` (default 60 s); in rq
  mode rq also kills the job process at that limit + 30 s, and a request still `running` past it reads as failed.

State lives in Redis in production (shared by web processes and workers, kept a day) and in memory in the
embedded default (one process).
"""
from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError

from app.auth.principal import Principal
from app.core import clock
from app.core.errors import DomainError, Invalid, NotFound
from app.jobs import queue
from app.workflows import decisions as wf_decisions

from . import services

MAX_CELLS = int(os.environ.get("YGT_DMN_ANALYSIS_MAX_CELLS", "2000"))
MAX_RULES = int(os.environ.get("YGT_DMN_ANALYSIS_MAX_RULES", "300"))
TIME_LIMIT_S = float(os.environ.get("YGT_DMN_ANALYSIS_TIME_S", "60"))
KEEP_S = 86400
JOB = "app.decisions.jobs.run_analysis"


class _MemoryStore:
    def __init__(self) -> None:
        self._rows: dict[str, str] = {}
        self._lock = threading.Lock()

    def put(self, key: str, value: dict) -> None:
        with self._lock:
            self._rows[key] = json.dumps(value)
            while len(self._rows) > 500:                 # the oldest requests go first
                self._rows.pop(next(iter(self._rows)))

    def get(self, key: str) -> dict | None:
        raw = self._rows.get(key)
        return json.loads(raw) if raw else None


class _RedisStore:
    def __init__(self, redis) -> None:
        self.redis = redis

    def put(self, key: str, value: dict) -> None:
        try:
            self.redis.set(f"ygt:dmn-analysis:{key}", json.dumps(value), ex=KEEP_S)
        except (RedisError, OSError) as exc:
            raise _unavailable() from exc

    def get(self, key: str) -> dict | None:
        try:
            raw = self.redis.get(f"ygt:dmn-analysis:{key}")
        except (RedisError, OSError) as exc:
            raise _unavailable() from exc
        return json.loads(raw) if raw else None


def _unavailable() -> DomainError:
    return DomainError("分析服务暂不可用，请稍后重试 (job queue unavailable)", code="queue_unavailable", status=503)


_memory = _MemoryStore()


def _store():
    return _RedisStore(queue.redis_connection()) if queue.mode() == "rq" else _memory


def check_size(xml: bytes, filename: str) -> None:
    """422 `draft_too_large` when a draft table is too big to analyse."""
    size = wf_decisions.draft_size(xml, filename)
    if size is not None and (size["cells"] > MAX_CELLS or size["rules"] > MAX_RULES):
        raise Invalid(f"决策表过大，无法分析：{size['rules']} 条规则 × {size['inputs']} 个输入 = {size['cells']}，"
                      f"上限 {MAX_CELLS}（且不超过 {MAX_RULES} 条规则）(draft too large to analyse)",
                      code="draft_too_large", max_cells=MAX_CELLS, max_rules=MAX_RULES, **size)


def start(decision_id: str, *, principal: Principal, draft_xml: bytes | None, draft_cases: bytes | None) -> dict:
    """Queue a case run of a draft (or of the deployed table); answers the analysis as `get()` shows it."""
    if draft_xml is not None:
        check_size(draft_xml, f"{decision_id}.dmn")
    elif decision_id not in {d["decision_id"] for d in _deployed()}:
        raise NotFound("决策不存在 (decision not found)", decision_id=decision_id)
    if draft_cases is not None:
        try:
            json.loads(draft_cases)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Invalid(f"cases 不是合法 JSON: {exc}", code="invalid_cases") from exc
    return _queue(decision_id, principal, kind="cases", draft_xml=draft_xml, draft_cases=draft_cases)


def _queue(decision_id: str, principal: Principal, *, kind: str, draft_xml: bytes | None,
           draft_cases: bytes | None, limit: int | None = None) -> dict:
    analysis_id = uuid.uuid4().hex
    row = {"id": analysis_id, "kind": kind, "decision_id": decision_id, "status": "queued", "progress": 0,
           "requested_by": principal.user_id, "created_at": clock.now().isoformat(), "started_at": None,
           "finished_at": None, "result": None, "error": None, "draft": draft_xml is not None,
           "input": {"xml": _b64(draft_xml), "cases": _b64(draft_cases), "limit": limit}}
    _store().put(analysis_id, row)
    try:
        queue.enqueue(JOB, analysis_id, job_id=f"dmn-analysis-{analysis_id}", retries=0,
                      timeout_s=int(TIME_LIMIT_S) + 30)
    except (RedisError, OSError) as exc:
        raise _unavailable() from exc
    return get(analysis_id, principal=principal)


REPLAY_DEFAULT = 1000
REPLAY_MAX = int(os.environ.get("YGT_DMN_REPLAY_MAX", "5000"))


def start_replay(decision_id: str, *, principal: Principal, draft_xml: bytes | None, limit: Any = None) -> dict:
    """Queue a replay of a draft over the last `limit` real evaluations of the deployed decision (issue 14.14)."""
    if draft_xml is None:
        raise Invalid("请上传决策草稿 (multipart field 'file')", code="invalid_definition", reason="no file")
    check_size(draft_xml, f"{decision_id}.dmn")
    if decision_id not in {d["decision_id"] for d in _deployed()}:
        raise NotFound("决策不存在 (decision not found)", decision_id=decision_id)
    draft_id = wf_decisions.draft_decision_id(draft_xml, f"{decision_id}.dmn")
    if draft_id is not None and draft_id != decision_id:
        raise Invalid(f"草稿定义的是决策 {draft_id}，不是 {decision_id} (draft is for another decision)",
                      code="decision_mismatch", decision_id=decision_id, draft_decision_id=draft_id)
    try:
        n = REPLAY_DEFAULT if limit in (None, "") else int(limit)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= REPLAY_MAX:
        raise Invalid(f"limit 须为 1–{REPLAY_MAX} 的整数 (invalid limit)", code="validation_error", field="limit",
                      max=REPLAY_MAX)
    return _queue(decision_id, principal, kind="replay", draft_xml=draft_xml, draft_cases=None, limit=n)


def replay_summary(analysis_id: str, *, principal: Principal) -> dict[str, Any]:
    """The summary of a finished replay the caller asked for, as kept with a deployment's audit entry (no
    examples: the counts and the matrix). 422 `replay_not_done` while it is not done; 404 for anyone else's."""
    row = get(analysis_id, principal=principal)
    if row.get("kind") != "replay" or row["status"] != "done":
        raise Invalid("回放分析尚未完成 (replay not done)", code="replay_not_done", analysis_id=analysis_id,
                      status=row["status"])
    keep = ("decision_id", "deployed_version", "draft_sha256", "limit", "replayed", "changed", "unchanged",
            "errors", "matrix", "oldest_at", "newest_at")
    return {"analysis_id": analysis_id, "finished_at": row["finished_at"],
            **{k: row["result"].get(k) for k in keep}}


def _deployed() -> list[dict[str, Any]]:
    return services.list_decisions()


def get(analysis_id: str, *, principal: Principal) -> dict:
    row = _store().get(analysis_id)
    if row is None or row["requested_by"] != principal.user_id:
        raise NotFound("分析不存在 (analysis not found)", analysis_id=analysis_id)
    if row["status"] == "running" and row["started_at"] and \
            (clock.now() - _parse(row["started_at"])).total_seconds() > TIME_LIMIT_S + 60:
        row.update(status="failed", error={"code": "analysis_timeout", "message": _timeout_message()})
    return {k: v for k, v in row.items() if k not in ("input", "requested_by")}


def run(analysis_id: str) -> None:
    """The job: run the cases, reporting progress; a domain error or the time limit ends it `failed`."""
    store = _store()
    row = store.get(analysis_id)
    if row is None or row["status"] != "queued":
        return
    started = time.monotonic()
    row.update(status="running", progress=5, started_at=clock.now().isoformat())
    store.put(analysis_id, row)

    def progress(done: int, total: int) -> None:
        if time.monotonic() - started > TIME_LIMIT_S:
            raise _TimedOut
        row["progress"] = 30 + int(65 * done / max(1, total))
        store.put(analysis_id, row)

    try:
        if row.get("kind") == "replay":
            result = services.replay(row["decision_id"], draft_xml=_unb64(row["input"]["xml"]),
                                     limit=row["input"]["limit"], progress=progress)
        else:
            result = services.run_cases(row["decision_id"], draft_xml=_unb64(row["input"]["xml"]),
                                        draft_cases=_unb64(row["input"]["cases"]), progress=progress)
        row.update(status="done", progress=100, result=result)
    except _TimedOut:
        row.update(status="failed", error={"code": "analysis_timeout", "message": _timeout_message()})
    except (DomainError, *wf_decisions.definition_errors()) as exc:
        row.update(status="failed", error={"code": getattr(exc, "code", "invalid_definition"),
                                           "message": getattr(exc, "message", str(exc)),
                                           "details": _jsonable(getattr(exc, "details", None) or {})})
    row.update(finished_at=clock.now().isoformat(), input={"xml": None, "cases": None, "limit": None})
    store.put(analysis_id, row)


class _TimedOut(Exception):
    pass


def _timeout_message() -> str:
    return f"分析超过时限 {TIME_LIMIT_S:.0f} 秒，已停止 (analysis time limit)"


def _b64(raw: bytes | None) -> str | None:
    return base64.b64encode(raw).decode() if raw is not None else None


def _unb64(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None


def _jsonable(details: dict) -> dict:
    return json.loads(json.dumps(details, default=str))


def _parse(iso: str):
    return datetime.fromisoformat(iso)

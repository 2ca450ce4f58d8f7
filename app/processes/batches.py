"""Batch starts as the page 批量启动 reads them: the process by its display name, where the batch came from in words,
whether 继续 has anything left to start, and each failed item by its resident's name with the reason in words.

`app.workflows.batch` keeps the rows and the counters; a capability whose items name no resident themselves (a
follow-up cycle's item is its visit) tells which resident each reference is about (`register_item_residents`, from
app/wiring.py). Names are personal data: `failures` is read under the caller's data scope (a failed item about a
resident outside it is counted, not named) and its endpoint is an audited PHI read.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.auth.principal import Principal
from app.core.db import session
from app.core.errors import NotFound
from app.org.queries import org_facts
from app.org.scope import row_in_scope
from app.workflows import batch, hooks, versions
from app.workflows.models import BatchStart, BatchStartItem, ProcessInstance

# where a batch came from (`batch_starts.kind`), as the page says it
SOURCE_NAMES = {"follow_up": "随访周期", "screening_cases": "人群筛查", "manual": "手动批量启动"}
FAILURE_LIMIT = 200
STARTED_IN_ERROR = "流程已启动，但运行到某一步时出错；请在流程实例中处理后重试。"
NOT_STARTED = "未能启动：该项的数据不完整或不符合流程要求（详细原因已记录）。"

_CJK = re.compile(r"[\u4e00-\u9fff]")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Failure)\b")
_item_residents: dict[str, Callable[[list[str]], dict[str, int]]] = {}


def register_item_residents(kind: str, fn: Callable[[list[str]], dict[str, int]]) -> None:
    """`fn(refs) -> {ref: resident_id}` for the items of a batch kind whose rows carry no resident (app/wiring.py)."""
    _item_residents[kind] = fn


def reason_in_words(error: str | None, *, started: bool) -> str:
    """A source's own reason is already in words (居民档案不存在); an exception's text is not: say what it means."""
    if started:
        return STARTED_IN_ERROR
    if error and _CJK.search(error) and not _EXCEPTION.match(error):
        return error
    return NOT_STARTED


def source_name(kind: str) -> str:
    return SOURCE_NAMES.get(kind, "其他来源")


def _in_words(p: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {**p, "process_name": names.get(p["process_id"]) or "流程", "source_name": source_name(p["kind"]),
            "resumable": p["pending"] > 0}


def list_batches(*, kind: str | None = None) -> list[dict[str, Any]]:
    """The latest batches (`batch.list_batches`) with the words the page shows."""
    items = batch.list_batches(kind=kind)
    names = versions.process_names({p["process_id"] for p in items})
    return [_in_words(p, names) for p in items]


def progress(batch_id: int) -> dict[str, Any]:
    p = batch.progress(batch_id)
    return _in_words(p, versions.process_names([p["process_id"]]))


def failures(principal: Principal, batch_id: int, *, limit: int = FAILURE_LIMIT) -> dict[str, Any]:
    """The failed items of a batch (first `limit`, in item order): whose they are by name, the reason in words and
    the recorded technical reason; an item about a resident outside the caller's scope is listed without a name."""
    s = session()
    head = s.get(BatchStart, batch_id)
    if head is None:
        raise NotFound("批量启动不存在 (batch not found)", batch_id=batch_id)
    rows = s.execute(select(BatchStartItem.seq, BatchStartItem.ref, BatchStartItem.resident_id,
                            BatchStartItem.instance_id, BatchStartItem.error)
                     .where(BatchStartItem.batch_id == batch_id, BatchStartItem.status == "failed")
                     .order_by(BatchStartItem.seq).limit(limit)).all()
    instances = {i.id: i for i in s.scalars(select(ProcessInstance).where(
        ProcessInstance.id.in_([r.instance_id for r in rows if r.instance_id is not None])))}
    resolve = _item_residents.get(head.kind)
    by_ref = resolve([r.ref for r in rows if r.resident_id is None]) if resolve else {}
    resident_of = {r.seq: r.resident_id or by_ref.get(r.ref) or (
        instances[r.instance_id].resident_id if r.instance_id in instances else None) for r in rows}
    contexts = hooks.resident_contexts(resident_of.values())
    items = []
    for r in rows:
        rid = resident_of[r.seq]
        ctx = contexts.get(rid, {}) if rid is not None else {}
        facts = org_facts(ctx.get("org_code"))
        inst = instances.get(r.instance_id) if r.instance_id is not None else None
        visible = rid is not None and row_in_scope(principal, org_path=facts.path if facts else None, resident_id=rid)
        items.append({
            "seq": r.seq, "resident_id": rid if visible else None,
            "resident_name": (ctx.get("resident_name") or (inst.resident_name if inst else None)) if visible else None,
            "in_scope": visible or rid is None,
            "reason": reason_in_words(r.error, started=r.instance_id is not None),
            "detail": r.error,
            "instance_id": r.instance_id if inst is not None and row_in_scope(
                principal, org_path=inst.org_path, resident_id=inst.resident_id) else None,
        })
    return {"batch_id": batch_id, "failed": head.failed, "items": items,
            "more": max(0, head.failed - len(items))}

"""Complete a task: one transaction that checks the caller's view is current, validates the form, claims the task
if it was unassigned, runs the engine step and stores a receipt.

* `completion_id` (client-generated UUID): a repeated completion is answered with the stored first answer.
* `If-Match`: the ETag the client saw. A task no longer open → 409 `task_already_completed`; a form definition
  that changed since → 409 `definition_changed`; any other change of holder or state → 409 `task_reassigned`.
"""
from __future__ import annotations

import re
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError

from app.audit.services import entry, record_all
from app.auth.principal import Principal
from app.core import clock
from app.core.db import unit_of_work
from app.core.hot import HotStatement
from app.workflows import runner

from . import checks, forms, projection, queries, services
from .errors import (
    CompletionIdReused,
    DefinitionChanged,
    FormInvalid,
    NotACandidate,
    TaskAlreadyCompleted,
    TaskReassigned,
)
from .models import TaskCompletion

_INSERT_RECEIPT = HotStatement(insert(cast(Table, TaskCompletion.__table__)))   # built once, run on the DBAPI
_TAG = re.compile(r'^(?:W/)?"?(\d+)-(\d+)(?:\.([0-9a-f]+))?"?$')


def complete(p: Principal, task_id: int, *, data: dict[str, Any], completion_id: str | None = None,
             if_match: str | None = None) -> dict:
    """Complete the task with form `data` and return it (now completed) with the caller's `next_tasks`."""
    with unit_of_work() as s:
        task, version_id = queries.task_to_complete(p, task_id)
        if task.status != "open":
            # a repeated completion finds its task completed: the receipt holds the first answer. An open task
            # has no receipt of its own (it is written with the completion), so a first completion looks nothing
            # up (issue 23.2): an id that completed another task is refused by the task rows' unique completion id
            receipt = s.get(TaskCompletion, completion_id) if completion_id else None
            if receipt is not None:
                if receipt.task_id != task.id:
                    raise _reused(completion_id)
                return receipt.response
            raise TaskAlreadyCompleted("任务已完成 (task already completed)", task_id=task.id, task_status=task.status)
        form = services.form_of(task, instance_version_id=version_id)
        check_if_match(if_match, task, form)
        _check_actor(p, task)
        errors = forms.validate((form or {}).get("schema") or {"type": "object"}, data)
        if errors:
            future = all(e.get("code") == forms.DATE_IN_FUTURE for e in errors)
            raise FormInvalid("日期不能晚于今天 (a date is in the future)" if future else
                              "表单填写有误，请检查标注的字段 (form data is invalid)",
                              code=forms.DATE_IN_FUTURE if future else None, errors=errors)
        data, ignored = forms.only_form_fields((form or {}).get("schema"), data)
        data = checks.run(form, task, data, p)
        claimed = task.assignee_id is None
        # the row lock is held since get_task; the claim's history goes first in the step's history INSERT
        claim_history = [services.claim_locked(p, task)] if claimed else []
        try:
            runner.complete_human_task(task, data, runner.Actor.of(p), completion_id=completion_id,
                                       history_before=claim_history)
        except IntegrityError as exc:   # the id completed another task (unique on the task rows): all rolls back
            if completion_id and "completion_id" in str(exc.orig):
                raise _reused(completion_id) from exc
            raise
        if task.draft is not None:
            task.draft = None
        # the next tasks from the step's own projection (no re-read), serialized with the task in one pass
        following = [r for r in projection.open_rows_in_session(s, task.instance_id) if queries.may_act_now(p, r)]
        listed = queries.items([task, *following], me=p)
        body = {**listed[0], "next_tasks": listed[1:]}
        receipts: list[dict[str, Any]] = [{"completion_id": completion_id, "task_id": task.id, "user_id": p.user_id,
                                           "response": body, "created_at": clock.now()}] if completion_id else []
        # the claim's and the completion's audit entries in one INSERT, the receipt in the same statement
        record_all([*([services.claim_audit_entry(p, task)] if claimed else []),
                    entry("task.complete", object_type="task", object_id=task.id, principal=p,
                          details={"instance_id": task.instance_id, "completion_id": completion_id,
                                   **({"ignored_fields": ignored} if ignored else {})})],
                   along=[(_INSERT_RECEIPT, receipts)])
        return body


def _reused(completion_id: str | None) -> CompletionIdReused:
    return CompletionIdReused("completion_id 已用于其他任务 (completion id used for another task)",
                              completion_id=completion_id)


def _check_actor(p: Principal, task) -> None:
    services.refuse_excluded(p, task)
    if task.assignee_id is not None and task.assignee_id != p.user_id:
        raise TaskReassigned("任务由他人办理中 (task is assigned to someone else)", task_id=task.id)
    if task.assignee_id is None and not queries.is_candidate(p, task):
        raise NotACandidate("您不是该任务的候选办理人 (not a candidate)", task_id=task.id)


def check_if_match(header: str | None, task, form: dict | None) -> None:
    """Accept `*`, the list ETag (`"id-version"`) or the detail ETag (`"id-version.form"`) of the current task."""
    if not header or header.strip() == "*":
        return
    current = forms.fingerprint(form)
    tags = [m.groups() for m in (_TAG.match(t.strip()) for t in header.split(",")) if m]
    for tid, version, fp in tags:
        if int(tid) == task.id and int(version) == task.etag_version and (fp is None or fp == current):
            return
    if any(int(tid) == task.id and fp is not None and fp != current for tid, _v, fp in tags):
        raise DefinitionChanged("流程定义已更新，表单已变化 (the task's form changed)", task_id=task.id,
                                etag=services.detail_etag(task, form))
    raise TaskReassigned("任务已被他人更改 (task changed since it was read)", task_id=task.id,
                         etag=services.detail_etag(task, form))

"""Use cases of the inbox: claim, unclaim, assign, delegate, return, comment, draft, saved filters, task detail.

Every change of who holds a task is one transaction: the row is updated (claim is a single conditional UPDATE, so
of two users claiming at once exactly one wins), `etag_version` is bumped, a history event and an audit entry are
written, and the new holder is notified.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from app.audit.services import entry as audit_entry
from app.audit.services import record
from app.auth.principal import Principal
from app.auth.queries import users_by_id
from app.auth.services import find_user, principal_for
from app.core import clock
from app.core.db import rowcount, session, unit_of_work
from app.core.errors import NotFound
from app.notifications.services import notify
from app.residents import queries as residents
from app.residents import services as resident_services
from app.workflows import runner
from app.workflows.models import HumanTask, ProcessEvent, ProcessInstance

from . import forms, queries
from .errors import (
    ExcludedCandidate,
    InvalidAssignee,
    NotACandidate,
    NotAssignee,
    TaskAlreadyClaimed,
    TaskAlreadyCompleted,
    TaskReassigned,
)
from .models import SavedFilter, TaskComment, TaskDelegation

# -- helpers shared by the use cases ------------------------------------------------------------------------

def changed(task: HumanTask, event: str, p: Principal, **data: Any) -> None:
    """Bump the task's etag and write its history event and audit entry (in the caller's transaction)."""
    task.etag_version += 1
    history(task, event, p, **data)
    record(f"task.{event.removeprefix('task_')}", object_type="task", object_id=task.id, principal=p,
           details={"instance_id": task.instance_id, **data})


def history(task: HumanTask, event: str, p: Principal, **data: Any) -> None:
    session().add(ProcessEvent(**history_row(task, event, p, **data)))


def _open(task: HumanTask) -> None:
    if task.status != "open":
        raise TaskAlreadyCompleted("任务已结束 (task is no longer open)", task_id=task.id, task_status=task.status)


def _principal_of(user_id: int | None = None, username: str | None = None) -> Principal:
    user = users_by_id([user_id]).get(user_id) if user_id is not None else find_user(username or "")
    if user is None or not user.active:
        raise InvalidAssignee("用户不存在或已停用 (no such active user)", user_id=user_id, username=username)
    return principal_for(user)


def _notify_holder(task: HumanTask, user_id: int, kind: str, title: str, p: Principal) -> None:
    notify(user_id, kind=kind, title=f"{title}：{task.name}", body=f"由 {p.display_name or p.username} 操作",
           link=f"/tasks/{task.id}", task_id=task.id, dedupe_key=f"{kind}:{task.id}:{user_id}:{task.etag_version}")


# -- claim / unclaim / assign / delegate / return -----------------------------------------------------------

def refuse_excluded(p: Principal, task: HumanTask) -> None:
    """403 separation_of_duties: the model excludes this user from the task (e.g. the plan's drafter)."""
    if queries.is_excluded(p, task):
        raise ExcludedCandidate("起草人不能办理本人方案的审核 (separation of duties: you drafted what this task "
                                "approves)", task_id=task.id)


def claim(p: Principal, task_id: int) -> dict:
    """Take an unassigned task the caller is a candidate for (409 task_already_claimed if someone was faster)."""
    with unit_of_work():
        task = queries.get_task(p, task_id)
        if task.assignee_id == p.user_id and task.status == "open":
            return queries.one_item(task)
        _open(task)
        refuse_excluded(p, task)
        if not queries.is_candidate(p, task):
            raise NotACandidate("您不是该任务的候选办理人 (not a candidate)", task_id=task_id)
        claim_row(p, task)
        return queries.one_item(task)


def claim_row(p: Principal, task: HumanTask) -> None:
    """The atomic claim: `UPDATE … WHERE assignee_id IS NULL AND status = 'open'`; reload the row after it."""
    s = session()
    won = rowcount(s.execute(update(HumanTask).where(HumanTask.id == task.id, HumanTask.assignee_id.is_(None),
                                                     HumanTask.status == "open")
                             .values(assignee_id=p.user_id, etag_version=HumanTask.etag_version + 1)
                             .execution_options(synchronize_session=False)))
    s.refresh(task)
    if not won:
        _open(task)
        raise TaskAlreadyClaimed("任务已被他人领取 (task already claimed)", task_id=task.id)
    history(task, "task_claimed", p)
    record("task.claim", object_type="task", object_id=task.id, principal=p,
           details={"instance_id": task.instance_id})


def claim_locked(p: Principal, task: HumanTask) -> dict[str, Any]:
    """The claim inside a change that already holds the task's row lock (`get_task(lock=True)`) and saw it
    unassigned: no conditional UPDATE and re-read needed, the row is written with the change. The caller writes
    the `task.claim` audit entry (`claim_audit`) with its own, so both go in one INSERT, and the claim's history
    event, returned as a row (`history_row`), with the step's history (`runner.complete_human_task`'s
    `history_before`): no ORM object built, added and taken out again (issue 23.2)."""
    task.assignee_id = p.user_id
    task.etag_version += 1
    return history_row(task, "task_claimed", p)


def history_row(task: HumanTask, event: str, p: Principal, **data: Any) -> dict[str, Any]:
    """The history event `history` adds, as the process_events row the runner writes (every column but the id)."""
    return {"instance_id": task.instance_id, "at": clock.now(), "type": event, "element_id": task.element_id,
            "task_guid": task.task_guid, "actor": p.username, "data": data}


def claim_audit(p: Principal, task: HumanTask) -> None:
    record("task.claim", object_type="task", object_id=task.id, principal=p,
           details={"instance_id": task.instance_id})


def claim_audit_entry(p: Principal, task: HumanTask) -> dict:
    """The `task.claim` audit entry of a claim, for a caller that writes it with its own (`audit.record_all`)."""
    return audit_entry("task.claim", object_type="task", object_id=task.id, principal=p,
                       details={"instance_id": task.instance_id})


def unclaim(p: Principal, task_id: int) -> dict:
    """Give an assigned task back to its candidates (only its assignee may)."""
    with unit_of_work():
        task = queries.get_task(p, task_id, lock=True)
        _open(task)
        if task.assignee_id != p.user_id:
            raise NotAssignee("只有办理人可以退回任务 (only the assignee may unclaim)", task_id=task_id)
        task.assignee_id = None
        _close_delegation(task.id)
        changed(task, "task_unclaimed", p)
        return queries.one_item(task)


def assign(p: Principal, task_id: int, *, user_id: int | None = None, username: str | None = None) -> dict:
    """A lead in scope gives the task to one of its candidates."""
    with unit_of_work():
        task = queries.get_task(p, task_id, lock=True)
        _open(task)
        if not queries.is_lead_for(p, task):
            raise NotACandidate("无权分派该任务 (only a lead in scope may assign)", task_id=task_id)
        target = _principal_of(user_id, username)
        if not queries.is_candidate(target, task):
            raise InvalidAssignee("该用户不是此任务的候选办理人 (user is not a candidate)", user_id=target.user_id)
        if task.assignee_id == target.user_id:
            return queries.one_item(task)
        previous = task.assignee_id
        task.assignee_id = target.user_id
        _close_delegation(task.id)
        changed(task, "task_assigned", p, assignee_id=target.user_id, previous_assignee_id=previous)
        _notify_holder(task, target.user_id, "task_assigned", "任务已分派给您", p)
        return queries.one_item(task)


def delegate(p: Principal, task_id: int, *, user_id: int | None = None, username: str | None = None,
             note: str | None = None) -> dict:
    """The assignee (or a lead in scope) hands the task to another user in the task's scope, who may return it."""
    with unit_of_work() as s:
        task = queries.get_task(p, task_id, lock=True)
        _open(task)
        if task.assignee_id != p.user_id and not queries.is_lead_for(p, task):
            raise NotAssignee("只有办理人可以委派任务 (only the assignee may delegate)", task_id=task_id)
        target = _principal_of(user_id, username)
        refuse_excluded(target, task)
        if target.user_id == (task.assignee_id or p.user_id) or not (
                queries.is_candidate(target, task) or queries.in_scope(target, task)):
            raise InvalidAssignee("不能委派给该用户 (user cannot take this task)", user_id=target.user_id)
        origin = task.assignee_id or p.user_id
        _close_delegation(task.id)
        s.add(TaskDelegation(task_id=task.id, from_user_id=origin, to_user_id=target.user_id,
                             delegated_by=p.username, delegated_at=clock.now()))
        task.assignee_id = target.user_id
        changed(task, "task_delegated", p, delegated_from_id=origin, assignee_id=target.user_id, note=note)
        _notify_holder(task, target.user_id, "task_delegated", "任务已委派给您", p)
        return queries.one_item(task)


def return_task(p: Principal, task_id: int) -> dict:
    """The delegate gives the task back to the user who delegated it."""
    with unit_of_work():
        task = queries.get_task(p, task_id, lock=True)
        _open(task)
        delegation = queries.active_delegation(task.id)
        if delegation is None or task.assignee_id != p.user_id or delegation.to_user_id != p.user_id:
            raise NotAssignee("该任务不是委派给您的 (task was not delegated to you)", task_id=task_id)
        delegation.returned_at = clock.now()
        task.assignee_id = delegation.from_user_id
        changed(task, "task_returned", p, assignee_id=delegation.from_user_id)
        _notify_holder(task, delegation.from_user_id, "task_returned", "委派的任务已退回", p)
        return queries.one_item(task)


def _close_delegation(task_id: int) -> None:
    delegation = queries.active_delegation(task_id)
    if delegation is not None:
        delegation.returned_at = clock.now()


# -- comments and drafts ------------------------------------------------------------------------------------

def add_comment(p: Principal, task_id: int, body: str) -> TaskComment:
    """Comment on a task the caller can see (recorded in the instance history too)."""
    with unit_of_work() as s:
        task = queries.get_task(p, task_id)
        comment = TaskComment(task_id=task.id, author_id=p.user_id, author=p.username,
                              author_name=p.display_name or p.username, body=body, created_at=clock.now())
        s.add(comment)
        history(task, "task_commented", p, body=body[:200])
        record("task.comment", object_type="task", object_id=task.id, principal=p)
        return comment


def list_comments(p: Principal, task_id: int) -> list[TaskComment]:
    return queries.comments(queries.get_task(p, task_id).id)


def save_draft(p: Principal, task_id: int, data: dict[str, Any]) -> dict:
    """Keep partial form data on the task without validating it (its assignee, or a candidate if unassigned)."""
    with unit_of_work():
        task = queries.get_task(p, task_id, lock=True)
        _open(task)
        may = task.assignee_id == p.user_id if task.assignee_id is not None else queries.is_candidate(p, task)
        if not may:
            if task.assignee_id is not None:
                raise TaskReassigned("任务由他人办理中 (task is assigned to someone else)", task_id=task_id)
            raise NotACandidate("您不是该任务的候选办理人 (not a candidate)", task_id=task_id)
        task.draft = data
        return {"task_id": task.id, "data": data, "saved_at": clock.now().isoformat()}


# -- detail -------------------------------------------------------------------------------------------------

def form_of(task: HumanTask, *, instance_version_id: int | None = None) -> dict | None:
    """The form definition of the task in its process version (a called process's own, else the instance's; pass
    the instance's when it was read with the task)."""
    version_id = task.process_version_id or instance_version_id or session().scalar(
        select(ProcessInstance.process_version_id).where(ProcessInstance.id == task.instance_id))
    return runner.form_of(version_id, task.form_key) if version_id is not None else None


def task_links(data: dict) -> list[dict[str, str]]:
    """Pages a model points the task's user to (`task_links`: [{"label", "href"}] in the process data), e.g. the list
    of patients behind a quality alert. Only links inside the platform (a path starting with one "/") are kept."""
    links = data.get("task_links")
    if not isinstance(links, list):
        return []
    return [{"label": str(link["label"])[:60], "href": str(link["href"])[:500]} for link in links[:5]
            if isinstance(link, dict) and isinstance(link.get("href"), str) and link.get("label")
            and link["href"].startswith("/") and not link["href"].startswith("//")]


def detail_etag(task: HumanTask, form: dict | None) -> str:
    """The ETag of a task detail: the task's state version plus a fingerprint of its form definition."""
    return f'"{task.id}-{task.etag_version}.{forms.fingerprint(form)}"'


def task_detail(p: Principal, task_id: int) -> dict:
    """The task with its resolved form, resident summary and what the caller may do (the read is audited)."""
    with unit_of_work():
        task = queries.get_task(p, task_id)
        form = form_of(task)
        delegation = queries.active_delegation(task.id)
        record("task.read", object_type="task", object_id=task.id, principal=p,
               details={"resident_id": task.resident_id} if task.resident_id else {})
        return {**queries.one_item(task), "etag": detail_etag(task, form), "instructions": task.instructions,
                "links": task_links(task.data or {}),
                "form": forms.resolve_form(form, task.data or {}, task.draft), "draft": task.draft,
                "resident_summary": resident_summary(p, task), "candidates": queries.candidates(task),
                "delegated_from": _delegated_from(delegation), "can": _abilities(p, task, delegation)}


def _delegated_from(delegation: TaskDelegation | None) -> dict | None:
    if delegation is None:
        return None
    user = users_by_id([delegation.from_user_id]).get(delegation.from_user_id)
    return {"id": delegation.from_user_id, "username": user.username if user else None,
            "display_name": (user.display_name or user.username) if user else None,
            "delegated_at": delegation.delegated_at.isoformat()}


def _abilities(p: Principal, task: HumanTask, delegation: TaskDelegation | None) -> dict[str, bool]:
    is_open, mine = task.status == "open", task.assignee_id == p.user_id
    candidate = task.assignee_id is None and queries.is_candidate(p, task)
    lead = queries.is_lead_for(p, task)
    return {"claim": is_open and candidate, "unclaim": is_open and mine, "complete": is_open and (mine or candidate),
            "assign": is_open and lead, "delegate": is_open and (mine or lead),
            "return": is_open and mine and delegation is not None and delegation.to_user_id == p.user_id}


def resident_summary(p: Principal, task: HumanTask) -> dict | None:
    """Name, sex, age, village and masked ID number from the registry; the projection's fields as a fallback."""
    if task.resident_id is None and not task.resident_name:
        return None
    summary = {"id": task.resident_id, "name": task.resident_name, "village_code": task.village_code}
    if task.resident_id is None:
        return summary
    try:
        resident = residents.get_resident(task.resident_id, p)
        if resident is None:
            return summary
        full = resident_services.summary(resident)
    except Exception:  # noqa: BLE001 — the registry is optional for the inbox: show what the projection knows
        return summary
    village = queries.find_org(full.get("org_code"))
    return {**summary, "name": full.get("name") or task.resident_name, "sex": full.get("sex"),
            "age": full.get("age"), "birth_date": _iso_date(full.get("birth_date")),
            "id_number": full.get("id_number"), "phone": full.get("phone"),
            "village": village.name if village else None, "village_code": full.get("org_code") or task.village_code}


def _iso_date(value) -> str | None:
    return value.isoformat() if value is not None else None


# -- saved filters ------------------------------------------------------------------------------------------

def create_filter(p: Principal, *, name: str, view: str, params: dict[str, Any], shared_with_org: bool) -> SavedFilter:
    """Save (or replace, by name) one of the caller's inbox filters."""
    with unit_of_work() as s:
        row = s.scalars(select(SavedFilter).where(SavedFilter.owner_id == p.user_id, SavedFilter.name == name)).first()
        if row is None:
            row = SavedFilter(owner_id=p.user_id, owner=p.username, name=name, created_at=clock.now())
            s.add(row)
        row.org_code, row.view, row.params, row.shared_with_org = p.org_code, view, params, shared_with_org
        record("task_filter.save", object_type="task_filter", object_id=name, principal=p,
               details={"shared_with_org": shared_with_org})
        return row


def delete_filter(p: Principal, filter_id: int) -> None:
    """Delete one of the caller's own saved filters (others' are NotFound)."""
    with unit_of_work() as s:
        row = s.get(SavedFilter, filter_id)
        if row is None or row.owner_id != p.user_id:
            raise NotFound("筛选条件不存在 (saved filter not found)", filter_id=filter_id)
        s.delete(row)
        record("task_filter.delete", object_type="task_filter", object_id=filter_id, principal=p)

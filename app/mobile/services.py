"""Write side of the mobile API: device registration and revocation, the pull (packet delta + leases), facts in
bulk and the completion command with its typed conflicts. docs/mobile.md is the contract.

A completion is applied in three steps, each its own transaction: (1) a repeated `completion_id` gets the stored
answer; (2) the facts it carries are recorded through `app.residents.intake.submit` whatever happens next; (3) the
command: the task row is locked, classified (completed elsewhere, cancelled, resident out of scope, reassigned, form
retired), and either completed through `app.tasks.completion` or answered with a 409 that is stored with the form as
entered, and left as a comment on the task for whoever holds it now.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.auth.principal import SYSTEM, Principal
from app.auth.queries import users_by_id
from app.core import clock
from app.core.db import is_postgres, rowcount, session, unit_of_work
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.org.scope import sees_organizations
from app.residents import intake
from app.residents import queries as residents
from app.tasks import completion as task_completion
from app.tasks import errors as task_errors
from app.tasks import forms
from app.tasks import queries as tasks
from app.tasks import services as task_services
from app.workflows.models import HumanTask

from . import queries
from .errors import (
    CompletionConflict,
    CompletionNotInConflict,
    ConflictAlreadyResolved,
    DeviceAlreadyRevoked,
    DeviceIdRequired,
    DeviceRevoked,
    IdempotencyKeyReused,
    NoOpenTaskForNote,
)
from .models import MobileCompletion, MobileDevice, MobileLease, MobileSnapshot

MOBILE_ROLES = ("village_doctor", "township_doctor", "township_public_health", "county_specialist")
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEEP_SNAPSHOTS = 3
PAGE_LIMIT = 500            # tasks a pull page holds at most (offline.md §2.2 `limit`)
REASONS = ("task_reassigned", "task_completed_elsewhere", "task_cancelled", "form_version_retired",
           "resident_out_of_scope", "lease_expired")
REASON_TEXT = {
    "task_reassigned": "该任务已改派给他人办理",
    "task_completed_elsewhere": "该任务已在别处完成",
    "task_cancelled": "该任务已取消（流程已结束或撤回）",
    "form_version_retired": "表单版本已更新，离线填写的旧版表单不能提交",
    "resident_out_of_scope": "该居民已不在您的管辖范围内",
    "lease_expired": "离线办理期限已过，本机的任务信息可能已过时，请同步后重新提交",
}
OPTIONS = ["attach_as_note", "record_visit", "discard"]
ACTIONS = tuple(OPTIONS)
_ETAG = re.compile(r'^(?:W/)?"?(\d+)-(\d+)(?:\.([0-9a-f]+))?"?$')


def lease_hours() -> float:
    """How long an offline lease lasts (`YGT_MOBILE_LEASE_HOURS`, default 72)."""
    return float(os.environ.get("YGT_MOBILE_LEASE_HOURS", "72"))


# -- devices ------------------------------------------------------------------------------------------------------

def device_for(p: Principal, device_key: str | None, *, label: str | None = None) -> MobileDevice:
    """The caller's registration of this device (made on first use); 403 device_revoked once revoked."""
    key = (device_key or "").strip()
    if not DEVICE_ID.match(key):
        raise DeviceIdRequired("缺少或无效的设备标识 X-Device-Id (8-64 characters A-Z a-z 0-9 _ -)",
                               field="X-Device-Id")
    with unit_of_work() as s:
        device = _device_row(p, key)
        if device is None:
            try:
                with s.begin_nested():
                    device = MobileDevice(device_key=key, user_id=p.user_id, label=(label or "")[:160] or None,
                                          registered_at=clock.now())
                    s.add(device)
                    s.flush()
                record("mobile.device_registered", object_type="mobile_device", object_id=device.id, principal=p)
            except IntegrityError:          # the same device's parallel first request won
                device = _device_row(p, key)
                assert device is not None
        if device.revoked_at is not None:
            raise DeviceRevoked("此设备已被管理员停用，请清除本机数据后重新登录 (device revoked: wipe local data)",
                                wipe=True, revoked_at=device.revoked_at.isoformat())
        return device


def _device_row(p: Principal, key: str) -> MobileDevice | None:
    return session().scalars(select(MobileDevice).where(MobileDevice.device_key == key,
                                                        MobileDevice.user_id == p.user_id)).first()


def devices(p: Principal) -> list[dict[str, Any]]:
    """The caller's devices; a county_admin also sees those of users in their organization subtree."""
    s = session()
    stmt = select(MobileDevice).order_by(MobileDevice.id)
    if not p.has_role("county_admin"):
        stmt = stmt.where(MobileDevice.user_id == p.user_id)
    rows = list(s.scalars(stmt))
    users = users_by_id({r.user_id for r in rows})
    leases: dict[int, int] = defaultdict(int)
    for device_id in s.scalars(select(MobileLease.device_id).where(MobileLease.expires_at > clock.now())):
        leases[device_id] += 1
    out = []
    for r in rows:
        user = users.get(r.user_id)
        if r.user_id != p.user_id and not _admin_over(p, user):
            continue
        out.append({"id": r.id, "device_id": r.device_key, "label": r.label,
                    "user": {"id": r.user_id, "display_name": (user.display_name or user.username) if user else None},
                    "registered_at": r.registered_at, "last_sync_at": r.last_sync_at, "revoked_at": r.revoked_at,
                    "revoked_by": r.revoked_by, "revoke_reason": r.revoke_reason, "leases": leases[r.id]})
    return out


def _admin_over(p: Principal, user) -> bool:
    if user is None or not p.has_role("county_admin") or not sees_organizations(p):
        return False
    if p.county_wide:
        return True
    return (getattr(user, "org_path", None) or "").startswith(p.org_path)


def revoke_device(p: Principal, device_row_id: int, *, reason: str) -> dict[str, Any]:
    """Stop a device (lost phone): its leases end now and its next request is told to wipe. Owner or county_admin."""
    with unit_of_work() as s:
        query = select(MobileDevice).where(MobileDevice.id == device_row_id)
        device = s.scalars(query.with_for_update() if is_postgres() else query).first()
        owner = users_by_id([device.user_id]).get(device.user_id) if device is not None else None
        if device is None or (device.user_id != p.user_id and not _admin_over(p, owner)):
            raise NotFound("设备不存在 (device not found)", device_id=device_row_id)
        if device.revoked_at is not None:
            raise DeviceAlreadyRevoked("设备已停用 (device already revoked)", device_id=device_row_id)
        device.revoked_at, device.revoked_by, device.revoke_reason = clock.now(), p.username, reason[:200]
        ended = rowcount(s.execute(delete(MobileLease).where(MobileLease.device_id == device.id)))
        record("mobile.device_revoked", object_type="mobile_device", object_id=device.id, principal=p,
               details={"user_id": device.user_id, "reason": reason[:200], "leases_ended": ended})
    return next(d for d in devices(p) if d["id"] == device_row_id)


# -- pull ---------------------------------------------------------------------------------------------------------

def pull(p: Principal, device: MobileDevice, token: str | None, limit: int = PAGE_LIMIT) -> dict[str, Any]:
    """One page of the packet: everything (reset) for an unknown token, else the difference from the state the
    token names; at most `limit` tasks a page (each with its resident and form), `has_more` until the device has
    it all. The token of a page names what the device holds after applying it, so the next pull continues."""
    with unit_of_work() as s:
        items, people, schemas = queries.packet(p)
        now = clock.now()
        leases = _renew_leases(s, p, device, items, now)
        for item in items:
            item["lease_until"] = leases.get(item["id"])
        current = {**{f"t{t['id']}": queries.digest({k: v for k, v in t.items() if k != "lease_until"})
                      for t in items},
                   **{f"r{r['id']}": queries.digest(r) for r in people},
                   **{f"s{sc['ref']}": "1" for sc in schemas}}
        before = _snapshot_of(s, device, token)
        reset = before is None
        seen: dict[str, Any] = {} if before is None else before.items
        gone = [key for key in seen if key not in current]
        removed = {
            "tasks": [{"id": tid, "reason": reason} for tid, reason in queries.task_removal_reasons(
                p, [int(k[1:]) for k in gone if k[0] == "t"]).items()],
            "residents": [{"id": rid, "reason": reason} for rid, reason in queries.resident_removal_reasons(
                p, [int(k[1:]) for k in gone if k[0] == "r"]).items()],
            "schemas": [k[1:] for k in gone if k[0] == "s"]}
        units = _pending_units(items, current, seen)
        sent = {key for unit in units[:limit] for key in unit}
        # what the device holds after this page: what it had (a changed item not yet sent keeps its old hash, so a
        # later page sends it) minus the removals, plus what this page sends
        holds = {k: v for k, v in seen.items() if k in current}
        holds.update({k: current[k] for k in sent})
        snapshot = MobileSnapshot(device_id=device.id, nonce=secrets.token_hex(4), items=holds, created_at=now)
        s.add(snapshot)
        s.flush()
        _prune(s, device)
        device = s.get(MobileDevice, device.id) or device
        device.last_sync_at = now
        sent_people = [r for r in people if f"r{r['id']}" in sent]
        record("mobile.pull", object_type="mobile_device", object_id=device.id, principal=p,
               details={"reset": reset, "tasks": len(items), "residents": [r["id"] for r in sent_people]})
        return {"token": f"m1.{snapshot.id}.{snapshot.nonce}", "reset": reset, "server_time": clock.local(now).isoformat(),
                "lease_hours": lease_hours(), "has_more": len(units) > limit,
                "tasks": [t for t in items if f"t{t['id']}" in sent],
                "residents": sent_people,
                "schemas": [sc for sc in schemas if f"s{sc['ref']}" in sent],
                "leases": [{"task_id": tid, "until": until} for tid, until in sorted(leases.items())],
                "removed": removed}


def _pending_units(items: list[dict], current: dict[str, Any], seen: dict[str, Any]) -> list[list[str]]:
    """What the device lacks, one unit per task in packet order: the task if new or changed, and its resident and
    form the first time a unit needs them (so a task never arrives before its resident or form)."""
    units, taken = [], set()
    for t in items:
        keys = [f"t{t['id']}", f"r{t['resident_id']}"] + ([f"s{t['schema_ref']}"] if t.get("schema_ref") else [])
        unit = [k for k in keys if k in current and k not in taken and seen.get(k) != current[k]]
        if unit:
            taken.update(unit)
            units.append(unit)
    return units


def _snapshot_of(s, device: MobileDevice, token: str | None) -> MobileSnapshot | None:
    match = re.match(r"^m1\.(\d{1,18})\.([0-9a-f]{8})$", (token or "").strip())
    if not match:
        return None
    snapshot = s.get(MobileSnapshot, int(match.group(1)))
    if snapshot is None or snapshot.device_id != device.id or snapshot.nonce != match.group(2):
        return None
    return snapshot


def _prune(s, device: MobileDevice) -> None:
    keep = list(s.scalars(select(MobileSnapshot.id).where(MobileSnapshot.device_id == device.id)
                          .order_by(MobileSnapshot.id.desc()).limit(KEEP_SNAPSHOTS)))
    s.execute(delete(MobileSnapshot).where(MobileSnapshot.device_id == device.id, MobileSnapshot.id.not_in(keep)))


def _renew_leases(s, p: Principal, device: MobileDevice, items: list[dict], now: datetime) -> dict[int, str]:
    """Lease every packet task assigned to the caller to this device until now + lease_hours; drop the rest."""
    mine = [t["id"] for t in items if t["assigned_to_me"]]
    until = now + timedelta(hours=lease_hours())
    s.execute(delete(MobileLease).where(MobileLease.device_id == device.id, MobileLease.task_id.not_in(mine)))
    held = {lease.task_id: lease for lease in s.scalars(select(MobileLease).where(
        MobileLease.device_id == device.id))}
    for task_id in mine:
        lease = held.get(task_id)
        if lease is None:
            s.add(MobileLease(task_id=task_id, device_id=device.id, granted_at=now, expires_at=until))
        else:
            lease.expires_at = until
    return {task_id: clock.local(until).isoformat() for task_id in mine}


def _in_last_packet(device: MobileDevice, resident_id: int) -> bool:
    last = session().scalars(select(MobileSnapshot).where(MobileSnapshot.device_id == device.id)
                             .order_by(MobileSnapshot.id.desc()).limit(1)).first()
    return last is not None and f"r{resident_id}" in last.items


def _task_in_last_packet(device: MobileDevice, task_id: int) -> bool:
    return any(f"t{task_id}" in snap.items for snap in session().scalars(
        select(MobileSnapshot).where(MobileSnapshot.device_id == device.id)))


# -- claim ----------------------------------------------------------------------------------------------------

def claim(p: Principal, device: MobileDevice, task_id: int) -> dict[str, Any]:
    """Claim an offered task onto this phone: the inbox's claim, then this device's lease."""
    with unit_of_work() as s:
        task_services.claim(p, task_id)
        task = tasks.get_task(p, task_id)
        if task.resident_id is None or residents.get_resident(task.resident_id, p) is None:
            raise NotFound("任务不存在 (task not found)", task_id=task_id)
        now = clock.now()
        until = now + timedelta(hours=lease_hours())
        lease = s.get(MobileLease, (task.id, device.id))
        if lease is None:
            s.add(MobileLease(task_id=task.id, device_id=device.id, granted_at=now, expires_at=until))
        else:
            lease.expires_at = until
        item, _schema = queries.task_and_schema(p, task, now=now, process_names={})
        return {**item, "lease_until": clock.local(until).isoformat()}


# -- facts --------------------------------------------------------------------------------------------------------

@dataclass
class _Fact:
    index: int
    item: dict[str, Any]
    fact: intake.ObservationFact


def record_observations(p: Principal, device: MobileDevice, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Record each observation (independently); one submission per resident through the one intake."""
    results: list[dict[str, Any] | None] = [None] * len(items)
    groups: dict[int, list[_Fact]] = defaultdict(list)
    for i, item in enumerate(items):
        resident_id = item["resident_id"]
        if residents.get_resident(resident_id, p) is None and not _in_last_packet(device, resident_id):
            results[i] = _invalid(item, NotFound("居民不存在 (resident not found)", code="resident_not_found",
                                                 resident_id=resident_id))
            continue
        groups[resident_id].append(_Fact(i, item, intake.ObservationFact(
            code=item["code"], value=item["value"], unit=item.get("unit"), effective_at=item["effective_at"],
            client_id=item["id"])))
    for resident_id, facts in groups.items():
        source = "mobile"
        while facts:
            try:
                answer = _submit(p, resident_id, facts, source)
            except DomainError as exc:
                index = _fact_of(exc, facts)
                if index is None:
                    raise
                bad = facts.pop(index)
                results[bad.index] = _invalid(bad.item, exc)
                continue
            for fact, recorded in zip(facts, answer.items, strict=True):
                results[fact.index] = {"id": fact.item["id"], "status": "created" if recorded.created else "duplicate",
                                       "observation_id": recorded.row.id}
            break
    return [r for r in results if r is not None]


def _fact_of(exc: DomainError, facts: list[_Fact]) -> int | None:
    """Which fact of the group an intake error names (its index, or its client id for client_id_conflict)."""
    index = getattr(exc, "fact_index", None)
    if index is not None:
        return int(index)
    client_id = exc.details.get("client_id")
    return next((n for n, f in enumerate(facts) if client_id and f.fact.client_id == client_id), None)


def _submit(p: Principal, resident_id: int, facts: list[_Fact], source: str) -> intake.Submission:
    # a device serial names the Bluetooth cuff used: one submission per source, so split if they differ
    by_source: dict[str, list[int]] = defaultdict(list)
    for n, fact in enumerate(facts):
        serial = (fact.item.get("device_serial") or "").strip()
        by_source[f"{source}:ble:{serial}"[:60] if serial else source].append(n)
    answer = intake.Submission(items=[None] * len(facts))  # type: ignore[list-item]
    with unit_of_work():
        for name, positions in by_source.items():
            try:
                part = intake.submit(resident_id, [facts[n].fact for n in positions], source=name,
                                     actor=p.username)
            except DomainError as exc:
                index = getattr(exc, "fact_index", None)
                if index is not None:
                    exc.fact_index = positions[index]      # type: ignore[attr-defined]
                raise
            for n, recorded in zip(positions, part.items, strict=True):
                answer.items[n] = recorded
        task_ids = sorted({f.item["task_id"] for f in facts if f.item.get("task_id") is not None})
        record("mobile.observations", object_type="resident", object_id=resident_id, principal=p,
               details={"count": len(facts), **({"task_ids": task_ids} if task_ids else {})})
    return answer


def _invalid(item: dict[str, Any], exc: DomainError) -> dict[str, Any]:
    details = {k: v for k, v in exc.details.items() if isinstance(v, (str, int, float, bool, list)) or v is None}
    return {"id": item["id"], "status": "invalid",
            "error": {"code": exc.code, "message": exc.message, "details": details}}


# -- completion ---------------------------------------------------------------------------------------------------

def body_hash(body: dict[str, Any]) -> str:
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


class _Found(Exception):
    def __init__(self, reason: str, task: HumanTask | None) -> None:
        super().__init__(reason)
        self.reason, self.holder = reason, queries.holder_name(task) if task is not None else None


def complete(p: Principal, device: MobileDevice, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a completion command once; a conflict raises CompletionConflict (stored, replayed as it was)."""
    cid, task_id = body["completion_id"], body["task_id"]
    digest = body_hash(body)
    stored = _stored(p, cid, digest)
    if stored is not None:
        return _answer(stored)
    facts = record_observations(p, device, body.get("observations") or [])
    saved = sum(1 for f in facts if f["status"] in ("created", "duplicate"))
    etag = _parse_etag(body.get("etag"), task_id)
    try:
        return _apply(p, device, body, digest, facts, etag)
    except _Found as found:
        reason, holder = found.reason, found.holder
    except (task_errors.TaskAlreadyCompleted, task_errors.TaskReassigned, task_errors.TaskAlreadyClaimed,
            task_errors.NotACandidate, task_errors.DefinitionChanged, task_errors.ExcludedCandidate):
        # a race the classification did not see (e.g. SQLite without row locks): classify the task as it is now
        with unit_of_work():
            task = session().get(HumanTask, task_id)
            reason = _classify(p, device, task, body, etag) or "task_reassigned"
            holder = queries.holder_name(task) if task is not None else None
    return _answer(_store_conflict(p, device, body, digest, facts, saved, reason, holder))


def _parse_etag(etag: str | None, task_id: int) -> tuple[int, str | None] | None:
    if not etag:
        return None
    match = _ETAG.match(etag.strip())
    if not match or int(match.group(1)) != task_id:
        raise Invalid("etag 与任务不符 (etag does not belong to this task)", field="etag")
    return int(match.group(2)), match.group(3)


def _stored(p: Principal, cid: str, digest: str) -> MobileCompletion | None:
    with unit_of_work() as s:
        row = s.get(MobileCompletion, cid)
        if row is None:
            return None
        if row.user_id != p.user_id or row.body_hash != digest:
            raise IdempotencyKeyReused("completion_id 已用于另一份提交 (completion id reused with another body)",
                                       field="completion_id")
        return row


def _answer(row: MobileCompletion) -> dict[str, Any]:
    if row.status == 200:
        return row.response
    raise CompletionConflict(row.response["message"], **row.response["details"])


def _classify(p: Principal, device: MobileDevice, task: HumanTask | None, body: dict[str, Any],
              etag: tuple[int, str | None] | None) -> str | None:
    if task is None:
        return "task_cancelled"
    if task.status == "completed":
        return "task_completed_elsewhere"
    if task.status != "open":
        return "task_cancelled"
    if task.resident_id is not None and residents.get_resident(task.resident_id, p) is None:
        return "resident_out_of_scope"
    visible = session().scalar(select(HumanTask.id).where(HumanTask.id == task.id, tasks.visible(p)))
    if visible is None or tasks.is_excluded(p, task):
        return "task_reassigned"
    if task.assignee_id is not None and task.assignee_id != p.user_id:
        return "task_reassigned"
    if task.assignee_id is None and not tasks.is_candidate(p, task):
        return "task_reassigned"
    if _lease_ran_out(device, task, body):
        return "lease_expired"
    current = forms.fingerprint(task_services.form_of(task))
    if body.get("form_version") and body["form_version"] != current:
        return "form_version_retired"
    if etag is not None and etag[1] is not None and etag[1] != current:
        return "form_version_retired"
    return None


def _lease_ran_out(device: MobileDevice, task: HumanTask, body: dict[str, Any]) -> bool:
    """The device held this task under a lease that had run out before the visit was filled in (device time, capped
    at arrival): the packet it worked from was older than the lease promises, so the command is not applied."""
    lease = session().get(MobileLease, (task.id, device.id))
    if lease is None:
        return False
    now = clock.now()
    filled = body.get("completed_at_device") or now
    return min(filled, now) > lease.expires_at


def _apply(p: Principal, device: MobileDevice, body: dict[str, Any], digest: str, facts: list[dict],
           etag: tuple[int, str | None] | None) -> dict[str, Any]:
    cid, task_id = body["completion_id"], body["task_id"]
    with unit_of_work() as s:
        stmt = select(HumanTask).where(HumanTask.id == task_id).execution_options(populate_existing=True)
        task = s.scalars(stmt.with_for_update(of=HumanTask) if is_postgres() else stmt).first()
        if task is None or (session().scalar(select(HumanTask.id).where(HumanTask.id == task_id, tasks.visible(p)))
                            is None and not _task_in_last_packet(device, task_id)):
            raise NotFound("任务不存在 (task not found)", task_id=task_id)
        again = s.get(MobileCompletion, cid)         # the same command, applied while we waited for the lock
        if again is not None:
            if again.body_hash != digest or again.user_id != p.user_id:
                raise IdempotencyKeyReused("completion_id 已用于另一份提交 (completion id reused with another body)",
                                           field="completion_id")
            return _answer(again)
        reason = _classify(p, device, task, body, etag)
        if reason is not None:
            raise _Found(reason, task)
        done = dict(task_completion.complete(p, task_id, data=body.get("data") or {}, completion_id=cid))
        next_tasks = done.pop("next_tasks", [])
        answer = {"completion_id": cid, "status": "completed", "task": done, "next_tasks": next_tasks,
                  "observations": facts}
        s.add(MobileCompletion(completion_id=cid, user_id=p.user_id, device_id=device.id, task_id=task_id,
                               body_hash=digest, status=200, data=body.get("data") or {},
                               response=_jsonable(answer), completed_at_device=body.get("completed_at_device"),
                               received_at=clock.now()))
        s.execute(delete(MobileLease).where(MobileLease.task_id == task_id))
        record("mobile.complete", object_type="task", object_id=task_id, principal=p,
               details={"completion_id": cid, "device_id": device.id, "offline": True,
                        "completed_at_device": _iso(body.get("completed_at_device"))})
        return _jsonable(answer)


def _store_conflict(p: Principal, device: MobileDevice, body: dict[str, Any], digest: str, facts: list[dict],
                    saved: int, reason: str, holder: str | None) -> MobileCompletion:
    cid, task_id = body["completion_id"], body["task_id"]
    message = REASON_TEXT[reason] + (f"（现由{holder}办理）" if reason == "task_reassigned" and holder else "")
    message += f"；录入的 {saved} 项测量值已保存到居民档案" if saved else "；填写内容已保留"
    details = {"reason": reason, "completion_id": cid, "task_id": task_id, "observations_saved": saved,
               "observations": facts, "current_holder": holder if reason == "task_reassigned" else None,
               "note_kept": True, "options": OPTIONS}
    try:
        with unit_of_work() as s:
            task = s.get(HumanTask, task_id)
            if reason == "form_version_retired" and task is not None:
                # the version the device must fill in now (the next pull brings its form under this ref)
                successor, _schema = queries.task_and_schema(p, task, now=clock.now(), process_names={})
                details.update(successor_form_version=successor["form_version"],
                               successor_schema_ref=successor["schema_ref"])
            row = MobileCompletion(completion_id=cid, user_id=p.user_id, device_id=device.id, task_id=task_id,
                                   body_hash=digest, status=409, reason=reason, data=body.get("data") or {},
                                   response=_jsonable({"code": CompletionConflict.code, "message": message,
                                                       "details": details}),
                                   completed_at_device=body.get("completed_at_device"), received_at=clock.now())
            s.add(row)
            s.flush()
            if task is not None:
                task_services.add_comment(SYSTEM, task_id, _note(p, task, body, reason))
            record("mobile.completion_conflict", object_type="task", object_id=task_id, principal=p,
                   details={"completion_id": cid, "reason": reason, "device_id": device.id})
            return row
    except IntegrityError:                           # the same completion, stored by a parallel request
        stored = _stored(p, cid, digest)
        if stored is None:
            raise
        return stored


def _note(p: Principal, task: HumanTask, body: dict[str, Any], reason: str, *, about: str = "") -> str:
    """The comment left on the task: who entered what offline and why it was not applied."""
    form = task_services.form_of(task) or {}
    titles = {k: (v or {}).get("title", k) for k, v in ((form.get("schema") or {}).get("properties") or {}).items()}
    values = "；".join(f"{titles.get(k, k)}：{_text(v)}" for k, v in (body.get("data") or {}).items())
    when = body.get("completed_at_device")
    stamp = clock.local(when).strftime("%Y-%m-%d %H:%M") if isinstance(when, datetime) else "未知时间"
    who = p.display_name or p.username
    return (f"{who} 离线填写{about}（设备时间 {stamp}）未能提交：{REASON_TEXT[reason]}。填写内容：{values or '无'}")[:2000]


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)[:200]
    return str(value)[:200]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=_iso))


def require_mobile_role(p: Principal) -> None:
    if not p.has_role(*MOBILE_ROLES):
        raise Forbidden("无权使用移动端同步 (forbidden)", required_roles=list(MOBILE_ROLES))


# -- what the doctor does with a conflict ---------------------------------------------------------------------------

ACTION_TEXT = {"attach_as_note": "附为备注", "record_visit": "记为临时随访", "discard": "放弃"}


def resolve(p: Principal, device: MobileDevice, completion_id: str, action: str) -> dict[str, Any]:
    """Act on one's own conflicted completion (offline.md §2.5), once per action: `attach_as_note` leaves the
    entered form on the resident's open work for whoever holds it, `record_visit` records the visit that happened
    as an ad-hoc follow-up encounter on the resident record, `discard` closes it (the facts stay either way). A
    repeated action answers as the first time; nothing more after a discard."""
    with unit_of_work() as s:
        stmt = select(MobileCompletion).where(MobileCompletion.completion_id == completion_id)
        row = s.scalars(stmt.with_for_update() if is_postgres() else stmt).first()
        if row is None or row.user_id != p.user_id:
            raise NotFound("离线提交记录不存在 (completion not found)", completion_id=completion_id)
        if row.status != 409:
            raise CompletionNotInConflict("这次提交已被受理，没有冲突需要处理 (the completion was applied)",
                                          completion_id=completion_id)
        done = dict(row.resolutions or {})
        if action in done:
            return done[action]
        if "discard" in done:
            raise ConflictAlreadyResolved("这次提交已放弃，不能再处理 (the conflict was discarded)",
                                          completion_id=completion_id, action="discard")
        task = s.get(HumanTask, row.task_id)
        if action == "attach_as_note":
            outcome = _attach_note(p, row, task)
        elif action == "record_visit":
            outcome = _record_visit(p, row, task)
        else:
            outcome = {"message": "已放弃这次提交；本次测量值仍保存在居民档案中"}
        answer = _jsonable({"completion_id": completion_id, "action": action, "note": None, "encounter": None,
                            **outcome})
        row.resolutions = {**done, action: answer}
        row.resolved_at = clock.now()
        record("mobile.conflict_resolved", object_type="task", object_id=row.task_id, principal=p,
               details={"completion_id": completion_id, "action": action, "reason": row.reason,
                        "device_id": device.id, "note_task_id": (answer["note"] or {}).get("task_id"),
                        "encounter_id": (answer["encounter"] or {}).get("id")})
        return answer


def _attach_note(p: Principal, row: MobileCompletion, task: HumanTask | None) -> dict[str, Any]:
    """The target: the conflicted task if still open (it already carries the note left when the conflict was
    stored), else the resident's open task (same process instance first, then earliest due)."""
    target = task if task is not None and task.status == "open" else None
    if target is None and task is not None and task.resident_id is not None:
        same = case((HumanTask.instance_id == task.instance_id, 0), else_=1)
        target = session().scalars(
            select(HumanTask).where(HumanTask.resident_id == task.resident_id, HumanTask.status == "open")
            .order_by(same, HumanTask.due_at.asc().nulls_last(), HumanTask.id)).first()
    if target is None:
        raise NoOpenTaskForNote("该居民目前没有待办任务可以附加备注，请选择“记为临时随访” (no open task for the resident)",
                                completion_id=row.completion_id)
    if target.id != row.task_id:
        body = {"data": row.data, "completed_at_device": row.completed_at_device}
        about = f"（原任务「{task.name}」）" if task is not None and task.name else ""
        task_services.add_comment(SYSTEM, target.id, _note(p, task or target, body, row.reason or "task_cancelled",
                                                           about=about))
    holder = queries.holder_name(target)
    where = f"{holder}的" if holder else "待认领的"
    return {"note": {"task_id": target.id, "task_name": target.name, "holder": holder},
            "message": f"填写内容已作为备注附在{where}「{target.name}」任务上"}


def _record_visit(p: Principal, row: MobileCompletion, task: HumanTask | None) -> dict[str, Any]:
    resident_id = task.resident_id if task is not None else None
    if resident_id is None:
        raise NotFound("找不到这次随访的居民 (the completion names no resident)", code="resident_not_found",
                       completion_id=row.completion_id)
    at = min(row.completed_at_device or row.received_at, row.received_at)
    visit = intake.submit(resident_id, [intake.EncounterFact(
        kind="follow_up", started_at=at, org_code=p.org_code or None,
        client_id=f"mobile-visit:{row.completion_id}"[:80])], source="mobile", actor=p.username, rescreen=False)
    encounter = visit.items[0].row
    return {"encounter": {"id": encounter.id, "started_at": clock.local(encounter.started_at).isoformat()},
            "message": f"已在居民档案中记为一次临时随访（{clock.local(at).strftime('%m月%d日 %H:%M')}），"
                       "本次测量值也已在档案中"}

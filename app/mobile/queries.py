"""Read side of the mobile API: what a doctor's packet holds (tasks, resident summaries, forms), item hashes for the
delta, why an item left the packet, and the device list.

A packet task is an open task the caller may work on now (assigned to them, or unassigned and offered to them, the
inbox's `actionable` rule) about a resident in the caller's data scope. Residents are those the tasks name; forms are
the tasks' forms resolved as the doer sees them, deduplicated by a hash of the resolved form.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.org.models import Organization
from app.residents import queries as residents
from app.residents import services as resident_services
from app.residents.models import Resident
from app.residents.record_models import Condition, Medication, Observation
from app.tasks import forms
from app.tasks import queries as tasks
from app.tasks import services as task_services
from app.vocabulary import loinc
from app.workflows import versions
from app.workflows.models import HumanTask

MAX_TASKS = 5000           # a safety cap on one doctor's packet; the pull pages it (services.PAGE_LIMIT)
# the readings a doctor wants in front of them at a visit (latest value of each)
KEY_CODES = ("8480-6", "8462-4", "8867-4", "1558-6", "2339-0", "4548-4", "29463-7", "39156-5")


def digest(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _iso(value: datetime | None) -> str | None:
    return clock.local(value).isoformat() if value is not None else None


def packet_tasks(p: Principal) -> list[HumanTask]:
    """The caller's open tasks about residents in scope, earliest due first (at most MAX_TASKS)."""
    stmt = (select(HumanTask).where(tasks.actionable(p), HumanTask.resident_id.is_not(None),
                                    HumanTask.resident_id.in_(residents.resident_ids_in_scope(p)))
            .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.id).limit(MAX_TASKS))
    return list(session().scalars(stmt))


def task_and_schema(p: Principal, task: HumanTask, *, now: datetime,
                    process_names: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The packet item of a task and the resolved form it needs (None: the task has no form)."""
    form = task_services.form_of(task)
    version = forms.fingerprint(form)
    resolved = forms.resolve_form(form, task.data or {}, task.draft)
    schema = None
    ref = None
    data: dict[str, Any] = {}
    if resolved is not None:
        data = resolved.pop("data")
        ref = digest(resolved)
        schema = {"ref": ref, "form_key": task.form_key, "version": version,
                  "title": (form or {}).get("title") or resolved["schema"].get("title") or task.name, **resolved}
    item = {"id": task.id, "etag": task_services.detail_etag(task, form), "name": task.name,
            "process_id": task.process_id, "process_name": process_names.get(task.process_id),
            "element_id": task.element_id, "resident_id": task.resident_id, "due_at": _iso(task.due_at),
            "priority": task.priority, "overdue": bool(task.due_at is not None and task.due_at < now),
            "disease": task.disease, "risk_level": task.risk_level, "instructions": task.instructions,
            "assigned_to_me": task.assignee_id == p.user_id, "schema_ref": ref, "form_version": version,
            "data": data}
    return item, schema


def packet(p: Principal) -> tuple[list[dict], list[dict], list[dict]]:
    """(tasks, residents, schemas) of the caller's packet, before leases are stamped on."""
    rows = packet_tasks(p)
    now = clock.now()
    names = versions.process_names(r.process_id for r in rows)
    items, schemas = [], {}
    for row in rows:
        item, schema = task_and_schema(p, row, now=now, process_names=names)
        items.append(item)
        if schema is not None:
            schemas[schema["ref"]] = schema
    resident_ids = sorted({r.resident_id for r in rows if r.resident_id is not None})
    return items, resident_summaries(resident_ids), list(schemas.values())


def resident_summaries(resident_ids: list[int]) -> list[dict[str, Any]]:
    """What a doctor needs of each resident offline: masked identity, conditions, medications, latest readings."""
    if not resident_ids:
        return []
    s = session()
    rows = list(s.scalars(select(Resident).where(Resident.id.in_(resident_ids)).order_by(Resident.id)))
    orgs = {code: name for code, name in s.execute(select(Organization.code, Organization.name).where(
        Organization.code.in_({r.org_code for r in rows})))}
    conditions: dict[int, list[dict]] = defaultdict(list)
    for c in s.scalars(select(Condition).where(Condition.resident_id.in_(resident_ids),
                                               Condition.status.in_(("confirmed", "suspected")))
                       .order_by(Condition.id)):
        conditions[c.resident_id].append({"icd10": c.icd10, "status": c.status, "category": c.category})
    medications: dict[int, list[dict]] = defaultdict(list)
    for m in s.scalars(select(Medication).where(Medication.resident_id.in_(resident_ids),
                                                Medication.status == "active").order_by(Medication.id)):
        medications[m.resident_id].append({"drug": m.drug, "dose": m.dose, "frequency": m.frequency})
    latest = _latest_readings(resident_ids)
    out = []
    for r in rows:
        summary = resident_services.summary(r)
        out.append({**summary, "birth_date": summary["birth_date"].isoformat(), "org_name": orgs.get(r.org_code),
                    "conditions": conditions.get(r.id, []), "medications": medications.get(r.id, []),
                    "latest": latest.get(r.id, [])})
    return out


def _latest_readings(resident_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rank = func.row_number().over(partition_by=(Observation.resident_id, Observation.code),
                                  order_by=(Observation.effective_at.desc(), Observation.id.desc())).label("rank")
    inner = (select(Observation.resident_id, Observation.code, Observation.value_num, Observation.value_text,
                    Observation.unit, Observation.effective_at, Observation.source, rank)
             .where(Observation.resident_id.in_(resident_ids), Observation.code.in_(KEY_CODES)).subquery())
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in session().execute(select(inner).where(inner.c.rank == 1).order_by(inner.c.resident_id,
                                                                                 inner.c.code)):
        spec = loinc.SUPPORTED.get(row.code)
        out[row.resident_id].append({"code": row.code, "name": spec.name if spec else row.code,
                                     "value": row.value_num if row.value_num is not None else row.value_text,
                                     "unit": row.unit, "effective_at": _iso(row.effective_at),
                                     "source": row.source})
    return out


# -- why an item left the packet ----------------------------------------------------------------------------------

def task_removal_reasons(p: Principal, task_ids: Iterable[int]) -> dict[int, str]:
    """For tasks no longer in the caller's packet: what happened to each (only the reason, never the task)."""
    ids = list(task_ids)
    found = {t.id: t for t in session().scalars(select(HumanTask).where(HumanTask.id.in_(ids)))} if ids else {}
    out = {}
    for task_id in ids:
        task = found.get(task_id)
        out[task_id] = removal_reason(p, task) if task is not None else "task_cancelled"
    return out


def removal_reason(p: Principal, task: HumanTask) -> str:
    if task.status == "completed":
        return "task_completed" if task.completed_by == p.username else "task_completed_elsewhere"
    if task.status != "open":
        return "task_cancelled"
    if task.resident_id is not None and residents.get_resident(task.resident_id, p) is None:
        return "resident_out_of_scope"
    return "task_reassigned"


def resident_removal_reasons(p: Principal, resident_ids: Iterable[int]) -> dict[int, str]:
    ids = list(resident_ids)
    visible = set(session().scalars(residents.scoped_residents(p).with_only_columns(Resident.id)
                                    .where(Resident.id.in_(ids)))) if ids else set()
    return {rid: "no_open_task" if rid in visible else "resident_out_of_scope" for rid in ids}


def holder_name(task: HumanTask) -> str | None:
    """The display name of whoever holds the task now (None when nobody does)."""
    if task.assignee_id is None:
        return None
    return tasks.items([task])[0]["assignee"]["display_name"]

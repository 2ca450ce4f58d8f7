"""Fill the open-task projection with what inboxes filter by, so filters are indexed queries."""
from __future__ import annotations

from app.engine.runtime import HumanTaskView
from app.org.queries import find_org

from . import hooks
from .models import HumanTask, ProcessInstance

DEFAULT_PRIORITY = 3


def fill_task(row: HumanTask, view: HumanTaskView, inst: ProcessInstance) -> None:
    data = view.data
    row.data = data
    row.instructions = view.instructions
    row.due_at = view.due_at
    row.priority = view.priority if view.priority is not None else DEFAULT_PRIORITY
    row.org_code = view.assign_org or inst.org_code
    row.org_path = inst.org_path if row.org_code == inst.org_code else _org_path(row.org_code)
    row.resident_id = inst.resident_id
    row.resident_name = data.get("resident_name")
    row.village_code = data.get("village_code")
    row.disease = view.disease or data.get("disease")
    row.risk_level = view.risk_level or data.get("risk_level")
    row.excluded_user = view.exclude_user
    if view.assign_user is not None and row.id is None:
        row.assignee_id = view.assign_user      # assigned by the model (assignUser) when the task appears
    hooks.enrich_task(row)


def _org_path(org_code: str | None) -> str | None:
    org = find_org(org_code) if org_code else None
    return org.path if org else None

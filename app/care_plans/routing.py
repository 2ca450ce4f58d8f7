"""Route village-level tasks of care plans and follow-up to the township when the resident has no village.

The models put the managing doctor's tasks in the `village_doctor` lane; a resident managed directly by a township
health centre has no village doctor, so such a task is offered to `township_doctor` of that township instead.
"""
from __future__ import annotations

from app.workflows import hooks

PROCESSES = ("care_plan", "follow_up")


@hooks.task_enricher
def route_to_township_without_village(row) -> None:
    if row.process_id not in PROCESSES or row.role != "village_doctor" or not row.org_code:
        return
    from app.org.queries import find_org
    org = find_org(row.org_code)
    if org is not None and org.level != "village":
        row.role = "township_doctor"

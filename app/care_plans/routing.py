"""Route village-level tasks of care plans and follow-up to the township when the resident has no village; close
the open plan version of a `care_plan` instance that an operator terminates (so it never blocks later revisions).

The models put the managing doctor's tasks in the `village_doctor` lane; a resident managed directly by a township
health centre has no village doctor, so such a task is offered to `township_doctor` of that township instead.
"""
from __future__ import annotations

from app.org.queries import org_facts

from . import services

PROCESSES = ("care_plan", "follow_up")


def close_version_of_terminated_instance(instance_id: int, actor_name: str, reason: str | None) -> None:
    services.close_version_of_instance(instance_id, closed_by=actor_name, reason=reason)


def route_to_township_without_village(row) -> dict[str, str] | None:
    """A task enricher: the change of role the inbox applies (`hooks.task_enricher`)."""
    if row.process_id not in PROCESSES or row.role != "village_doctor" or not row.org_code:
        return None
    org = org_facts(row.org_code)          # cached per worker: every new task of these processes asks
    if org is not None and org.level != "village":
        return {"role": "township_doctor"}
    return None

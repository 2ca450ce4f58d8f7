"""Gather what the printed plan shows and render it (app/reports)."""
from __future__ import annotations

from sqlalchemy import select

from app.core.db import session
from app.core.errors import Conflict

from . import guidance, queries
from .models import CarePlan
from .services import resident_age


def pdf_for(plan: CarePlan) -> bytes:
    """The PDF of the version in force (409 `no_plan_in_force` before approval)."""
    from app.education.services import pushes_for
    from app.follow_up.models import FollowUpSchedule
    from app.org.queries import find_org
    from app.reports.care_plan import care_plan_pdf
    from app.residents.models import Resident
    current = queries.current(plan.id)
    if current is None:
        raise Conflict("方案尚未审核生效 (no version in force)", code="no_plan_in_force", care_plan_id=plan.id)
    resident = session().get(Resident, plan.resident_id)
    org = find_org(resident.org_code)
    schedule = session().scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == plan.resident_id,
                                                                FollowUpSchedule.disease == plan.disease)).first()
    return care_plan_pdf(
        resident={"name": resident.name, "sex": resident.sex, "age": resident_age(resident.id),
                  "org_name": org.name if org else resident.org_code},
        plan={"disease": plan.disease, "risk_level": plan.risk_level},
        version={"version": current.version, "content": current.content, "approved_by": current.approved_by,
                 "drafted_by": current.drafted_by},
        guidance=guidance.guidance(plan.id),
        education=[p for p in pushes_for(plan.resident_id) if p["reason"].startswith(f"管理方案 #{plan.id}")],
        schedule={"next_due_on": schedule.next_due_on.isoformat()} if schedule else None)

"""Gather what the printed plan shows and render it (app/reports)."""
from __future__ import annotations

from app.core.db import session
from app.core.errors import Conflict
from app.org.queries import find_org
from app.reports.care_plan import care_plan_pdf
from app.residents.models import Resident

from . import guidance, providers, queries
from .models import CarePlan
from .services import resident_age


def pdf_for(plan: CarePlan) -> bytes:
    """The PDF of the version in force (409 `no_plan_in_force` before approval)."""
    current = queries.current(plan.id)
    if current is None:
        raise Conflict("方案尚未审核生效 (no version in force)", code="no_plan_in_force", care_plan_id=plan.id)
    resident = session().get(Resident, plan.resident_id)
    assert resident is not None  # a plan is only ever created for a stored resident, and residents are never deleted
    org = find_org(resident.org_code)
    next_due_on = providers.next_due_on(plan.resident_id, plan.disease)
    return care_plan_pdf(
        resident={"name": resident.name, "sex": resident.sex, "age": resident_age(resident.id),
                  "org_name": org.name if org else resident.org_code},
        plan={"disease": plan.disease, "risk_level": plan.risk_level},
        version={"version": current.version, "content": current.content, "approved_by": current.approved_by,
                 "drafted_by": current.drafted_by},
        guidance=guidance.guidance(plan.id),
        education=[p for p in providers.education_pushes(plan.resident_id) if p["reason"].startswith(f"管理方案 #{plan.id}")],
        schedule={"next_due_on": next_due_on.isoformat()} if next_due_on else None)

"""Read side of follow-up: the overdue list (Simple.org style) and each resident's timeline with trends."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, func, literal, or_, select

from app.auth.principal import Principal
from app.auth.queries import display_names
from app.core import clock
from app.core.db import is_postgres, session
from app.org.queries import find_org
from app.org.scope import row_scope_filter
from app.residents.models import Resident
from app.workflows.models import HumanTask

from .models import FollowUpSchedule, FollowUpVisit

HIGH_RISK = ("HIGH", "VERY_HIGH")
HIGH_PRIORITY_DAYS = 30      # S17: ≥30 days overdue and BP ≥180/110 or last visit uncontrolled → high priority


def last_values(schedule_id: int) -> dict[str, Any]:
    """The last completed visit's values (shown beside the form)."""
    visit = session().scalars(select(FollowUpVisit).where(FollowUpVisit.schedule_id == schedule_id,
                                                          FollowUpVisit.status == "done")
                              .order_by(FollowUpVisit.cycle_no.desc())).first()
    if visit is None:
        return {}
    return _values(visit)


def last_values_many(schedule_ids: list[int]) -> dict[int, dict[str, Any]]:
    """`last_values` of many schedules, one query per thousand (batch starts); a schedule without one is missing."""
    ids = sorted(set(schedule_ids))
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), 1000):
        for visit in session().scalars(select(FollowUpVisit).where(
                FollowUpVisit.schedule_id.in_(ids[i:i + 1000]), FollowUpVisit.status == "done")
                .order_by(FollowUpVisit.schedule_id, FollowUpVisit.cycle_no.desc())):
            if visit.schedule_id not in out:
                out[visit.schedule_id] = _values(visit)
    return out


def visit_residents(visit_ids: list[str]) -> dict[str, int]:
    """The resident of each follow-up visit (by the visit id as text: a batch start item's reference), one query;
    what the batch start page (批量启动) names a failed cycle by."""
    ids = [int(v) for v in visit_ids if str(v).isdigit()]
    if not ids:
        return {}
    rows = session().execute(select(FollowUpVisit.id, FollowUpVisit.resident_id).where(FollowUpVisit.id.in_(ids)))
    return {str(vid): rid for vid, rid in rows}


def _values(visit: FollowUpVisit) -> dict[str, Any]:
    return {"visited_on": visit.visited_on.isoformat() if visit.visited_on else None, "sbp": visit.sbp,
            "dbp": visit.dbp, "fpg": visit.fpg, "hba1c": visit.hba1c, "weight_kg": visit.weight_kg,
            "classification": visit.classification}


def overdue(principal: Principal, *, org_code: str | None = None, assignee_id: int | None = None,
            disease: str | None = None, page: int = 1, per_page: int = 50, today: date | None = None
            ) -> tuple[list[dict[str, Any]], int]:
    """Open visits past their due date in the caller's scope, high priority first, then most overdue."""
    today = today or clock.today()
    days = _days_between(FollowUpVisit.due_on, today)
    last_sbp = select(FollowUpVisit.sbp).where(
        FollowUpVisit.schedule_id == FollowUpSchedule.id, FollowUpVisit.status == "done"
    ).order_by(FollowUpVisit.cycle_no.desc()).limit(1).correlate(FollowUpSchedule).scalar_subquery()
    last_dbp = select(FollowUpVisit.dbp).where(
        FollowUpVisit.schedule_id == FollowUpSchedule.id, FollowUpVisit.status == "done"
    ).order_by(FollowUpVisit.cycle_no.desc()).limit(1).correlate(FollowUpSchedule).scalar_subquery()
    v = FollowUpVisit
    high = and_(days >= HIGH_PRIORITY_DAYS, or_(FollowUpSchedule.last_classification == "控制不满意",
                                               last_sbp >= 180, last_dbp >= 110))
    stmt = (select(v.id, v.resident_id, v.disease, v.due_on, v.cycle_no, v.instance_id, FollowUpSchedule.risk_level,
                   FollowUpSchedule.org_code, FollowUpSchedule.last_visit_on, FollowUpSchedule.last_classification,
                   Resident.name, HumanTask.id.label("task_id"), HumanTask.assignee_id, days.label("days_overdue"),
                   last_sbp.label("last_sbp"), last_dbp.label("last_dbp"), case((high, True), else_=False).label("high"))
            .join(FollowUpSchedule, FollowUpSchedule.id == v.schedule_id)
            .join(Resident, Resident.id == v.resident_id)
            .outerjoin(HumanTask, and_(HumanTask.instance_id == v.instance_id, HumanTask.status == "open"))
            .where(v.status.in_(("scheduled", "started")), v.due_on < today,
                   row_scope_filter(principal, org_path=FollowUpSchedule.org_path, resident_id=v.resident_id)))
    if org_code:
        org = find_org(org_code)
        stmt = stmt.where(FollowUpSchedule.org_path.startswith(org.path if org else "\x00", autoescape=True))
    if assignee_id:
        stmt = stmt.where(HumanTask.assignee_id == assignee_id)
    if disease:
        stmt = stmt.where(v.disease == disease)
    total = session().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session().execute(stmt.order_by(case((high, 0), else_=1), v.due_on, v.id)
                             .offset((page - 1) * per_page).limit(per_page)).all()
    return [dict(r._mapping) for r in rows], total


def _days_between(column, today: date):
    if is_postgres():
        return cast(literal(today), Date) - column
    return cast(func.julianday(today.isoformat()) - func.julianday(column), Integer)


def timeline(resident_id: int) -> dict[str, Any]:
    """Every schedule and visit of a resident with values, and the trend of the key values."""
    schedules = list(session().scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == resident_id)
                                       .order_by(FollowUpSchedule.disease)))
    visits = list(session().scalars(select(FollowUpVisit).where(FollowUpVisit.resident_id == resident_id)
                                    .order_by(FollowUpVisit.disease, FollowUpVisit.cycle_no)))
    names = display_names(v.performed_by for v in visits)
    for v in visits:
        v.performed_by_name = names.get(v.performed_by) if v.performed_by else None
    done = [v for v in visits if v.status == "done"]
    return {"resident_id": resident_id, "schedules": schedules, "visits": visits,
            "trend": {d: _trend([v for v in done if v.disease == d]) for d in sorted({v.disease for v in visits})}}


def _trend(visits: list[FollowUpVisit]) -> dict[str, Any]:
    series = {k: [{"on": v.visited_on.isoformat(), "value": getattr(v, k)} for v in visits
                  if getattr(v, k) is not None and v.visited_on] for k in ("sbp", "dbp", "fpg", "hba1c")}
    classified = [v for v in visits if v.classification]
    controlled = sum(1 for v in classified if v.classification == "控制满意")
    key = "fpg" if series["fpg"] else "sbp"
    points = series[key]
    direction = "insufficient_data"
    if len(points) >= 2:
        delta = points[-1]["value"] - points[-2]["value"]
        threshold = 0.5 if key == "fpg" else 5
        direction = "improving" if delta <= -threshold else "worsening" if delta >= threshold else "stable"
    return {**series, "visits": len(visits), "controlled": controlled,
            "control_rate": round(controlled / len(classified), 3) if classified else None,
            "direction": direction, "direction_of": key}


def next_follow_up(resident_id: int) -> dict[str, Any] | None:
    """The earliest due follow-up of the resident (any disease), for the record's summary."""
    row = session().scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == resident_id)
                            .order_by(FollowUpSchedule.next_due_on)).first()
    if row is None:
        return None
    return {"disease": row.disease, "due_on": row.next_due_on.isoformat(), "interval_days": row.interval_days,
            "overdue_days": max(0, (clock.today() - row.next_due_on).days)}


def last_done_visit(resident_id: int, disease: str) -> FollowUpVisit | None:
    """The resident's latest completed visit for `disease` (the care plan's medication review reads it)."""
    return session().scalars(select(FollowUpVisit).where(
        FollowUpVisit.resident_id == resident_id, FollowUpVisit.disease == disease, FollowUpVisit.status == "done")
        .order_by(FollowUpVisit.id.desc())).first()


def next_due_on(resident_id: int, disease: str) -> date | None:
    """When the resident's follow-up for `disease` is next due (the printed care plan shows it), or None."""
    row = session().scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == resident_id,
                                                           FollowUpSchedule.disease == disease)).first()
    return row.next_due_on if row else None

"""Set-based group counts for the 分析 tab's largest figures (issue 20.6 at the scale of 20.3): the registry, the
chronic-disease enrolments and the month's follow-ups counted with GROUP BY in the database, instead of building
one Python row per resident or visit (`sources`) and grouping those — at 100,000 residents the row-built
population section took ~100 s under load.

Each function answers {group key: distinct count} with exactly the counting of the row-built figure it replaces
(`app.quality.breakdowns`, tests/api/test_quality_breakdowns.py compares both on a fixture):

- residents: every resident of the subtree (the registry keeps no move-in dates), grouped by organisation path,
  sex, or birth date (the age band at the window's end is the birth date's, mapped here: at most one group per
  birth date, not one row per resident);
- enrolments: enrolled before the end of the window's last day; `active` when their follow-up schedule is missing
  or not closed; one key per resident and disease — an enrolment row is one (unique constraint on resident and
  disease, as on schedules and risk levels), so rows are counted without DISTINCT (a sort less);
- visits: due in the window, done (status done and visited by the window's end), per responsible doctor of the
  visit's schedule.

Portable SQL (PostgreSQL and SQLite). Members lists still read the rows (a page of one group).
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select

from app.core import clock
from app.core.db import session
from app.follow_up.models import FollowUpSchedule, FollowUpVisit
from app.residents.models import Resident
from app.residents.record_models import DiseaseEnrolment, RiskLevel

from .sources import Window, age_band


def _under(column, prefix: str):
    return column.startswith(prefix, autoescape=True)


def _day_start(day: date):
    return clock.start_of_day(day)


def residents_by(prefix: str, field: str, on: date) -> Counter:
    """Residents of the subtree per `org_path`, `sex` or `age_band` (at `on`)."""
    column = {"org_path": Resident.org_path, "sex": Resident.sex, "age_band": Resident.birth_date}[field]
    stmt = select(column, func.count()).where(_under(Resident.org_path, prefix)).group_by(column)
    out: Counter = Counter()
    for value, n in session().execute(stmt):
        out[age_band(clock.age(value, on)) if field == "age_band" and value is not None
            else (None if field == "age_band" else value)] += n
    return out


def _enrolments(prefix: str, w: Window):
    schedule = and_(FollowUpSchedule.resident_id == DiseaseEnrolment.resident_id,
                    FollowUpSchedule.disease == DiseaseEnrolment.disease)
    active = or_(FollowUpSchedule.id.is_(None), FollowUpSchedule.status != "closed")
    return schedule, active, (_under(Resident.org_path, prefix),
                              DiseaseEnrolment.enrolled_at < _day_start(w.end + timedelta(days=1)))


def active_by_disease_risk(prefix: str, w: Window) -> Counter:
    """Active enrolments (resident and disease) per (disease, risk level or None)."""
    schedule, active, where = _enrolments(prefix, w)
    risk = and_(RiskLevel.resident_id == DiseaseEnrolment.resident_id, RiskLevel.disease == DiseaseEnrolment.disease)
    stmt = (select(DiseaseEnrolment.disease, RiskLevel.level, func.count())
            .join(Resident, Resident.id == DiseaseEnrolment.resident_id)
            .outerjoin(FollowUpSchedule, schedule).outerjoin(RiskLevel, risk)
            .where(*where, active).group_by(DiseaseEnrolment.disease, RiskLevel.level))
    return Counter({(disease, level): n for disease, level, n in session().execute(stmt)})


def new_by_disease(prefix: str, w: Window) -> Counter:
    """Residents per disease with an enrolment in the window (active or not)."""
    _schedule, _active, where = _enrolments(prefix, w)
    stmt = (select(DiseaseEnrolment.disease, func.count())
            .join(Resident, Resident.id == DiseaseEnrolment.resident_id)
            .where(*where, DiseaseEnrolment.enrolled_at >= _day_start(w.start)).group_by(DiseaseEnrolment.disease))
    return Counter({key: n for key, n in session().execute(stmt)})


def comorbidity(prefix: str, w: Window) -> Counter:
    """Residents per number of active enrolment rows ("1", "2", "3+")."""
    schedule, active, where = _enrolments(prefix, w)
    per = (select(DiseaseEnrolment.resident_id, func.count().label("n"))
           .join(Resident, Resident.id == DiseaseEnrolment.resident_id).outerjoin(FollowUpSchedule, schedule)
           .where(*where, active).group_by(DiseaseEnrolment.resident_id).subquery())
    out: Counter = Counter()
    for n, residents in session().execute(select(per.c.n, func.count()).group_by(per.c.n)):
        out["3+" if n >= 3 else str(n)] += residents
    return out


def done_visits_by_doctor(prefix: str, w: Window) -> Counter:
    """Visits due in the window and done by its end, per responsible doctor of their schedule (None: none)."""
    schedule = and_(FollowUpSchedule.resident_id == FollowUpVisit.resident_id,
                    FollowUpSchedule.disease == FollowUpVisit.disease)
    stmt = (select(FollowUpSchedule.responsible_user_id, func.count())
            .select_from(FollowUpVisit).join(Resident, Resident.id == FollowUpVisit.resident_id)
            .outerjoin(FollowUpSchedule, schedule)
            .where(_under(Resident.org_path, prefix), FollowUpVisit.due_on >= w.start, FollowUpVisit.due_on <= w.end,
                   FollowUpVisit.status == "done", FollowUpVisit.visited_on.is_not(None),
                   FollowUpVisit.visited_on <= w.end)
            .group_by(FollowUpSchedule.responsible_user_id))
    return Counter({key: n for key, n in session().execute(stmt)})

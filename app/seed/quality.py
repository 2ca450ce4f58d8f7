"""Demo history for 质控 findings (issue 20.6): a year of monthly hypertension follow-ups in two townships, so the
发现 section has something that changed to show.

20 residents of 高桥乡 (C01T12) and 20 of 柳塘乡 (C01T11), the lowest ids there without a chronic enrolment, are
enrolled for hypertension 13 months ago with a paused schedule (no follow-up process is started for them) and one
follow-up due on the 10th of each of the last 12 complete months. 柳塘乡 visits them on the day after every time;
高桥乡 does so for the first 4 months, then for the last 8 months only 8 of its 20 on time (the others 15 days
late): its 随访及时率 runs below its own history (control chart, 8 months in a row) and below the county (funnel).
Written straight into the follow-up tables, as the activity of a past year; idempotent (nothing when the first
resident already has the history).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.auth.queries import candidate_users
from app.core import clock
from app.core.db import session, unit_of_work
from app.follow_up.models import FollowUpSchedule, FollowUpVisit
from app.org.queries import find_org
from app.residents.models import Resident
from app.residents.record_models import DiseaseEnrolment

TOWNSHIPS = {"C01T12": 8, "C01T11": 20}          # township: patients on time each of the last 8 months (of 20)
PATIENTS = 20
MONTHS = 12
SEED_SOURCE = "demo_history"


def _months(today: date) -> list[date]:
    """The 10th of each of the last 12 complete months, oldest first."""
    first = today.replace(day=1)
    out = []
    for _ in range(MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append(first.replace(day=10))
    return list(reversed(out))


def _residents(township: str) -> list[Resident]:
    enrolled = select(DiseaseEnrolment.resident_id)
    stmt = (select(Resident).where(Resident.org_code.like(f"{township}V%"), Resident.id.not_in(enrolled))
            .order_by(Resident.id).limit(PATIENTS))
    return list(session().scalars(stmt))


def seed_quality_history() -> dict[str, int]:
    if any(find_org(code) is None for code in TOWNSHIPS):
        return {}
    dues = _months(clock.today())
    added = 0
    with unit_of_work() as s:
        if s.scalar(select(DiseaseEnrolment.id).where(DiseaseEnrolment.source == SEED_SOURCE).limit(1)):
            return {}
        for township, on_time in TOWNSHIPS.items():
            for i, r in enumerate(_residents(township)):
                doctor = next(iter(candidate_users("village_doctor", r.org_code)), None)
                enrolled = dues[0] - timedelta(days=30)
                s.add(DiseaseEnrolment(resident_id=r.id, disease="htn", icd10="I10", diagnosed_on=enrolled,
                                       village_code=r.org_code, source=SEED_SOURCE,
                                       enrolled_at=clock.start_of_day(enrolled), enrolled_by="seed",
                                       managing_doctor_user_id=doctor.id if doctor else None))
                schedule = FollowUpSchedule(resident_id=r.id, disease="htn", org_code=r.org_code,
                                            org_path=r.org_path, responsible_user_id=doctor.id if doctor else None,
                                            interval_days=30, next_due_on=dues[-1] + timedelta(days=30),
                                            last_visit_on=dues[-1], cycle_no=MONTHS, status="paused",
                                            updated_at=clock.now())
                s.add(schedule)
                s.flush()
                for n, due in enumerate(dues):
                    late = n >= MONTHS - 8 and i >= on_time
                    sbp = 128 + (i * 7 + n * 3) % 24
                    s.add(FollowUpVisit(schedule_id=schedule.id, resident_id=r.id, disease="htn", cycle_no=n + 1,
                                        due_on=due, status="done", visited_on=due + timedelta(days=15 if late else 1),
                                        visit_type="outpatient", sbp=sbp, dbp=78 + (i + n) % 12,
                                        created_at=clock.start_of_day(due)))
                    added += 1
    return {"quality_history_visits": added} if added else {}

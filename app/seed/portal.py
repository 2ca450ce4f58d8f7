"""The demo's resident portal (issue 21): patient1's resident has consented to the portal and to in-platform
reminders, has three clinic blood pressures over three months and a week of home ones (诊室 / 自测 on the trend),
amlodipine, a hypertension follow-up window, two education items, and a satisfaction survey to answer.
`make run` → sign in as patient1 → /portal shows the plan, the trend (诊室 / 自测) and the consent records."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.models import User
from app.core import clock
from app.core.db import session
from app.education import services as education
from app.follow_up.scheduling import upsert_schedule
from app.portal import consent
from app.portal.models import PortalConsent
from app.residents import records
from app.residents.models import Resident

CLINIC_BP = ((90, 158, 96), (60, 150, 93), (30, 144, 90))     # days ago, systolic, diastolic (村卫生室随访)
HOME_BP = ((152, 94, 78), (147, 92, 80), (149, 90, 76), (141, 88, 74), (138, 86, 75), (136, 85, 72), (139, 84, 73))


def seed_portal() -> dict[str, int]:
    """Once: consents and home readings for patient1's resident; {} when already there or patient1 is missing."""
    resident_id = session().scalar(select(User.resident_id).where(User.username == "patient1"))
    if resident_id is None or session().scalars(select(PortalConsent.id).where(
            PortalConsent.resident_id == resident_id)).first() is not None:
        session().rollback()
        return {}
    for purpose, channel in (("health_data", "portal"), ("reminder", "app"), ("education", "app")):
        consent.decide(resident_id, purpose=purpose, channel=channel, granted=True, decided_by="self",
                       via="seed")
    now = clock.now().replace(minute=30, second=0, microsecond=0)
    for days_ago, sbp, dbp in CLINIC_BP:
        for code, value in (("8480-6", sbp), ("8462-4", dbp)):
            records.record_observation(resident_id, code=code, value=value, unit="mm[Hg]",
                                       effective_at=now - timedelta(days=days_ago, hours=5), source="his",
                                       client_id=f"seed-portal-clinic-{days_ago}-{code}", rescreen=False)
    records.record_medication(resident_id, drug="amlodipine", dose="5mg", frequency="qd", started_on=None,
                              source="his", client_id="seed-portal-med")
    resident = session().get(Resident, resident_id)
    assert resident is not None
    upsert_schedule(resident_id, "htn", care_plan_id=None, risk_level=None, interval_days=90,
                    org_code=resident.org_code, org_path=resident.org_path)
    for i, item in enumerate(education.list_items(disease="htn")[:2]):
        education.push(item.id, resident_id, reason="高血压健康教育", pushed_by="system",
                       dedupe_key=f"seed-portal:education:{i}")
    for days_ago, (sbp, dbp, pulse) in enumerate(reversed(HOME_BP)):
        at = now - timedelta(days=days_ago, hours=2)
        records.record_home_reading(resident_id, {"id": f"seed-portal-{days_ago}", "measured_at": at, "sbp": sbp,
                                                  "dbp": dbp, "pulse": pulse}, actor=f"portal:resident:{resident_id}")
    return {"portal_consents": 3, "portal_home_readings": len(HOME_BP), "portal_clinic_readings": len(CLINIC_BP)}

"""The demo county comes alive: `seed_demo` on the deployed models leaves work in the inboxes the browser tests
and the README promise, every interesting instance state for the supervisor, and nothing more on a second run.
Also the wiring it relies on: grading an enrolled hypertension (`stratify`) asks for a care plan (`request_plan`)."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core import clock, db
from tests.helpers import REPO, STATE_LIMIT, state_bytes
from tests.projection_oracle import oracle_fixture  # noqa: F401

MODELS = [REPO / "bpmn", REPO / "dmn", REPO / "forms"]


def _deploy_all(app) -> None:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")


def _open(session, **where):
    from app.workflows.models import HumanTask
    stmt = select(HumanTask).where(HumanTask.status == "open")
    for key, value in where.items():
        stmt = stmt.where(HumanTask.org_path.like(f"{value}%") if key == "under" else getattr(HumanTask, key) == value)
    return list(session.scalars(stmt))


@pytest.mark.timeout(900)     # the whole demo county, four months of it, on a shared CI machine
def test_the_demo_seed_leaves_work_for_every_demo_login_and_runs_once(app, full_projection_oracle):
    from app.auth.models import User
    from app.seed import demo
    from app.workflows.models import ProcessInstance
    _deploy_all(app)
    started = clock.now()
    with app.app_context():
        added = demo.seed_demo()
        # the platform clock is back to today (against the wall clock, not the start: the seed itself may take
        # more than ten minutes on a loaded CI machine)
        assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 60
        assert clock.now() >= started
        s = db.session()
        users = dict(s.execute(select(User.username, User.id)).tuples().all())
        now = datetime.now(UTC)

        visits = _open(s, process_id="follow_up", under="/C01/C01T01/C01T01V01/")
        assert len(visits) >= 2
        assert any(t.due_at < now for t in visits) and any(t.due_at > now for t in visits)
        assert any(t.assignee_id == users["village_doctor1"] for t in visits)
        assert _open(s, process_id="follow_up", under="/C01/C01T02/")          # other village doctors too

        verify = _open(s, element_id="verify_case", under="/C01/C01T01/")
        assert sum(t.assignee_id is None for t in verify) >= 3
        assert any(t.assignee_id == users["township_doctor1"] for t in verify)
        assert all(t.due_at > now for t in verify)                           # fresh, not weeks overdue
        assert _open(s, element_id="draft_plan_county")                      # the county has a plan to draft

        statuses = dict(s.execute(select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)
                                  ).tuples().all())
        assert {"waiting", "completed", "error", "suspended"} <= set(statuses)
        assert added["story_residents"] >= 10 and added["follow_up_visits_done"] >= 10
        # the offline app (issue 22): the doctor's phone with its leases, a conflict recorded as an ad-hoc visit
        from app.mobile.models import MobileCompletion
        from app.residents.record_models import Encounter
        assert added["mobile_devices"] == 1 and added["mobile_leases"] >= 1 and added["mobile_conflicts"] == 1
        conflict = s.scalars(select(MobileCompletion)).one()
        assert conflict.status == 409 and conflict.reason == "task_completed_elsewhere"
        assert set(conflict.resolutions or {}) == {"record_visit"}
        assert s.scalar(select(func.count()).select_from(Encounter).where(Encounter.source == "mobile")) == 1

        # issue 18.3: anticoagulant episodes through the real process — warfarin with weeks of INRs and their TTR,
        # one INR 5.2 (urgent task + emergency referral), one dose change waiting for the pharmacist's co-sign, one
        # weeks overdue (the township doctor's 督办), a rivaroxaban CrCl fall (the pharmacist's dose review)
        from app.anticoag import services as anticoag
        from app.anticoag.models import AnticoagEpisode
        from app.referral.models import Referral
        assert added["anticoag_episodes"] == 5 and added["anticoag_results"] == 28, added
        warfarin = list(s.scalars(select(AnticoagEpisode).where(AnticoagEpisode.drug == "warfarin")
                                  .order_by(AnticoagEpisode.id)))
        assert len(warfarin) == 4 and all(e.status == "active" and e.instance_id for e in warfarin)
        ttrs = [anticoag.ttr_of(e) for e in warfarin]
        assert all(t is not None for t in ttrs) and 60 < ttrs[0]["ttr"] < 90 and ttrs[0]["tests"] == 9
        assert len({round(t["ttr"]) for t in ttrs}) >= 3                          # a spread for the histogram
        for element_id in ("urgent_care", "dose_cosign", "overdue_escalation", "pharmacist_dose_review"):
            assert _open(s, element_id=element_id, process_id="anticoag_monitoring"), element_id
        assert s.scalars(select(Referral).where(Referral.source == "anticoag_monitoring")).one().urgency == "emergency"
        riva = [e for e in s.scalars(select(AnticoagEpisode).where(AnticoagEpisode.drug == "rivaroxaban"))
                if e.dose_band == "15mg_qd"]
        assert len(riva) == 1

        # issue 18.4–18.6: four months of the interventional centre through the real process, with UDI-scanned
        # devices, complications (one unplanned return to theatre with its RCA), DRG results and follow-ups
        from app.intervention import indicators
        from app.intervention.models import CaseDevice, InterventionCase, Reoperation
        cases = list(s.scalars(select(InterventionCase)))
        assert added["intervention_cases"] == len(cases) >= 15
        assert {"closed", "grouped", "cancelled", "operating", "assessing"} <= {c.status for c in cases}
        assert s.scalar(select(func.count()).select_from(CaseDevice)) == added["intervention_devices"] >= 25
        [reop] = s.scalars(select(Reoperation))
        assert reop.unplanned and reop.rca_done_at is not None
        from app.auth.services import find_user, principal_for
        month = indicators.centre(principal_for(find_user("specialist_mic")), f"{clock.today():%Y-%m}", None)
        centre = month["total"]
        assert centre["complication_rate"]["denominator"] >= 1 and centre["complication_rate"]["numerator"] >= 1
        # the case waiting in theatre holds its two stents in the centre's store; last month's report was delivered
        from app.intervention import monthly
        from app.intervention.models import MonthlyReport
        from app.notifications.models import Notification
        from app.supply.models import Reservation
        [theatre] = [c for c in cases if c.status == "operating"]
        held = s.scalars(select(Reservation).where(Reservation.case_ref == theatre.case_no)).all()
        assert [(r.status, r.quantity) for r in held] == [("active", 2)]
        assert s.scalar(select(func.count()).select_from(Reservation).where(Reservation.status == "active")) == 1
        [report] = s.scalars(select(MonthlyReport)).all()
        assert (report.period, report.status) == (monthly.previous_month(clock.today()), "delivered")
        assert report.recipients == [users["supervisor"]] and added["intervention_monthly_reports"] == 1
        assert s.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == "centre_monthly_report", Notification.user_id == users["supervisor"])) == 1

        # 转诊对账: reports from the HIS, public health and insurance, some of them the network's own referrals
        from app.quality import referral_summary
        totals = referral_summary.summary(principal_for(find_user("supervisor")))["totals"]
        assert added["reported_referrals"] >= 6 and totals["matched"] >= 3 and totals["unmatched_reported"] >= 3
        assert all(totals[src]["up"] + totals[src]["down"] for src in ("his", "public_health", "insurance")), totals
        # one of the HIS's reports came as an HL7 v2 REF^I12, a delivery of the integration screen
        from app.integrations.models import InboundEvent
        from app.referral.models import ReportedReferral
        (hl7,) = s.scalars(select(InboundEvent).where(InboundEvent.channel == "hl7v2",
                                                      InboundEvent.message == "REF^I12")).all()
        assert hl7.status == "processed", (hl7.status, hl7.last_error)
        assert s.get(ReportedReferral, hl7.result["reported_referral_id"]).source_id == "HIS-REF-20001"

        # issue 23.7: every instance of the demo, at whatever point it waits or ended, keeps its state ≤ 50 KB
        # (the anticoagulant episodes loop for weeks of INRs: the engine drops their finished rounds)
        sizes = {(p, i): state_bytes(st) for i, p, st in s.execute(
            select(ProcessInstance.id, ProcessInstance.process_id, ProcessInstance.state))}
        assert max(sizes.values()) <= STATE_LIMIT, sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
        # issue 23.5: every step of every demo process wrote the inbox rows a full re-projection would have
        assert full_projection_oracle.incremental > 500 and full_projection_oracle.differences == [], \
            full_projection_oracle.differences[:5]

        again = demo.seed_demo()
        assert again == {"organizations": 0, "users": 0, "residents": 0}
        assert dict(s.execute(select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)
                              ).tuples().all()) == statuses


def test_grading_an_enrolled_hypertension_requests_its_care_plan(app, county):
    from app.auth.principal import SYSTEM
    from app.care_plans.models import CarePlanVersion
    from app.residents import idcard, records
    from app.residents.management import enrol
    from app.residents.record_models import RiskLevel
    from app.residents.services import register_resident
    from app.screening.stratify import start_grading
    from app.workflows.models import HumanTask, ProcessInstance
    _deploy_all(app)
    at = clock.now() - timedelta(days=2)
    with app.app_context():
        id_number = idcard.generate(random.Random(3), area_code="330127", birth_date=date(1956, 3, 14), sex="M")
        rid = register_resident({"id_number": id_number, "name": "吴国平", "org_code": "C01T01V01"},
                                principal=SYSTEM).id
        for code, value in (("8480-6", 168), ("8462-4", 102)):
            records.record_observation(rid, code=code, value=value, unit="mmHg", effective_at=at, source="his",
                                       rescreen=False)
        enrol(rid, disease="htn", icd10="I10", diagnosed_on=clock.today(), managing_doctor_user_id=None,
              village_code="C01T01V01", screening_case_id=None, source="test", actor="test")
        assert start_grading(rid, "htn", reason="enrolled", force=True) is not None
        s = db.session()
        level = s.scalars(select(RiskLevel).where(RiskLevel.resident_id == rid)).one().level
        plan_instance = s.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "care_plan",
                                                                ProcessInstance.resident_id == rid)).one()
        assert plan_instance.business_key == f"care_plan:{rid}:htn"
        [draft] = s.scalars(select(HumanTask).where(HumanTask.instance_id == plan_instance.id,
                                                    HumanTask.status == "open"))
        assert draft.element_id == ("draft_plan_township" if level == "LOW" else "draft_plan_county")
        assert s.scalar(select(func.count()).select_from(CarePlanVersion)) == 1
        # grading again with the same inputs asks for nothing more
        start_grading(rid, "htn", reason="new_data")
        assert s.scalar(select(func.count()).select_from(ProcessInstance)
                        .where(ProcessInstance.process_id == "care_plan")) == 1


@pytest.mark.timeout(900)
def test_the_demo_seed_runs_just_after_local_midnight(app):
    """`make run` five minutes after midnight (Beijing; 16:05 UTC) seeds like any other time: the seed winds the
    platform clock back to stage earlier events, and it once wound "today's" theatre case back into yesterday, which
    the centre refused (入院日期不能晚于今天) and the whole seed stopped; and the township's expert on call (08:00 to
    08:00) was missing at night, because only today's on-call day was seeded."""
    from app.intervention.models import InterventionCase
    from app.seed import demo
    _deploy_all(app)
    local = clock.local(clock.now())
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=clock.local_tz())
    clock.advance(midnight + timedelta(minutes=5) - clock.now())
    today = clock.today()
    with app.app_context():
        added = demo.seed_demo()
        assert clock.today() == today
        assert added["intervention_cases"] >= 15
        s = db.session()
        waiting = [c for c in s.scalars(select(InterventionCase)) if c.status in ("operating", "assessing")]
        assert waiting and all(c.admitted_on == today for c in waiting if c.status == "operating")
        # an on-call day runs 08:00 to 08:00: at 00:05 the township still has yesterday's expert on call
        from app.liaison.models import LiaisonDuty
        from app.liaison.queries import duty_item
        on_call = [d for d in s.scalars(select(LiaisonDuty).where(LiaisonDuty.kind == "on_call"))
                   if duty_item(d, {}, {})["on_call_now"]]
        assert [d.township_code for d in on_call] == ["C01T01"]

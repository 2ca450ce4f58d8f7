"""Quality indicators on a hand-counted county (period 2026-06; year-to-date window 2026-01-01 … 2026-06-30).

| who | village | disease | age | enrolled | visits in 2026 (due → done, type, values) | risk | schedule next due |
|---|---|---|---|---|---|---|---|
| A | C01T01V01 | htn | 60 | 2025-06 | 02-10 outpatient 150/95; 05-20 home 135/85 | HIGH | 08-20 |
| B | C01T01V01 | htn | 70 | 2025-01 | 03-01 outpatient 145/85 (≥65: <150/90) | — | 09-01 |
| C | C01T01V02 | htn | 50 | 2026-03-01 | 04-01 phone 130/80 | — | 07-01 |
| D | C01T01V02 | htn | 55 | 2025-01 | 01-15 outpatient 失访 (no BP) | LOW | 04-15 (overdue) |
| E | C01T02V01 | htn | 45 | 2025-01 | 01-20 outpatient 150/100; 04-20 outpatient 160/100; 06-10 due, not done | VERY_HIGH | 06-10 |
| F | C01T01V01 | t2dm | 62 | 2025-01 | 02-01 FPG 6.5; 05-01 FPG 7.4 | — | 08-01 |
| G | C01T02V01 | t2dm | 58 | 2025-01 | 03-01 FPG 6.8; 06-01 home FPG 6.2 | — | 09-01 |
| H | C01T01V01 | — | 30 | | | | |
| I | C01T01V01 | — | 10 | | | | |

Hand counts: HTN managed 5; 规范 (face visits ≥ floor(days/90): 181 d → 2, C from 03-01: 122 d → 1) A, E → 2/5 = 40.0%;
controlled (last BP at target, 失访 = not) A, B, C → 3/5 = 60.0%; T2DM 规范 F, G 2/2 = 100%; FPG <7.0 G → 1/2 = 50.0%;
管理率 HTN 5 ÷ (8 adults × 0.275 = 2.2) = 227.3%; overdue share (as of 06-30) D, E → 2/7 = 28.6%; June visits due:
G on time, E 20 days late → 1/2 = 50.0%; high risk share A, E → 2/7 = 28.6%; new enrolments March: C → 1.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.principal import SYSTEM
from app.core import clock, db
from app.core.errors import Invalid
from app.follow_up.models import FollowUpEscalation, FollowUpSchedule, FollowUpVisit
from app.notifications.models import Notification
from app.quality import services
from app.quality.library import library, parse_indicator, thresholds
from app.quality.models import QualityAlert
from app.residents import idcard
from app.residents.record_models import DiseaseEnrolment, RiskLevel
from app.residents.services import register_resident

PERIOD = "2026-06"
AT = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)

PEOPLE = {  # name: (village, birth date, sex)
    "甲": ("C01T01V01", date(1966, 1, 5), "M"), "乙": ("C01T01V01", date(1956, 2, 1), "F"),
    "丙": ("C01T01V02", date(1976, 3, 3), "M"), "丁": ("C01T01V02", date(1971, 1, 9), "F"),
    "戊": ("C01T02V01", date(1981, 1, 1), "M"), "己": ("C01T01V01", date(1964, 1, 2), "F"),
    "庚": ("C01T02V01", date(1968, 1, 3), "M"), "辛": ("C01T01V01", date(1996, 1, 1), "M"),
    "壬": ("C01T01V01", date(2016, 1, 1), "F"),
}
# name: disease, enrolled on, risk, schedule next due, [(due, visited, type, sbp, dbp, fpg, outcome)]
PATIENTS = {
    "甲": ("htn", date(2025, 6, 1), "HIGH", date(2026, 8, 20), [
        (date(2026, 2, 10), date(2026, 2, 10), "outpatient", 150, 95, None, None),
        (date(2026, 5, 20), date(2026, 5, 20), "home", 135, 85, None, None)]),
    "乙": ("htn", date(2025, 1, 1), None, date(2026, 9, 1), [
        (date(2026, 3, 1), date(2026, 3, 1), "outpatient", 145, 85, None, None)]),
    "丙": ("htn", date(2026, 3, 1), None, date(2026, 7, 1), [
        (date(2026, 4, 1), date(2026, 4, 1), "phone", 130, 80, None, None)]),
    "丁": ("htn", date(2025, 1, 1), "LOW", date(2026, 4, 15), [
        (date(2026, 1, 15), date(2026, 1, 15), "outpatient", None, None, None, "失访")]),
    "戊": ("htn", date(2025, 1, 1), "VERY_HIGH", date(2026, 6, 10), [
        (date(2026, 1, 20), date(2026, 1, 20), "outpatient", 150, 100, None, None),
        (date(2026, 4, 20), date(2026, 4, 20), "outpatient", 160, 100, None, None),
        (date(2026, 6, 10), None, None, None, None, None, None)]),
    "己": ("t2dm", date(2025, 1, 1), None, date(2026, 8, 1), [
        (date(2026, 2, 1), date(2026, 2, 1), "outpatient", None, None, 6.5, None),
        (date(2026, 5, 1), date(2026, 5, 1), "outpatient", None, None, 7.4, None)]),
    "庚": ("t2dm", date(2025, 1, 1), None, date(2026, 9, 1), [
        (date(2026, 3, 1), date(2026, 3, 1), "outpatient", None, None, 6.8, None),
        (date(2026, 6, 1), date(2026, 6, 1), "home", None, None, 6.2, None)]),
}


def _at(day: date) -> datetime:
    return (clock.start_of_day(day) + timedelta(hours=10)).astimezone(UTC)      # 10:00 local time


@pytest.fixture()
def small_county(app, county):
    """The county above, written straight into the tables the indicators read."""
    ids: dict[str, int] = {}
    with app.app_context():
        for i, (name, (village, born, sex)) in enumerate(PEOPLE.items()):
            number = idcard.generate(random.Random(100 + i), area_code="330127", birth_date=born, sex=sex)
            ids[name] = register_resident({"id_number": number, "name": name, "org_code": village},
                                          principal=SYSTEM).id
        with db.unit_of_work() as s:
            for name, (disease, enrolled, risk, next_due, visits) in PATIENTS.items():
                _patient(s, ids[name], PEOPLE[name][0], disease, enrolled, risk, next_due, visits)
    return ids


def _patient(s, rid, village, disease, enrolled, risk, next_due, visits):
    s.add(DiseaseEnrolment(resident_id=rid, disease=disease, icd10="I10" if disease == "htn" else "E11",
                           diagnosed_on=enrolled, village_code=village, source="test", enrolled_at=_at(enrolled),
                           enrolled_by="test"))
    if risk:
        s.add(RiskLevel(resident_id=rid, disease=disease, level=risk, decision_id="test", assessed_at=_at(enrolled)))
    schedule = FollowUpSchedule(resident_id=rid, disease=disease, org_code=village, interval_days=90,
                                next_due_on=next_due, status="active", updated_at=AT)
    s.add(schedule)
    s.flush()
    for n, (due, visited, kind, sbp, dbp, fpg, outcome) in enumerate(visits, start=1):
        s.add(FollowUpVisit(schedule_id=schedule.id, resident_id=rid, disease=disease, cycle_no=n, due_on=due,
                            status="done" if visited else "scheduled", visited_on=visited, visit_type=kind,
                            sbp=sbp, dbp=dbp, fpg=fpg, created_at=_at(due),
                            record={"visit": {"outcome": outcome}} if outcome else {}))


def _overview(api, org=None, period=PERIOD):
    url = f"/api/v1/quality/overview?period={period}" + (f"&org_code={org}" if org else "")
    resp = api.get(url)
    assert resp.status_code == 200, resp.json
    return {i["id"]: i for i in resp.json["indicators"]}


def _kids(indicator):
    return {c["key"]: (c["numerator"], c["denominator"], c["value"]) for c in indicator["children"]}


def test_county_figures_equal_the_hand_counts(login_as, small_county):
    got = _overview(login_as("supervisor"))
    assert (got["htn_standard_management_rate"]["numerator"], got["htn_standard_management_rate"]["denominator"],
            got["htn_standard_management_rate"]["value"]) == (2, 5, 40.0)
    assert (got["htn_bp_control_rate"]["numerator"], got["htn_bp_control_rate"]["denominator"],
            got["htn_bp_control_rate"]["value"]) == (3, 5, 60.0)
    assert (got["t2dm_standard_management_rate"]["value"], got["t2dm_glucose_control_rate"]["value"]) == (100.0, 50.0)
    assert (got["htn_management_rate"]["numerator"], got["htn_management_rate"]["denominator"],
            got["htn_management_rate"]["value"]) == (5, 2.2, 227.3)
    assert (got["overdue_share"]["numerator"], got["overdue_share"]["denominator"]) == (2, 7)
    assert got["overdue_share"]["value"] == 28.6
    assert (got["follow_up_timeliness"]["numerator"], got["follow_up_timeliness"]["denominator"]) == (1, 2)
    assert got["high_risk_share"]["value"] == 28.6
    assert got["new_enrolments"]["value"] == 0
    assert _overview(login_as("supervisor"), period="2026-03")["new_enrolments"]["value"] == 1


def test_child_organisations_split_the_figure(login_as, small_county):
    got = _overview(login_as("supervisor"))
    assert _kids(got["htn_bp_control_rate"]) == {"C01T01": (3, 4, 75.0), "C01T02": (0, 1, 0.0)}
    township = _overview(login_as("supervisor"), org="C01T01")
    assert _kids(township["htn_bp_control_rate"]) == {"C01T01V01": (2, 2, 100.0), "C01T01V02": (1, 2, 50.0)}
    assert _kids(township["htn_standard_management_rate"]) == {"C01T01V01": (1, 2, 50.0), "C01T01V02": (0, 2, 0.0)}


def test_thresholds_grade_each_figure(login_as, small_county):
    got = _overview(login_as("supervisor"))
    control = got["htn_bp_control_rate"]
    assert control["thresholds"] == {"target": 60, "warning": 45, "alarm": 35}
    assert control["status"] == "met"
    statuses = {c["key"]: c["status"] for c in control["children"]}
    assert statuses == {"C01T01": "met", "C01T02": "alarm"}
    village = _overview(login_as("supervisor"), org="C01T01V02")["htn_bp_control_rate"]
    assert (village["value"], village["status"]) == (50.0, "below_target")
    assert got["overdue_share"]["status"] == "warning"        # lower is better: 28.6 above warning 20, below alarm 30


def test_thresholds_are_set_per_year_in_configuration():
    assert thresholds("htn_standard_management_rate", 2026) == {"target": 62, "warning": 55, "alarm": 45}
    assert thresholds("htn_standard_management_rate", 2027) == {"target": 65, "warning": 60, "alarm": 50}


def test_breakdown_by_risk_level_and_age_band(login_as, small_county):
    api = login_as("supervisor")
    resp = api.get(f"/api/v1/quality/indicators/htn_bp_control_rate/breakdown?period={PERIOD}&by=risk_level")
    assert resp.status_code == 200, resp.json
    assert {g["label"]: (g["numerator"], g["denominator"]) for g in resp.json["groups"]} == {
        "高危": (1, 1), "低危": (0, 1), "很高危": (0, 1), "未分层": (2, 2)}
    resp = api.get(f"/api/v1/quality/indicators/htn_bp_control_rate/breakdown?period={PERIOD}&by=age_band")
    assert {g["label"]: g["denominator"] for g in resp.json["groups"]} == {"45-54": 2, "55-64": 2, "65-74": 1}


def test_monthly_trend_restarts_the_year_to_date_window_each_month(login_as, small_county):
    api = login_as("supervisor")
    resp = api.get(f"/api/v1/quality/indicators/htn_bp_control_rate/trend?period={PERIOD}&months=3")
    assert resp.status_code == 200, resp.json
    # April: A last 150/95 ✗, B ✓, C ✓ (enrolled March), D lost ✗, E 160/100 ✗ → 2/5
    assert [(p["period"], p["numerator"], p["denominator"]) for p in resp.json["points"]] == [
        ("2026-04", 2, 5), ("2026-05", 3, 5), ("2026-06", 3, 5)]


def test_drilldown_lists_a_villages_uncontrolled_patients_and_is_audited(app, login_as, small_county):
    api = login_as("supervisor")
    resp = api.get(f"/api/v1/quality/indicators/htn_bp_control_rate/drilldown?period={PERIOD}"
                   f"&org_code=C01T01V02&part=gap")
    assert resp.status_code == 200, resp.json
    assert [(i["resident_name"], i["org_name"], i["facts"]["lost_to_follow_up"]) for i in resp.json["items"]] == [
        ("丁", "下湾村卫生室", True)]
    assert resp.json["total"] == 1
    with app.app_context():
        audited = db.session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "quality_drilldown"))
    assert audited == 1


def test_a_township_sees_only_its_own_tree(login_as, small_county):
    township = login_as("township_public_health", org="C01T02")
    own = _overview(township)
    assert own["htn_bp_control_rate"]["denominator"] == 1
    assert township.get(f"/api/v1/quality/overview?period={PERIOD}&org_code=C01T01").status_code == 404
    assert township.get(f"/api/v1/quality/indicators/htn_bp_control_rate/drilldown?period={PERIOD}"
                        f"&org_code=C01T01V02&part=gap").status_code == 404


def test_bad_input_answers_with_a_code(login_as, small_county):
    api = login_as("supervisor")
    assert api.get("/api/v1/quality/overview?period=2026-13").status_code == 422
    assert api.get("/api/v1/quality/overview?period=0000-01").status_code == 422         # no year 0 (was a 500)
    future = api.get("/api/v1/quality/overview?period=2099-01")
    assert (future.status_code, future.json["code"]) == (422, "period_in_future")
    assert api.get("/api/v1/quality/indicators/nope/trend").json["code"] == "not_found"
    count_gap = api.get(f"/api/v1/quality/indicators/new_enrolments/drilldown?period={PERIOD}&part=gap")
    assert (count_gap.status_code, count_gap.json["code"]) == (422, "invalid_part")
    by_age = api.get(f"/api/v1/quality/indicators/task_sla_compliance/breakdown?period={PERIOD}&by=age_band")
    assert (by_age.status_code, by_age.json["code"]) == (422, "invalid_dimension")
    assert login_as("trainer").get(f"/api/v1/quality/overview?period={PERIOD}").status_code == 403


def test_a_formula_with_an_unknown_field_is_refused_with_its_position():
    bad = {"id": "x", "name": "x", "unit": "%", "direction": "higher", "window": "month",
           "numerator": {"source": "chronic_patients", "where": [["disease", "=", "htn"],
                                                                  {"any": [["last_sbpp", "<", 140]]}]},
           "denominator": {"source": "chronic_patients"}}
    with pytest.raises(Invalid) as err:
        parse_indicator(bad)
    assert err.value.code == "invalid_indicator"
    assert err.value.details["path"] == "/numerator/where/1/any/0/0"
    bad["numerator"]["where"] = [["disease", "<", "htn"]]
    with pytest.raises(Invalid) as err:
        parse_indicator(bad)
    assert err.value.details["path"] == "/numerator/where/0/1"


def test_the_shipped_library_parses():
    assert {"htn_management_rate", "htn_standard_management_rate", "htn_bp_control_rate", "t2dm_management_rate",
            "t2dm_standard_management_rate", "t2dm_glucose_control_rate", "follow_up_timeliness", "overdue_share",
            "new_enrolments", "high_risk_share", "task_sla_compliance", "escalations"} <= set(library())


def test_escalations_count_the_month(app, login_as, small_county):
    with app.app_context(), db.unit_of_work() as s:
        visit = s.scalars(select(FollowUpVisit).where(FollowUpVisit.due_on == date(2026, 6, 10))).one()
        s.add(FollowUpEscalation(visit_id=visit.id, level="reminder", days_overdue=10, decision={},
                                 created_at=_at(date(2026, 6, 20))))
    got = _overview(login_as("supervisor"))["escalations"]
    assert (got["value"], _kids(got)) == (1.0, {"C01T01": (0, None, 0.0), "C01T02": (1, None, 1.0)})


def test_an_alert_is_raised_once_per_breach_with_the_list_behind_it(app, login_as, small_county, monkeypatch):
    from app.quality import library as quality_library
    monkeypatch.setattr(services, "alert_settings", lambda: {
        **quality_library.alert_settings(), "min_denominator": 1})
    supervisor = login_as("supervisor")
    with app.app_context():
        first = services.check_thresholds(period=PERIOD)
        again = services.check_thresholds(period=PERIOD)
        s = db.session()
        alert = s.scalars(select(QualityAlert).where(QualityAlert.indicator_id == "htn_bp_control_rate",
                                                     QualityAlert.org_code == "C01T02")).one()
        notes = s.scalars(select(Notification).where(Notification.user_id == supervisor.user.id,
                                                     Notification.kind == "quality_alert")).all()
    assert first > 0 and again == 0
    assert (alert.level, alert.value, alert.part) == ("alarm", 0.0, "gap")
    assert [x["resident_id"] for x in alert.subjects] == [small_county["戊"]]
    bp_notes = [n for n in notes if "htn_bp_control_rate" in (n.link or "") and "org=C01T02&" in n.link]
    assert len(bp_notes) == 1
    assert "桃源镇卫生院" in bp_notes[0].title
    listed = supervisor.get(f"/api/v1/quality/alerts?period={PERIOD}&org_code=C01T02")
    assert {(a["indicator_id"], a["org_code"], a["level"]) for a in listed.json["items"]} >= {
        ("htn_bp_control_rate", "C01T02", "alarm")}


def test_overview_and_list_export_as_xlsx_with_chinese_headers(login_as, small_county):
    api = login_as("supervisor")
    resp = api.get(f"/api/v1/quality/overview.xlsx?period={PERIOD}")
    assert resp.status_code == 200
    wb = load_workbook(BytesIO(resp.data))
    assert wb.sheetnames == ["指标", "分机构"]
    rows = list(wb["指标"].iter_rows(values_only=True))
    assert rows[0][:3] == ("统计期", "机构", "指标")
    assert ("2026-06", "青溪县人民医院", "管理人群血压控制率", 3, 5, "60%") == rows[[r[2] for r in rows].index(
        "管理人群血压控制率")][:6]
    listing = api.get(f"/api/v1/quality/indicators/htn_bp_control_rate/drilldown.xlsx?period={PERIOD}&part=gap")
    assert listing.status_code == 200
    sheet = load_workbook(BytesIO(listing.data)).active
    names = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["丁", "戊"])


def test_docs_list_every_indicator():
    from tests.helpers import REPO
    text = (REPO / "docs" / "quality.md").read_text(encoding="utf-8")
    assert [i for i in library() if f"`{i}`" not in text] == []


def test_the_responsible_doctor_is_a_dimension_and_named_in_the_list(app, login_as, small_county):
    doctor = login_as("village_doctor", org="C01T01V01", username="doc_li")
    with app.app_context(), db.unit_of_work() as s:
        s.scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == small_county["甲"])).one() \
            .responsible_user_id = doctor.user.id
    api = login_as("supervisor")
    by_doctor = api.get(f"/api/v1/quality/indicators/htn_bp_control_rate/breakdown?period={PERIOD}&by=doctor")
    assert by_doctor.status_code == 200, by_doctor.json
    assert {g["label"]: (g["numerator"], g["denominator"]) for g in by_doctor.json["groups"]} == {
        "doc_li": (1, 1), "未指定": (2, 4)}
    listed = api.get(f"/api/v1/quality/indicators/htn_bp_control_rate/drilldown?period={PERIOD}&part=numerator")
    assert listed.status_code == 200, listed.json
    assert {i["resident_name"]: i["doctor_name"] for i in listed.json["items"]} == {"甲": "doc_li", "乙": None,
                                                                                   "丙": None}


def test_peer_villages_are_scored_by_p10_p90_and_ranked(login_as, small_county):
    resp = login_as("supervisor").get(f"/api/v1/quality/indicators/htn_bp_control_rate/scores?period={PERIOD}"
                                      f"&level=village")
    assert resp.status_code == 200, resp.json
    # values 100, 50, 0 → P10 = 10, P90 = 90 (inclusive deciles); 50 → 50 + 50 × 40 ÷ 80 = 75
    assert (resp.json["p10"], resp.json["p90"]) == (10.0, 90.0)
    assert [(i["org_code"], i["value"], i["score"], i["rank"]) for i in resp.json["items"]] == [
        ("C01T01V01", 100.0, 100.0, 1), ("C01T01V02", 50.0, 75.0, 2), ("C01T02V01", 0.0, 50.0, 3)]


def test_interval_scoring_inverts_for_lower_is_better():
    from app.quality.scoring import interval_score, p10_p90, rank
    assert interval_score(20, 10, 30, higher_is_better=False) == 75.0
    assert interval_score(5, 10, 30, higher_is_better=False) == 100.0
    assert interval_score(7, 7, 7) == 100.0
    assert p10_p90([4.0]) == (4.0, 4.0)
    assert rank([80.0, 90.0, 80.0]) == [2, 1, 2]


def test_quarterly_cohorts_follow_registrations_into_the_next_quarter(login_as, small_county):
    resp = login_as("supervisor").get(f"/api/v1/quality/cohorts?period={PERIOD}&disease=htn")
    assert resp.status_code == 200, resp.json
    got = {c["quarter"]: (c["registered"], c["controlled"], c["uncontrolled"], c["visited_no_value"],
                          c["missed_visit"]) for c in resp.json["cohorts"]}
    # 甲 registered 2025-06 had no visit in 2025Q3; 丙 registered 2026-03 was 130/80 on 04-01 (2026Q2)
    assert got == {"2025Q2": (1, 0, 0, 0, 1), "2025Q3": (0, 0, 0, 0, 0), "2025Q4": (0, 0, 0, 0, 0),
                   "2026Q1": (1, 1, 0, 0, 0)}


def test_task_sla_compliance_counts_tasks_due_in_the_month(app, login_as, small_county, deploy_models):
    """Five inbox tasks of C01T01: due 06-10 done 06-09 ✓, due 06-15 done 06-20 ✗, due 06-20 open ✗, due 06-25
    cancelled (not counted), due 07-05 (another month) → 1 / 3."""
    from app.org.queries import get_org
    from app.workflows.models import HumanTask
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("county_admin")
    for n in range(5):
        resp = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "data": {"amount": n},
                                                              "business_key": f"sla-{n}"})
        assert resp.status_code == 201, resp.json
    plan = [(date(2026, 6, 10), date(2026, 6, 9), "completed"), (date(2026, 6, 15), date(2026, 6, 20), "completed"),
            (date(2026, 6, 20), None, "open"), (date(2026, 6, 25), None, "cancelled"),
            (date(2026, 7, 5), None, "open")]
    with app.app_context(), db.unit_of_work() as s:
        path = get_org("C01T01").path
        tasks = s.scalars(select(HumanTask).order_by(HumanTask.id)).all()
        assert len(tasks) == 5
        for task, (due, done, status) in zip(tasks, plan, strict=True):
            task.org_code, task.org_path, task.status = "C01T01", path, status
            task.created_at, task.due_at = _at(date(2026, 6, 1)), clock.end_of_day(due)
            task.completed_at = _at(done) if done else None
    got = _overview(login_as("supervisor"))["task_sla_compliance"]
    assert (got["numerator"], got["denominator"], got["value"]) == (1, 3, 33.3)
    assert _kids(got) == {"C01T01": (1, 3, 33.3), "C01T02": (0, 0, None)}


def test_a_definition_is_checked_before_it_is_saved(login_as, county):
    admin = login_as("county_admin")
    good = {"id": "htn_phone_share", "name": "电话随访占比", "unit": "%", "direction": "lower", "window": "month",
            "numerator": {"source": "follow_up_visits", "where": [["visit_type", "=", "phone"]]},
            "denominator": {"source": "follow_up_visits", "where": [["done", "=", True]]}}
    ok = admin.post("/api/v1/quality/indicators/validate", json={"definition": good})
    assert ok.status_code == 200, ok.json
    assert [d["code"] for d in ok.json["dimensions"]] == ["org", "doctor", "disease", "risk_level", "age_band", "sex"]
    bad = {**good, "numerator": {"source": "follow_up_visits", "where": [["visit_type", "=", {"field": ["x"]}]]}}
    refused = admin.post("/api/v1/quality/indicators/validate", json={"definition": bad})
    assert (refused.status_code, refused.json["code"], refused.json["details"]["path"]) == (
        422, "invalid_indicator", "/numerator/where/0/2")
    assert login_as("village_doctor", org="C01T01V01").post("/api/v1/quality/indicators/validate",
                                                            json={"definition": good}).status_code == 403


def test_small_denominators_and_villages_raise_no_alert(app, login_as, small_county):
    login_as("supervisor")
    with app.app_context():
        services.check_thresholds(period=PERIOD)
        alerted = {(a.indicator_id, a.org_code) for a in db.session().scalars(select(QualityAlert))}
    # C01T02 has one hypertensive patient (0% controlled) and the villages are not alerted by default
    assert ("htn_bp_control_rate", "C01T02") not in alerted
    assert not {org for _i, org in alerted if org.count("V")}
    # the county's overdue share 2/7 = 28.6% is above the warning line with 7 patients: alerted
    assert ("overdue_share", "C01") in alerted


def test_a_cohort_box_lists_its_patients_and_is_audited(app, login_as, small_county):
    api = login_as("supervisor")
    resp = api.get(f"/api/v1/quality/cohorts/members?period={PERIOD}&quarter=2025Q2&outcome=missed_visit")
    assert resp.status_code == 200, resp.json
    assert (resp.json["total"], [i["resident_name"] for i in resp.json["items"]]) == (1, ["甲"])
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "quality_cohort")) == 1
    early = api.get(f"/api/v1/quality/cohorts/members?period={PERIOD}&quarter=2026Q2&outcome=controlled")
    assert (early.status_code, early.json["code"]) == (422, "period_in_future")


def test_a_breach_gives_the_responsible_person_one_handling_task_with_the_list(app, login_as, small_county,
                                                                                monkeypatch):
    """Issue 20.2: the township's 公卫 gets one 处置质控预警 task per breach (not one per sweep), showing the value,
    the threshold and a link to the list behind it; completing it records the cause, actions and deadline and the
    alert reads 已处置. A county-level breach goes to the county supervisors instead."""
    from app.quality import library as quality_library
    from app.workflows.deploy import collect_folder_files, deploy_files
    from tests.helpers import REPO
    from tests.referral_support import open_tasks
    with app.app_context():
        deploy_files(collect_folder_files(REPO, [REPO / "bpmn" / "quality_alert.bpmn", REPO / "forms" / "quality_alert"]),
                     deployed_by="test", source="folder")
    monkeypatch.setattr(services, "alert_settings", lambda: {**quality_library.alert_settings(), "min_denominator": 1})
    public_health = login_as("township_public_health", org="C01T02")
    other_township = login_as("township_public_health", org="C01T01")
    supervisor = login_as("supervisor")
    with app.app_context():
        services.check_thresholds(period=PERIOD)
        services.check_thresholds(period=PERIOD)
        alert = db.session().scalars(select(QualityAlert).where(QualityAlert.indicator_id == "htn_bp_control_rate",
                                                                QualityAlert.org_code == "C01T02")).one()
        county_alerts = db.session().scalar(select(func.count()).select_from(QualityAlert)
                                            .where(QualityAlert.org_code == "C01"))
    with app.app_context():
        township_alerts = db.session().scalar(select(func.count()).select_from(QualityAlert)
                                              .where(QualityAlert.org_code == "C01T02"))
    mine = [public_health.get(f"/api/v1/tasks/{t['id']}").json for t in open_tasks(public_health, "handle_alert")
            if t["org_code"] == "C01T02"]
    assert len(mine) == township_alerts                           # once per breach, not once per sweep
    bp = [t for t in mine if "indicator=htn_bp_control_rate&" in t["links"][0]["href"]]
    assert len(bp) == 1
    task = public_health.get(f"/api/v1/tasks/{bp[0]['id']}").json
    assert "桃源镇卫生院" in task["instructions"] and "0%" in task["instructions"]
    assert task["links"][0] == {"label": "越线名单", "href": f"/quality?indicator=htn_bp_control_rate&org=C01T02"
                                                              f"&period={PERIOD}&part=gap"}
    assert not [t for t in open_tasks(other_township, "handle_alert") if t["org_code"] == "C01T02"]
    refused = public_health.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"cause": "未复测"}})
    assert refused.status_code == 422
    done = public_health.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {
        "cause": "3 名患者本月未复测血压", "actions": "村医本周内逐户补测并调整用药", "rectify_by": "2026-07-10"}})
    assert done.status_code == 200, done.json
    with app.app_context():
        db.session().expire_all()
        handled = db.session().get(QualityAlert, alert.id)
        assert (handled.status, handled.handled_by, handled.response["rectify_by"]) == \
            ("handled", public_health.user.username, "2026-07-10")
    listed = supervisor.get(f"/api/v1/quality/alerts?period={PERIOD}&org_code=C01T02").json["items"]
    assert [a["status_label"] for a in listed if a["id"] == alert.id] == ["已处置"]
    if county_alerts:
        assert [t for t in open_tasks(supervisor, "handle_alert") if t["org_code"] == "C01"]


def _per_org_reference(period: str) -> dict[tuple, tuple]:
    """The figures the refresh stores, counted the old way: every organisation on its own rows, every indicator
    and dimension on its own (`queries.parts`, `figure`, `groups` — the live path)."""
    from app.org import queries as org_queries
    from app.quality import aggregates, queries
    out: dict[tuple, tuple] = {}
    for org in org_queries.subtree("C01"):
        rows = queries.Rows(org.path)
        for ind in library().values():
            w = queries.window(ind, period)
            num, den = queries.parts(ind, w, rows)
            if num or den:
                fig = queries.figure(ind, num, den, w.end.year)
                out[(ind.id, org.code, "", "")] = (fig["numerator"], fig["denominator"], fig["value"])
            if org.level == "department":
                continue
            for g in queries.groups(ind, w, rows, org, "org"):
                if g["key"] == queries.SELF:
                    out[(ind.id, org.code, "self", "")] = (g["numerator"], g["denominator"], g["value"])
            for dim in aggregates.MATERIALIZED_DIMS:
                if dim in ind.dimensions:
                    for g in queries.groups(ind, w, rows, org, dim):
                        out[(ind.id, org.code, dim, aggregates.encode(g["key"]))] = (
                            g["numerator"], g["denominator"], g["value"])
    return out


@pytest.mark.parametrize("period", [PERIOD, "2026-03"])
def test_the_set_based_refresh_counts_what_the_per_org_computation_counts(app, login_as, small_county, period):
    """Townships, villages, a department's rows, two doctors, both diseases, every age band and sex present."""
    from sqlalchemy import update

    from app.org.models import Organization
    from app.quality import refresh
    doctors = [login_as("village_doctor", org=org, username=name).user.id
               for org, name in (("C01T01V01", "doc_a"), ("C01T02V01", "doc_b"))]
    with app.app_context():
        with db.unit_of_work() as s:
            for i, sid in enumerate(s.scalars(select(FollowUpSchedule.id).order_by(FollowUpSchedule.id))):
                s.execute(update(FollowUpSchedule).where(FollowUpSchedule.id == sid)
                          .values(responsible_user_id=doctors[i % 2] if i % 3 else None))
        stored = {(r["indicator_id"], r["org_code"], r["dim"], r["dim_value"]): (r["numerator"], r["denominator"],
                                                                               r["value"])
                  for r in refresh.compute(period) if r["dim"] != "outcome"}
        reference = _per_org_reference(period)
        assert db.session().scalar(select(func.count()).select_from(Organization)) > 5
    assert {k[2] for k in stored} >= {"", "self", "disease", "risk_level", "doctor", "age_band", "sex"}
    assert len({k[3] for k in stored if k[2] == "age_band"}) >= 4
    assert stored.keys() == reference.keys()
    assert [k for k in reference if stored[k] != reference[k]] == []


@pytest.mark.parametrize("materialized", [False, True])
def test_the_alert_sweep_reads_the_figures_when_the_month_has_them(app, small_county, monkeypatch, materialized):
    from app.quality import library as quality_library
    from app.quality import refresh
    monkeypatch.setattr(services, "alert_settings", lambda: {
        **quality_library.alert_settings(), "min_denominator": 1})
    with app.app_context():
        if materialized:
            refresh.refresh(PERIOD)
        first = services.check_thresholds(period=PERIOD)
        again = services.check_thresholds(period=PERIOD)
        found = {(a.indicator_id, a.org_code, a.level, a.value, a.numerator)
                 for a in db.session().scalars(select(QualityAlert))}
    assert first == len(found) > 0 and again == 0
    assert ("htn_bp_control_rate", "C01T02", "alarm", 0.0, 0) in found
    if not materialized:
        _alerts_live.clear()
        _alerts_live.update(found)
    elif _alerts_live:
        assert found == _alerts_live


_alerts_live: set = set()


@pytest.mark.parametrize("org", ["C01", "C01T01", "C01T01V01"])
def test_cohorts_read_from_the_figures_equal_the_live_cohorts(app, login_as, small_county, org):
    from app.quality import refresh
    api = login_as("supervisor")
    url = f"/api/v1/quality/cohorts?period={PERIOD}&org_code={org}"
    live = {d: api.get(f"{url}&disease={d}").json for d in ("htn", "t2dm")}
    with app.app_context():
        refresh.refresh(PERIOD)
    stored = {d: api.get(f"{url}&disease={d}").json for d in ("htn", "t2dm")}
    assert stored == live
    assert sum(c["registered"] for d in live for c in live[d]["cohorts"]) > 0

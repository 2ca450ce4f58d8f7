"""Findings (发现, issue 20.6) on a hand-built county: 随访及时率 (follow-ups due in the month done within 7 days)
over the 12 months 2025-07 … 2026-06.

20 patients in township C01T01's village C01T01V01 (doctor 甲医生), 20 in township C01T02's village C01T02V01
(乙医生), each with one visit due on the 10th of every month. C01T02V01: all on time. C01T01V01: all on time for 4
months, then for 8 months only 8 of 20 (12 done 15 days late).

By hand — township C01T01: p̄ = (80 + 64) ÷ 240 = 60.0 %, the last 8 months at 40 % < p̄ (LWL = 0.6 − 2·√(0.24/20)
= 38.1 %, so only the run rule; n·p̄ = 12, n·(1 − p̄) = 8) → drift run_8. County: p̄ = (160 + 224) ÷ 480 = 80.0 %,
last 8 months 70 % (LWL 67.4 %) → run_8. June funnel: p₀ = 28/40 = 70 %; n = 20: σ = √(0.21/20) = 0.10247, 95 %
lower limit 49.9 %, 99.8 % 38.3 % → C01T01 (and its village, and 甲医生) at 40 % are below the 95 % limit only →
warning; C01T02 at 100 % is above the 95 % upper limit 90.1 % but not the 99.8 % one (clipped to 100 %) → no
finding (the better side is reported at 99.8 % only).
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from app.auth.principal import SYSTEM
from app.auth.services import create_user
from app.core import clock, db
from app.follow_up.models import FollowUpSchedule, FollowUpVisit
from app.quality.queries import previous_periods
from app.quality.refresh import refresh
from app.residents import idcard
from app.residents.services import register_resident

PERIOD = "2026-06"
MONTHS = [(2025, m) for m in range(7, 13)] + [(2026, m) for m in range(1, 7)]
URL = "/api/v1/quality/findings"


def _at(day: date) -> datetime:
    return (clock.start_of_day(day) + timedelta(hours=10)).astimezone(UTC)


@pytest.fixture()
def drifting(app, county):
    with app.app_context():
        doctors = {v: create_user(f"doc_{v}", password="secret-pass-1", roles=["village_doctor"], org_code=v,
                                  display_name=name).id
                   for v, name in (("C01T01V01", "甲医生"), ("C01T02V01", "乙医生"))}
        people = []
        for i in range(40):
            village = "C01T01V01" if i < 20 else "C01T02V01"
            number = idcard.generate(random.Random(500 + i), area_code="330127", birth_date=date(1960, 1, 1) + timedelta(days=i),
                                     sex="M")
            people.append((register_resident({"id_number": number, "name": f"病人{i}", "org_code": village},
                                             principal=SYSTEM).id, village, i))
        with db.unit_of_work() as s:
            for rid, village, i in people:
                schedule = FollowUpSchedule(resident_id=rid, disease="htn", org_code=village, interval_days=30,
                                            next_due_on=date(2026, 7, 10), status="active", updated_at=_at(date(2026, 6, 1)),
                                            responsible_user_id=doctors[village])
                s.add(schedule)
                s.flush()
                for n, (y, m) in enumerate(MONTHS):
                    due = date(y, m, 10)
                    late = village == "C01T01V01" and n >= 4 and i % 20 >= 8
                    visited = due + timedelta(days=15 if late else 1)
                    s.add(FollowUpVisit(schedule_id=schedule.id, resident_id=rid, disease="htn", cycle_no=n + 1,
                                        due_on=due, status="done", visited_on=visited, visit_type="outpatient",
                                        created_at=_at(due), record={}))
    return doctors


def _of(found, kind, subject):
    return [f for f in found if f["indicator_id"] == "follow_up_timeliness" and f["kind"] == kind
            and f["subject"] == subject]


def test_drift_and_outliers_equal_the_hand_computed_limits(login_as, drifting, county):
    resp = login_as("supervisor").get(f"{URL}?period={PERIOD}")
    assert resp.status_code == 200, resp.json
    found = resp.json["findings"]
    names = county["names"]
    (town,) = _of(found, "drift", names["C01T01"])
    assert (town["rule"], town["severity"], town["value"], town["reference"]) == ("run_8", "warning", 40.0, 60.0)
    assert town["sentence"] == f"{names['C01T01']} 随访及时率 连续8个月低于近12个月均值 60.0%"
    assert [p["value"] for p in town["chart"]["points"]] == [100.0] * 4 + [40.0] * 8
    assert town["chart"]["points"][-1]["lwl"] == 38.1
    (whole,) = _of(found, "drift", names["C01"])
    assert (whole["rule"], whole["reference"], whole["value"]) == ("run_8", 80.0, 70.0)
    assert _of(found, "drift", names["C01T02"]) == []                       # 100 % every month: nothing to judge

    (out,) = _of(found, "outlier", names["C01T01"])
    assert (out["severity"], out["rule"], out["numerator"], out["denominator"]) == ("warning", "funnel_95%", 8, 20)
    assert out["sentence"] == (f"{names['C01T01']} 随访及时率 40.0%（8/20），低于{names['C01']}整体 70.0%，"
                               "超出95%控制限")
    assert out["chart"] == {"type": "funnel", "group": "township", "group_label": "乡镇", "network_rate": 70.0,
                            "highlight": "C01T01", "ref": "funnel:follow_up_timeliness:township"}
    funnel = resp.json["charts"][out["chart"]["ref"]]
    curve = {c["n"]: c for c in funnel["curve"]}
    assert (curve[20]["lo95"], curve[20]["lo998"]) == (49.9, 38.3)
    assert funnel["network_rate"] == 70.0 and "highlight" not in funnel
    assert {(p["key"], p["value"], p["denominator"]) for p in funnel["points"]} == {("C01T01", 40.0, 20),
                                                                                     ("C01T02", 100.0, 20)}
    assert len(_of(found, "outlier", names["C01T01V01"])) == 1
    assert _of(found, "outlier", names["C01T02"]) == []
    (doctor,) = _of(found, "outlier", "甲医生")
    assert doctor["subject_kind"] == "doctor" and doctor["link"]["doctor_id"] == drifting["C01T01V01"]


def test_a_finding_links_to_the_audited_list_behind_it(app, login_as, drifting):
    api = login_as("supervisor")
    found = api.get(f"{URL}?period={PERIOD}").json["findings"]
    for subject in ("甲医生",):
        (f,) = [x for x in found if x["subject"] == subject and x["indicator_id"] == "follow_up_timeliness"]
        link = f["link"]
        assert link["url"].startswith("/quality?indicator=follow_up_timeliness")
        q = (f"/api/v1/quality/indicators/{link['indicator_id']}/drilldown?org_code={link['org_code']}"
             f"&period={link['period']}&part={link['part']}&doctor_id={link['doctor_id']}&per_page=100")
        listed = api.get(q)
        assert listed.status_code == 200 and link["part"] == "gap"
        assert listed.json["total"] == 12                                   # the 12 late visits of June
        assert {i["facts"]["days_late"] for i in listed.json["items"]} == {15}
    other = api.get(f"/api/v1/quality/indicators/follow_up_timeliness/drilldown?period={PERIOD}&part=gap"
                    f"&doctor_id={drifting['C01T02V01']}")
    assert other.json["total"] == 0


def test_findings_are_scoped_and_checked(login_as, drifting, county):
    township = login_as("township_public_health", org="C01T02")
    own = township.get(f"{URL}?period={PERIOD}")
    assert own.status_code == 200 and own.json["org"]["code"] == "C01T02"
    assert all(county["names"]["C01T01"] not in f["sentence"] for f in own.json["findings"])
    assert township.get(f"{URL}?period={PERIOD}&org_code=C01T01").status_code == 404
    api = login_as("supervisor")
    assert api.get(f"{URL}?period=2026-13").status_code == 422
    assert api.get(f"{URL}?period=2099-01").json["code"] == "period_in_future"
    assert api.get(f"{URL}?period={PERIOD}&months=6").status_code == 422
    assert login_as("trainer").get(f"{URL}?period={PERIOD}").status_code == 403


def test_findings_read_from_the_materialized_figures_equal_the_live_ones(app, login_as, drifting):
    county_api, township = login_as("supervisor"), login_as("township_public_health", org="C01T01")
    live = county_api.get(f"{URL}?period={PERIOD}").json
    live_township = township.get(f"{URL}?period={PERIOD}").json
    assert live["freshness"]["live"] is True and live["findings"] and live_township["findings"]
    with app.app_context():
        for month in previous_periods(PERIOD, 12):
            refresh(month)
    stored = county_api.get(f"{URL}?period={PERIOD}").json
    assert stored["freshness"]["live"] is False and stored["freshness"]["as_of"]
    assert stored["findings"] == live["findings"]
    assert township.get(f"{URL}?period={PERIOD}").json["findings"] == live_township["findings"]


def test_outliers_of_one_indicator_and_peer_group_share_one_funnel(login_as, drifting, county):
    """Every outlier finding refers to its funnel, sent once in `charts` (not repeated per finding): the answer
    does not grow with findings × peers; each funnel is referred to, drifts keep their own p-chart."""
    body = login_as("supervisor").get(f"{URL}?period={PERIOD}").json
    outliers = [f for f in body["findings"] if f["kind"] == "outlier"]
    assert outliers and all("points" not in f["chart"] and "curve" not in f["chart"] for f in outliers)
    refs = {f["chart"]["ref"] for f in outliers}
    assert refs == set(body["charts"]) == {f"funnel:{f['indicator_id']}:{f['subject_kind']}" for f in outliers}
    for f in outliers:
        funnel = body["charts"][f["chart"]["ref"]]
        assert funnel["group"] == f["subject_kind"] and funnel["network_rate"] == f["reference"]
        highlighted = [p for p in funnel["points"] if p["key"] == f["chart"]["highlight"]]
        assert [(p["numerator"], p["denominator"], p["value"]) for p in highlighted] == [
            (f["numerator"], f["denominator"], f["value"])]
    drifts = [f for f in body["findings"] if f["kind"] == "drift"]
    assert drifts and all(f["chart"]["type"] == "p_chart" and f["chart"]["points"] for f in drifts)

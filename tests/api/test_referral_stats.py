"""The referral dashboard's figures against a hand-counted fixture (wave2 §1.5), the drill-down listing exactly the rows
counted, the filters (period, organisation, disease), and liveness: a referral moving through the real process changes
the figures at once (no nightly batch)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from tests.referral_support import complete, deploy_referral_models, make_resident, one

H = timedelta(hours=1)
D = timedelta(days=1)

# Ten referrals of one week, hand-counted below.                                     (village C01T01V01 → cardiology C01D01)
#  no  dir  urgency    disease  offered decided(≤due?) accepted rejections arrived result_on_time fu_on_time  ooc
#  1   up   routine    htn      yes     yes (in SLA)   yes      0          yes     yes            yes         no
#  2   up   routine    htn      yes     yes (late)     yes      0          yes     no             no          no
#  3   up   priority   t2dm     yes     yes (in SLA)   yes      0          no      -              yes         no
#  4   up   routine    t2dm     yes     yes (in SLA)   no       1 (床位已满) no     -              no          no
#  5   up   routine    htn      yes     no (overdue)   no       0          no      -              -           no
#  6   up   emergency  htn      yes     -              yes      0          yes     yes            yes         no
#  7   up   routine    htn      yes     -              no       0          no      -              -           yes
#  8   up   routine    htn      no (drafting)          -        -          -       -              -           -
#  9   down routine    htn      yes     -              yes      -          -       -              yes         -
# 10   down routine    t2dm     yes     -              yes      -          -       -              no          -
EXPECTED = {
    # key: (numerator, denominator)        hand count
    "up_count": (7, None),                  # 1–7 offered up
    "down_count": (2, None),                # 9, 10
    "up_down_ratio": (2, 7),
    "arrival_rate": (3, 4),                 # accepted up: 1, 2, 3, 6 → arrived 1, 2, 6
    "acceptance_within_sla": (3, 5),        # SLA base: up, offered, routine/priority, in county: 1,2,3,4,5 → in SLA 1,3,4
    "rejection_rate": (1, 5),               # 4
    "result_return_rate": (2, 3),           # arrived 1, 2, 6 → on time 1, 6
    "follow_up_timeliness": (3, 6),         # 1, 3, 6 of 1–4, 6 (followed up) and 7 (14 days over); 5 is still in its window
    "down_first_follow_up_timeliness": (1, 2),
    "out_of_county_rate": (1, 7),           # 7
}


@pytest.fixture()
def fixture_rows(app, county):
    from app.core.db import unit_of_work
    from app.org.queries import find_org
    from app.referral.models import Referral
    resident = make_resident(app)
    with app.app_context():
        village, cardio = find_org("C01T01V01"), find_org("C01D01")
        monday = clock.start_of_day(clock.today() - timedelta(days=clock.today().weekday() + 7))   # last week
        rows = [
            # no, dir, urgency, disease, offered, decided (offset h after offer, None), accepted, rejections,
            # arrived, result_on_time, fu_on_time, out_of_county, reject_reason
            (1, "up", "routine", "htn", True, 2, True, 0, True, True, True, False, None),
            (2, "up", "routine", "htn", True, 30, True, 0, True, False, False, False, None),
            (3, "up", "priority", "t2dm", True, 1, True, 0, False, None, True, False, None),
            (4, "up", "routine", "t2dm", True, 5, False, 1, False, None, False, False, "床位已满"),
            (5, "up", "routine", "htn", True, None, False, 0, False, None, None, False, None),
            (6, "up", "emergency", "htn", True, 0, True, 0, True, True, True, False, None),
            (7, "up", "routine", "htn", True, None, False, 0, False, None, None, True, None),
            (8, "up", "routine", "htn", False, None, False, 0, False, None, None, False, None),
            (9, "down", "routine", "htn", True, None, True, 0, False, None, True, False, None),
            (10, "down", "routine", "t2dm", True, None, True, 0, False, None, False, False, None),
        ]
        with unit_of_work() as s:
            for (no, direction, urgency, disease, offered, decided, accepted, rejections, arrived, result_ok, fu_ok,
                 ooc, reason) in rows:
                at = monday + no * H
                sla = 4 * H if urgency == "priority" else 24 * H
                up = direction == "up"
                s.add(Referral(
                    referral_no=f"{'SZ' if up else 'XZ'}19990101-{no:04d}", direction=direction,
                    status="offered" if offered else "drafting", urgency=urgency, disease=disease,
                    resident_id=resident, resident_name="王建国", source="manual",
                    from_org_code=(village if up else cardio).code, from_org_path=(village if up else cardio).path,
                    to_org_code=None if ooc else (cardio if up else village).code,
                    to_org_path=None if ooc else (cardio if up else village).path,
                    out_of_county=ooc, external_hospital="市第一人民医院" if ooc else None,
                    requested_at=at, offered_at=at if offered else None,
                    decision_due_at=at + sla if offered and up and urgency != "emergency" and not ooc else None,
                    decided_at=at + decided * H if decided is not None else None,
                    accepted_at=at + (decided or 0) * H if accepted else None,
                    rejected_at=at + decided * H if rejections else None, rejections=rejections, reject_reason=reason,
                    arrived_at=at + D if arrived else None, result_on_time=result_ok, follow_up_on_time=fu_ok,
                    # the 2-week follow-up falls due 14 days after the offer (next week); 7's is back-dated as overdue
                    follow_up_due_on=(clock.today() - D if no == 7 else clock.date_of(at + 14 * D)) if offered else None,
                    form={}, result={}, follow_up={}, updated_at=at))
    return {"resident": resident, "start": clock.date_of(monday), "end": clock.date_of(monday + 6 * D)}


def _stats(api, **query) -> dict:
    resp = api.get("/api/v1/referral-stats", query_string=query)
    assert resp.status_code == 200, resp.json
    return resp.json


def test_every_figure_matches_the_hand_count_and_drills_down_to_the_rows_counted(fixture_rows, login_as):
    supervisor = login_as("supervisor", org="C01")
    period = {"start": fixture_rows["start"].isoformat(), "end": fixture_rows["end"].isoformat()}
    got = {i["key"]: i for i in _stats(supervisor, **period)["indicators"]}
    assert {k: (v["numerator"], v["denominator"]) for k, v in got.items()} == EXPECTED
    assert got["up_down_ratio"]["value"] == round(2 / 7, 4) and got["arrival_rate"]["value"] == 0.75
    for key, (num, den) in EXPECTED.items():
        for part, expected in (("numerator", num), ("denominator", den)):
            if expected is None:
                continue
            listed = supervisor.get("/api/v1/referrals", query_string={**period, "indicator": key, "part": part,
                                                                       "per_page": 100}).json
            assert listed["total"] == expected, (key, part)
    stats = _stats(supervisor, **period)
    assert stats["rejections_by_reason"] == [{"reason": "床位已满", "count": 1}]


def test_the_workbook_downloads_with_its_file_name(fixture_rows, login_as):
    from io import BytesIO

    from openpyxl import load_workbook
    supervisor = login_as("supervisor", org="C01")
    period = {"start": fixture_rows["start"].isoformat(), "end": fixture_rows["end"].isoformat()}
    resp = supervisor.get("/api/v1/referral-stats.xlsx", query_string=period)
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="referral-stats.xlsx"')
    assert load_workbook(BytesIO(resp.data)).sheetnames


def test_the_filters_narrow_the_same_figures(fixture_rows, login_as):
    supervisor = login_as("supervisor", org="C01")
    period = {"start": fixture_rows["start"].isoformat(), "end": fixture_rows["end"].isoformat()}
    dm = {i["key"]: i for i in _stats(supervisor, **period, disease="t2dm")["indicators"]}
    assert (dm["up_count"]["numerator"], dm["down_count"]["numerator"]) == (2, 1)          # 3, 4 | 10
    assert (dm["acceptance_within_sla"]["numerator"], dm["acceptance_within_sla"]["denominator"]) == (2, 2)
    other_township = {i["key"]: i for i in _stats(supervisor, **period, org_code="C01T02")["indicators"]}
    assert other_township["up_count"]["numerator"] == 0
    before = {i["key"]: i for i in _stats(supervisor, start="1999-01-01", end="1999-01-31")["indicators"]}
    assert before["up_count"]["numerator"] == 0
    township = login_as("township_doctor", org="C01T02")                                    # another township's scope
    assert {i["key"]: i for i in _stats(township, **period)["indicators"]}["up_count"]["numerator"] == 0


def test_the_figures_move_as_the_process_moves(app, county, login_as):
    """No nightly batch: offering a referral and accepting it changes the counts on the next read."""
    from tests.referral_support import add_department, catalogue
    deploy_referral_models(app)
    add_department(app, "C01D09", "急诊科")
    catalogue(app, ("C01D01", "cardiology"), ("C01D09", "emergency"))
    resident = make_resident(app)
    village = login_as("village_doctor", org="C01T01V01")
    cardio = login_as("county_specialist", org="C01D01")
    supervisor = login_as("supervisor", org="C01")
    today = {"start": clock.today().isoformat(), "end": clock.today().isoformat()}

    def figure(key):
        return next(i for i in _stats(supervisor, **today)["indicators"] if i["key"] == key)

    assert figure("up_count")["numerator"] == 0
    r = village.post("/api/v1/referrals", json={"resident_id": resident, "disease": "htn", "reason": "血压控制差"}).json
    complete(village, one(village, "fill_referral_form"), {"target_org": "C01D01", "reason": "血压控制差", "consent": True})
    assert figure("up_count")["numerator"] == 1
    assert (figure("acceptance_within_sla")["numerator"], figure("acceptance_within_sla")["denominator"]) == (0, 1)
    assert cardio.post(f"/api/v1/referrals/{r['id']}/accept", json={}).status_code == 200
    assert (figure("acceptance_within_sla")["numerator"], figure("arrival_rate")["denominator"]) == (1, 1)

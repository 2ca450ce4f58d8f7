"""Issue 18.2 prescription search: `GET /api/v1/prescriptions` by drug, prescriber, organisation (subtree), the
state the prescription stands in, resident and dates, scoped like one prescription (the county review centre's
pharmacists see the network, a township its own subtree), paged, read-audited; bad parameters are refused 422 with
a stable code."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.core import clock, ratelimit
from tests.pharmacy_support import allow_auto_pass, deploy_pharmacy_models, id_number_of, make_prescriber, rx
from tests.referral_support import arrival, complete, count, make_resident

RIVA_OK = [{"drug": "rivaroxaban", "dose_mg": 20, "frequency": "qd", "days": 7}]
WARFARIN = [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd"}]


@pytest.fixture()
def world(app, county, client, login_as):
    deploy_pharmacy_models(app)
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=20, burst=100).reset()
    from app.auth.services import create_client
    with app.app_context():
        his, secret = create_client("县人民医院 HIS")
    creds = {"client_id": his.client_id, "secret": secret}
    make_prescriber(app, "李医生", "C01T01V01")
    make_prescriber(app, "周医生", "C01T02V01")
    allow_auto_pass(app, "C01", "rivaroxaban")
    home = make_resident(app)
    away = make_resident(app, org="C01T02V01", name="李秀英", seed=11, sex="F")
    home_id, away_id = id_number_of(), id_number_of(seed=11, sex="F")

    def send(rx_id, items, *, id_number=home_id, org="C01T01V01", prescriber="李医生", **extra):
        body = rx(id_number, rx_id, items, **extra) | {"org_code": org, "prescriber": prescriber}
        resp = arrival(client, creds, body, f"d-{rx_id}", message="rx_created")
        assert resp.status_code == 200, resp.json
        return resp.json["prescription_id"]

    today = clock.today().isoformat()
    ids = {
        "passed": send("S-1", RIVA_OK, clinical={"crcl_ml_min": 80}),
        "reviewing": send("S-2", WARFARIN, concomitant=["amiodarone"], clinical={"inr": 2.4, "inr_date": today}),
        "away": send("S-3", WARFARIN, id_number=away_id, org="C01T02V01", prescriber="周医生",
                     concomitant=["amiodarone"], clinical={"inr": 2.4, "inr_date": today}),
    }
    return {"ids": ids, "creds": creds, "home": home, "away": away, "send": send,
            "pharmacist": login_as("pharmacist", org="C01", username="pharm_a"),
            "township": login_as("township_doctor", org="C01T01"),
            "other_township": login_as("township_doctor", org="C01T02"),
            "village": login_as("village_doctor", org="C01T01V01")}


def search(api, **params) -> dict:
    resp = api.get("/api/v1/prescriptions", query_string=params)
    assert resp.status_code == 200, resp.json
    return resp.json


def ids_of(page: dict) -> list[int]:
    return [row["id"] for row in page["items"]]


def test_the_county_pharmacist_searches_the_network_by_drug_prescriber_organisation_and_state(world):
    w, ids = world, world["ids"]
    ph = w["pharmacist"]
    assert ids_of(search(ph)) == [ids["away"], ids["reviewing"], ids["passed"]]      # newest first
    assert ids_of(search(ph, drug="warfarin")) == [ids["away"], ids["reviewing"]]
    assert ids_of(search(ph, drug="rivaroxaban")) == [ids["passed"]]
    assert ids_of(search(ph, drug="enoxaparin")) == []
    assert ids_of(search(ph, prescriber="周医生")) == [ids["away"]]
    assert ids_of(search(ph, org_code="C01T01")) == [ids["reviewing"], ids["passed"]]
    assert ids_of(search(ph, org_code="C01T02V01")) == [ids["away"]]
    assert ids_of(search(ph, state="passed")) == [ids["passed"]]
    assert ids_of(search(ph, state="reviewing", drug="warfarin", org_code="C01T01")) == [ids["reviewing"]]
    assert ids_of(search(ph, resident_id=w["away"])) == [ids["away"]]


def test_a_row_carries_what_the_review_queue_shows(world):
    w, ids = world, world["ids"]
    [row] = search(w["pharmacist"], state="reviewing", org_code="C01T01")["items"]
    assert row["id"] == ids["reviewing"] and row["resident_name"] == "王建国"
    assert (row["state"], row["state_label"], row["status_label"]) == ("reviewing", "审核中", "审核中")
    assert row["summary"] == "华法林 3 mg 每日1次" and row["drugs"] == ["warfarin"]
    assert row["org_name"] and row["prescriber"] == "李医生"
    assert [(f["code"], f["grade_label"]) for f in row["findings"]] == [("warfarin_interaction", "警示")]
    assert "胺碘酮" in row["findings"][0]["message"]
    due, received = (datetime.fromisoformat(row[k]) for k in ("review_due_at", "received_at"))
    assert abs(due - received - timedelta(minutes=5)) < timedelta(seconds=2) and row["escalated"] is False
    [passed] = search(w["pharmacist"], state="passed")["items"]
    assert passed["review_due_at"] is None and passed["findings"] == []
    assert passed["review_seconds_left"] is None


def test_the_countdown_is_counted_on_the_servers_clock(world):
    """The review SLA's remaining seconds come from the server (a phone with a wrong clock shows the right time)."""
    w = world
    page = search(w["pharmacist"], state="reviewing", org_code="C01T01")
    [row] = page["items"]
    assert 295 <= row["review_seconds_left"] <= 300
    assert abs(datetime.fromisoformat(page["server_now"]) - clock.now()) < timedelta(seconds=5)
    clock.advance(timedelta(minutes=6))
    [late] = search(w["pharmacist"], state="reviewing", org_code="C01T01")["items"]
    assert -65 <= late["review_seconds_left"] <= -55


def test_the_state_follows_the_trace_through_intervention_and_after_release(app, client, world):
    w, ids = world, world["ids"]
    ph = w["pharmacist"]
    complete(ph, _review_task(ph, ids["reviewing"]), {"decision": "intervene", "problems": ["interaction"], "opinion": "胺碘酮增强华法林作用，请减量"})
    assert ids_of(search(ph, state="intervened")) == [ids["reviewing"]]
    trace = ph.get(f"/api/v1/prescriptions/{ids['reviewing']}").json["states"]
    assert [(s["label"], s["actor_name"]) for s in trace[:2]] == [("开具", "李医生"), ("审核中", "系统")]
    assert trace[1]["org_name"] and trace[-1]["note"] == "胺碘酮增强华法林作用，请减量"
    assert ids_of(search(ph, state="reviewing")) == [ids["away"]]
    charged = arrival(client, w["creds"], {"rx_id": "S-1", "state": "charged", "actor": "收费处"}, "st-1",
                      message="rx_state")
    assert charged.status_code == 200, charged.json
    assert ids_of(search(ph, state="charged")) == [ids["passed"]] and search(ph, state="passed")["total"] == 0
    assert search(ph, state="charged")["items"][0]["state_label"] == "收费"


def _review_task(api, prescription_id: int) -> dict:
    instance_id = api.get(f"/api/v1/prescriptions/{prescription_id}").json["instance_id"]
    tasks = api.get("/api/v1/tasks", query_string={
        "process_id": "rx_prereview", "element_id": "pharmacist_review", "view": "groups"}).json["items"]
    [task] = [t for t in tasks if t["instance_id"] == instance_id]
    return api.get(f"/api/v1/tasks/{task['id']}").json


def test_others_see_their_own_scope_only(world):
    w, ids = world, world["ids"]
    assert ids_of(search(w["township"])) == [ids["reviewing"], ids["passed"]]
    assert ids_of(search(w["village"], drug="warfarin")) == [ids["reviewing"]]
    assert ids_of(search(w["other_township"])) == [ids["away"]]
    # another township's organisation or resident as a filter finds nothing, it does not widen the scope
    assert _empty(search(w["other_township"], org_code="C01T01"))
    assert _empty(search(w["other_township"], resident_id=w["home"]))


def _empty(page: dict) -> bool:
    return (page["items"], page["total"]) == ([], 0)


def test_pages(world):
    w = world
    for n in range(3):
        w["send"](f"P-{n}", RIVA_OK, clinical={"crcl_ml_min": 80})
    first = search(w["pharmacist"], per_page=2)
    second = search(w["pharmacist"], per_page=2, page=2)
    last = search(w["pharmacist"], per_page=2, page=3)
    assert first["total"] == second["total"] == last["total"] == 6
    assert len(set(ids_of(first) + ids_of(second) + ids_of(last))) == 6
    by_drug = [search(w["pharmacist"], drug="rivaroxaban", per_page=3, page=p) for p in (1, 2)]
    assert [b["total"] for b in by_drug] == [4, 4] and len(set(ids_of(by_drug[0]) + ids_of(by_drug[1]))) == 4


def test_dates_bound_the_day_received(world):
    w = world
    today = clock.today()
    assert search(w["pharmacist"], **{"from": today.isoformat(), "to": today.isoformat()})["total"] == 3
    assert search(w["pharmacist"], **{"from": (today + timedelta(days=1)).isoformat()})["total"] == 0
    assert search(w["pharmacist"], to=(today - timedelta(days=1)).isoformat())["total"] == 0


@pytest.mark.parametrize("params,code", [
    ({"drug": "unknownium"}, "validation_error"),
    ({"state": "lost"}, "validation_error"),
    ({"state": "escalated"}, "validation_error"),
    ({"page": 0}, "validation_error"),
    ({"page": "x"}, "validation_error"),
    ({"per_page": 1000}, "validation_error"),
    ({"resident_id": "abc"}, "validation_error"),
    ({"from": "2026-13-01"}, "validation_error"),
    ({"org_code": "X99"}, "unknown_org_code"),
    ({"from": "2026-12-05", "to": "2026-12-01"}, "invalid_date_range"),
])
def test_bad_parameters_are_refused_with_a_stable_code(world, params, code):
    resp = world["pharmacist"].get("/api/v1/prescriptions", query_string=params)
    assert resp.status_code == 422 and resp.json["code"] == code, resp.json


def test_the_search_is_audited_and_refused_to_roles_that_treat_no_one(app, world, login_as):
    from app.audit.models import AuditEntry
    before = count(app, AuditEntry, object_type="prescription")
    search(world["pharmacist"], drug="warfarin")
    assert count(app, AuditEntry, object_type="prescription") == before + 1
    assert login_as("trainer", org="C01").get("/api/v1/prescriptions").status_code == 403


def test_the_form_offers_supervised_drugs_states_and_the_prescribers_in_scope(world):
    w = world
    got = w["pharmacist"].get("/api/v1/prescriptions/options").json
    assert {"code": "warfarin", "label": "华法林"} in got["drugs"]
    assert {"code": "administered", "label": "用药"} in got["states"]
    assert "escalated" not in [s["code"] for s in got["states"]]
    assert sorted(got["prescribers"]) == ["周医生", "李医生"]
    assert w["township"].get("/api/v1/prescriptions/options").json["prescribers"] == ["李医生"]

"""Live vitals: a monitor's FHIR Observations (POST /fhir, device bound to an open room) become the room's readings
and the resident's observations; the snapshot shows the last value and 15-minute trend; SpO2 below 90 raises one
alarm per crossing (logged, published as LIVE_ALARM); a closed room's device is refused with 403, nothing stored."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core import clock, ratelimit
from app.core.db import session
from app.live import services
from app.live.models import LiveAlarm, LiveReading
from app.workflows import hooks

CHANNEL_CODES = {"hr": "8867-4", "spo2": "59408-5", "sbp": "8480-6", "dbp": "8462-4", "rr": "9279-1",
                 "temp": "8310-5"}
UNITS = {"hr": "/min", "spo2": "%", "sbp": "mm[Hg]", "dbp": "mm[Hg]", "rr": "/min", "temp": "Cel"}


def vitals_bundle(resident_id: int, device: str, values: dict[str, float], at: datetime, n: int) -> dict:
    """What a monitor gateway sends once a second: one transaction Bundle, one Observation per channel."""
    return {"resourceType": "Bundle", "type": "transaction", "id": f"{device}-{n}", "entry": [
        {"fullUrl": f"urn:uuid:{device}-{n}-{ch}", "request": {"method": "POST", "url": "Observation"},
         "resource": {"resourceType": "Observation", "status": "final",
                      "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                                "code": "vital-signs"}]}],
                      "code": {"coding": [{"system": "http://loinc.org", "code": CHANNEL_CODES[ch]}]},
                      "subject": {"reference": f"Patient/{resident_id}"}, "device": {"reference": f"Device/{device}"},
                      "effectiveDateTime": at.isoformat(),
                      "valueQuantity": {"value": v, "unit": UNITS[ch], "system": "http://unitsofmeasure.org"}}}
        for ch, v in values.items()]}


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=50, burst=500).reset()


@pytest.fixture()
def monitor(app, login_as):
    """The monitor gateway: an integration client with a bearer token."""
    return login_as("integration", org="C01")


@pytest.fixture()
def world(app, login_as, make_resident):
    doctor, expert = login_as("township_doctor", org="C01T01"), login_as("county_specialist", org="C01D01")
    resident = make_resident(org="C01T01V01")
    with app.app_context():
        services.open_room("consult", 5, [doctor.user.id, expert.user.id], "急会诊", device_ids=["MON-7"])
    return {"doctor": doctor, "expert": expert, "resident_id": resident["id"]}


def post(monitor, body):
    return monitor.post("/fhir", data=json.dumps(body), content_type="application/fhir+json")


def count(app, model) -> int:
    with app.app_context():
        n = session().scalar(select(func.count()).select_from(model))
        session().rollback()
        return n


def observations(app, resident_id) -> int:
    from app.residents.record_models import Observation
    with app.app_context():
        n = session().scalar(select(func.count()).select_from(Observation).where(Observation.resident_id == resident_id))
        session().rollback()
        return n


@pytest.fixture()
def alarms_published():
    seen: list[dict] = []

    def listener(**payload):
        seen.append(payload)
    hooks.subscribe(hooks.LIVE_ALARM, listener)
    yield seen
    hooks._subscribers[hooks.LIVE_ALARM].remove(listener)


def test_monitor_readings_stream_into_the_open_room_and_the_record(app, monitor, world, alarms_published):
    rid, now = world["resident_id"], clock.now().replace(microsecond=0)
    normal = {"hr": 88, "spo2": 96, "sbp": 132, "dbp": 84, "rr": 18, "temp": 36.8}
    for n, (spo2, dt) in enumerate([(96, -20 * 60), (95, -60), (88, -2), (87, -1), (93, 0)]):
        got = post(monitor, vitals_bundle(rid, "MON-7", {**normal, "spo2": spo2}, now + timedelta(seconds=dt), n))
        assert got.status_code == 200, got.get_json()
    assert count(app, LiveReading) == 30 and observations(app, rid) == 30
    # one alarm per crossing: 88 crossed, 87 stayed below, 93 recovered
    assert [(a["channel"], a["value"], a["threshold"], a["kind"], a["ref"]) for a in alarms_published] == \
        [("spo2", 88.0, "<90", "consult", 5)]
    assert count(app, LiveAlarm) == 1
    snap = world["expert"].get("/api/v1/live/rooms/consult/5").get_json()
    spo2 = next(c for c in snap["channels"] if c["channel"] == "spo2")
    assert spo2["last"]["value"] == 93 and spo2["alarm"] is None
    assert [v for _at, v in spo2["trend"]] == [95, 88, 87, 93]          # 20 minutes ago is outside the trend
    assert snap["alarms"][0]["label"] == "血氧饱和度" and snap["alarms"][0]["threshold"] == "<90"


def test_active_alarm_shows_while_the_last_value_breaches(app, monitor, world):
    post(monitor, vitals_bundle(world["resident_id"], "MON-7", {"spo2": 88, "hr": 140}, clock.now(), 1))
    snap = world["doctor"].get("/api/v1/live/rooms/consult/5").get_json()
    assert {c["channel"]: c["alarm"] for c in snap["channels"] if c["alarm"]} == {"spo2": "<90", "hr": ">130"}


def test_the_stream_delivers_readings_and_alarms_after_the_cursor(app, monitor, world, monkeypatch):
    monkeypatch.setenv("YGT_LIVE_STREAM_SECONDS", "0.3")
    cursor = world["expert"].get("/api/v1/live/rooms/consult/5").get_json()["cursor"]
    post(monitor, vitals_bundle(world["resident_id"], "MON-7", {"spo2": 88}, clock.now(), 1))
    text = world["expert"].get(f"/api/v1/live/rooms/consult/5/stream?cursor={cursor}").get_data(as_text=True)
    events = [block for block in text.split("\n\n") if "event: " in block]
    kinds = [line.split(": ", 1)[1] for block in events for line in block.split("\n") if line.startswith("event: ")]
    assert kinds == ["vitals", "alarm", "reconnect"]
    vitals = json.loads(next(b for b in events if "event: vitals" in b).split("data: ", 1)[1])
    assert [(v["channel"], v["value"]) for v in vitals] == [("spo2", 88.0)]
    # a reconnect with Last-Event-ID resumes after what was delivered
    last_id = events[-1].split("id: ", 1)[1].split("\n")[0]
    again = world["expert"].get("/api/v1/live/rooms/consult/5/stream", headers={"Last-Event-ID": last_id})
    assert "event: vitals" not in again.get_data(as_text=True)


def test_vitals_for_a_closed_room_are_refused_and_not_stored(app, monitor, world):
    with app.app_context():
        services.close_room("consult", 5)
    got = post(monitor, vitals_bundle(world["resident_id"], "MON-7", {"spo2": 88}, clock.now(), 1))
    assert got.status_code == 403, got.get_json()
    assert got.get_json()["resourceType"] == "OperationOutcome"
    assert count(app, LiveReading) == 0 and count(app, LiveAlarm) == 0 and observations(app, world["resident_id"]) == 0
    closed = world["expert"].get("/api/v1/live/rooms/consult/5/stream")
    assert closed.status_code == 403 and closed.get_json()["code"] == "live_room_closed"


def test_an_unbound_device_is_only_a_record_fact(app, monitor, world):
    got = post(monitor, vitals_bundle(world["resident_id"], "OTHER", {"hr": 70}, clock.now(), 1))
    assert got.status_code == 200 and count(app, LiveReading) == 0 and observations(app, world["resident_id"]) == 1


def test_implausible_value_is_refused_whole(app, monitor, world):
    got = post(monitor, vitals_bundle(world["resident_id"], "MON-7", {"hr": 80, "spo2": 180}, clock.now(), 1))
    assert got.status_code == 422 and count(app, LiveReading) == 0


def nibp_panel(resident_id: int, device: str, sbp: float, dbp: float, at: datetime) -> dict:
    """A monitor's NIBP as one FHIR blood-pressure panel (LOINC 85354-9) with systolic/diastolic components."""
    def comp(code, v):
        return {"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "valueQuantity": {"value": v, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}
    return {"resourceType": "Bundle", "type": "transaction", "id": f"{device}-nibp", "entry": [
        {"fullUrl": f"urn:uuid:{device}-nibp", "request": {"method": "POST", "url": "Observation"},
         "resource": {"resourceType": "Observation", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                      "subject": {"reference": f"Patient/{resident_id}"}, "device": {"reference": f"Device/{device}"},
                      "effectiveDateTime": at.isoformat(),
                      "component": [comp("8480-6", sbp), comp("8462-4", dbp)]}}]}


def test_a_nibp_panel_is_split_into_the_systolic_and_diastolic_channels(app, monitor, world):
    from app.residents.record_models import Observation
    rid, now = world["resident_id"], clock.now().replace(microsecond=0)
    got = post(monitor, nibp_panel(rid, "MON-7", 86, 52, now))
    assert got.status_code == 200, got.get_json()
    snap = world["expert"].get("/api/v1/live/rooms/consult/5").get_json()
    last = {c["channel"]: (c["last"] or {}).get("value") for c in snap["channels"]}
    assert last["sbp"] == 86 and last["dbp"] == 52
    with app.app_context():
        codes = sorted(session().scalars(select(Observation.code).where(Observation.resident_id == rid)))
        session().rollback()
    assert codes == ["8462-4", "8480-6"]
    bad = nibp_panel(rid, "MON-7", 120, 80, now)
    del bad["entry"][0]["resource"]["component"][1]["valueQuantity"]
    bad["id"] = "MON-7-bad"
    refused = post(monitor, bad)
    assert refused.status_code in (400, 422) and count(app, LiveReading) == 2     # refused whole, nothing stored

"""Device readings from vendor clouds (issue 22.4): a signed delivery lands as observations of the resident the
device is registered to (source vendor:<vendor>:<serial>, a home value), once per reading; an unknown device's
reading is stored for review with a clear code and recorded when the device is registered; bad readings are kept as
invalid without blocking the others."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from app.core import clock, db, ratelimit
from app.residents.record_models import Observation
from app.webhooks.signature import sign

URL = "/api/v1/connectors/devices/{vendor}/readings"


@pytest.fixture()
def vendor(app, county):
    from app.auth.services import create_client
    with app.app_context():
        client, secret = create_client("血压计厂商云")
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=20, burst=100).reset()
    return {"client_id": client.client_id, "secret": secret}


def deliver(client, creds, readings, *, vendor_name="acme-bp", secret=None):
    body = json.dumps({"readings": readings} if isinstance(readings, list) else readings)
    webhook_id, timestamp = f"msg_{uuid.uuid4().hex}", int(clock.now().timestamp())
    headers = {"X-Client-Id": creds["client_id"], "webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(secret or creds["secret"], webhook_id, timestamp, body),
               "Content-Type": "application/json"}
    return client.post(URL.format(vendor=vendor_name), data=body.encode(), headers=headers)


def bp_reading(serial="BP-88120", systolic=142, **extra):
    return {"reading_id": f"r-{uuid.uuid4().hex[:8]}", "serial": serial, "kind": "bp",
            "measured_at": "2026-12-04T07:02:00+08:00", "systolic": systolic, "diastolic": 91, "pulse": 77, **extra}


def _observations(app, resident_id):
    with app.app_context():
        rows = db.session().scalars(select(Observation).where(Observation.resident_id == resident_id)
                                    .order_by(Observation.code)).all()
        return [(o.code, o.value_num, o.source) for o in rows]


def test_a_registered_cuffs_reading_lands_once_as_home_observations(app, client, vendor, login_as, make_resident):
    resident = make_resident()
    doctor = login_as("village_doctor", org="C01T01V01")
    reg = doctor.post("/api/v1/devices", json={"vendor": "acme-bp", "serial": "BP-88120", "kind": "bp",
                                               "resident_id": resident["id"]})
    assert reg.status_code == 201, reg.json
    reading = bp_reading()
    first = deliver(client, vendor, [reading])
    assert first.status_code == 200, first.json
    [result] = first.json["results"]
    assert result["status"] == "recorded" and len(result["observation_ids"]) == 3
    again = deliver(client, vendor, [reading])
    assert again.json["results"][0]["status"] == "duplicate"
    assert again.json["results"][0]["observation_ids"] == result["observation_ids"]
    assert _observations(app, resident["id"]) == [("8462-4", 91.0, "vendor:acme-bp:BP-88120"),
                                                  ("8480-6", 142.0, "vendor:acme-bp:BP-88120"),
                                                  ("8867-4", 77.0, "vendor:acme-bp:BP-88120")]
    record = doctor.get(f"/api/v1/residents/{resident['id']}/observations?code=8480-6").json["items"]
    assert record[0]["home"] is True and record[0]["source_label"] == "家用设备"


def test_an_unknown_devices_reading_is_stored_for_review_and_recorded_when_registered(app, client, vendor,
                                                                                         login_as, make_resident):
    resident = make_resident()
    glucose = {"reading_id": "g-1", "serial": "GL-5512", "kind": "glucose", "measured_at": "2026-12-04T07:00:00+08:00",
               "glucose_mmol_l": 7.2, "meal": "fasting"}
    resp = deliver(client, vendor, [glucose], vendor_name="acme-gl")
    [result] = resp.json["results"]
    assert result["status"] == "unknown_device" and result["error"]["code"] == "unknown_device"
    doctor = login_as("village_doctor", org="C01T01V01")
    queue = doctor.get("/api/v1/devices/readings?status=unknown_device").json
    assert queue["total"] == 1 and queue["items"][0]["serial"] == "GL-5512"
    reg = doctor.post("/api/v1/devices", json={"vendor": "acme-gl", "serial": "GL-5512", "kind": "glucose",
                                               "resident_id": resident["id"]})
    assert reg.status_code == 201 and reg.json["recorded_waiting"] == 1
    assert _observations(app, resident["id"]) == [("1558-6", 7.2, "vendor:acme-gl:GL-5512")]
    assert doctor.get("/api/v1/devices/readings?status=unknown_device").json["total"] == 0


def test_bad_readings_are_kept_as_invalid_and_do_not_block_good_ones(app, client, vendor, login_as, make_resident):
    resident = make_resident()
    login_as("village_doctor", org="C01T01V01").post("/api/v1/devices", json={
        "vendor": "acme-bp", "serial": "BP-1", "kind": "bp", "resident_id": resident["id"]})
    resp = deliver(client, vendor, [bp_reading("BP-1", systolic=900), {"serial": "BP-1", "kind": "bp"},
                                    bp_reading("BP-1", measured_at="2026-12-04T07:02:00"), bp_reading("BP-1")])
    assert [(r["status"], (r.get("error") or {}).get("code")) for r in resp.json["results"]] == [
        ("invalid", "invalid_value"), ("invalid", "schema_error"), ("invalid", "schema_error"), ("recorded", None)]
    assert len(_observations(app, resident["id"])) == 3


def test_a_body_that_is_not_the_format_or_badly_signed_stores_nothing(app, client, vendor):
    assert deliver(client, vendor, {"nope": 1}).json["code"] == "schema_error"
    assert deliver(client, vendor, [bp_reading()], vendor_name="ACME!").json["code"] == "invalid_vendor"
    assert deliver(client, vendor, [bp_reading()], secret="whsec_" + "A" * 32).status_code == 401
    with app.app_context():
        from connectors.devices.models import DeviceReading
        assert db.session().scalars(select(DeviceReading)).all() == []


def test_registration_is_scoped_and_one_device_has_one_resident(login_as, make_resident):
    home, away = make_resident(), make_resident(org="C01T02V01", name="李秀英")
    doctor = login_as("village_doctor", org="C01T01V01")
    body = {"vendor": "acme-bp", "serial": "BP-2", "kind": "bp"}
    assert doctor.post("/api/v1/devices", json={**body, "resident_id": away["id"]}).status_code == 404
    assert doctor.post("/api/v1/devices", json={**body, "resident_id": home["id"]}).status_code == 201
    colleague = login_as("village_doctor", org="C01T02V01")
    clash = colleague.post("/api/v1/devices", json={**body, "resident_id": away["id"]})
    assert clash.status_code == 409 and clash.json["code"] == "device_already_registered"
    [reg] = doctor.get(f"/api/v1/devices?resident_id={home['id']}").json["items"]
    assert colleague.get("/api/v1/devices").json["items"] == []
    assert colleague.delete(f"/api/v1/devices/{reg['id']}").status_code == 404
    assert doctor.delete(f"/api/v1/devices/{reg['id']}").status_code == 204
    assert colleague.post("/api/v1/devices", json={**body, "resident_id": away["id"]}).status_code == 201


def test_a_gateway_may_forward_the_raw_bluetooth_measurement(app, client, vendor, login_as, make_resident):
    resident = make_resident()
    login_as("village_doctor", org="C01T01V01").post("/api/v1/devices", json={
        "vendor": "acme-bp", "serial": "BP-3", "kind": "bp", "resident_id": resident["id"]})
    raw = bytes([0x04, 0x8E, 0x00, 0x5B, 0x00, 0x6A, 0x00, 0x4D, 0x00]).hex()      # 142/91 mmHg, MAP 106, pulse 77
    resp = deliver(client, vendor, [{"reading_id": "g-7", "serial": "BP-3", "kind": "bp",
                                     "measured_at": "2026-12-04T07:02:00+08:00", "gatt_hex": raw},
                                    {"reading_id": "g-8", "serial": "BP-3", "kind": "bp",
                                     "measured_at": "2026-12-04T07:03:00+08:00", "gatt_hex": raw[:14]}])  # pulse missing
    assert [(r["status"], (r.get("error") or {}).get("code")) for r in resp.json["results"]] == [
        ("recorded", None), ("invalid", "too_short")]
    assert sorted(v for _c, v, _s in _observations(app, resident["id"])) == [77.0, 91.0, 142.0]


def test_the_demo_seed_shows_a_weeks_readings_and_one_unknown_device(app, login_as, make_resident):
    from app.seed.devices import seed_devices
    resident = make_resident()
    with app.app_context():
        assert seed_devices() == {"devices": 2, "device_readings": 11, "device_readings_unknown": 1}
        assert seed_devices() == {}
    doctor = login_as("village_doctor", org="C01T01V01")
    assert len(doctor.get(f"/api/v1/devices?resident_id={resident['id']}").json["items"]) == 2
    assert doctor.get("/api/v1/devices/readings?status=unknown_device").json["total"] == 1
    record = doctor.get(f"/api/v1/residents/{resident['id']}/observations?code=8480-6").json["items"]
    assert len(record) == 7 and all(o["source_label"] == "家用设备" for o in record)

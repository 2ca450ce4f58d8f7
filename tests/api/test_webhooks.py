"""Signed webhooks: Standard Webhooks signatures, durable webhook-id idempotency, schema errors, catalog."""
from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest

from app.core import clock, ratelimit
from app.webhooks.signature import sign
from tests.api.test_process_instances import CALLS  # noqa: F401  (registers test/lookup for mechanisms.bpmn)

URL = "/api/v1/webhooks/messages/"


@pytest.fixture()
def integration_client(app, county):
    from app.auth.services import create_client
    with app.app_context():
        client, secret = create_client("县医院 LIS")
    return {"client_id": client.client_id, "secret": secret}


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=20, burst=100).reset()
    yield


def signed_post(client, creds, message, payload, *, webhook_id=None, timestamp=None, secret=None, headers=None,
                query=""):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(timestamp if timestamp is not None else clock.now().timestamp())
    all_headers = {"X-Client-Id": creds["client_id"], "webhook-id": webhook_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(secret or creds["secret"], webhook_id, timestamp, body),
                   "Content-Type": "application/json", **(headers or {})}
    return client.post(URL + message + query, data=body.encode(), headers=all_headers)


def test_a_well_signed_delivery_of_an_unknown_message_is_answered_404_unknown_message(client, integration_client):
    response = signed_post(client, integration_client, "no_such_message", {"a": 1})
    assert response.status_code == 404
    assert response.get_json()["code"] == "unknown_message"


def test_a_wrong_signature_is_refused_with_401_invalid_signature(client, integration_client):
    other_secret = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
    response = signed_post(client, integration_client, "lab_result", {"a": 1}, secret=other_secret)
    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_signature"


def test_a_tampered_body_is_refused_with_401_invalid_signature(client, integration_client):
    webhook_id, ts = "msg_tamper", int(time.time())
    signature = sign(integration_client["secret"], webhook_id, ts, '{"value": 7.2}')
    response = client.post(URL + "lab_result", data=b'{"value": 9.9}', headers={
        "X-Client-Id": integration_client["client_id"], "webhook-id": webhook_id, "webhook-timestamp": str(ts),
        "webhook-signature": signature})
    assert response.status_code == 401 and response.get_json()["code"] == "invalid_signature"


def test_missing_signature_headers_are_refused_with_401_invalid_signature(client, integration_client):
    response = client.post(URL + "lab_result", json={}, headers={"X-Client-Id": integration_client["client_id"]})
    assert response.status_code == 401
    assert response.get_json()["details"]["missing"] == ["webhook-id", "webhook-timestamp", "webhook-signature"]


def test_an_unknown_client_is_refused_with_401_unknown_client(client, integration_client):
    response = signed_post(client, {**integration_client, "client_id": "cli_nobody"}, "lab_result", {})
    assert response.status_code == 401
    assert response.get_json()["code"] == "unknown_client"


@pytest.mark.parametrize("skew", [-302, 302, -3600])  # whole seconds past the ±300 s window
def test_a_timestamp_outside_five_minutes_is_refused_with_400(client, integration_client, skew):
    response = signed_post(client, integration_client, "lab_result", {},
                           timestamp=clock.now().timestamp() + skew)
    assert response.status_code == 400
    assert response.get_json()["code"] == "timestamp_out_of_range"


def test_a_timestamp_within_five_minutes_is_accepted(client, integration_client):
    response = signed_post(client, integration_client, "no_such_message", {},
                           timestamp=clock.now().timestamp() - 290)
    assert response.status_code == 404          # past the signature checks


def test_schema_errors_name_every_field_path(client, integration_client):
    response = signed_post(client, integration_client, "lab_result", {
        "id_number": "123", "code": "4548-4", "value": 7.2, "effective_at": "yesterday", "colour": "red"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "schema_error"
    paths = {e["path"] for e in body["details"]["errors"]}
    assert {"/id_number", "/effective_at", "/"} <= paths       # "/" : missing unit, unexpected colour


def test_a_body_that_is_not_json_is_a_schema_error(client, integration_client):
    response = signed_post(client, integration_client, "lab_result", "{not json")
    assert response.status_code == 422 and response.get_json()["code"] == "schema_error"


def test_a_repeated_webhook_id_gets_the_first_answer(client, integration_client):
    first = signed_post(client, integration_client, "lab_result", {"code": "x"}, webhook_id="msg_same")
    again = signed_post(client, integration_client, "lab_result", {"code": "x"}, webhook_id="msg_same")
    assert again.status_code == first.status_code == 422
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_every_delivery_is_stored_before_it_is_answered(app, client, integration_client):
    from app.core.db import session
    from app.integrations.models import InboundEvent
    signed_post(client, integration_client, "lab_result", {"code": "x"}, webhook_id="msg_stored")
    with app.app_context():
        event = session().query(InboundEvent).filter_by(delivery_key="msg_stored").one()
        assert (event.client_id, event.message, event.status) == (integration_client["client_id"], "lab_result",
                                                                   "rejected")
        assert event.response_status == 422 and json.loads(event.body) == {"code": "x"}


def test_deliveries_beyond_the_burst_are_rate_limited(app, client, integration_client):
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=0.001, burst=2).reset()
    codes = [signed_post(client, integration_client, "nothing", {}).status_code for _ in range(3)]
    assert codes == [404, 404, 429]


def test_the_catalog_lists_lab_result_and_device_reading_with_schemas(client, login_as):
    api = login_as("integration")
    items = {m["name"]: m for m in api.get(URL.rstrip("/")).get_json()["items"]}
    for name in ("lab_result", "device_reading"):
        assert set(items[name]["schema"]["required"]) == {"id_number", "code", "value", "unit", "effective_at"}


def test_the_catalog_says_which_processes_a_message_starts_or_correlates(client, login_as, deploy_models):
    deploy_models("mechanisms.bpmn", "message_start.bpmn")
    items = {m["name"]: m for m in login_as("integration").get(URL.rstrip("/")).get_json()["items"]}
    assert items["device_reading"]["starts"] == ["message_start"]
    assert items["lab_result"]["correlates"][0]["process_id"] == "mechanisms"


def test_the_catalog_needs_a_signed_in_caller(client):
    assert client.get(URL.rstrip("/")).status_code == 401


def test_a_stale_clock_is_measured_against_the_platform_clock(client, integration_client):
    clock.advance(timedelta(hours=1))
    response = signed_post(client, integration_client, "nothing", {}, timestamp=time.time())
    assert response.get_json()["code"] == "timestamp_out_of_range"


# -- delivering into processes -------------------------------------------------------------------------------------

WANG = "330127195603142337"


@pytest.fixture()
def wang(app, county):
    from app.auth.principal import SYSTEM
    from app.residents import services
    with app.app_context():
        return services.register_resident({"id_number": WANG, "name": "王建国", "org_code": "C01T01V01"},
                                          principal=SYSTEM).id


def lab(**extra):
    return {"id_number": WANG, "code": "4548-4", "value": 7.2, "unit": "%",
            "effective_at": "2026-03-01T08:00:00+08:00", **extra}


def _waiting_mechanisms(app, resident_key):
    from tests.api.test_messages import _mechanisms_waiting_for_lab
    with app.app_context():
        return _mechanisms_waiting_for_lab(app, resident_key)


def _observations(app):
    from sqlalchemy import select

    from app.core.db import session
    from app.residents.record_models import Observation
    with app.app_context():
        return list(session().scalars(select(Observation)))


def test_a_lab_result_is_recorded_and_correlated_into_the_waiting_instance(app, client, integration_client, wang,
                                                                          deploy_models):
    deploy_models("mechanisms.bpmn")
    instance_id = _waiting_mechanisms(app, "R-1")
    response = signed_post(client, integration_client, "lab_result", lab(correlation={"resident_key": "R-1"}))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "processed" and body["correlated_instances"] == [instance_id]
    [obs] = _observations(app)
    assert (obs.resident_id, obs.code, obs.value_num, obs.id) == (wang, "4548-4", 7.2, body["observation_id"])
    assert obs.effective_at.isoformat() == "2026-03-01T00:00:00+00:00"


def test_a_repeated_webhook_id_acts_once(app, client, integration_client, wang, deploy_models):
    deploy_models("message_start.bpmn", with_dmn=False)
    first = signed_post(client, integration_client, "device_reading", lab(code="8480-6", value=162, unit="mmHg"),
                        webhook_id="msg_cuff_1")
    again = signed_post(client, integration_client, "device_reading", lab(code="8480-6", value=162, unit="mmHg"),
                        webhook_id="msg_cuff_1")
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and len(first.get_json()["started_instances"]) == 1
    assert len(_observations(app)) == 1
    from app.core.db import session
    from app.workflows.models import ProcessInstance
    with app.app_context():
        assert session().query(ProcessInstance).count() == 1


def test_the_same_webhook_id_from_another_client_is_another_delivery(app, client, integration_client, wang,
                                                                      deploy_models):
    from app.auth.services import create_client
    deploy_models("message_start.bpmn", with_dmn=False)
    with app.app_context():
        other, secret = create_client("血压计平台")
    payload = lab(code="8480-6", value=150, unit="mmHg")
    signed_post(client, integration_client, "device_reading", payload, webhook_id="msg_x")
    second = signed_post(client, {"client_id": other.client_id, "secret": secret}, "device_reading",
                         {**payload, "effective_at": "2026-03-02T08:00:00+08:00"}, webhook_id="msg_x")
    assert second.status_code == 200 and "Idempotent-Replayed" not in second.headers
    assert len(_observations(app)) == 2


def test_an_unknown_id_number_is_422_unknown_resident_and_stores_nothing(app, client, integration_client, county):
    response = signed_post(client, integration_client, "lab_result", lab())
    assert response.status_code == 422 and response.get_json()["code"] == "unknown_resident"
    assert _observations(app) == []


def test_an_unknown_loinc_code_is_422_and_stores_nothing(app, client, integration_client, wang):
    response = signed_post(client, integration_client, "lab_result", lab(code="99999-9"))
    assert response.status_code == 422 and response.get_json()["code"] == "unknown_code"
    assert _observations(app) == []


def test_an_unmatched_delivery_waits_and_is_delivered_when_an_instance_reaches_its_wait_state(
        app, client, integration_client, wang, deploy_models):
    from app.integrations import store
    deploy_models("mechanisms.bpmn")
    response = signed_post(client, integration_client, "lab_result", lab(correlation={"resident_key": "R-9"}),
                           webhook_id="msg_early")
    assert response.status_code == 202
    assert response.get_json()["code"] == "no_waiting_instance" and response.get_json()["status"] == "waiting"
    _waiting_mechanisms(app, "R-9")
    clock.advance(timedelta(seconds=31))
    with app.app_context():
        assert store.resume_waiting() == 1
    with app.app_context():
        from app.workflows import messages
        assert messages.waiting_instances("lab_result", {"resident_key": "R-9"}) == []
    assert len(_observations(app)) == 1                  # recorded once, at the first delivery
    again = signed_post(client, integration_client, "lab_result", lab(correlation={"resident_key": "R-9"}),
                        webhook_id="msg_early")
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"


def test_a_waiting_delivery_expires_after_its_ttl(app, client, integration_client, wang, deploy_models):
    from app.integrations import store
    from app.integrations.models import InboundEvent
    deploy_models("mechanisms.bpmn")
    signed_post(client, integration_client, "lab_result", lab(correlation={"resident_key": "R-0"}),
                webhook_id="msg_never")
    clock.advance(timedelta(hours=25))
    with app.app_context():
        store.resume_waiting()
        from app.core.db import session
        assert session().query(InboundEvent).filter_by(delivery_key="msg_never").one().status == "expired"


def test_wait_false_answers_404_no_waiting_instance_and_stores_nothing(app, client, integration_client, wang,
                                                                        deploy_models):
    deploy_models("mechanisms.bpmn")
    response = signed_post(client, integration_client, "lab_result", lab(correlation={"resident_key": "R-2"}),
                           query="?wait=false")
    assert response.status_code == 404 and response.get_json()["code"] == "no_waiting_instance"
    assert _observations(app) == []


def test_a_message_no_model_uses_is_recorded_and_processed(app, client, integration_client, wang):
    response = signed_post(client, integration_client, "lab_result", lab())
    assert response.status_code == 200
    assert response.get_json()["correlated_instances"] == [] and len(_observations(app)) == 1


# -- the integration screen ---------------------------------------------------------------------------------------

def test_the_integration_screen_lists_deliveries_and_failures_per_client(app, client, integration_client, wang,
                                                                           login_as):
    signed_post(client, integration_client, "lab_result", lab())
    signed_post(client, integration_client, "lab_result", lab(code="99999-9"))
    admin = login_as("county_admin")
    clients = {c["client_id"]: c for c in admin.get("/api/v1/integrations/clients").get_json()["items"]}
    assert clients[integration_client["client_id"]]["deliveries_24h"] == 2
    assert clients[integration_client["client_id"]]["failures_24h"] == 1
    failures = admin.get("/api/v1/integrations/deliveries?status=failures").get_json()
    assert failures["total"] == 1 and failures["items"][0]["last_error"].startswith("unknown_code")


def test_an_integration_client_sees_only_its_own_deliveries(app, client, integration_client, wang, login_as):
    signed_post(client, integration_client, "lab_result", lab())
    other = login_as("integration")
    assert other.get("/api/v1/integrations/deliveries").get_json()["total"] == 0


def test_replaying_a_rejected_delivery_applies_it_once(app, client, integration_client, county, login_as):
    response = signed_post(client, integration_client, "lab_result", lab(), webhook_id="msg_early_lab")
    assert response.get_json()["code"] == "unknown_resident"
    admin = login_as("county_admin")
    delivery_id = admin.get("/api/v1/integrations/deliveries").get_json()["items"][0]["id"]
    # the resident is registered afterwards; the screen replays the delivery
    from app.auth.principal import SYSTEM
    from app.residents import services
    with app.app_context():
        services.register_resident({"id_number": WANG, "name": "王建国", "org_code": "C01T01V01"}, principal=SYSTEM)
    replayed = admin.post(f"/api/v1/integrations/deliveries/{delivery_id}/replay")
    assert replayed.status_code == 200, replayed.get_json()
    assert replayed.get_json()["delivery"]["status"] == "processed"
    assert admin.post(f"/api/v1/integrations/deliveries/{delivery_id}/replay").get_json()["code"] == "not_replayable"
    assert len(_observations(app)) == 1
    again = signed_post(client, integration_client, "lab_result", lab(), webhook_id="msg_early_lab")
    assert again.status_code == 200                    # the sender now gets the replayed answer


def test_only_admins_replay(app, client, integration_client, wang, login_as):
    signed_post(client, integration_client, "lab_result", lab(code="99999-9"))
    api = login_as("integration")
    assert api.post("/api/v1/integrations/deliveries/1/replay").status_code == 403

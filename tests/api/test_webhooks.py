"""Signed webhooks: Standard Webhooks signatures, durable webhook-id idempotency, schema errors, catalog."""
from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest

from app.core import clock
from app.integrations import ratelimit
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


@pytest.mark.parametrize("skew", [-301, 301, -3600])
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

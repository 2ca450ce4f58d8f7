"""Platform plumbing: health, metrics, OpenAPI, error shape, UI routes."""
from __future__ import annotations


def test_healthz_reports_the_database(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok" and resp.json["checks"]["database"] == "ok"


def test_metrics_expose_requests_and_instance_gauges(client, login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    admin = login_as("county_admin")
    admin.post("/api/v1/process-instances", json={"process_id": "approval"})
    text = client.get("/metrics").data.decode()
    assert "ygt_http_requests_total" in text
    assert 'ygt_instances{status="waiting"} 1.0' in text
    assert "ygt_timer_lag_seconds" in text and "ygt_outbox_pending" in text


def test_openapi_document_is_served(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/process-instances" in spec["paths"]


def test_unknown_api_route_answers_in_the_error_shape(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404
    assert set(resp.json) == {"code", "message", "details"} and resp.json["code"] == "not_found"


def test_unauthenticated_calls_are_401_in_the_error_shape(client):
    resp = client.get("/api/v1/process-instances")
    assert resp.status_code == 401 and resp.json["code"] == "unauthorized"


def test_ui_routes_serve_the_single_page_app(client):
    for path in ("/", "/inbox", "/tasks/12", "/login"):
        resp = client.get(path)
        assert resp.status_code == 200 and b"<" in resp.data, path
    for path in ("/instances/3", "/residents", "/dashboards"):          # role pages ask for a sign-in first (22.5)
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next="), path

"""What every request gets, whatever it asks: a request id, its metrics, its session (or none) and the input guard.

Issue 23.2 made these cheaper per request; the tests pin what they do (app/web.py, app/core/jsonio.py,
app/core/metrics.py, app/auth/web.py)."""
from __future__ import annotations

import json
import re

import pytest

from app.core.jsonio import MAX_DEPTH


def _count(text: str, method: str, route: str, status: str) -> float:
    line = re.search(rf'^ygt_http_requests_total{{method="{method}",route="{re.escape(route)}",status="{status}"}} '
                     r"(\S+)$", text, re.MULTILINE)
    return float(line.group(1)) if line else 0.0


def _observed(text: str, method: str, route: str) -> float:
    line = re.search(rf'^ygt_http_request_seconds_count{{method="{method}",route="{re.escape(route)}"}} (\S+)$',
                     text, re.MULTILINE)
    return float(line.group(1)) if line else 0.0


def test_every_answer_names_its_own_request_id(client_as):
    api = client_as("village_doctor")
    ids = [api.get("/api/v1/auth/me").headers["X-Request-Id"] for _ in range(3)]
    ids.append(api.get("/api/v1/nothing-here").headers["X-Request-Id"])
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_callers_request_id_is_answered_back(client_as):
    api = client_as("village_doctor")
    assert api.get("/api/v1/auth/me", headers={"X-Request-Id": "his-7f3a"}).headers["X-Request-Id"] == "his-7f3a"


def test_each_request_is_counted_and_timed_by_method_route_and_status(client, client_as):
    api = client_as("village_doctor")
    before = client.get("/metrics").data.decode()
    api.get("/api/v1/auth/me")
    api.get("/api/v1/auth/me")
    api.get("/api/v1/nothing-here")
    client.get("/api/v1/auth/me")
    after = client.get("/metrics").data.decode()
    assert _count(after, "GET", "/api/v1/auth/me", "200") - _count(before, "GET", "/api/v1/auth/me", "200") == 2
    assert _count(after, "GET", "/api/v1/auth/me", "401") - _count(before, "GET", "/api/v1/auth/me", "401") == 1
    assert _count(after, "GET", "unmatched", "404") - _count(before, "GET", "unmatched", "404") == 1
    assert _observed(after, "GET", "/api/v1/auth/me") - _observed(before, "GET", "/api/v1/auth/me") == 3


def test_a_bearer_call_neither_sets_nor_varies_on_a_session_cookie(client_as):
    response = client_as("village_doctor").get("/api/v1/auth/me")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert [v.strip() for v in response.headers["Vary"].split(",")] == ["Accept-Encoding"]


def test_a_signed_in_browser_keeps_its_session_cookie_fresh(client, make_user, login):
    make_user("village_doctor", username="dr_lin")
    login("dr_lin")
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 200 and response.get_json()["username"] == "dr_lin"
    assert any(c.startswith("ygt_session=") for c in response.headers.getlist("Set-Cookie"))
    assert "Cookie" in [v.strip() for v in response.headers["Vary"].split(",")]


def test_a_small_answer_is_sent_as_it_is_and_a_larger_one_compressed(client_as):
    api = client_as("county_admin")
    small = api.get("/api/v1/auth/me", headers={"Accept-Encoding": "gzip, br"})
    large = api.get("/api/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers and "Accept-Encoding" in small.headers["Vary"]
    assert large.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in large.headers["Vary"]


def _nested(depth: int) -> str:
    return '{"process_id": "approval", "data": {"x": ' + "[" * (depth - 2) + "1" + "]" * (depth - 2) + "}}"


def test_json_nested_to_the_limit_passes_the_guard_and_one_level_more_is_refused(client_as):
    api = client_as("county_admin")
    at_limit = api.post("/api/v1/process-instances", data=_nested(MAX_DEPTH), content_type="application/json")
    too_deep = api.post("/api/v1/process-instances", data=_nested(MAX_DEPTH + 1), content_type="application/json")
    assert at_limit.get_json()["code"] != "json_too_deep"
    assert too_deep.status_code == 400 and too_deep.get_json()["code"] == "json_too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting(client_as):
    body = json.dumps({"process_id": "approval", "data": {"note": "[{" * (MAX_DEPTH + 10)}})
    response = client_as("county_admin").post("/api/v1/process-instances", data=body,
                                             content_type="application/json")
    assert response.get_json()["code"] != "json_too_deep"


@pytest.mark.parametrize("body", [
    '{"process_id": "approval", "data": {"note": "a\\u0000b"}}',
    '{"process_id": "approval", "data": {"a\\u0000": 1}}',
    '{"process_id": "approval", "data": {"note": ["ok", "\\udc80"]}}',
], ids=["nul in a value", "nul in a key", "lone surrogate in a list"])
def test_an_escaped_nul_or_lone_surrogate_anywhere_in_a_body_is_refused(client_as, body):
    response = client_as("county_admin").post("/api/v1/process-instances", data=body,
                                             content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["details"]["reason"] == "invalid_characters"


def test_an_escaped_backslash_before_u0000_is_ordinary_text(client_as, deploy_models):
    deploy_models("approval.bpmn", "approval", with_dmn=False)
    body = '{"process_id": "approval", "org_code": "C01T01", "data": {"note": "C:\\\\u0000dir"}}'
    response = client_as("county_admin", org="C01T01").post("/api/v1/process-instances", data=body,
                                                             content_type="application/json")
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("environ", [
    {},                                                         # a GET
    {"CONTENT_TYPE": ""},
    {"HTTP_CONTENT_TYPE": "application/json"},                  # only as a header name WSGI never uses for it
    {"CONTENT_LENGTH": "9", "HTTP_TRANSFER_ENCODING": "chunked"},
])
def test_a_request_without_content_type_is_neither_a_form_nor_json_for_the_guard(app, environ):
    """app.core.jsonio.guard_request stops after the query string when the request has no Content-Type: what the
    general path reads then (werkzeug's `mimetype`) is "", neither a form nor JSON, so it checks nothing more."""
    from flask import request

    from app.core import jsonio

    body = b'{"a": "\\u0000"}'
    with app.test_request_context("/api/v1/tasks?x=1", method="POST", data=body, environ_overrides=environ) as ctx:
        if "CONTENT_TYPE" not in environ:
            ctx.request.environ.pop("CONTENT_TYPE", None)
        assert request.mimetype == ""
        assert request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data")
        assert not jsonio._is_json(request.mimetype)
        jsonio.guard_request()                  # a body with an escaped NUL, but not JSON: left to the view


def test_a_query_with_nul_is_refused_with_or_without_a_body(client_as):
    api = client_as("village_doctor")
    for send in (lambda: api.get("/api/v1/tasks?view=mine&q=a%00b"),
                 lambda: api.post("/api/v1/process-instances?q=a%00b", json={"process_id": "x"})):
        response = send()
        assert response.status_code == 422
        assert response.get_json()["code"] == "validation_error"
        assert response.get_json()["details"]["errors"][0]["field"] == "q"

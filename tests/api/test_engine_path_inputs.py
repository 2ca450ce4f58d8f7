"""The engine path's request bodies and the inbox's query refused as they always were (issue 23.2 compiled their
loads, app.core.loads): 422 `validation_error` naming each bad field with marshmallow's message as the API words it
(app.core.field_errors: a code and Chinese), for wrong types, missing and extra fields; good input still works.
Status and body, field for field."""
from __future__ import annotations

import pytest

MESSAGE = "请求数据不合法 (invalid request body)"


def _errors(resp) -> list[dict]:
    assert resp.status_code == 422, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["code"], body["message"]) == ("validation_error", MESSAGE)
    return sorted(body["details"]["errors"], key=lambda e: e["field"])


@pytest.fixture()
def doctor(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    return login_as("township_doctor", org="C01T01")


@pytest.mark.parametrize(("body", "errors"), [
    ({"org_code": "C01T01"}, [{"field": "process_id", "code": "required", "message": "必填"}]),
    ({"process_id": 5}, [{"field": "process_id", "code": "not_string", "message": "应为文本"}]),
    ({"process_id": ""}, [{"field": "process_id", "code": "bad_length", "message": "长度应在 1 到 120 之间"}]),
    ({"process_id": "approval", "resident_id": "x", "data": [1]},
     [{"field": "data", "code": "not_mapping", "message": "应为对象 (键值对)"},
      {"field": "resident_id", "code": "not_integer", "message": "应为整数"}]),
    ({"process_id": "approval", "surprise": 1}, [{"field": "surprise", "code": "unknown_field", "message": "不支持的字段"}]),
    ({"process_id": 5, "surprise": 1}, [{"field": "process_id", "code": "not_string", "message": "应为文本"},
                                        {"field": "surprise", "code": "unknown_field", "message": "不支持的字段"}]),
])
def test_a_bad_start_is_refused_field_by_field(doctor, body, errors):
    assert _errors(doctor.post("/api/v1/process-instances", json=body)) == errors


@pytest.mark.parametrize(("body", "errors"), [
    ({"data": "x"}, [{"field": "data", "code": "not_mapping", "message": "应为对象 (键值对)"}]),
    ({"data": {}, "completion_id": "not-a-uuid"}, [{"field": "completion_id", "code": "not_uuid", "message": "应为 UUID 格式的编号"}]),
    ({"data": {}, "extra": True}, [{"field": "extra", "code": "unknown_field", "message": "不支持的字段"}]),
])
def test_a_bad_completion_is_refused_field_by_field(doctor, body, errors):
    started = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"})
    assert started.status_code == 201
    task_id = started.get_json()["open_tasks"][0]["id"]
    assert _errors(doctor.post(f"/api/v1/tasks/{task_id}/complete", json=body)) == errors
    done = doctor.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"amount": 150, "comment": "ok"}})
    assert done.status_code == 200 and done.get_json()["next_tasks"]


@pytest.mark.parametrize(("query", "errors"), [
    ("view=nope", [{"field": "view", "code": "not_one_of", "message": "应为以下之一：mine, groups, org"}]),
    ("per_page=0&page=x", [{"field": "page", "code": "not_integer", "message": "应为整数"},
                           {"field": "per_page", "code": "out_of_range", "message": "应大于等于 1 且小于等于 200"}]),
    ("priority=6&overdue=maybe", [{"field": "overdue", "code": "not_boolean", "message": "应为是或否 (true/false)"},
                                  {"field": "priority", "code": "out_of_range", "message": "应大于等于 1 且小于等于 5"}]),
])
def test_a_bad_inbox_query_is_refused_field_by_field(doctor, query, errors):
    assert _errors(doctor.get(f"/api/v1/tasks?{query}")) == errors


def test_an_unknown_inbox_parameter_is_ignored(doctor):
    listed = doctor.get("/api/v1/tasks?view=groups&per_page=1&surprise=1&sort=created")
    assert listed.status_code == 200 and set(listed.get_json()) == {"items", "total", "next_cursor"}

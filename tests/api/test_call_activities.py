"""Callers and callee versions (issue 14.5): latest at call time by default, pinned per deployment or to a
version on request (Camunda's calledElementBinding); the instance shows which callee version ran."""
from __future__ import annotations

import io

from tests.bpmn_builder import call, chain, definitions, form, process, script, user


def _deploy(api, *files):
    resp = api.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(x), n) for n, x in files]},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    return resp.json


def _child(label: str) -> bytes:
    return definitions(process("child", chain(script("mark", f"ran = '{label}'")), name=f"子流程 {label}"))


def _parent(**binding) -> bytes:
    return definitions(process("parent", chain(user("prepare", form="prepare.json"),
                                               call("run_child", "child", **binding))))


def _start_and_go(api, task_completer):
    inst = api.post("/api/v1/process-instances", json={"process_id": "parent", "org_code": "C01"}).json
    return inst, task_completer


def _complete_open_task(api, inst_id, data=None):
    inst = api.get(f"/api/v1/process-instances/{inst_id}").json
    [task] = inst["open_tasks"]
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data or {}})
    assert resp.status_code == 200, resp.json
    return api.get(f"/api/v1/process-instances/{inst_id}").json


def test_by_default_the_callee_version_is_the_latest_at_call_time(login_as):
    owner = login_as("process_owner")
    _deploy(owner, ("child.bpmn", _child("v1")))
    _deploy(owner, ("parent.bpmn", _parent()), ("prepare.json", form("note")))
    inst = owner.post("/api/v1/process-instances", json={"process_id": "parent", "org_code": "C01"}).json
    _deploy(owner, ("child.bpmn", _child("v2")))          # deployed while the instance waits before the call
    done = _complete_open_task(owner, inst["id"])
    assert (done["status"], done["result"]["ran"]) == ("completed", "v2")
    assert done["called"] == [{"element_id": "run_child", "process_id": "child", "version": 2,
                               "process_name": "子流程 v2"}]


def test_binding_deployment_keeps_the_callee_version_current_when_the_caller_was_deployed(login_as):
    owner = login_as("process_owner")
    _deploy(owner, ("child.bpmn", _child("v1")))
    _deploy(owner, ("parent.bpmn", _parent(binding="deployment")), ("prepare.json", form("note")))
    _deploy(owner, ("child.bpmn", _child("v2")))
    inst = owner.post("/api/v1/process-instances", json={"process_id": "parent", "org_code": "C01"}).json
    done = _complete_open_task(owner, inst["id"])
    assert done["result"]["ran"] == "v1"
    assert (done["called"][0]["version"], done["called"][0]["process_name"]) == (1, "子流程 v1")


def test_binding_version_calls_the_named_version(login_as):
    owner = login_as("process_owner")
    _deploy(owner, ("child.bpmn", _child("v1")))
    _deploy(owner, ("child.bpmn", _child("v2")))
    _deploy(owner, ("child.bpmn", _child("v3")))
    _deploy(owner, ("parent.bpmn", _parent(binding="version", version=2)), ("prepare.json", form("note")))
    inst = owner.post("/api/v1/process-instances", json={"process_id": "parent", "org_code": "C01"}).json
    done = _complete_open_task(owner, inst["id"])
    assert done["result"]["ran"] == "v2"
    assert done["called"] == [{"element_id": "run_child", "process_id": "child", "version": 2,
                               "process_name": "子流程 v2"}]     # the pinned version's name, not the newest's


def test_a_running_call_keeps_its_callee_version_and_its_forms(login_as):
    owner = login_as("process_owner")
    child_v1 = definitions(process("child", chain(user("child_review", "子流程审核", form="child_review.json"))))
    _deploy(owner, ("child.bpmn", child_v1), ("child_review.json", form("verdict")))
    _deploy(owner, ("caller.bpmn", definitions(process("parent", chain(call("run_child", "child"))))))
    inst = owner.post("/api/v1/process-instances", json={"process_id": "parent", "org_code": "C01"}).json
    [task] = inst["open_tasks"]
    assert task["element_id"] == "child_review"
    detail = owner.get(f"/api/v1/tasks/{task['id']}").json
    assert list(detail["form"]["schema"]["properties"]) == ["verdict"]
    child_v2 = definitions(process("child", chain(script("other", "ran = 'v2'"))))
    _deploy(owner, ("child.bpmn", child_v2))
    done = _complete_open_task(owner, inst["id"], {"verdict": "ok"})
    assert done["status"] == "completed" and "ran" not in done["result"]
    assert done["result"]["verdict"] == "ok"
    assert done["called"][0]["version"] == 1


def test_an_unknown_binding_is_refused_at_deploy(login_as):
    owner = login_as("process_owner")
    _deploy(owner, ("child.bpmn", _child("v1")))
    bad = _parent(binding="sometimes")
    resp = owner.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(bad), "parent.bpmn"),
                                                                    (io.BytesIO(form("note")), "prepare.json")]},
                      content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.json["details"]["element_id"] == "run_child"

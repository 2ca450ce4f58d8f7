"""Loops and recursion (issue 13.4): a run past its step budget or call depth is an incident — visible to the
supervisor, retryable — never a silent "completed" and never a hung server."""
from __future__ import annotations

import io

import pytest

from app.workflows.limits import limits
from tests.bpmn_builder import call, chain, definitions, loop, process, script, two_way


def _deploy(api, name, xml):
    resp = api.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(xml), name)]},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    return resp


@pytest.fixture()
def small_budget(monkeypatch):
    monkeypatch.setattr(limits, "step_budget", 300)
    return 300


def _start(api, pid, **data):
    resp = api.post("/api/v1/process-instances", json={"process_id": pid, "org_code": "C01", "data": data})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_a_loop_of_more_than_five_hundred_iterations_runs_every_iteration(login_as, monkeypatch):
    """Before: past ~500 iterations the next step became invisible and the instance ended 'completed' early."""
    monkeypatch.setattr(limits, "step_budget", 1600)
    owner = login_as("process_owner")
    _deploy(owner, "loop.bpmn", loop("counting", until="n >= 510"))
    inst = _start(owner, "counting", n=0)
    assert (inst["status"], inst["result"]["n"]) == ("completed", 510)


def test_a_loop_past_the_step_budget_is_an_incident_and_retry_continues_it(login_as, small_budget):
    owner = login_as("process_owner")
    _deploy(owner, "loop.bpmn", loop("counting", until="n >= 150"))
    inst = _start(owner, "counting", n=0)
    assert inst["status"] == "error"
    assert inst["error"]["code"] == "step_budget_exceeded"
    assert inst["error"]["element_id"] in ("step", "more")
    supervisor = login_as("supervisor")
    listed = supervisor.get("/api/v1/process-instances?status=error").json
    assert [i["id"] for i in listed["items"]] == [inst["id"]]
    retried = supervisor.post(f"/api/v1/process-instances/{inst['id']}/retry", json={}).json
    assert (retried["status"], retried["result"]["n"]) == ("completed", 150)


def test_an_endless_loop_stops_at_the_budget_every_time(login_as, small_budget):
    owner = login_as("process_owner")
    _deploy(owner, "forever.bpmn", loop("forever", until="False"))
    inst = _start(owner, "forever", n=0)
    assert inst["status"] == "error" and inst["error"]["code"] == "step_budget_exceeded"
    again = login_as("supervisor").post(f"/api/v1/process-instances/{inst['id']}/retry", json={}).json
    assert again["status"] == "error" and again["error"]["code"] == "step_budget_exceeded"


def test_a_process_calling_itself_stops_at_the_call_depth_limit(login_as):
    """Before: a call activity calling its own process hung the embedded server."""
    owner = login_as("process_owner")
    _deploy(owner, "recurse.bpmn", definitions(process("recurse", chain(script("count", "depth = depth + 1"),
                                                                        call("again", "recurse")))))
    inst = _start(owner, "recurse", depth=0)
    assert inst["status"] == "error"
    assert inst["error"]["code"] == "call_depth_exceeded"
    assert [e["type"] for e in inst["history"]].count("call_started") == limits.max_call_depth


def test_a_gateway_with_no_true_condition_and_no_default_is_an_incident_naming_it(login_as):
    owner = login_as("process_owner")
    _deploy(owner, "route.bpmn", two_way("routing", a="x == 1", b="x == 2"))
    inst = _start(owner, "routing", x=3)
    assert inst["status"] == "error"
    assert (inst["error"]["code"], inst["error"]["element_id"]) == ("no_matching_condition", "route")
    assert inst["result"] is None
    fixed = login_as("supervisor").post(f"/api/v1/process-instances/{inst['id']}/retry",
                                        json={"data": {"x": 2}}).json
    assert (fixed["status"], fixed["result"]["path"]) == ("completed", "b")


def test_a_gateway_default_flow_is_taken_when_no_condition_holds(login_as):
    owner = login_as("process_owner")
    _deploy(owner, "route.bpmn", two_way("routing", a="x == 1", b="", default="b"))
    assert _start(owner, "routing", x=3)["result"]["path"] == "b"

"""Script limits the operating system enforces (issue 13.5): single C-level operations that the sandbox's traced
clock cannot interrupt end in an incident within the time limit, and memory past the limit is refused; the server
and the script workers keep serving afterwards."""
from __future__ import annotations

import io
import time

import pytest

from app.workflows.limits import limits
from tests.bpmn_builder import chain, definitions, process, script


@pytest.fixture()
def fast_limits(monkeypatch):
    monkeypatch.setattr(limits, "script_timeout_s", 1.0)
    monkeypatch.setattr(limits, "script_isolation", "process")


def _run_script(api, code: str) -> dict:
    xml = definitions(process("scripted", chain(script("work", code))))
    resp = api.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(xml), "scripted.bpmn")]},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    started = time.monotonic()
    inst = api.post("/api/v1/process-instances", json={"process_id": "scripted", "org_code": "C01"})
    assert inst.status_code == 201, inst.json
    return {**inst.json, "seconds": time.monotonic() - started}


@pytest.mark.parametrize("code", ["x = 10**10**8", "x = 'x' * 10**10", "x = 'x'.ljust(10**10)"])
def test_the_known_one_operation_bombs_end_in_an_incident_at_once(login_as, fast_limits, code):
    inst = _run_script(login_as("process_owner"), code)
    assert inst["status"] == "error" and inst["error"]["element_id"] == "work"
    assert inst["seconds"] < 5


# one C call that never ends (`max` compares a million references to one list, each comparison walking its million
# items): the traced clock never gets a say, the OS-side kill does. (A loop squaring a huge integer was stopped between
# two squarings by the traced clock on a slow host: each `*` is a guarded call.)
NEVER_ENDING_C_CALL = "a = [0] * 10**6\nb = [a] * 10**6\nx = max(b)"


def test_a_single_long_c_level_operation_is_killed_at_the_time_limit(login_as, fast_limits):
    """A single C call that outlasts the limit: the traced clock never gets a say, the OS-side kill does."""
    inst = _run_script(login_as("process_owner"), NEVER_ENDING_C_CALL)
    assert inst["status"] == "error"
    assert inst["error"]["code"] == "script_timeout"
    assert inst["seconds"] < limits.script_timeout_s + 4


def test_memory_past_the_limit_is_refused_by_the_os(login_as, fast_limits, monkeypatch):
    monkeypatch.setattr(limits, "script_timeout_s", 10.0)   # the memory limit must be what stops it
    inst = _run_script(login_as("process_owner"), "rows = [[0] * 10**6 for i in range(200)]")
    assert inst["status"] == "error"
    assert inst["error"]["code"] == "script_memory"


def test_workers_keep_serving_after_a_killed_script(login_as, fast_limits):
    owner = login_as("process_owner")
    _run_script(owner, NEVER_ENDING_C_CALL)
    inst = _run_script(owner, "total = sum([1, 2, 3])\nlabel = 'ok'")
    assert inst["status"] == "completed" and inst["result"]["total"] == 6

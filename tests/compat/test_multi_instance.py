"""Multi-instance loop cardinality (issue 14.10): a good one runs as in bare SpiffWorkflow; a bad one (not an
integer, negative, a missing variable) is an incident on the instance, visible and retryable, never a 500."""
from __future__ import annotations

import pytest

from tests.compat.conftest import model
from tests.compat.harness import by_process, run_bare

FILES = model("repeat_doses.bpmn")


def test_a_cardinality_from_the_task_data_runs_as_in_spiff(platform):
    data = {"doses": 3, "mg": 5}
    platform.deploy(FILES)
    platform.start("repeat_doses", data)
    [ours] = by_process(platform.outcomes())["repeat_doses"]
    [bare] = by_process(run_bare(FILES, "repeat_doses", data, []))["repeat_doses"]
    assert ours.comparable(["given", "total_mg"]) == bare.comparable(["given", "total_mg"])
    assert (ours.status, ours.data["total_mg"]) == ("completed", 15)


@pytest.mark.parametrize("data", [{"doses": "abc", "mg": 5}, {"doses": 2.5, "mg": 5}, {"doses": -1, "mg": 5},
                                  {"doses": True, "mg": 5}, {"mg": 5}], ids=["text", "fraction", "negative",
                                                                            "bool", "missing"])
def test_a_bad_cardinality_is_a_retryable_incident(platform, login_as, data):
    platform.deploy(FILES)
    inst = platform.start("repeat_doses", data)
    assert inst["status"] == "error", inst
    assert inst["error"]["element_id"] == "give_dose"
    if "doses" in data:
        assert inst["error"]["code"] == "bad_cardinality"
        assert "non-negative integer" in inst["error"]["message"]
    detail = platform.api.get(f"/api/v1/process-instances/{inst['id']}").json
    assert detail["status"] == "error" and detail["error"]["element_id"] == "give_dose"
    supervisor = login_as("supervisor")
    unchanged = supervisor.post(f"/api/v1/process-instances/{inst['id']}/retry", json={})
    assert unchanged.status_code == 200, unchanged.json
    assert unchanged.json["status"] == "error" and unchanged.json["error"]["element_id"] == "give_dose"
    retried = supervisor.post(f"/api/v1/process-instances/{inst['id']}/retry",
                                          json={"data": {"doses": 2}})
    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "completed", retried.json
    assert retried.json["result"]["total_mg"] == 10

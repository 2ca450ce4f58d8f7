"""Files SpiffWorkflow reads although the BPMN schema refuses them (spiff-example-cli's `timer_start.bpmn` has such
a flow): a sequence flow without a source or target connects nothing, so it deploys with a warning and the process
runs as in bare SpiffWorkflow. A timer start event waits after the start, as it does there."""
from __future__ import annotations

import io
from datetime import timedelta

from tests.compat.conftest import model
from tests.compat.harness import by_process, run_bare

FILES = model("night_reminder.bpmn")
STEPS = [("advance", timedelta(hours=1, minutes=1)), ("complete", "call_patient", {})]


def test_a_flow_without_a_source_deploys_with_a_warning(platform):
    body = platform.deploy(FILES)
    assert [p["process_id"] for p in body["deployed"]] == ["night_reminder"]
    assert any("leftover_flow" in w and "sourceRef" in w for w in body["warnings"]), body


def test_the_process_waits_for_its_start_timer_then_runs_as_in_bare_spiff(platform):
    platform.deploy(FILES)
    started = platform.start("night_reminder")
    assert started["status"] == "waiting"
    assert [t["element_id"] for t in started["timers"]] == ["an_hour_later"]
    platform.run(STEPS)
    [ours] = by_process(platform.outcomes())["night_reminder"]
    [bare] = by_process(run_bare(FILES, "night_reminder", {}, STEPS))["night_reminder"]
    assert ours.completed == bare.completed
    assert (ours.status, bare.status) == ("completed", "completed")


def test_a_flow_the_schema_refuses_for_another_reason_is_still_refused(platform):
    xml = FILES["night_reminder.bpmn"].replace(b'<bpmn:sequenceFlow id="to_end"', b'<bpmn:sequenceFlow bogus="1" id="to_end"')
    resp = platform.api.post("/api/v1/process-definitions/validate",
                             data={"file": [(io.BytesIO(xml), "night_reminder.bpmn")]},
                             content_type="multipart/form-data")
    assert resp.status_code == 422, resp.json
    assert "bogus" in resp.json["message"]

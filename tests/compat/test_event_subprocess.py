"""An event subprocess started by a signal its own process throws (SpiffWorkflow's `event-subprocess.bpmn`): it
runs as in bare SpiffWorkflow. Embedded subprocess specs are stored under qualified keys; the start's list of
event-subprocess triggers must name them by those keys too, or the throw fails (it was a 500 on completing the task)."""
from __future__ import annotations

from tests.compat.conftest import model
from tests.compat.harness import by_process, run_bare

FILES = model("ward_escalation.bpmn")
STEPS = [("complete", "record_round", {})]


def test_a_signal_caught_by_the_process_own_event_subprocess_runs_as_in_bare_spiff(platform):
    platform.deploy(FILES)
    platform.start("ward_escalation")
    platform.run(STEPS)
    [ours] = by_process(platform.outcomes())["ward_escalation"]
    [bare] = by_process(run_bare(FILES, "ward_escalation", {}, STEPS))["ward_escalation"]
    assert bare.status == "completed" and "note_escalation" in bare.completed
    assert (ours.status, ours.extra["error"]) == ("completed", None)
    assert ours.comparable(["escalated"]) == bare.comparable(["escalated"])


def test_a_version_compiled_before_the_fix_finds_its_event_subprocess_when_loaded():
    from app.engine.bpmn import parse_processes
    from app.engine.codec import restore_spec
    [draft], _used, _warnings = parse_processes(FILES, {}, decision_ids=set(), operators=None, prior={})
    stored = draft.spec_json
    start = next(t for t in stored["spec"]["task_specs"].values() if t.get("trigger_specs"))
    [qualified] = start["trigger_specs"]
    start["trigger_specs"] = ["escalation"]          # as versions compiled before the fix stored it
    spec, subs = restore_spec(stored)
    assert spec.start.trigger_specs == [qualified] and qualified in subs

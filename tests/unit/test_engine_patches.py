"""The SpiffWorkflow patches of app/engine/patches.py that are about cost, not behaviour: behaviour stays the same."""
from __future__ import annotations

import logging

from app.engine import runtime, specs
from tests.bpmn_builder import chain, definitions, process, script, user


def _ctx():
    xml = definitions(process("p", chain(script("prepare", "y = 1"), user("visit"))))
    draft = specs.parse_bundle({"bpmn/p.bpmn": xml}).processes[0]
    return runtime.Context(spec_json=draft.spec_json, spec_key=f"p:{draft.content_hash}")


def test_task_state_changes_are_logged_when_the_library_logger_listens_and_cost_no_record_otherwise(caplog):
    """`spiff.task` at INFO gets its 'State changed' records as from the library; at the default level a start
    builds none, and the tasks' states and change times are set all the same."""
    ctx = _ctx()
    with caplog.at_level(logging.INFO, logger="spiff.task"):
        loud = runtime.start(ctx, {})
    changed = [r for r in caplog.records if r.name == "spiff.task" and r.getMessage().startswith("State changed")]
    assert changed and all(hasattr(r, "task_spec") and hasattr(r, "elapsed") for r in changed)
    caplog.clear()
    quiet = runtime.start(ctx, {})
    assert not [r for r in caplog.records if r.name == "spiff.task"]
    assert [t.element_id for t in quiet.human_tasks] == [t.element_id for t in loud.human_tasks] == ["visit"]
    shape = [(t["task_spec"], t["state"], t["last_state_change"] > 0) for t in quiet.state["tasks"].values()]
    assert shape == [(t["task_spec"], t["state"], t["last_state_change"] > 0) for t in loud.state["tasks"].values()]

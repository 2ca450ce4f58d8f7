"""The SpiffWorkflow patches of app/engine/patches.py that are about cost, not behaviour: behaviour stays the same."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

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


def test_workflow_log_records_carry_their_extras_when_the_library_logger_listens(caplog):
    """'Initialized workflow' and 'Workflow completed' keep the library's extras when `spiff.workflow` logs at INFO
    (with the tree's task ids when its own level is below INFO); unheard, they are not built."""
    xml = definitions(process("p", chain(script("prepare", "y = 1"))))
    draft = specs.parse_bundle({"bpmn/p.bpmn": xml}).processes[0]
    ctx = runtime.Context(spec_json=draft.spec_json, spec_key=f"p:{draft.content_hash}")
    with caplog.at_level(logging.INFO, logger="spiff.workflow"):
        snap = runtime.start(ctx, {})
    records = {r.getMessage(): r for r in caplog.records if r.name == "spiff.workflow"}
    assert snap.status == "completed" and set(records) == {"Initialized workflow", "Workflow completed"}
    done = records["Workflow completed"]
    assert (done.workflow_spec, done.success, done.completed) == ("p", True, False)
    assert not hasattr(done, "tasks")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="spiff.workflow"):
        runtime.start(ctx, {})
    records = {r.getMessage(): r for r in caplog.records if r.name == "spiff.workflow"}
    assert len(records["Initialized workflow"].tasks) >= 3 and records["Initialized workflow"].root
    caplog.clear()
    assert runtime.start(ctx, {}).status == "completed"
    assert not [r for r in caplog.records if r.name == "spiff.workflow"]


def test_task_iteration_visits_what_the_library_visits(monkeypatch):
    """Every `next()` of every task iterator while the fixture models run step by step (human tasks, service calls,
    messages, timers, subprocesses, call activities, multi-instance) returns what the library's own `__next__`
    returns at that moment and leaves the same tasks to visit (tests/snapshot_oracle.py checks each one)."""
    from tests import snapshot_oracle
    from tests.unit import test_engine_snapshot_oracle as models

    snapshot_oracle.install_iteration_check(monkeypatch)
    before = snapshot_oracle.Checked.nexts
    clock = runtime._now
    now = {"t": datetime(2026, 3, 2, 1, 0, tzinfo=UTC)}
    runtime.set_clock(lambda: now["t"])
    try:
        assert models._run_all(models._fixture_models(), now) > 40
    finally:
        runtime.set_clock(clock)
    assert snapshot_oracle.Checked.nexts - before > 1000


def test_task_iteration_with_a_depth_limit_or_breadth_first_is_the_library_own():
    from SpiffWorkflow.util.task import TaskIterator

    ctx = _ctx()
    run = runtime._Run(ctx, runtime.start(ctx, {}).state)
    root = run.wf.task_tree
    everything = list(TaskIterator(root))
    assert [t.task_spec.name for t in TaskIterator(root, max_depth=1)] == [root.task_spec.name, *[
        c.task_spec.name for c in root.children]]
    assert {t.id for t in TaskIterator(root, depth_first=False)} == {t.id for t in everything}

"""The saved state of a step is serialized once (issue 23.2): `codec.dump_state_text` builds the state as plain JSON
values and writes it without the library's encoder hook, and `codec.load_state` no longer deep-copies the state it
is given. Both are pinned here against the codec as it was (`tests/snapshot_oracle.reference_dump`/`reference_load`):
the same text byte for byte, the same state, a workflow that holds nothing of its caller's state and leaves it as it
was, for the task data that takes the plain path and for the data that goes through the library's encoder."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from SpiffWorkflow.util.task import TaskState

from app.engine import Context, codec, parse_bundle
from app.engine import runtime as rt
from app.engine.sandbox import Record
from tests import snapshot_oracle

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"


@pytest.fixture(scope="module")
def approval():
    files = {"bpmn/approval.bpmn": (MODELS / "approval.bpmn").read_bytes()}
    files.update({f"forms/approval/{f.name}": f.read_bytes() for f in (MODELS / "approval").glob("*.json")})
    draft = parse_bundle(files).processes[0]
    return Context(spec_json=draft.spec_json, spec_key=draft.content_hash)


class Code(str):
    """A str subclass: JSON writes it as a string and reads back a plain str."""


PLAIN = {
    "amount": 150, "ratio": 0.1, "nan": float("nan"), "big": 10 ** 30, "flag": True, "none": None,
    "text": "审批 \u2028 \"quoted\" \ud800", "nested": {"list": [1, [2, {"a": []}], {}], "empty": {}},
    "record": Record({"price": 3, "items": [Record({"sku": "X"})], "meta": {"inner": Record({})}}),
    "records": [Record({"n": 1}), {"plain": Record({"n": 2})}],
}
FOREIGN = [
    {"when": datetime(2026, 3, 2, 1, 0, tzinfo=UTC)}, {"day": date(2026, 3, 2)}, {"price": Decimal("1.50")},
    {"span": timedelta(days=2)}, {"id": UUID(int=7)}, {"pair": (1, [2])}, {"pair": (Record({"in": 1}),)},
    {"tags": {"a"}}, {"code": Code("A1")}, {"deep": [{"code": Code("A1")}]}, {"fn": len}, {"deep": {"fn": len}},
    {"keys": {1: "one"}}, {"keys": {None: 0, True: 1, 2.5: 2}}, {"mixed": {"r": Record({"when": date(2026, 1, 1)})}},
]


def _waiting(ctx, data):
    """A workflow waiting at task A whose READY task holds `data`, and the task."""
    run = rt._Run(ctx, None)
    run.wf.get_next_task(state=TaskState.READY).data.update({"business_key": "k"})
    run.advance()
    task = run.wf.get_tasks(state=TaskState.READY, manual=True)[0]
    task.data.update(data)
    return run.wf, task


def _same_dump(wf) -> tuple[dict, str]:
    want_state, want_text = snapshot_oracle.reference_dump(wf)
    state, text = codec.dump_state_text(wf)
    assert text == want_text
    assert repr(state) == repr(want_state)
    assert repr(json.loads(text)) == repr(state)
    return state, text


def test_plain_task_data_is_serialized_once_and_as_before(approval, monkeypatch):
    wf, _ = _waiting(approval, PLAIN)
    state, text = _same_dump(wf)
    assert '"record": {"typename": "Record", "fields": {"price": 3' in text
    for v in snapshot_oracle.containers(state).values():         # nothing of the live workflow in the state
        assert all(v is not d for t in wf.tasks.values() for d in (t.data, t.internal_data))
    loads, decoded = json.loads, []
    monkeypatch.setattr(json, "loads", lambda *a, **k: decoded.append(1) or loads(*a, **k))
    assert codec.dump_state_text(wf)[1] == text
    assert decoded == []            # the text is not read back


@pytest.mark.parametrize("data", FOREIGN, ids=lambda d: next(iter(d)))
def test_data_only_the_library_encoder_writes_is_serialized_as_before(approval, data):
    wf, _ = _waiting(approval, data)
    _same_dump(wf)


def test_pruned_history_is_appended_as_before(approval):
    wf, _ = _waiting(approval, PLAIN)
    wf.ygt_pruned = {"tasks": 41, "completed": ["a", "b"]}
    state, text = _same_dump(wf)
    assert state["ygt_pruned"] == {"tasks": 41, "completed": ["a", "b"]}
    assert text.endswith(', "ygt_pruned": {"tasks": 41, "completed": ["a", "b"]}}')


@pytest.mark.parametrize("data", [PLAIN, *FOREIGN[:3], FOREIGN[6]], ids=lambda d: next(iter(d)))
def test_a_loaded_workflow_owns_its_data_and_leaves_the_state_alone(approval, data):
    wf, task = _waiting(approval, data)
    wf.correlations = {"resident_key": {"id": ["R-1"]}}
    state, _ = codec.dump_state_text(wf)
    kept = json.loads(json.dumps(state))
    spec, subs = rt._spec_objects(approval)
    loaded = codec.load_state(state, spec, dict(subs))
    snapshot_oracle.check_opening(loaded, state)
    assert json.dumps(state) == json.dumps(kept)
    # what the engine does to the loaded workflow in place does not reach the state (a session's value)
    mine = loaded.get_task_from_id(task.id)
    for holder in (mine.data, mine.parent.data, loaded.task_tree.data, mine.internal_data):
        for value in holder.values():
            if isinstance(value, dict):
                value["touched"] = 1
            elif isinstance(value, list):
                value.append("touched")
        holder["added"] = 1
    loaded.correlations["resident_key"]["id"].append("R-2")
    loaded.correlations["other"] = 1
    assert json.dumps(state) == json.dumps(kept)


def test_a_load_parses_each_task_id_once(approval):
    """A task's id, its parent's child entry, its children's parent and the task mapping's key are one UUID object,
    as in a workflow that ran in memory (lookups by id then compare by identity); the load's id table is dropped."""
    wf, _ = _waiting(approval, PLAIN)
    state, _ = codec.dump_state_text(wf)
    spec, subs = rt._spec_objects(approval)
    loaded = codec.load_state(state, spec, dict(subs))
    assert not hasattr(loaded, "ygt_ids")
    assert [str(k) for k in loaded.tasks] == list(state["tasks"])
    for key, task in loaded.tasks.items():
        assert key is task.id
        if task.parent is not None:
            assert any(child is task.id for child in task.parent._children)
            assert task._parent is task.parent.id
    assert loaded.task_tree.id is next(iter(loaded.tasks))

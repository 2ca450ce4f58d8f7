"""The saved state of a step is serialized once (issue 23.2): `codec.dump_state_text` writes plain state with orjson
(compact, UTF-8) and reads it back with orjson, and `codec.load_state` no longer deep-copies the state it is given.
Both are pinned here against the codec as it was (`tests/snapshot_oracle.reference_dump`/`reference_load`, the
library's own converters and encoder): a text that holds the same value (the reference's text byte for byte when the
state holds anything orjson would write its own way), the same state, a workflow that holds nothing of its caller's
state and leaves it as it was, for the task data that takes the orjson path and for the data that goes through the
library's encoder."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
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


class Colour(Enum):
    RED = "red"


PLAIN = {
    "amount": 150, "ratio": 0.1, "small": 1e-05, "huge": 1e300, "flag": True, "none": None, "int64": -2 ** 63,
    "text": "审批 \u2028 \"quoted\" \x00 \x1f \x7f", "nested": {"list": [1, [2, {"a": []}], {}], "empty": {}},
    "record": Record({"price": 3, "items": [Record({"sku": "X"})], "meta": {"inner": Record({})}}),
    "records": [Record({"n": 1}), {"plain": Record({"n": 2})}],
}
FOREIGN = [
    {"when": datetime(2026, 3, 2, 1, 0, tzinfo=UTC)}, {"day": date(2026, 3, 2)}, {"price": Decimal("1.50")},
    {"span": timedelta(days=2)}, {"id": UUID(int=7)}, {"pair": (1, [2])}, {"pair": (Record({"in": 1}),)},
    {"tags": {"a"}}, {"code": Code("A1")}, {"deep": [{"code": Code("A1")}]}, {"fn": len}, {"deep": {"fn": len}},
    {"keys": {1: "one"}}, {"keys": {None: 0, True: 1, 2.5: 2}}, {"mixed": {"r": Record({"when": date(2026, 1, 1)})}},
    # what orjson writes otherwise than the library's encoder or refuses: the encoder writes them, as before
    {"nan": float("nan")}, {"inf": [float("-inf")]}, {"big": 10 ** 30}, {"surrogate": "a \ud800"},
    {"colour": Colour.RED}, {"uuid_in_record": Record({"id": UUID(int=8)})}, {"tuple_uuid": (UUID(int=9),)},
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
    snapshot_oracle.same_text(text, want_text)
    assert repr(state) == repr(want_state)
    assert repr(json.loads(text)) == repr(state)
    return state, text


def test_plain_task_data_is_written_by_orjson_and_holds_what_it_held(approval, monkeypatch):
    wf, _ = _waiting(approval, PLAIN)
    state, text = _same_dump(wf)
    assert text != snapshot_oracle.reference_dump(wf)[1]
    assert '"record":{"typename":"Record","fields":{"price":3' in text
    assert '"text":"审批 \u2028 \\"quoted\\" \\u0000 \\u001f \x7f"' in text      # UTF-8, JSON's escapes only
    assert '"small":0.00001' in text
    for v in snapshot_oracle.containers(state).values():         # nothing of the live workflow in the state
        assert all(v is not d for t in wf.tasks.values() for d in (t.data, t.internal_data))
    dumps, encoded = json.dumps, []
    monkeypatch.setattr(json, "dumps", lambda *a, **k: encoded.append(1) or dumps(*a, **k))
    assert codec.dump_state_text(wf)[1] == text
    assert encoded == []            # not the library's encoder


@pytest.mark.parametrize("data", FOREIGN, ids=lambda d: next(iter(d)))
def test_data_only_the_library_encoder_writes_is_serialized_as_before(approval, data):
    wf, _ = _waiting(approval, data)
    if "colour" in data:            # the library's encoder refuses an enum, as before
        with pytest.raises(TypeError):
            snapshot_oracle.reference_dump(wf)
        with pytest.raises(TypeError):
            codec.dump_state_text(wf)
        return
    _, text = _same_dump(wf)
    assert text == snapshot_oracle.reference_dump(wf)[1]


def test_pruned_history_is_appended_as_before(approval):
    wf, _ = _waiting(approval, PLAIN)
    wf.ygt_pruned = {"tasks": 41, "completed": ["a", "b"]}
    state, text = _same_dump(wf)
    assert state["ygt_pruned"] == {"tasks": 41, "completed": ["a", "b"]}
    assert text.endswith(',"ygt_pruned":{"tasks":41,"completed":["a","b"]}}')
    wf, _ = _waiting(approval, {"when": date(2026, 3, 2)})       # the library's encoder: appended as before
    wf.ygt_pruned = {"tasks": 41, "completed": ["a", "b"]}
    state, text = _same_dump(wf)
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

"""Task ids hashed and printed from C (`app.engine.ids.TaskId`, issue 23): a `TaskId` is a `UUID` in every way the
library and the app use one — equal, hashing equal, ordered and printed as the plain `UUID` of the same value, so the
two mix in one dict — and a load's ids and the library's new ones are `TaskId`s; a state saves and loads as before."""
from __future__ import annotations

import copy
import pickle
import uuid

import orjson
import pytest

from app.engine import Context, codec, parse_bundle
from app.engine import runtime as rt
from app.engine.ids import TaskId, new_task_id, task_id_of_int, task_id_of_text
from tests.bpmn_builder import chain, definitions, process, script, user


@pytest.fixture(scope="module")
def approval():
    """Two human tasks with a script between them."""
    xml = definitions(process("two", chain(user("first"), script("between", "y = 1"), user("second"))))
    draft = parse_bundle({"bpmn/two.bpmn": xml}).processes[0]
    return Context(spec_json=draft.spec_json, spec_key=f"two:{draft.content_hash}")


@pytest.mark.parametrize("make", [lambda u: task_id_of_text(str(u)), lambda u: task_id_of_int(u.int)])
def test_a_task_id_is_the_uuid_of_its_value(make):
    for plain in (uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1), uuid.UUID(int=2**61 - 1)):
        tid = make(plain)
        assert type(tid) is TaskId and isinstance(tid, uuid.UUID)
        assert tid == plain and plain == tid and (tid != plain) is False and hash(tid) == hash(plain)
        assert str(tid) == str(plain) and f"{tid}" == f"{plain}" and "%s" % tid == "%s" % plain  # noqa: UP031
        assert repr(tid) == repr(plain)
        assert (tid.int, tid.hex, tid.bytes, tid.urn, tid.version, tid.variant, tid.is_safe) == (
            plain.int, plain.hex, plain.bytes, plain.urn, plain.version, plain.variant, plain.is_safe)
        assert {plain: 1}[tid] == 1 and {tid: 2}[plain] == 2 and len({tid, plain}) == 1
        assert not tid < plain and tid <= plain
        for twin in (copy.copy(tid), copy.deepcopy(tid), pickle.loads(pickle.dumps(tid))):
            assert type(twin) is TaskId and twin == tid and hash(twin) == hash(tid) and str(twin) == str(tid)
        with pytest.raises(TypeError):
            tid.int = 5


def test_new_task_ids_are_version_4_uuids_as_uuid4_draws_them():
    ids = [new_task_id() for _ in range(200)]
    assert all(type(t) is TaskId and t.version == 4 and t.variant == uuid.RFC_4122 for t in ids)
    assert all(uuid.UUID(str(t)) == t and uuid.UUID(bytes=t.bytes, version=4) == t for t in ids)
    assert len(set(ids)) == 200


def test_a_text_in_another_form_is_a_plain_uuid_and_a_bad_one_fails_as_before():
    plain = uuid.uuid4()
    for text in (str(plain).upper(), "{" + str(plain) + "}", plain.hex, plain.urn):
        got = task_id_of_text(text)
        assert type(got) is uuid.UUID and got == plain
    for bad in ("x" * 36, str(plain)[:-1] + "g", "", "1234"):
        with pytest.raises(ValueError):
            task_id_of_text(bad)
    with pytest.raises(ValueError):
        task_id_of_int(1 << 128)


def test_the_ids_of_a_loaded_and_a_running_workflow_are_task_ids(approval):
    snap = rt.start(approval, {})
    run = rt._Run(approval, orjson.loads(snap.state_text))
    loaded = set(run.wf.tasks)
    assert all(type(k) is TaskId and type(t.id) is TaskId for k, t in run.wf.tasks.items())
    task = rt._task(run, snap.human_tasks[0].task_guid)
    task.data.update({"amount": 150, "comment": "x"})
    task.run()
    run.wf.do_engine_steps()
    assert set(run.wf.tasks) >= loaded
    fresh = rt._Run(approval, None).wf.tasks          # all made by the library
    assert len(fresh) > 3 and all(type(k) is TaskId and type(t.id) is TaskId for k, t in fresh.items())
    after = run.snapshot()
    assert after.human_tasks
    for view in after.human_tasks:
        found = run.wf.get_task_from_id(uuid.UUID(view.task_guid))
        assert type(found.id) is TaskId and str(found.id) == view.task_guid


def test_ids_read_in_another_form_are_saved_as_they_were_read(approval):
    """A state whose ids are not in the canonical form (never written by the codec) saves them back as read (as
    main did before `TaskId`; the pre-issue-23.2 reference of tests/snapshot_oracle.py wrote them canonical, so no
    step is snapshotted here), and a task guid in the canonical form still finds its task."""
    snap = rt.start(approval, {})
    text = snap.state_text
    for tid in list(snap.state["tasks"]):
        text = text.replace(tid, tid.upper())
    state = orjson.loads(text)
    run = rt._Run(approval, state)
    assert all(type(k) is uuid.UUID for k in run.wf.tasks)
    _, saved = codec.dump_state_text(run.wf)
    assert orjson.loads(saved)["tasks"].keys() == state["tasks"].keys()
    assert orjson.loads(saved)["root"] == state["root"]
    guid = snap.human_tasks[0].task_guid
    assert str(rt._task(run, guid).id) == guid      # the guid in the canonical form finds it (UUID equality)


def test_a_task_id_kept_in_data_is_saved_and_read_back_as_a_plain_uuid_is(approval):
    """The library's registry converts values by their exact class; a `TaskId` in saved data (the library keeps its
    own ids as text, but a value in internal or task data may hold one) is written as the `UUID` it is and read back
    as one, not refused."""
    run = rt._Run(approval, None)
    task = run.wf.task_tree
    plain, tid = uuid.uuid4(), new_task_id()
    task.internal_data["ids"] = [plain, tid]
    state, text = codec.dump_state_text(run.wf)
    saved = orjson.loads(text)["tasks"][str(task.id)]["internal_data"]["ids"]
    assert saved == [{"typename": "UUID", "value": str(plain)}, {"typename": "UUID", "value": str(tid)}]
    back = rt._Run(approval, state).wf.tasks[task.id].internal_data["ids"]
    assert back == [plain, tid] and all(isinstance(v, uuid.UUID) for v in back)

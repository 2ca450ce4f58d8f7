"""A loop that runs for years keeps a bounded state (issue 23.7): the engine drops finished rounds before saving,
and the instance runs on exactly as it would with its whole history (joins, boundary timers, the diagram)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.engine import Context, compaction, parse_bundle
from app.engine import runtime as rt

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"
ROUNDS = 60                 # five years of monthly rounds


def _size(state) -> int:
    return len(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode())


@pytest.fixture()
def loop_ctx():
    bundle = parse_bundle({"bpmn/monitoring_loop.bpmn": (MODELS / "monitoring_loop.bpmn").read_bytes()})
    draft = bundle.processes[0]
    return Context(spec_json=draft.spec_json, spec_key=draft.content_hash)


@pytest.fixture()
def fake_clock():
    now = {"t": datetime(2026, 1, 1, tzinfo=UTC)}
    before = rt._now            # the platform clock the runner installed: later tests move it
    rt.set_clock(lambda: now["t"])
    yield now
    rt.set_clock(before)


def _task(snap, element_id):
    return next(t for t in snap.human_tasks if t.element_id == element_id)


def _run_rounds(ctx, clock, rounds=ROUNDS):
    """Each round: a reading (every third one late enough for the reminder to fire) and a dose check."""
    snap = rt.start(ctx, {"rounds": rounds, "resident_id": 7})
    sizes = []
    for n in range(rounds):
        assert sorted(t.element_id for t in snap.human_tasks) == ["check_dose", "record_reading"], n
        if n % 3 == 0:
            clock["t"] += timedelta(days=8)
            snap = rt.advance(ctx, snap.state)          # the reminder fires; the reading stays open
            assert [t.element_id for t in snap.timers] == []
        snap = rt.complete_task(ctx, snap.state, _task(snap, "record_reading").task_guid, {"inr": 2.0 + n / 100})
        snap = rt.complete_task(ctx, snap.state, _task(snap, "check_dose").task_guid, {"dose_ok": True})
        clock["t"] += timedelta(days=30)
        sizes.append(_size(snap.state))
    return snap, sizes


def test_each_snapshot_carries_its_state_as_a_json_text_of_it(loop_ctx, fake_clock):
    """A writer stores `state_text` instead of serializing the state again (a batch start's COPY): it must be a JSON
    text of the very state (keys in order), also once the pruned tasks' record was appended to a compacted state."""
    snap = rt.start(loop_ctx, {"rounds": 30, "resident_id": 7, "名": "张三"})
    texts = [(snap.state_text, snap.state)]
    while snap.status != "completed":
        for element_id in ("record_reading", "check_dose"):
            data = {"inr": 2.5} if element_id == "record_reading" else {"dose_ok": True}
            snap = rt.complete_task(loop_ctx, snap.state, _task(snap, element_id).task_guid, data)
            texts.append((snap.state_text, snap.state))
            if snap.status == "completed":
                break
        fake_clock["t"] += timedelta(days=30)
    assert compaction.PRUNED_KEY in snap.state
    assert all(repr(json.loads(text)) == repr(state) for text, state in texts)
    assert '"名":"张三"' in texts[0][0]       # orjson's text: compact, non-ASCII as UTF-8 (issue 23.2)


def _without_compaction(monkeypatch):
    monkeypatch.setattr(rt, "compact", lambda wf: compaction.compact(wf, min_dropped=10**9))


def test_five_years_of_rounds_keep_the_state_flat(loop_ctx, fake_clock):
    snap, sizes = _run_rounds(loop_ctx, fake_clock)
    assert snap.status == "completed" and snap.data["n"] == ROUNDS and snap.data["reminded"] is True
    assert max(sizes) <= 50_000
    assert max(sizes[-12:]) <= max(sizes[:12]) * 1.1, (sizes[:12], sizes[-12:])      # the fifth year ≈ the first
    assert compaction.PRUNED_KEY in snap.state and snap.state[compaction.PRUNED_KEY]["tasks"] > 500
    # the diagram still shows what ran before the cut
    assert {"init", "record_reading", "note_reminder", "count_round"} <= set(snap.diagram["completed"])


def test_without_compaction_the_same_loop_grows_and_ends_the_same(loop_ctx, fake_clock, monkeypatch):
    compacted, _ = _run_rounds(loop_ctx, fake_clock)
    _without_compaction(monkeypatch)
    whole, sizes = _run_rounds(loop_ctx, fake_clock)
    assert sizes[-1] > max(200_000, 3 * sizes[11])       # linear in rounds: what the test above guards against
    assert whole.data == compacted.data and whole.diagram == compacted.diagram


def test_a_waiting_round_survives_the_cut_and_runs_on(loop_ctx, fake_clock):
    snap, _ = _run_rounds(loop_ctx, fake_clock, rounds=ROUNDS)
    # a second, unfinished episode: stop in the middle of a round, with its reminder pending and one branch done
    snap = rt.start(loop_ctx, {"rounds": 10})
    for _ in range(8):
        snap = rt.complete_task(loop_ctx, snap.state, _task(snap, "record_reading").task_guid, {})
        snap = rt.complete_task(loop_ctx, snap.state, _task(snap, "check_dose").task_guid, {})
    snap = rt.complete_task(loop_ctx, snap.state, _task(snap, "check_dose").task_guid, {})
    assert snap.state.get(compaction.PRUNED_KEY)                 # cut while the join waits for the other branch
    assert [t.element_id for t in snap.human_tasks] == ["record_reading"] and len(snap.timers) == 1
    fake_clock["t"] += timedelta(days=8)
    snap = rt.advance(loop_ctx, snap.state)
    assert snap.timers == [] and snap.status == "waiting"
    snap = rt.complete_task(loop_ctx, snap.state, _task(snap, "record_reading").task_guid, {})
    assert snap.data == {} and sorted(t.element_id for t in snap.human_tasks) == ["check_dose", "record_reading"]
    for _ in range(1):
        snap = rt.complete_task(loop_ctx, snap.state, _task(snap, "record_reading").task_guid, {})
        snap = rt.complete_task(loop_ctx, snap.state, _task(snap, "check_dose").task_guid, {})
    assert snap.status == "completed" and snap.data["n"] == 10 and snap.data["reminded"] is True

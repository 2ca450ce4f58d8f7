"""The pure engine: every BPMN mechanism the platform relies on, without a database."""
from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path

import pytest

from app.engine import Context, DefinitionError, MessageNotWaiting, StaticCallees, TaskNotReady, dmn, parse_bundle
from app.engine import runtime as rt

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"
DMN_DIR = Path(__file__).resolve().parents[2] / "dmn"


def _files(*names: str) -> dict[str, bytes]:
    out = {}
    for name in names:
        path = MODELS / name
        if path.is_dir():
            for f in path.rglob("*.json"):
                out[f"forms/{f.relative_to(MODELS).as_posix()}"] = f.read_bytes()
        else:
            out[f"bpmn/{name}"] = path.read_bytes()
    return out


def _evaluator():
    registry = dmn.DecisionRegistry(dmn.parse_decision(p.read_bytes(), filename=p.name)
                                    for p in DMN_DIR.glob("*.dmn"))

    def evaluate(decision_id, data):
        result = registry.evaluate(decision_id, data)
        return result.outputs, {"decision_id": decision_id, "trace": result.trace}
    return evaluate, {d.id: d for d in registry}


@pytest.fixture(scope="module")
def approval():
    bundle = parse_bundle(_files("approval.bpmn", "approval"))
    draft = bundle.processes[0]
    return Context(spec_json=draft.spec_json, spec_key=draft.content_hash)


@pytest.fixture(scope="module")
def mechanisms():
    evaluate, known = _evaluator()
    bundle = parse_bundle(_files("mechanisms.bpmn"), known_decisions=known)
    draft = next(p for p in bundle.processes if p.process_id == "mechanisms")
    return Context(spec_json=draft.spec_json, spec_key=draft.content_hash, decisions=evaluate,
                   helpers={"today": lambda: "2026-11-23"}, callees=StaticCallees.of(bundle.processes))


def _start_mechanisms(ctx, **data):
    return rt.start(ctx, {"sbp": 165, "dbp": 95, "divisor": 4, "resident_key": "R-1", "review_timeout": "PT1H",
                          **data})


def test_user_task_waits_with_its_lane_due_date_and_form(approval):
    snap = rt.start(approval, {})
    [task] = snap.human_tasks
    assert (snap.status, task.element_id, task.lane) == ("waiting", "task_a", "township_doctor")
    assert task.due_at is not None


def test_exclusive_gateway_takes_the_condition_or_the_default(approval):
    snap = rt.start(approval, {})
    large = rt.complete_task(approval, snap.state, snap.human_tasks[0].task_guid, {"amount": 150})
    small = rt.complete_task(approval, snap.state, snap.human_tasks[0].task_guid, {"amount": 50})
    assert [t.element_id for t in large.human_tasks] == ["task_b"]
    assert small.status == "completed"


def test_completing_a_task_that_is_not_ready_is_refused(approval):
    snap = rt.start(approval, {})
    done = rt.complete_task(approval, snap.state, snap.human_tasks[0].task_guid, {"amount": 50})
    with pytest.raises(TaskNotReady):
        rt.complete_task(approval, done.state, snap.human_tasks[0].task_guid, {"amount": 50})


def test_business_rule_task_evaluates_our_dmn_and_records_the_trace(mechanisms):
    snap = _start_mechanisms(mechanisms)
    assert snap.state  # ran past the decision
    decided = [e for e in snap.events if e["type"] == "decision_evaluated"]
    assert decided and decided[0]["data"]["decision_id"] == "bp_grade"
    assert decided[0]["data"]["trace"]


def test_service_task_waits_in_the_outbox_then_completes_with_the_result(mechanisms):
    snap = _start_mechanisms(mechanisms)
    [call] = snap.service_calls
    assert (call.operator, call.params) == ("test/lookup", {"resident": "R-1"})
    after = rt.complete_service_call(mechanisms, snap.state, call.task_guid, {"found": True})
    assert [t.element_id for t in after.human_tasks] == ["child_note"]  # inside the call activity


def test_error_boundary_catches_a_failed_service_call(mechanisms):
    snap = _start_mechanisms(mechanisms)
    [call] = snap.service_calls
    after, handled = rt.fail_service_call(mechanisms, snap.state, call.task_guid, error_code="lookup_down",
                                          message="HIS unreachable")
    assert handled and after.status == "completed"
    assert "end_failed" in after.diagram["completed"]


def test_unmodelled_service_failure_is_not_handled(mechanisms):
    snap = _start_mechanisms(mechanisms)
    [call] = snap.service_calls
    _, handled = rt.fail_service_call(mechanisms, snap.state, call.task_guid, error_code="other", message="x")
    assert not handled


def _to_message_wait(ctx):
    snap = _start_mechanisms(ctx)
    snap = rt.complete_service_call(ctx, snap.state, snap.service_calls[0].task_guid, {})
    return rt.complete_task(ctx, snap.state, snap.human_tasks[0].task_guid, {"note": "ok"})


def test_call_activity_child_task_completes_back_into_the_parent(mechanisms):
    snap = _to_message_wait(mechanisms)
    assert [(s.message_name, s.correlation) for s in snap.subscriptions] == [("lab_result", {"resident_key": "R-1"})]


def test_message_is_delivered_only_with_matching_correlation(mechanisms):
    snap = _to_message_wait(mechanisms)
    with pytest.raises(MessageNotWaiting):
        rt.correlate(mechanisms, snap.state, "lab_result", {"resident_key": "R-2"})
    after = rt.correlate(mechanisms, snap.state, "lab_result", {"resident_key": "R-1", "hba1c": 7.2})
    [task] = after.human_tasks
    assert task.element_id == "review" and task.data["lab"]["hba1c"] == 7.2


def test_message_correlation_values_are_computed_from_the_payload(mechanisms):
    assert rt.message_correlation(mechanisms, "lab_result", {"resident_key": "R-9"}) == {"resident_key": "R-9"}


def test_boundary_timer_interrupts_an_overdue_task(mechanisms):
    snap = _to_message_wait(mechanisms)
    snap = rt.correlate(mechanisms, snap.state, "lab_result", {"resident_key": "R-1"})
    assert [t.element_id for t in snap.timers] == ["review_expired"]


def test_intermediate_timer_fires_when_due(mechanisms):
    snap = _to_message_wait(mechanisms)
    snap = rt.correlate(mechanisms, snap.state, "lab_result", {"resident_key": "R-1"})
    snap = rt.complete_task(mechanisms, snap.state, snap.human_tasks[0].task_guid, {})
    [timer] = snap.timers
    assert timer.element_id == "pause"
    assert rt.advance(mechanisms, snap.state).status == "waiting"
    time.sleep(max(0.0, (timer.fire_at.timestamp() - time.time())) + 0.05)
    assert rt.advance(mechanisms, snap.state).status == "completed"


def test_failing_script_puts_the_instance_in_error_with_line_and_element(mechanisms):
    snap = _start_mechanisms(mechanisms, divisor=0)
    assert snap.status == "error"
    assert (snap.error.element_id, snap.error.line) == ("calc", 1)
    assert "ZeroDivisionError" in snap.error.message
    assert snap.diagram["error"] == ["calc"]


def test_retry_after_fixing_the_data_runs_on(mechanisms):
    snap = _start_mechanisms(mechanisms, divisor=0)
    fixed = rt.retry(mechanisms, snap.state, data_patch={"divisor": 5})
    assert fixed.status == "waiting" and fixed.service_calls


def test_forbidden_script_is_refused_at_deploy():
    bad = (MODELS / "approval.bpmn").read_text().replace(
        '<bpmn:conditionExpression>amount &gt; 100</bpmn:conditionExpression>',
        '<bpmn:conditionExpression>().__class__.__base__.__subclasses__()</bpmn:conditionExpression>')
    with pytest.raises(DefinitionError) as err:
        parse_bundle({"bpmn/approval.bpmn": bad.encode()})
    assert err.value.element_id == "is_large"


def test_message_start_event_starts_with_the_payload():
    draft = parse_bundle(_files("message_start.bpmn")).processes[0]
    ctx = Context(spec_json=draft.spec_json, spec_key=draft.content_hash)
    snap = rt.start_by_message(ctx, "device_reading", {"code": "8480-6", "value": 150})
    [task] = snap.human_tasks
    assert task.data["reading"]["value"] == 150
    assert draft.start_messages == ["device_reading"]


def test_state_round_trips_dates_and_decimals(approval):
    from datetime import date, datetime
    from decimal import Decimal
    snap = rt.start(approval, {"born": date(1950, 1, 2), "seen_at": datetime(2026, 1, 1, tzinfo=UTC),
                               "dose": Decimal("2.5")})
    again = rt.complete_task(approval, snap.state, snap.human_tasks[0].task_guid, {"amount": 500})
    [task] = again.human_tasks
    assert task.data["born"] == "1950-01-02" and task.data["dose"] == 2.5


def test_a_naive_timedate_literal_is_refused_at_deploy():
    xml = (MODELS / "short_timer.bpmn").read_text().replace(
        '<bpmn:timeDuration>"PT1S"</bpmn:timeDuration>', '<bpmn:timeDate>"2026-12-01T08:00:00"</bpmn:timeDate>')
    with pytest.raises(DefinitionError) as err:
        parse_bundle({"bpmn/short_timer.bpmn": xml.encode()})
    assert err.value.element_id == "wait_a_moment" and "UTC offset" in err.value.reason
    ok = xml.replace("2026-12-01T08:00:00", "2026-12-01T08:00:00+08:00")
    assert parse_bundle({"bpmn/short_timer.bpmn": ok.encode()}).processes

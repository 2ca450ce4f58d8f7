"""Messages and event waits as SpiffWorkflow runs them (issue 14 items 6 and 7), each scenario run through the
platform's API and in bare SpiffWorkflow, and compared."""
from __future__ import annotations

from datetime import timedelta

from tests.compat.conftest import model
from tests.compat.harness import by_process, run_bare


def _compare(platform, files, process_id, data, steps, keys):
    platform.deploy(files)
    if process_id:
        platform.start(process_id, data)
    platform.run(steps)
    ours, bare = by_process(platform.outcomes()), by_process(run_bare(files, process_id, data, steps))
    assert sorted(ours) == sorted(bare)
    for pid in ours:
        assert [o.comparable(keys) for o in ours[pid]] == [b.comparable(keys) for b in bare[pid]], pid
    return ours


def test_an_event_based_gateway_takes_the_message_when_it_comes_first(platform):
    ours = _compare(platform, model("await_lab_result.bpmn"), "await_lab_result", {"patient_no": 7},
                    [("message", "lab_result_ready", {"order_id": "LAB-7", "hba1c": 6.9})],
                    ["outcome", "hba1c"])
    [inst] = ours["await_lab_result"]
    assert (inst.status, inst.data["outcome"]) == ("completed", "received")


def test_an_event_based_gateway_takes_the_timer_when_no_message_comes(platform):
    ours = _compare(platform, model("await_lab_result.bpmn"), "await_lab_result", {"patient_no": 8},
                    [("advance", timedelta(days=3, minutes=1))], ["outcome"])
    [inst] = ours["await_lab_result"]
    assert (inst.status, inst.data["outcome"]) == ("completed", "chased")


def test_the_gateway_registers_both_its_waits(platform):
    platform.deploy(model("await_lab_result.bpmn"))
    inst = platform.start("await_lab_result", {"patient_no": 9})
    assert inst["status"] == "waiting"
    assert [(m["message_name"], m["correlation"]) for m in inst["waiting_messages"]] == \
        [("lab_result_ready", {"order_id": "LAB-9"})]
    assert [t["element_id"] for t in inst["timers"]] == ["first_of_result_or_deadline"]
    other = platform.send("lab_result_ready", {"order_id": "LAB-10", "hba1c": 7})
    assert other.status_code == 202            # kept for an instance that may wait later, not delivered to LAB-9


def test_a_start_event_with_two_message_definitions_starts_on_either(platform):
    files = model("alert_intake.bpmn", "triage_alert.json")
    platform.deploy(files)
    first = platform.send("lab_alert", {"kind": "lab"}).get_json()
    second = platform.send("device_alert", {"kind": "device"}).get_json()
    assert len(first["started_instances"]) == 1 and len(second["started_instances"]) == 1
    bare = run_bare(files, None, None, [("message", "lab_alert", {"kind": "lab"}),
                                         ("message", "device_alert", {"kind": "device"})])
    assert len(bare) == 2 and all(o.completed == {"alert_received"} for o in bare)


def test_a_message_thrown_by_one_process_starts_and_answers_another(platform):
    ours = _compare(platform, model("order_test.bpmn"), "order_test", {"order_no": "O-1"}, [],
                    ["lab_report", "value", "order_no"])
    [ward] = ours["order_test"]
    [lab] = ours["run_test"]
    assert ward.status == lab.status == "completed"
    assert ward.data["lab_report"] == {"order_no": "O-1", "value": 7.1}


def test_a_correlation_value_unknown_when_the_wait_begins_is_set_by_the_first_message(platform):
    files = model("consult_reply.bpmn")
    steps = [("message", "consult_answer", {"consult_no": "C-1", "text": "先观察"}),
             ("message", "consult_answer", {"consult_no": "C-2", "text": "wrong consultation"}),
             ("message", "consult_answer", {"consult_no": "C-1", "text": "加量"}),
             ("message", "consult_closed", {})]
    ours = _compare(platform, files, "consult_reply", {}, steps, ["first", "second"])
    [inst] = ours["consult_reply"]
    assert inst.status == "completed"
    assert (inst.data["first"]["text"], inst.data["second"]["text"]) == ("先观察", "加量")


def test_an_uncorrelated_message_reaches_exactly_one_instance_or_is_refused_as_ambiguous(platform):
    platform.deploy(model("consult_reply.bpmn"))
    a = platform.start("consult_reply")
    b = platform.start("consult_reply")
    refused = platform.send("consult_answer", {"consult_no": "C-1"})
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["code"] == "ambiguous_message"
    assert sorted(refused.get_json()["details"]["instances"]) == sorted([a["id"], b["id"]])
    platform.api.post(f"/api/v1/process-instances/{b['id']}/terminate", json={"reason": "duplicate"})
    delivered = platform.send("consult_answer", {"consult_no": "C-1"}).get_json()
    assert delivered["correlated_instances"] == [a["id"]]


def test_a_process_started_by_a_thrown_message_works_for_the_sender_s_starter_and_organization(platform):
    """The receiving instance belongs to whoever started the sending one (as SpiffArena starts it for the sending
    instance's user) and to its organization: its laneless task is theirs to do, not nobody's."""
    files = model("refer_case.bpmn")
    platform.deploy(files)
    sender = platform.start("refer_case", {"case_no": "K-3", "question": "是否加用他汀"}, org_code="C01T01")
    platform.run([("complete", "discuss_case", {})])
    ours = by_process(platform.outcomes())
    bare = by_process(run_bare(files, "refer_case", {"case_no": "K-3", "question": "是否加用他汀"},
                               [("complete", "discuss_case", {})]))
    assert {p: [o.comparable(["conclusion"]) for o in v] for p, v in ours.items()} == \
        {p: [o.comparable(["conclusion"]) for o in v] for p, v in bare.items()}
    [review] = ours["review_referred_case"]
    assert (review.status, review.data["conclusion"]) == ("completed", "K-3: discussed")
    detail = platform.api.get(f"/api/v1/process-instances/{review.extra['id']}").json
    started = platform.api.get(f"/api/v1/process-instances/{sender['id']}").json
    assert (detail["org_code"], detail["started_by"]) == ("C01T01", started["started_by"])

"""Messages find their instances by SQL (correlation hash) or start processes with a message start event."""
from __future__ import annotations

import tests.fixtures.operators  # noqa: F401  (registers test/lookup)
from app.workflows import messages, runner


def _mechanisms_waiting_for_lab(app, resident_key):
    inst = runner.start_instance("mechanisms", actor=runner.Actor("t"), data={
        "sbp": 150, "dbp": 92, "divisor": 2, "resident_key": resident_key, "review_timeout": "PT1H"})
    from sqlalchemy import select

    from app.core.db import session
    from app.workflows.models import HumanTask
    task = session().execute(select(HumanTask).where(HumanTask.instance_id == inst.id)).scalar_one()
    runner.complete_human_task(task, {}, runner.Actor("t"))
    return inst.id


def test_a_message_correlates_only_into_the_instance_with_its_values(app, deploy_models):
    deploy_models("mechanisms.bpmn")
    with app.app_context():
        first = _mechanisms_waiting_for_lab(app, "R-1")
        second = _mechanisms_waiting_for_lab(app, "R-2")
        assert messages.waiting_instances("lab_result", {"resident_key": "R-2"}) == [second]
        delivery = messages.deliver("lab_result", {"resident_key": "R-1", "hba1c": 7.2},
                                    actor=runner.Actor("lis"))
        assert delivery.correlated == [first] and delivery.started == []
        again = messages.deliver("lab_result", {"resident_key": "R-1"}, actor=runner.Actor("lis"), start=False)
        assert not again.matched


def test_a_message_start_event_starts_a_new_instance(app, deploy_models):
    deploy_models("message_start.bpmn", with_dmn=False)
    with app.app_context():
        delivery = messages.deliver("device_reading", {"code": "8480-6", "value": 162}, actor=runner.Actor("cuff"))
        assert len(delivery.started) == 1
        assert messages.catalog()["device_reading"]["starts"] == ["message_start"]

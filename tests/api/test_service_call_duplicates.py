"""A late duplicate delivery of a service call's result (a second worker after the first one's lease ran out)
changes nothing and raises nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from app.workflows import runner
from app.workflows.models import ProcessEvent, ServiceCall


def test_a_second_completion_of_a_finished_service_call_is_ignored(app, deploy_models, tmp_path):
    import tests.fixtures.operators  # noqa: F401  (registers test/flaky_call)
    deploy_models("flaky_service.bpmn", with_dmn=False)
    marker = tmp_path / "his.marker"
    marker.write_text("answers at once")
    with app.app_context():
        inst = runner.start_instance("flaky_service", actor=runner.Actor("tester"), data={"marker": str(marker)})
        from app.core import db
        call = db.session().execute(select(ServiceCall).where(ServiceCall.instance_id == inst.id)).scalar_one()
        assert call.status == "done"
        runner.complete_service_call(call.id, {"answered_by": "a late worker"})
        completed = db.session().execute(select(func.count()).select_from(ProcessEvent).where(
            ProcessEvent.instance_id == inst.id, ProcessEvent.type == "service_completed")).scalar_one()
        assert completed == 1

"""Shared helpers of the expert-liaison tests (no tests here): the models, a clock set to a known weekday morning,
experts in the consult registry."""
from __future__ import annotations

from datetime import date, timedelta

from app.core import clock
from tests.helpers import REPO

MODELS = [REPO / "bpmn" / "specialty_plan.bpmn", REPO / "forms" / "specialty_plan",
          REPO / "bpmn" / "remote_consult.bpmn", REPO / "forms" / "remote_consult", REPO / "dmn"]


def deploy_liaison_models(app) -> None:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")


def monday_morning(weeks_ahead: int = 1) -> date:
    """Move the clock to 09:00 local on a Monday `weeks_ahead` weeks on; return that Monday."""
    today = clock.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    clock.advance(clock.start_of_day(monday).replace(hour=9) - clock.now())
    return monday


def register_expert(app, user_id: int, *, org: str = "C01D01", specialty: str = "cardiology",
                    leave: tuple[date, date] | None = None) -> None:
    from app.consult import experts
    with app.app_context():
        experts.upsert(user_id=user_id, org_code=org, specialty=specialty, title="chief",
                       leave_from=leave[0] if leave else None, leave_to=leave[1] if leave else None)


def duty(api, **body) -> dict:
    resp = api.post("/api/v1/liaison/duties", json={"kind": "visit", "half_day": "am", "capacity": 2, **body})
    assert resp.status_code == 201, resp.json
    return resp.json

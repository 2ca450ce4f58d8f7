"""A device reading sent to the `device_reading` webhook lands in the health record *and* pre-fills the open
follow-up form (`x-default-from: "device.…"`), through `app.follow_up.devices.record_device_reading`."""
from __future__ import annotations

import random
from datetime import date, timedelta

from app.core import clock
from app.residents import idcard
from tests.api.test_webhooks import integration_client, signed_post  # noqa: F401  (fixture)
from tests.test_follow_up_support import deploy_care_models, make_resident, one_task, plan_in_force, tick

BORN = date(1956, 3, 14)
ID_NUMBER = idcard.generate(random.Random(7), area_code="330127", birth_date=BORN, sex="M")   # make_resident's


def reading(code: str, value, unit: str, *, minutes_ago: int = 30) -> dict:
    at = (clock.now() - timedelta(minutes=minutes_ago)).isoformat()
    return {"id_number": ID_NUMBER, "code": code, "value": value, "unit": unit, "effective_at": at,
            "source": "bp_cuff"}


def _schedule_device(app, resident_id: int) -> dict:
    from sqlalchemy import select

    from app.core.db import session
    from app.follow_up.models import FollowUpSchedule
    with app.app_context():
        return session().scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == resident_id)
                                 ).one().latest_device or {}


def test_a_cuff_reading_prefills_the_open_follow_up_form(app, client, login_as, integration_client):  # noqa: F811
    deploy_care_models(app)
    resident = make_resident(app)
    village = plan_in_force(app, login_as, resident)["village"]
    tick(app, 24)                                                   # the first cycle comes due (30-day plan)
    for code, value in (("8480-6", 152), ("8462-4", 94), ("8867-4", 78)):
        response = signed_post(client, integration_client, "device_reading", reading(code, value, "mmHg" if code
                                                                                      != "8867-4" else "/min"))
        assert response.status_code in (200, 202), response.get_json()
        assert response.get_json()["observation_id"]

    task = one_task(village, "record_htn_visit_high_risk")
    signs = task["form"]["schema"]["properties"]["signs"]["properties"]
    assert signs["bp_readings"]["default"] == [{"sbp": 152, "dbp": 94}]
    assert signs["heart_rate"]["default"] == 78
    device = _schedule_device(app, resident)
    assert (device["sbp"], device["dbp"], device["source"]) == (152, 94, "bp_cuff")
    # the reading is in the health record too
    series = village.get(f"/api/v1/residents/{resident}/observations?code=8480-6").json
    assert [o["value"] for o in (series.get("items", series) if isinstance(series, dict) else series)][:1] == [152]


def test_a_reading_the_follow_up_form_does_not_use_is_only_recorded(app, client, login_as,
                                                                    integration_client):  # noqa: F811
    deploy_care_models(app)
    resident = make_resident(app)
    plan_in_force(app, login_as, resident)
    response = signed_post(client, integration_client, "device_reading", reading("8310-5", 36.8, "Cel"))
    assert response.status_code in (200, 202), response.get_json()
    assert _schedule_device(app, resident) == {}


def test_a_reading_between_cycles_is_kept_for_the_next_cycle(app, client, login_as, integration_client):  # noqa: F811
    deploy_care_models(app)
    resident = make_resident(app)
    village = plan_in_force(app, login_as, resident)["village"]          # no cycle is open yet
    for code, value in (("8480-6", 146), ("8462-4", 88)):
        response = signed_post(client, integration_client, "device_reading", reading(code, value, "mmHg"))
        assert response.status_code in (200, 202), response.get_json()
    tick(app, 24)
    task = one_task(village, "record_htn_visit_high_risk")
    assert task["form"]["schema"]["properties"]["signs"]["properties"]["bp_readings"]["default"] == \
        [{"sbp": 146, "dbp": 88}]

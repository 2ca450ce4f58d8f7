"""Issue 12.9: a follow-up visit dated after the county's local today is refused (422 date_in_future); the form never
offers a future date as its default (the cycle is generated a week before it is due)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from tests.test_follow_up_support import (
    deploy_care_models,
    htn_visit,
    local_today,
    make_resident,
    one_task,
    plan_in_force,
    tick,
)


@pytest.fixture()
def visit_task(app, login_as, county):
    deploy_care_models(app)
    rid = make_resident(app)
    done = plan_in_force(app, login_as, rid)
    tick(app, 24)                                          # 30-day plan: the cycle is generated 7 days ahead
    return done["village"], one_task(done["village"], "record_htn_visit_high_risk")


def test_a_visit_dated_tomorrow_is_refused(app, visit_task):
    village, task = visit_task
    with app.app_context():
        tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    resp = village.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": htn_visit(tomorrow, 132, 82)})
    assert resp.status_code == 422
    body = resp.json
    assert body["code"] == "date_in_future"
    [error] = body["details"]["errors"]
    assert (error["field"], error["code"]) == ("visit.visit_date", "date_in_future")
    assert "不能晚于今天" in error["message"]
    ok = village.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": htn_visit(local_today(app), 132, 82)})
    assert ok.status_code == 200, ok.json


def test_the_form_offers_today_not_the_later_due_date(app, visit_task):
    _village, task = visit_task
    default = task["form"]["schema"]["properties"]["visit"]["properties"]["visit_date"]["default"]
    assert task["due_at"][:10] > local_today(app)          # due later this week
    assert default == local_today(app)

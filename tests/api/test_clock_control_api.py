"""Issue 14.12: a process owner advances the platform clock (embedded default and tests only) and the timers that
became due fire, so a 90-day follow-up model can be tried in minutes; refused in production."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.auth.services import create_user
from app.core.db import session


@pytest.fixture()
def switched_on(app):
    settings = app.config["YGT"]
    settings.extra["clock_control"] = True
    yield
    settings.extra.pop("clock_control", None)


def _open_tasks(api, instance_id):
    return api.get(f"/api/v1/process-instances/{instance_id}").get_json()["open_tasks"]


def test_advancing_the_clock_90_days_fires_the_follow_up_timer_and_is_audited(app, login_as, deploy_models,
                                                                               switched_on):
    deploy_models("ninety_day_review.bpmn", with_dmn=False)
    owner = login_as("process_owner")
    started = owner.post("/api/v1/process-instances", json={"process_id": "ninety_day_review", "data": {}})
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    assert _open_tasks(owner, instance_id) == []
    before = owner.post("/api/v1/clock", json={"days": 89})
    assert before.status_code == 200, before.get_json()
    assert _open_tasks(owner, instance_id) == []
    after = owner.post("/api/v1/clock", json={"days": 1, "minutes": 1})
    assert after.status_code == 200 and after.get_json()["instances_with_due_timers"] == 1
    [task] = _open_tasks(owner, instance_id)
    assert task["element_id"] == "after_timer"
    from app.audit.models import AuditEntry
    with app.app_context():
        moves = session().scalars(select(AuditEntry).where(AuditEntry.action == "clock.advance")).all()
    assert [m.actor for m in moves] == [owner.user.username] * 2


def test_only_county_admin_and_process_owner_move_the_clock(login_as, switched_on):
    assert login_as("county_admin").post("/api/v1/clock", json={"hours": 1}).status_code == 200
    refused = login_as("township_doctor", org="C01T01").post("/api/v1/clock", json={"hours": 1})
    assert refused.status_code == 403


def test_a_step_back_or_beyond_400_days_is_422_invalid_clock_step(login_as, switched_on):
    owner = login_as("process_owner")
    for body in ({"days": 0}, {"days": 300, "hours": 24 * 101}):
        response = owner.post("/api/v1/clock", json=body)
        assert response.status_code == 422 and response.get_json()["code"] == "invalid_clock_step", body
    assert owner.post("/api/v1/clock", json={"days": -1}).status_code == 422


@pytest.mark.parametrize("where", ["redis", "postgresql"])
def test_production_never_moves_the_clock(app, login_as, monkeypatch, where):
    """No test switch: a site with Redis (the production topology) or a PostgreSQL database is refused."""
    settings = app.config["YGT"]
    monkeypatch.setenv("YGT_CLOCK_CONTROL", "1")
    if where == "redis":
        monkeypatch.setattr(settings, "redis_url", settings.redis_url or "redis://127.0.0.1:6379/4")
    else:
        monkeypatch.setattr(settings, "database_url", "postgresql+psycopg://postgres@127.0.0.1:5432/ygt")
    response = login_as("process_owner").post("/api/v1/clock", json={"days": 90})
    assert response.status_code == 403 and response.get_json()["code"] == "clock_control_disabled"
    assert login_as("county_admin").get("/api/v1/clock").get_json()["enabled"] is False


def test_the_embedded_default_moves_the_clock_when_the_site_opted_in(app, login_as, monkeypatch):
    settings = app.config["YGT"]
    if not settings.is_sqlite or settings.production:
        pytest.skip("the embedded default is SQLite without Redis")
    monkeypatch.setenv("YGT_CLOCK_CONTROL", "1")
    assert login_as("process_owner").post("/api/v1/clock", json={"hours": 2}).status_code == 200


def test_the_clock_shows_the_waiting_timers_and_moves_to_a_date(login_as, deploy_models, switched_on):
    """The clock page's data: the timers still waiting and when the next is due; `until` moves to an instant."""
    deploy_models("ninety_day_review.bpmn", with_dmn=False)
    owner = login_as("process_owner")
    instance_id = owner.post("/api/v1/process-instances", json={"process_id": "ninety_day_review",
                                                               "data": {}}).get_json()["id"]
    state = owner.get("/api/v1/clock").get_json()
    assert state["pending_timers"] == 1
    next_at = datetime.fromisoformat(state["next_timer_at"])
    assert timedelta(days=89) < next_at - datetime.fromisoformat(state["now"]) <= timedelta(days=90)
    moved = owner.post("/api/v1/clock", json={"until": (next_at + timedelta(minutes=1)).isoformat()})
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert body["instances_with_due_timers"] == 1 and datetime.fromisoformat(body["now"]) > next_at
    assert [t["element_id"] for t in _open_tasks(owner, instance_id)] == ["after_timer"]
    assert owner.get("/api/v1/clock").get_json()["pending_timers"] == 0


def test_until_in_the_past_or_with_a_step_is_422(login_as, switched_on):
    owner = login_as("process_owner")
    now = datetime.fromisoformat(owner.get("/api/v1/clock").get_json()["now"])
    for body in ({"until": (now - timedelta(hours=1)).isoformat()},
                 {"until": (now + timedelta(days=1)).isoformat(), "days": 1},
                 {"until": (now + timedelta(days=401)).isoformat()}):
        response = owner.post("/api/v1/clock", json=body)
        assert response.status_code == 422 and response.get_json()["code"] == "invalid_clock_step", body
    naive = owner.post("/api/v1/clock", json={"until": "2030-01-01T00:00:00"})
    assert naive.status_code == 422


def test_until_date_moves_to_the_end_of_that_local_day(login_as, switched_on):
    owner = login_as("process_owner")
    now = datetime.fromisoformat(owner.get("/api/v1/clock").get_json()["now"])
    day = (now + timedelta(days=10)).date()
    moved = owner.post("/api/v1/clock", json={"until_date": day.isoformat()})
    assert moved.status_code == 200, moved.get_json()
    local = datetime.fromisoformat(moved.get_json()["now"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.date(), local.hour, local.minute) == (day, 23, 59)
    again = owner.post("/api/v1/clock", json={"until_date": day.isoformat()})
    assert again.status_code == 422 and again.get_json()["code"] == "invalid_clock_step"


def test_moving_the_clock_signs_nobody_out(app, client, county, switched_on):
    """A browser session lasts 12 h: a demo jump of 7 days must not end the mover's session (nor anyone's), or the
    平台时钟 page logs its user out at the first click."""
    with app.app_context():
        create_user("clock_owner", password="Clock-Owner-Pass-1", roles=["process_owner"], org_code="C01")
    login = client.post("/api/v1/auth/login", json={"username": "clock_owner", "password": "Clock-Owner-Pass-1"})
    assert login.status_code == 200, login.get_json()
    csrf = login.get_json()["csrf_token"]
    moved = client.post("/api/v1/clock", json={"days": 7}, headers={"X-CSRF-Token": csrf})
    assert moved.status_code == 200, moved.get_json()
    assert client.get("/api/v1/clock").status_code == 200
    assert client.post("/api/v1/clock", json={"days": 30}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 200

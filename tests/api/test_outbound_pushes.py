"""Outbound pushes to external systems (public health, HIS) that fail are never silent: each failure is recorded
on the record's push row with its error and a retry time, one bad record does not stop the others, a record still
failing after a few attempts raises one notification to the county administrators, and the integrations page lists
what is undelivered with a retry button. Records beyond the first batch are pushed too."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from tests.api.test_connectors import _server


def _follow_ups(app, resident_id: int, n: int) -> list[int]:
    from app.residents.records import record_encounter
    with app.app_context():
        return [record_encounter(resident_id, kind="follow_up", started_at=datetime(2026, 3, 1 + i, 1, tzinfo=UTC),
                                 org_code="C01T01V01", source="village", diagnoses=["I10"], rescreen=False)[0].id
                for i in range(n)]


def _pushes(app, system: str = "public_health") -> list:
    from app.integrations.models import ExternalPush
    with app.app_context():
        rows = session().scalars(select(ExternalPush).where(ExternalPush.system == system)
                                 .order_by(ExternalPush.id)).all()
        session().expunge_all()
        return rows


def test_follow_ups_beyond_the_first_batch_are_pushed(app, monkeypatch, make_resident):
    """The batch limit counts records still to push, not records already pushed (the 201st visit went out never)."""
    from connectors.public_health import sync
    _follow_ups(app, make_resident()["id"], 3)
    server = _server(monkeypatch, "public_health", {"/follow-ups": (201, {"id": "R-1"})})
    try:
        with app.app_context():
            assert sync.push_follow_ups("public_health", limit=2) == 2
            assert sync.push_follow_ups("public_health", limit=2) == 1
            assert sync.push_follow_ups("public_health", limit=2) == 0
        assert len(server.requests) == 3
    finally:
        server.close()


def test_a_failing_record_is_recorded_and_does_not_stop_the_others(app, monkeypatch, make_resident):
    from connectors.public_health import sync
    first, second = _follow_ups(app, make_resident()["id"], 2)

    def answer(handler):
        return (500, {"error": "数据库繁忙"}) if len(server.requests) == 1 else (201, {"id": "R-9"})
    server = _server(monkeypatch, "public_health", {"/follow-ups": answer})
    try:
        with app.app_context():
            assert sync.push_follow_ups("public_health") == 1       # the first failed, the second went out
        failed, sent = _pushes(app)
        assert (failed.object_id, failed.status, failed.attempts) == (str(first), "failed", 1)
        assert "500" in failed.last_error and failed.next_attempt_at is not None
        assert (sent.object_id, sent.status) == (str(second), "sent")
        with app.app_context():                                        # not again before its retry time
            assert sync.push_follow_ups("public_health") == 0
        assert len(server.requests) == 2
    finally:
        server.close()


def test_a_failed_record_is_retried_after_its_backoff_and_then_sent_once(app, monkeypatch, make_resident):
    from connectors.public_health import sync
    [only] = _follow_ups(app, make_resident()["id"], 1)
    answers = [(503, {"error": "维护中"}), (201, {"id": "R-10"})]
    server = _server(monkeypatch, "public_health", {"/follow-ups": lambda h: answers.pop(0)})
    try:
        with app.app_context():
            assert sync.push_follow_ups("public_health") == 0
            clock.advance(timedelta(minutes=5))
            assert sync.push_follow_ups("public_health") == 1
            clock.advance(timedelta(hours=2))
            assert sync.push_follow_ups("public_health") == 0
        [row] = _pushes(app)
        assert (row.object_id, row.status, row.attempts, row.remote_id, row.last_error) == \
            (str(only), "sent", 2, "R-10", None)
    finally:
        clock.reset()
        server.close()


def test_a_record_still_failing_after_three_attempts_notifies_the_county_admins_once(app, monkeypatch, make_resident,
                                                                                      make_user):
    from app.notifications.models import Notification
    from connectors.public_health import sync
    admin = make_user("county_admin", username="push_admin")
    _follow_ups(app, make_resident()["id"], 2)
    server = _server(monkeypatch, "public_health", {"/follow-ups": (500, {"error": "down"})})
    try:
        with app.app_context():
            for _ in range(5):
                sync.push_follow_ups("public_health")
                clock.advance(timedelta(hours=7))
            notes = session().scalars(select(Notification).where(Notification.user_id == admin.id)).all()
        assert len(notes) == 1
        assert "公共卫生" in notes[0].title and "2" in notes[0].title and notes[0].link.startswith("/integrations")
        assert all(r.status == "failed" and r.attempts == 5 and r.alerted_at is not None for r in _pushes(app))
    finally:
        clock.reset()
        server.close()


def test_the_his_results_push_goes_on_past_a_failing_result(app, monkeypatch):
    """A result the HIS refuses stays pending with its error and does not hold back the next one."""
    from connectors.his import prescriptions
    sent = []

    def answer(handler):
        sent.append(1)
        return (500, {"error": "bad"}) if len(sent) == 1 else (200, {"ok": True})
    server = _server(monkeypatch, "his", {"/prescriptions/results": answer})
    pending = [type("R", (), {"id": 11, "payload": {"rx_id": "A"}})(), type("R", (), {"id": 12, "payload": {"rx_id": "B"}})()]
    marked: list[int] = []
    monkeypatch.setattr(prescriptions.services, "pending_results", lambda limit, owed=None: pending)
    monkeypatch.setattr(prescriptions.services, "mark_result_sent", marked.append)
    try:
        with app.app_context():
            assert prescriptions.push() == 1
        assert marked == [12]
        failed = _pushes(app, "his")
        assert [(r.object_type, r.object_id, r.status) for r in failed] == [("rx_result", "11", "failed"),
                                                                             ("rx_result", "12", "sent")]
    finally:
        server.close()


def test_the_integrations_api_lists_undelivered_pushes_and_retries_one(app, monkeypatch, make_resident, client_as):
    from connectors.public_health import sync
    _follow_ups(app, make_resident()["id"], 1)
    server = _server(monkeypatch, "public_health", {"/follow-ups": (500, {"error": "down"})})
    try:
        with app.app_context():
            sync.push_follow_ups("public_health")
        admin = client_as("county_admin")
        listed = admin.get("/api/v1/integrations/pushes?status=failed")
        assert listed.status_code == 200, listed.get_json()
        [item] = listed.get_json()["items"]
        assert item["system_label"] == "公共卫生系统" and item["object_label"] == "随访记录" and item["attempts"] == 1
        retried = admin.post(f"/api/v1/integrations/pushes/{item['id']}/retry")
        assert retried.status_code == 200 and retried.get_json()["next_attempt_at"] <= clock.now().isoformat()
        assert client_as("village_doctor").get("/api/v1/integrations/pushes").status_code == 403
        assert admin.post("/api/v1/integrations/pushes/999999/retry").get_json()["code"] == "push_not_found"
    finally:
        server.close()

"""The notification outbox against a local fake SMS/push HTTP server: sent once per key, retries with backoff
only when nothing was sent, consent respected."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.core import clock
from app.core.db import session
from connectors.notify import services
from connectors.notify.models import OutboxMessage


class FakeServer:
    """A real HTTP server on localhost: records every request and answers from a script (default: OK)."""

    def __init__(self, answers=None):
        self.requests: list[dict] = []
        self.answers = list(answers or [])
        self.routes: dict[str, object] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                      "json": json.loads(body) if body else None})
                route = fake.routes.get(self.path.split("?")[0])
                status, payload = (route(self) if callable(route) else route) if route else (
                    fake.answers.pop(0) if fake.answers else (200, {"Code": "OK", "BizId": f"biz-{len(fake.requests)}",
                                                                    "MessageId": f"msg-{len(fake.requests)}"}))
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def sms_server(monkeypatch):
    server = FakeServer()
    monkeypatch.setenv("YGT_SMS_URL", server.url + "/sms/send")
    monkeypatch.setenv("YGT_SMS_SIGN_NAME", "青溪县医共体")
    monkeypatch.setenv("YGT_PUSH_URL", server.url + "/push")
    yield server
    server.close()


@pytest.fixture()
def resident(app, make_resident):
    return make_resident()["id"]


def consent(app, resident_id, channel="sms", granted=True):
    with app.app_context():
        services.set_consent(resident_id, channel, granted=granted, source="签约时书面同意")


def queue(app, resident_id, key="follow_up:1:due", channel="sms"):
    with app.app_context():
        return services.queue_message(channel, recipient=("resident", resident_id), template_code="SMS_123456",
                                      params={"name": "王建国", "date": "3月8日"}, idempotency_key=key).id


def row(app, outbox_id) -> OutboxMessage:
    with app.app_context():
        session().expire_all()
        return session().get(OutboxMessage, outbox_id)


def test_a_queued_sms_is_sent_once_in_the_chinese_sms_api_shape(app, sms_server, resident):
    consent(app, resident)
    outbox_id = queue(app, resident)
    [request] = sms_server.requests
    assert request["json"]["SignName"] == "青溪县医共体" and request["json"]["TemplateCode"] == "SMS_123456"
    assert json.loads(request["json"]["TemplateParam"]) == {"name": "王建国", "date": "3月8日"}
    assert request["json"]["PhoneNumbers"] == "13800001234" and request["json"]["OutId"] == "follow_up:1:due"
    sent = row(app, outbox_id)
    assert (sent.status, sent.provider_message_id, sent.attempts) == ("sent", "biz-1", 1)


def test_a_retried_delivery_job_does_not_send_again(app, sms_server, resident):
    consent(app, resident)
    outbox_id = queue(app, resident)
    with app.app_context():
        assert services.deliver(outbox_id) == "skipped"
        assert services.deliver(outbox_id) == "skipped"
    assert len(sms_server.requests) == 1


def test_queueing_the_same_key_twice_makes_one_message(app, sms_server, resident):
    consent(app, resident)
    assert queue(app, resident) == queue(app, resident)
    assert len(sms_server.requests) == 1


def test_a_throttled_send_is_retried_with_backoff_and_sent_once(app, sms_server, resident):
    sms_server.answers = [(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"})]
    consent(app, resident)
    outbox_id = queue(app, resident)
    waiting = row(app, outbox_id)
    assert waiting.status == "pending" and "BUSINESS_LIMIT_CONTROL" in waiting.last_error
    with app.app_context():
        assert services.deliver(outbox_id) == "skipped"           # not due yet
        clock.advance(timedelta(seconds=31))
        assert services.deliver_due() == 1
    assert row(app, outbox_id).status == "sent"
    assert [r["json"]["OutId"] for r in sms_server.requests] == ["follow_up:1:due"] * 2
    assert len(sms_server.requests) == 2 and row(app, outbox_id).attempts == 2


def test_an_unreachable_provider_is_retried_later(app, monkeypatch, resident):
    monkeypatch.setenv("YGT_SMS_URL", "http://127.0.0.1:9/sms")        # nothing listens on the discard port
    consent(app, resident)
    outbox_id = queue(app, resident)
    assert row(app, outbox_id).status == "pending"


def test_a_rejected_template_fails_without_retrying(app, sms_server, resident):
    sms_server.answers = [(200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"})]
    consent(app, resident)
    outbox_id = queue(app, resident)
    assert row(app, outbox_id).status == "failed"
    with app.app_context():
        clock.advance(timedelta(hours=1))
        assert services.deliver_due() == 0


def test_no_sms_without_the_residents_consent(app, sms_server, resident):
    outbox_id = queue(app, resident)
    assert row(app, outbox_id).status == "suppressed" and sms_server.requests == []


def test_withdrawn_consent_is_respected(app, sms_server, resident):
    consent(app, resident)
    consent(app, resident, granted=False)
    outbox_id = queue(app, resident)
    assert row(app, outbox_id).status == "suppressed" and sms_server.requests == []


def test_a_message_stuck_in_sending_becomes_uncertain_not_resent(app, sms_server, resident):
    consent(app, resident)
    outbox_id = queue(app, resident, key="k-stuck")
    with app.app_context():
        stuck = session().get(OutboxMessage, outbox_id)
        stuck.status, stuck.next_attempt_at = "sending", clock.now() - timedelta(minutes=1)
        session().commit()
        services.deliver_due()
    assert row(app, outbox_id).status == "uncertain" and len(sms_server.requests) == 1


def test_platform_notifications_are_pushed_to_the_app_once(app, sms_server, make_user):
    from app.notifications.services import notify
    user = make_user("village_doctor")
    with app.app_context():
        notify(user.id, kind="task_assigned", title="新任务：随访", dedupe_key="task:1:assigned")
        assert services.forward_notifications() == 1
        assert services.forward_notifications() == 0
    [push] = sms_server.requests
    assert push["path"] == "/push" and push["json"]["Alias"] == f"user:{user.id}"
    assert push["json"]["Params"]["title"] == "新任务：随访"


def test_the_platform_channel_records_an_in_platform_notification(app, make_user):
    from app.notifications.services import list_for
    user = make_user("township_doctor")
    with app.app_context():
        services.queue_message("platform", recipient=("user", user.id), template_code="task_overdue",
                               params={"title": "任务已逾期"}, idempotency_key="overdue:9")
        items, total, _ = list_for(user.id)
    assert total == 1 and items[0].title == "任务已逾期"

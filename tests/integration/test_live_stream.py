"""The live stream on real servers: gunicorn with two threaded worker processes on PostgreSQL (+ Redis), waitress on
SQLite. A participant's SSE connection is served by one worker while the monitor's FHIR Bundle is taken by another
(or another thread); the vitals and the alarm reach the participant over HTTP within the 5 s budget, the connection
ends in time (`YGT_LIVE_STREAM_SECONDS`) and resumes with Last-Event-ID, and closing the room ends the open
stream (`closed`) and refuses a new one with 403."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
import requests

from app.core import clock
from app.live import services
from tests.api.test_live_vitals import vitals_bundle
from tests.processes import Proc, base_env, free_port, wait_http

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


@pytest.fixture(params=["waitress", "gunicorn"])
def server(request, app, database_url, tmp_path):
    if (request.param == "gunicorn") != ON_POSTGRES:
        pytest.skip("gunicorn serves the PostgreSQL mode, waitress the embedded SQLite mode")
    settings = app.config["YGT"]
    port = free_port()
    args = ["serve", "--port", str(port)] + (["--workers", "2"] if ON_POSTGRES else [])
    env = base_env(DATA_DIR=str(settings.data_dir), DATABASE_URL=database_url,
                   REDIS_URL=os.environ.get("REDIS_URL") if ON_POSTGRES else None,
                   YGT_SCHEDULER="0", YGT_LIVE_STREAM_SECONDS="8")
    proc = Proc(args, env, tmp_path / "serve.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


class Listener(threading.Thread):
    """Reads one SSE connection: every event with the time it arrived."""

    def __init__(self, url: str, token: str, last_event_id: str | None = None):
        super().__init__(daemon=True)
        self.url, self.token, self.last_event_id = url, token, last_event_id
        self.events: list[tuple[float, str, str, str]] = []     # (arrived, event, id, data)
        self.connected = threading.Event()
        self.status: int | None = None

    def run(self):
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Encoding": "identity"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        with requests.get(self.url, headers=headers, stream=True, timeout=15) as response:
            self.status = response.status_code
            self.connected.set()
            if response.status_code != 200:
                return
            event, data, ident = None, None, None
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line.startswith("id: "):
                    ident = line[4:]
                elif line == "" and event:
                    self.events.append((time.monotonic(), event, ident or "", data or ""))
                    event, data, ident = None, None, None


def _resident(app) -> dict:
    import random
    from datetime import date

    from app.auth.principal import SYSTEM
    from app.residents import idcard
    from app.residents import services as resident_services
    id_number = idcard.generate(random.Random(3), area_code="330127", birth_date=date(1950, 5, 1), sex="M")
    with app.app_context():
        row = resident_services.register_resident({"id_number": id_number, "name": "王建国", "org_code": "C01T01V01",
                                                   "address": "青溪县石门镇上塘村1组"}, principal=SYSTEM)
        return {"id": row.id}


def test_vitals_reach_the_participant_over_http_within_5_seconds(server, app, login_as):
    doctor, expert = login_as("township_doctor", org="C01T01"), login_as("county_specialist", org="C01D01")
    monitor = login_as("integration", org="C01")
    resident = _resident(app)
    with app.app_context():
        services.open_room("consult", 3, [doctor.user.id, expert.user.id], "急会诊", device_ids=["MON-PG"])
    stream_url = f"{server}/api/v1/live/rooms/consult/3/stream"
    listener = Listener(stream_url, expert.token)
    listener.start()
    assert listener.connected.wait(10) and listener.status == 200
    time.sleep(0.3)
    sent = time.monotonic()
    posted = requests.post(f"{server}/fhir", data=json.dumps(vitals_bundle(
        resident["id"], "MON-PG", {"hr": 92, "spo2": 88}, clock.now(), 1)),
        headers={"Authorization": f"Bearer {monitor.token}", "Content-Type": "application/fhir+json"}, timeout=10)
    assert posted.status_code == 200, posted.text
    listener.join(12)                       # the server ends the connection after YGT_LIVE_STREAM_SECONDS
    kinds = [e[1] for e in listener.events]
    assert kinds == ["vitals", "alarm", "reconnect"], kinds
    arrived, _event, _id, data = listener.events[0]
    assert arrived - sent < 5.0, f"vitals after {arrived - sent:.2f} s"
    assert listener.events[-1][0] - arrived > 2.0          # delivered as it happened, not buffered to the stream's end
    assert sorted((r["channel"], r["value"]) for r in json.loads(data)) == [("hr", 92.0), ("spo2", 88.0)]
    assert json.loads(listener.events[1][3])["threshold"] == "<90"

    # the browser reconnects with Last-Event-ID: nothing is delivered twice; closing the room ends that stream
    again = Listener(stream_url, expert.token, last_event_id=listener.events[-1][2])
    again.start()
    assert again.connected.wait(10) and again.status == 200
    time.sleep(0.5)
    with app.app_context():
        services.close_room("consult", 3)
    again.join(12)
    assert [e[1] for e in again.events] == ["closed"]
    refused = requests.get(stream_url, headers={"Authorization": f"Bearer {expert.token}"}, timeout=10)
    assert refused.status_code == 403 and refused.json()["code"] == "live_room_closed"
    late = requests.post(f"{server}/fhir", data=json.dumps(vitals_bundle(
        resident["id"], "MON-PG", {"spo2": 85}, clock.now(), 2)),
        headers={"Authorization": f"Bearer {monitor.token}", "Content-Type": "application/fhir+json"}, timeout=10)
    assert late.status_code == 403

"""Live rooms: the service interface consult calls (open/close/room_for), who may read a room (participants of an
open room: others 404, participants after close 403), every read audited, WebRTC signalling between participants."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.errors import Conflict, Invalid
from app.live import services


@pytest.fixture()
def people(login_as):
    return {"doctor": login_as("township_doctor", org="C01T01"), "expert": login_as("county_specialist", org="C01D01"),
            "other": login_as("county_specialist", org="C01D01")}


@pytest.fixture()
def room(app, people):
    with app.app_context():
        return services.open_room("consult", 7, [people["doctor"].user.id, people["expert"].user.id],
                                  "王建国 急会诊", device_ids=["MON-1"])


def audits(app, object_id="consult:7") -> int:
    from app.core.db import session
    with app.app_context():
        n = session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "phi.read", AuditEntry.object_type == "live_room", AuditEntry.object_id == object_id))
        session().rollback()
        return n


def test_open_room_for_room_and_close(app, people, room):
    assert room.is_open and room.device_ids == ("MON-1",) and room.video_url is None
    with app.app_context():
        again = services.open_room("consult", 7, [people["doctor"].user.id], "改名", device_ids=["MON-1", "MON-2"])
        assert again.id == room.id and again.title == "改名" and again.device_ids == ("MON-1", "MON-2")
        assert services.room_for("consult", 7).participants == (people["doctor"].user.id,)
        closed = services.close_room("consult", 7)
        assert closed.status == "closed" and closed.closed_at is not None
        assert services.close_room("consult", 7).closed_at == closed.closed_at        # closing again: no change
        assert services.close_room("consult", 999) is None and services.room_for("consult", 999) is None
        with pytest.raises(Conflict) as err:
            services.open_room("consult", 7, [people["doctor"].user.id], "再开")
        assert err.value.code == "live_room_closed"


def test_a_device_streams_into_one_open_room_only(app, people, room):
    with app.app_context():
        with pytest.raises(Conflict) as err:
            services.open_room("consult", 8, [people["doctor"].user.id], "另一会诊", device_ids=["MON-1"])
        assert err.value.code == "live_device_in_use" and services.room_for("consult", 8) is None
        services.close_room("consult", 7)
        assert services.open_room("consult", 8, [people["doctor"].user.id], "另一会诊", device_ids=["MON-1"]).is_open


@pytest.mark.parametrize("args,code", [
    (("Consult!", 1, "P", "t"), "live_bad_kind"), (("consult", 0, "P", "t"), "live_bad_ref"),
    (("consult", 1, "P", " "), "live_bad_title"), (("consult", 1, [], "t"), "live_no_participants"),
    (("consult", 1, [987654], "t"), "live_unknown_participant"), (("consult", 1, "P", "t", [""]), "live_bad_device")])
def test_bad_input_is_refused_with_a_code_and_nothing_stored(app, people, args, code):
    args = tuple([people["doctor"].user.id] if a == "P" else a for a in args)
    with app.app_context():
        with pytest.raises(Invalid) as err:
            services.open_room(*args)
        assert err.value.code == code and services.room_for("consult", 1) is None


def test_external_video_service_link_is_stored(app, people, monkeypatch):
    monkeypatch.setenv("YGT_LIVE_VIDEO_URL", "https://meet.example.org/ygt-{kind}-{ref}")
    with app.app_context():
        room = services.open_room("consult", 9, [people["doctor"].user.id], "外部视频")
        assert room.video_url == "https://meet.example.org/ygt-consult-9"
    got = people["doctor"].get("/api/v1/live/rooms/consult/9").get_json()
    assert got["video_url"] == "https://meet.example.org/ygt-consult-9"


def test_participants_read_the_room_others_get_404_and_after_close_403(app, people, room, monkeypatch):
    monkeypatch.setenv("YGT_LIVE_ICE_SERVERS", '[{"urls": "stun:stun.example.org:3478"}]')
    got = people["expert"].get("/api/v1/live/rooms/consult/7")
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert body["title"] == "王建国 急会诊" and body["status"] == "open" and body["me"] == people["expert"].user.id
    assert [c["channel"] for c in body["channels"]] == ["hr", "spo2", "sbp", "dbp", "rr", "temp"]
    assert body["ice_servers"] == [{"urls": "stun:stun.example.org:3478"}]
    assert audits(app) == 1
    for url in ("/api/v1/live/rooms/consult/7", "/api/v1/live/rooms/consult/7/stream"):
        refused = people["other"].get(url)
        assert refused.status_code == 404 and refused.get_json()["code"] == "live_room_not_found"
    assert people["other"].post("/api/v1/live/rooms/consult/7/signals", json={"type": "hello"}).status_code == 404
    assert audits(app) == 1                                         # a refused read leaves no audit entry
    with app.app_context():
        services.close_room("consult", 7)
    for url in ("/api/v1/live/rooms/consult/7", "/api/v1/live/rooms/consult/7/stream"):
        closed = people["expert"].get(url)
        assert closed.status_code == 403 and closed.get_json()["code"] == "live_room_closed"
    assert people["doctor"].post("/api/v1/live/rooms/consult/7/signals", json={"type": "hello"}).status_code == 403
    assert audits(app) == 1


def test_my_open_rooms(app, people, room):
    assert people["doctor"].get("/api/v1/live/rooms").get_json()["items"][0]["title"] == "王建国 急会诊"
    assert people["other"].get("/api/v1/live/rooms").get_json()["items"] == []


def test_signals_reach_the_addressed_participant_through_the_stream(app, people, room, monkeypatch):
    monkeypatch.setenv("YGT_LIVE_STREAM_SECONDS", "0.2")
    doctor, expert = people["doctor"], people["expert"]
    cursor = expert.get("/api/v1/live/rooms/consult/7").get_json()["cursor"]
    sent = doctor.post("/api/v1/live/rooms/consult/7/signals",
                       json={"type": "offer", "to": expert.user.id, "data": {"sdp": "v=0", "type": "offer"}})
    assert sent.status_code == 201, sent.get_json()
    doctor.post("/api/v1/live/rooms/consult/7/signals", json={"type": "hello"})
    stream = expert.get(f"/api/v1/live/rooms/consult/7/stream?cursor={cursor}")
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    text = stream.get_data(as_text=True)
    assert text.count("event: signal") == 2 and '"sdp": "v=0"' in text and "event: reconnect" in text
    own = doctor.get(f"/api/v1/live/rooms/consult/7/stream?cursor={cursor}").get_data(as_text=True)
    assert "event: signal" not in own                               # nobody receives their own messages
    assert audits(app) == 3                                         # snapshot + two stream connections


@pytest.mark.parametrize("body,code", [({"type": "shout"}, "live_bad_signal"),
                                       ({"type": "offer", "to": 987654}, "live_bad_recipient"),
                                       ({"type": "offer", "data": {"sdp": "x" * 40000}}, "live_bad_signal")])
def test_bad_signals_are_refused(people, room, body, code):
    got = people["doctor"].post("/api/v1/live/rooms/consult/7/signals", json=body)
    assert got.status_code == 422 and got.get_json()["code"] == code


def test_demo_seed_opens_one_room_with_recent_vitals_once(app, make_user):
    from app.seed.live import seed_live_room
    make_user("village_doctor", username="village_doctor1")
    make_user("county_specialist", username="specialist_cardio")
    with app.app_context():
        assert seed_live_room() == {"live_rooms": 1, "live_readings": 360}
        assert seed_live_room() == {}
        room = services.room_for("demo", 1)
        assert room.is_open and room.device_ids == ("MON-DEMO-1",) and len(room.participants) == 2

"""/api/v1/live — a live room for its participants: the snapshot (last value + 15-minute trend per channel,
alarms, ICE servers), the server-sent-event stream (vitals, alarms, WebRTC signals addressed to the caller, the
room's end) and the signalling POST. Vitals come in through POST /fhir (connectors/fhir), not here.

Who: participants of an open room; others get 404 `live_room_not_found`, participants of a closed room 403
`live_room_closed`. Every read (snapshot and each stream connection) leaves a `phi.read` audit entry."""
from __future__ import annotations

import json
import os
import time

from flask import Response, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.audit.services import record
from app.auth.access import PHI_READERS, require_roles
from app.auth.access import require_principal as current
from app.core.db import session, unit_of_work
from app.core.errors import Invalid

from . import queries, services
from .schemas import RoomListSchema, RoomSchema, SignalInSchema, SignalOutSchema

blp = Blueprint("live", __name__, url_prefix="/api/v1/live", description="实时会诊 Live rooms: vitals stream, video")

POLL_SECONDS = 0.5          # how often a stream looks for new rows (the latency budget is 5 s)
HEARTBEAT_SECONDS = 10      # a comment line keeps proxies from closing an idle stream
RETRY_MS = 1000             # EventSource reconnects this long after a stream ends


def stream_seconds() -> float:
    """How long one stream connection lasts before the browser reconnects (with Last-Event-ID): bounded, so a vanished
    client frees its web thread within it, and below a proxy's usual 60 s read timeout."""
    return float(os.environ.get("YGT_LIVE_STREAM_SECONDS", "25"))


def _audit(room: services.Room, what: str) -> None:
    with unit_of_work():
        record("phi.read", object_type="live_room", object_id=f"{room.kind}:{room.ref}", principal=current(),
               details={"path": request.path, "params": sorted(request.args.keys()), "read": what})


@blp.route("/rooms")
class Rooms(MethodView):
    @phi_read("live_room")
    @blp.response(200, RoomListSchema)
    def get(self):
        """The open live rooms the caller takes part in."""
        return {"items": queries.my_open_rooms(current())}


@blp.route("/rooms/<string:room_kind>/<int:room_ref>")
class RoomDetail(MethodView):
    @phi_read("live_room", audit=False)
    @blp.response(200, RoomSchema)
    def get(self, room_kind, room_ref):
        """The room for a participant: last value and 15-minute trend per channel, alarms, ICE servers, cursor."""
        room = queries.readable_room(room_kind, room_ref, current())
        _audit(room, "snapshot")
        return queries.snapshot(room, current())


@blp.route("/rooms/<string:room_kind>/<int:room_ref>/stream")
class RoomStream(MethodView):
    @phi_read("live_room", audit=False)
    @blp.doc(responses={"200": {"description": "text/event-stream: events `vitals` (readings), `alarm`, `signal` "
                                               "(WebRTC messages for the caller), `closed`; id = cursor"}})
    def get(self, room_kind, room_ref):
        """Server-sent events after `Last-Event-ID` (or `?cursor=`); ends after ~25 s, the browser reconnects."""
        principal = current()
        room = queries.readable_room(room_kind, room_ref, principal)
        _audit(room, "stream")
        cursor = queries.Cursor.parse(request.headers.get("Last-Event-ID") or request.args.get("cursor")) \
            or queries.current_cursor(room.id)
        session().commit()
        return Response(stream_with_context(_events(room, principal.user_id, cursor)),
                        mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"})


def _event(name: str, data, cursor: queries.Cursor) -> str:
    return f"id: {cursor}\nevent: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _events(room: services.Room, user_id: int, cursor: queries.Cursor):
    yield f"retry: {RETRY_MS}\n: open\n\n"
    deadline, beat = time.monotonic() + stream_seconds(), time.monotonic()
    while time.monotonic() < deadline:
        s = session()
        try:
            readings, alarms, signals, cursor = queries.changes(room.id, user_id, cursor)
            status = queries.room_status(room.id)
        finally:
            s.rollback()                # end the read transaction: the next poll sees newly committed rows
        if readings:
            yield _event("vitals", readings, cursor)
        for alarm in alarms:
            yield _event("alarm", alarm, cursor)
        for signal in signals:
            yield _event("signal", signal, cursor)
        if status != "open":
            yield _event("closed", {"status": status}, cursor)
            return
        if time.monotonic() - beat >= HEARTBEAT_SECONDS:
            beat = time.monotonic()
            yield ": ping\n\n"
        time.sleep(POLL_SECONDS)
    yield _event("reconnect", {}, cursor)


@blp.route("/rooms/<string:room_kind>/<int:room_ref>/signals")
class Signals(MethodView):
    @require_roles(*PHI_READERS)
    @blp.arguments(SignalInSchema)
    @blp.response(201, SignalOutSchema)
    def post(self, body, room_kind, room_ref):
        """Relay a WebRTC signalling message (hello/offer/answer/candidate/bye) to another participant or all."""
        room = queries.readable_room(room_kind, room_ref, current())
        if body.get("type") not in services.SIGNAL_TYPES:
            raise Invalid(f"信令类型无效 (type: one of {', '.join(services.SIGNAL_TYPES)})", code="live_bad_signal")
        return {"id": services.post_signal(room, current(), body).id}

"""Marshmallow schemas of the live API (the snapshot's nested shapes are documented in docs/live.md)."""
from __future__ import annotations

from marshmallow import Schema, fields


class ParticipantSchema(Schema):
    user_id = fields.Int()
    name = fields.Str()


class ChannelSchema(Schema):
    channel = fields.Str()
    label = fields.Str()
    unit = fields.Str()
    last = fields.Dict(allow_none=True)                 # {value, at}
    trend = fields.List(fields.List(fields.Raw()))      # [[at, value], ...] of the last 15 minutes
    alarm = fields.Str(allow_none=True)                 # the threshold the last value breaches, e.g. "<90"
    thresholds = fields.List(fields.Dict())


class AlarmSchema(Schema):
    id = fields.Int()
    channel = fields.Str()
    label = fields.Str()
    value = fields.Float()
    threshold = fields.Str()
    at = fields.Str()


class RoomSchema(Schema):
    kind = fields.Str()
    ref = fields.Int()
    title = fields.Str()
    status = fields.Str()
    opened_at = fields.Str()
    me = fields.Int()
    participants = fields.List(fields.Nested(ParticipantSchema))
    video_url = fields.Str(allow_none=True)
    ice_servers = fields.List(fields.Dict())
    trend_minutes = fields.Int()
    channels = fields.List(fields.Nested(ChannelSchema))
    alarms = fields.List(fields.Nested(AlarmSchema))
    cursor = fields.Str()


class RoomItemSchema(Schema):
    kind = fields.Str()
    ref = fields.Int()
    title = fields.Str()
    opened_at = fields.Str()


class RoomListSchema(Schema):
    items = fields.List(fields.Nested(RoomItemSchema))


class SignalInSchema(Schema):
    type = fields.Str(required=True, metadata={"description": "hello | offer | answer | candidate | bye"})
    to = fields.Int(allow_none=True, load_default=None, metadata={"description": "a participant's user id; "
                                                                  "absent: every other participant"})
    data = fields.Dict(load_default=dict, metadata={"description": "SDP or ICE candidate (up to 32 KB)"})


class SignalOutSchema(Schema):
    id = fields.Int()

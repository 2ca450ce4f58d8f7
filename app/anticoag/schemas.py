"""Response shapes of /api/v1/anticoag."""
from __future__ import annotations

from marshmallow import Schema, fields


class AnticoagEpisodeQuerySchema(Schema):
    resident_id = fields.Int()
    status = fields.Str(metadata={"description": "active | stopped"})


class AnticoagEpisodeSchema(Schema):
    id = fields.Int(required=True)
    resident_id = fields.Int(required=True)
    drug = fields.Str(required=True)
    drug_name = fields.Str(required=True)
    indication = fields.Str(required=True)
    target_lo = fields.Float(allow_none=True)
    target_hi = fields.Float(allow_none=True)
    status = fields.Str(required=True, metadata={"description": "active | stopped"})
    status_label = fields.Str(required=True)
    phase = fields.Str(required=True, metadata={"description": "initiation | stable | dose_changed"})
    phase_label = fields.Str(required=True)
    dose_mg = fields.Float(allow_none=True)
    frequency = fields.Str(allow_none=True)
    weekly_dose_mg = fields.Float(allow_none=True)
    dose_band = fields.Str(allow_none=True)
    crcl_ml_min = fields.Float(allow_none=True)
    started_on = fields.Date(required=True)
    next_inr_due = fields.Date(allow_none=True)
    next_renal_due = fields.Date(allow_none=True)
    next_platelet_due = fields.Date(allow_none=True)
    instance_id = fields.Int(allow_none=True)
    ttr = fields.Float(allow_none=True, metadata={"description": "Rosendaal TTR in % (warfarin), None below 2 INRs"})


class AnticoagEpisodeListSchema(Schema):
    items = fields.List(fields.Nested(AnticoagEpisodeSchema), required=True)


class AnticoagTtrSchema(Schema):
    ttr = fields.Float(allow_none=True)
    days_in_range = fields.Float(required=True)
    days_below = fields.Float(required=True)
    days_above = fields.Float(required=True)
    days_total = fields.Float(required=True)
    gaps_excluded = fields.Int(required=True)
    tests = fields.Int(required=True)


class AnticoagResultSchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(required=True, metadata={"description": "inr | crcl | plt"})
    value = fields.Float(required=True)
    measured_on = fields.Date(required=True)
    due_on = fields.Date(allow_none=True)
    on_time = fields.Bool(allow_none=True)
    in_range = fields.Bool(allow_none=True)
    bleeding = fields.Str(required=True)
    bleeding_label = fields.Str(required=True)
    action = fields.Str(allow_none=True)
    action_label = fields.Str(allow_none=True)
    path = fields.Str(allow_none=True, metadata={"description": "urgent | dose | renal_review | routine"})
    source = fields.Str(required=True)
    source_label = fields.Str(required=True)
    recorded_by = fields.Str(required=True)


class AnticoagEventSchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(required=True)
    label = fields.Str(required=True)
    detail = fields.Dict()
    actor = fields.Str(required=True)
    at = fields.DateTime(required=True)


class AnticoagEpisodeDetailSchema(AnticoagEpisodeSchema):
    ttr_detail = fields.Nested(AnticoagTtrSchema, allow_none=True)
    results = fields.List(fields.Nested(AnticoagResultSchema), required=True)
    events = fields.List(fields.Nested(AnticoagEventSchema), required=True)

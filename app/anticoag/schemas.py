"""Response shapes of /api/v1/anticoag."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

DRUG_CHOICES = ("warfarin", "rivaroxaban", "enoxaparin", "nadroparin")


class AnticoagEpisodeQuerySchema(Schema):
    resident_id = fields.Int()
    status = fields.Str(validate=validate.OneOf(("active", "stopped")), metadata={"description": "active | stopped"})
    drug = fields.Str(validate=validate.OneOf(DRUG_CHOICES))
    org_code = fields.Str(validate=validate.Length(min=1, max=32),
                          metadata={"description": "only episodes of residents under this organisation"})
    overdue = fields.Bool(metadata={"description": "true: only active episodes with a check past its due date"})


class AnticoagTtrQuerySchema(Schema):
    org_code = fields.Str(validate=validate.Length(min=1, max=32))


class AnticoagEpisodeSchema(Schema):
    id = fields.Int(required=True)
    resident_id = fields.Int(required=True)
    resident_name = fields.Str(required=True)
    org_code = fields.Str(required=True)
    org_name = fields.Str(required=True)
    next_due = fields.Date(allow_none=True, metadata={"description": "the earliest check due (active episodes)"})
    overdue = fields.Bool(required=True, metadata={"description": "the next check is past its due date"})
    last_inr = fields.Float(allow_none=True)
    last_inr_on = fields.Date(allow_none=True)
    last_inr_in_range = fields.Bool(allow_none=True)
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
    dose_band_label = fields.Str(allow_none=True, metadata={"description": "the dose table's dose in words"})
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


class AnticoagDoseSchema(Schema):
    at = fields.DateTime(required=True)
    label = fields.Str(required=True)
    dose_text = fields.Str(required=True)
    decision = fields.Str(allow_none=True)
    note = fields.Str(allow_none=True)
    actor = fields.Str(required=True)


class AnticoagCheckSchema(Schema):
    kind = fields.Str(required=True, metadata={"description": "inr | crcl | plt"})
    label = fields.Str(required=True)
    due_on = fields.Date(required=True)
    overdue = fields.Bool(required=True)


class AnticoagEpisodeDetailSchema(AnticoagEpisodeSchema):
    ttr_detail = fields.Nested(AnticoagTtrSchema, allow_none=True)
    frequency_label = fields.Str(required=True)
    doses = fields.List(fields.Nested(AnticoagDoseSchema), required=True,
                        metadata={"description": "the dose at the start and each change (prescription, dose task, "
                                                 "pharmacist review)"})
    schedule = fields.List(fields.Nested(AnticoagCheckSchema), required=True)
    results = fields.List(fields.Nested(AnticoagResultSchema), required=True)
    events = fields.List(fields.Nested(AnticoagEventSchema), required=True)


class AnticoagTtrBinSchema(Schema):
    lo = fields.Int(required=True)
    hi = fields.Int(required=True)
    label = fields.Str(required=True)
    patients = fields.Int(required=True)


class AnticoagOrgTtrSchema(Schema):
    org_code = fields.Str(required=True)
    org_name = fields.Str(required=True)
    patients = fields.Int(required=True)
    pooled_ttr = fields.Float(allow_none=True)
    mean_ttr = fields.Float(allow_none=True)
    bands = fields.Dict(keys=fields.Str(), values=fields.Int(), required=True,
                        metadata={"description": "patients per TTR band: <50, 50-65, >=65"})


class AnticoagTtrDistributionSchema(Schema):
    org_code = fields.Str(allow_none=True)
    episodes = fields.Int(required=True, metadata={"description": "active warfarin episodes counted"})
    without_ttr = fields.Int(required=True, metadata={"description": "episodes with fewer than two INRs"})
    patients = fields.Int(required=True, metadata={"description": "patients with a TTR"})
    pooled_ttr = fields.Float(allow_none=True)
    mean_ttr = fields.Float(allow_none=True)
    bands = fields.Dict(keys=fields.Str(), values=fields.Int(), required=True)
    histogram = fields.List(fields.Nested(AnticoagTtrBinSchema), required=True)
    by_org = fields.List(fields.Nested(AnticoagOrgTtrSchema), required=True)

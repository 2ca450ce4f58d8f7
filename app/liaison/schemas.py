"""Marshmallow schemas of /api/v1/liaison (rota, week, bookings, specialty plans)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.consult.labels import SPECIALTIES

from .labels import BOOKING_KINDS, HALF_DAYS, KINDS, MAX_CAPACITY

ID = validate.Range(min=1, max=2**63 - 1)


class LiaisonRotaQuerySchema(Schema):
    start = fields.Date(metadata={"description": "默认本周一"})
    end = fields.Date(metadata={"description": "默认 start 后 27 天"})
    township_code = fields.Str(validate=validate.Length(max=40))
    expert_user_id = fields.Int(validate=ID)


class LiaisonDutyCreateSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(tuple(KINDS)))
    expert_user_id = fields.Int(required=True, validate=ID)
    township_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    on_date = fields.Date(required=True)
    half_day = fields.Str(load_default="day", validate=validate.OneOf(tuple(HALF_DAYS)))
    capacity = fields.Int(load_default=0, validate=validate.Range(min=0, max=MAX_CAPACITY))
    specialty = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(tuple(SPECIALTIES)))
    note = fields.Str(load_default="", validate=validate.Length(max=500))


class LiaisonReasonSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class LiaisonDutySchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    kind_label = fields.Str()
    expert_user_id = fields.Int()
    expert_name = fields.Str()
    specialty = fields.Str()
    specialty_label = fields.Str()
    township_code = fields.Str()
    township_name = fields.Str()
    on_date = fields.Date()
    half_day = fields.Str()
    half_day_label = fields.Str()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    capacity = fields.Int()
    booked = fields.Int()
    remaining = fields.Int()
    status = fields.Str()
    status_label = fields.Str()
    note = fields.Str()
    cancel_reason = fields.Str(allow_none=True)
    bookable = fields.Bool()
    on_call_now = fields.Bool()


class LiaisonRotaSchema(Schema):
    items = fields.List(fields.Nested(LiaisonDutySchema))
    start = fields.Date()
    end = fields.Date()


class LiaisonWeekQuerySchema(Schema):
    township_code = fields.Str(validate=validate.Length(max=40))
    week_start = fields.Date()


class LiaisonWeekExpertSchema(Schema):
    user_id = fields.Int()
    name = fields.Str()
    specialty_label = fields.Str()
    duties = fields.Int()


class LiaisonWeekSchema(Schema):
    township_code = fields.Str()
    township_name = fields.Str()
    week_start = fields.Date()
    week_end = fields.Date()
    experts = fields.List(fields.Nested(LiaisonWeekExpertSchema))
    on_call_now = fields.List(fields.Nested(LiaisonDutySchema))
    duties = fields.List(fields.Nested(LiaisonDutySchema))
    can_book = fields.Bool()


class LiaisonOptionSchema(Schema):
    value = fields.Str()
    label = fields.Str()


class LiaisonExpertOptionSchema(Schema):
    user_id = fields.Int()
    name = fields.Str()
    org_code = fields.Str()
    specialty = fields.Str()
    specialty_label = fields.Str()
    title_label = fields.Str()
    available = fields.Bool()
    leave_from = fields.Date(allow_none=True)
    leave_to = fields.Date(allow_none=True)


class LiaisonIndicatorOptionSchema(Schema):
    id = fields.Str()
    name = fields.Str()
    unit = fields.Str()
    direction = fields.Str()


class LiaisonOptionsSchema(Schema):
    townships = fields.List(fields.Nested(LiaisonOptionSchema))
    experts = fields.List(fields.Nested(LiaisonExpertOptionSchema))
    specialties = fields.List(fields.Nested(LiaisonOptionSchema))
    indicators = fields.List(fields.Nested(LiaisonIndicatorOptionSchema))
    can_edit = fields.Bool()


class LiaisonConsultDetailsSchema(Schema):
    purpose = fields.Str(load_default="", validate=validate.Length(max=1000))
    summary = fields.Dict(keys=fields.Str(), values=fields.Str(allow_none=True), load_default=dict)


class LiaisonBookingCreateSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(tuple(BOOKING_KINDS)))
    resident_id = fields.Int(required=True, validate=ID)
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=1000))
    consult = fields.Nested(LiaisonConsultDetailsSchema, load_default=None, allow_none=True,
                            metadata={"description": "kind=consult: 会诊目的与病历摘要 (主诉或目前诊断必填)"})


class LiaisonBookingQuerySchema(Schema):
    duty_id = fields.Int(validate=ID)
    start = fields.Date()
    end = fields.Date()


class LiaisonBookingSchema(Schema):
    id = fields.Int()
    duty_id = fields.Int()
    kind = fields.Str()
    kind_label = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    resident_id = fields.Int()
    resident_name = fields.Str()
    reason = fields.Str()
    consult_id = fields.Int(allow_none=True)
    booked_by_name = fields.Str()
    booked_at = fields.DateTime()
    on_date = fields.Date(allow_none=True)
    half_day_label = fields.Str(allow_none=True)
    expert_name = fields.Str(allow_none=True)


class LiaisonBookingListSchema(Schema):
    items = fields.List(fields.Nested(LiaisonBookingSchema))


class LiaisonPlanIndicatorSchema(Schema):
    name = fields.Str(load_default="", validate=validate.Length(max=120))
    indicator_id = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=80))
    target = fields.Float(required=True)
    direction = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(("higher", "lower")))
    unit = fields.Str(load_default="", validate=validate.Length(max=20))


class LiaisonMilestoneCreateSchema(Schema):
    title = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    due_on = fields.Date(required=True)
    indicators = fields.List(fields.Nested(LiaisonPlanIndicatorSchema), required=True, validate=validate.Length(max=20))


class LiaisonPlanCreateSchema(Schema):
    township_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    specialty = fields.Str(required=True, validate=validate.OneOf(tuple(SPECIALTIES)))
    title = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    goals = fields.List(fields.Str(validate=validate.Length(max=300)), required=True, validate=validate.Length(max=10))
    activities = fields.List(fields.Str(validate=validate.Length(max=300)), required=True,
                             validate=validate.Length(max=20))
    milestones = fields.List(fields.Nested(LiaisonMilestoneCreateSchema), required=True, validate=validate.Length(max=12))
    lead_expert_user_id = fields.Int(load_default=None, allow_none=True, validate=ID)


class LiaisonMilestoneSchema(Schema):
    id = fields.Int()
    seq = fields.Int()
    title = fields.Str()
    due_on = fields.Date()
    indicators = fields.List(fields.Dict())
    status = fields.Str()
    status_label = fields.Str()
    review = fields.Dict()
    reviewed_at = fields.DateTime(allow_none=True)
    overdue = fields.Bool()


class LiaisonPlanSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    township_code = fields.Str()
    township_name = fields.Str()
    specialty = fields.Str()
    specialty_label = fields.Str()
    lead_expert_name = fields.Str(allow_none=True)
    goals = fields.List(fields.Str())
    activities = fields.List(fields.Str())
    starts_on = fields.Date()
    ends_on = fields.Date()
    status = fields.Str()
    status_label = fields.Str()
    approval = fields.Dict()
    evaluation = fields.Dict()
    instance_id = fields.Int(allow_none=True)
    milestones = fields.List(fields.Nested(LiaisonMilestoneSchema))
    milestones_met = fields.Int()


class LiaisonPlanListSchema(Schema):
    items = fields.List(fields.Nested(LiaisonPlanSchema))

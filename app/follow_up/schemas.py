"""Marshmallow schemas of /api/v1/follow-ups and the resident follow-up timeline."""
from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from app.core.paging import PageArgsSchema, per_page
from app.vocabulary import Disease
from app.vocabulary.fields import Code


class FollowUpOverdueQueryArgsSchema(PageArgsSchema):
    per_page = per_page(default=50, maximum=500)
    org_code = fields.Str(validate=validate.Length(max=40))
    assignee_id = fields.Int(validate=validate.Range(min=1, max=2**63 - 1))
    disease = Code(Disease, only=(Disease.HTN, Disease.T2DM))


class FollowUpOverdueItemSchema(Schema):
    id = fields.Int(data_key="visit_id")
    resident_id = fields.Int()
    name = fields.Str(data_key="resident_name")
    disease = fields.Str()
    risk_level = fields.Str(allow_none=True)
    org_code = fields.Str(allow_none=True)
    due_on = fields.Date()
    days_overdue = fields.Int()
    cycle_no = fields.Int()
    instance_id = fields.Int(allow_none=True)
    task_id = fields.Int(allow_none=True)
    assignee_id = fields.Int(allow_none=True)
    last_visit_on = fields.Date(allow_none=True)
    last_classification = fields.Str(allow_none=True)
    last_sbp = fields.Int(allow_none=True)
    last_dbp = fields.Int(allow_none=True)
    high = fields.Bool(data_key="high_priority")


class FollowUpOverdueListSchema(Schema):
    items = fields.List(fields.Nested(FollowUpOverdueItemSchema))
    total = fields.Int()


class FollowUpScheduleSchema(Schema):
    disease = fields.Str()
    risk_level = fields.Str(allow_none=True)
    care_plan_id = fields.Int(allow_none=True)
    interval_days = fields.Int()
    next_due_on = fields.Date()
    last_visit_on = fields.Date(allow_none=True)
    last_classification = fields.Str(allow_none=True)
    consecutive_uncontrolled = fields.Int()
    cycle_no = fields.Int()
    status = fields.Str()
    latest_device = fields.Dict(allow_none=True)


class FollowUpVisitSchema(Schema):
    id = fields.Int()
    disease = fields.Str()
    cycle_no = fields.Int()
    due_on = fields.Date()
    status = fields.Str()
    instance_id = fields.Int(allow_none=True)
    visited_on = fields.Date(allow_none=True)
    visit_type = fields.Str(allow_none=True)
    sbp = fields.Int(allow_none=True)
    dbp = fields.Int(allow_none=True)
    heart_rate = fields.Int(allow_none=True)
    weight_kg = fields.Float(allow_none=True)
    fpg = fields.Float(allow_none=True)
    hba1c = fields.Float(allow_none=True)
    classification = fields.Str(allow_none=True)
    action = fields.Str(allow_none=True)
    next_due_on = fields.Date(allow_none=True)
    decision = fields.Dict(allow_none=True)
    performed_by = fields.Str(allow_none=True)
    performed_by_name = fields.Str(allow_none=True, metadata={"description": "who visited, by display name"})


class FollowUpTimelineSchema(Schema):
    resident_id = fields.Int()
    schedules = fields.List(fields.Nested(FollowUpScheduleSchema))
    visits = fields.List(fields.Nested(FollowUpVisitSchema))
    trend = fields.Dict()


class FollowUpDeviceReadingSchema(Schema):
    resident_id = fields.Int(required=True, validate=validate.Range(min=1, max=2**63 - 1))
    code = fields.Str(required=True, validate=validate.Length(max=20))
    value = fields.Float(required=True, allow_nan=False)
    unit = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=30))
    effective_at = fields.AwareDateTime(required=True, default_timezone=UTC)


class ReferralRequestSchema(Schema):
    id = fields.Int()
    resident_id = fields.Int()
    disease = fields.Str()
    urgency = fields.Str()
    action = fields.Str()
    reason = fields.Str()
    status = fields.Str()
    source_visit_id = fields.Int(allow_none=True)
    referral_instance_id = fields.Int(allow_none=True)
    follow_up_due_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()

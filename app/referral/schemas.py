"""Marshmallow schemas of /api/v1/referrals (list, detail, actions, statistics, capability catalogue)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.core.paging import PageArgsSchema, per_page
from app.vocabulary import Disease
from app.vocabulary.fields import Code

from .catalogue import CAPABILITIES
from .queries import INDICATORS
from .steps import REJECT_REASONS

URGENCIES = ("emergency", "priority", "routine")
ID = validate.Range(min=1, max=2**63 - 1)


class ReferralQueryArgsSchema(PageArgsSchema):
    direction = fields.Str(validate=validate.OneOf(("up", "down")))
    status = fields.Str(validate=validate.Length(max=20))
    disease = fields.Str(validate=validate.Length(max=20))
    urgency = fields.Str(validate=validate.OneOf(URGENCIES))
    org_code = fields.Str(validate=validate.Length(max=40))
    resident_id = fields.Int(validate=ID)
    q = fields.Str(validate=validate.Length(max=60))
    open_emergency = fields.Bool(metadata={"description": "只列出未结束的紧急上转 (患者尚未到诊)"})
    start = fields.Date(metadata={"description": "申请日期起 (含)"})
    end = fields.Date(metadata={"description": "申请日期止 (含)"})
    indicator = fields.Str(validate=validate.OneOf(tuple(INDICATORS)),
                           metadata={"description": "钻取: 只列出计入该指标的转诊"})
    part = fields.Str(load_default="numerator", validate=validate.OneOf(("numerator", "denominator")))
    per_page = per_page(default=50, maximum=500)


class ReferralStatsQueryArgsSchema(Schema):
    disease = fields.Str(validate=validate.Length(max=20))
    org_code = fields.Str(validate=validate.Length(max=40))
    start = fields.Date()
    end = fields.Date()


class ReferralTimelineEntrySchema(Schema):
    at = fields.DateTime()
    label = fields.Str()


class ReferralSchema(Schema):
    id = fields.Int()
    referral_no = fields.Str()
    direction = fields.Str()
    direction_label = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    urgency = fields.Str()
    urgency_label = fields.Str()
    reason_code = fields.Str(allow_none=True)
    reason = fields.Str(allow_none=True)
    disease = fields.Str(allow_none=True)
    disease_label = fields.Str(allow_none=True)
    capability = fields.Str(allow_none=True)
    capability_label = fields.Str(allow_none=True)
    resident_id = fields.Int()
    resident_name = fields.Str(allow_none=True)
    source = fields.Str()
    from_org_code = fields.Str(allow_none=True)
    from_org_name = fields.Str(allow_none=True)
    to_org_code = fields.Str(allow_none=True)
    to_org_name = fields.Str(allow_none=True)
    target_level = fields.Str(allow_none=True)
    out_of_county = fields.Bool()
    external_hospital = fields.Str(allow_none=True)
    insurance_filing_no = fields.Str(allow_none=True)
    reject_reason = fields.Str(allow_none=True)
    reject_note = fields.Str(allow_none=True)
    no_show_reason = fields.Str(allow_none=True, metadata={"description": "the sender's 未到位 reason"})
    instance_id = fields.Int(allow_none=True)
    parent_id = fields.Int(allow_none=True)
    requested_at = fields.DateTime()
    offered_at = fields.DateTime(allow_none=True)
    decision_due_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    rejected_at = fields.DateTime(allow_none=True)
    appointment_at = fields.DateTime(allow_none=True)
    arrived_at = fields.DateTime(allow_none=True)
    result_at = fields.DateTime(allow_none=True)
    follow_up_due_on = fields.Date(allow_none=True)
    follow_up_done_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    active = fields.Bool()
    timeline = fields.List(fields.Nested(ReferralTimelineEntrySchema))


class ReferralOpenTaskSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    element_id = fields.Str()
    status = fields.Str()
    due_at = fields.Str(allow_none=True, metadata={"description": "ISO 8601"})
    assignee = fields.Dict(allow_none=True)


class ReferralDetailSchema(ReferralSchema):
    tasks = fields.List(fields.Nested(ReferralOpenTaskSchema),
                        metadata={"description": "open steps of the referral's process the caller may work on now"})
    form = fields.Dict()
    result = fields.Dict()
    follow_up = fields.Dict()
    children = fields.List(fields.Nested(ReferralSchema))


class ReferralListSchema(Schema):
    items = fields.List(fields.Nested(ReferralSchema))
    total = fields.Int()


class ReferralCreateSchema(Schema):
    resident_id = fields.Int(required=True, validate=ID)
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=1000))
    disease = Code(Disease, only=(Disease.HTN, Disease.T2DM), load_default=None, allow_none=True)
    urgency = fields.Str(load_default="routine", validate=validate.OneOf(URGENCIES))
    trigger = fields.Str(load_default="manual", validate=validate.OneOf(
        ("manual", "acs", "stroke", "pregnancy", "initial", "dm", "screening")))
    to_org_code = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=40))
    capability = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(tuple(CAPABILITIES)))


class DownReferralCreateSchema(Schema):
    resident_id = fields.Int(required=True, validate=ID)
    reason = fields.Str(load_default="", validate=validate.Length(max=1000))
    disease = Code(Disease, only=(Disease.HTN, Disease.T2DM), load_default=None, allow_none=True)
    parent_id = fields.Int(load_default=None, allow_none=True, validate=ID)


class ReferralRejectSchema(Schema):
    reason = fields.Str(load_default=None, allow_none=True,
                        metadata={"description": f"拒收原因, 之一: {'、'.join(REJECT_REASONS)}"})
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ReferralAcceptSchema(Schema):
    visit_mode = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(("门诊", "住院", "检查")))
    suggested_date = fields.Date(load_default=None, allow_none=True)


class ReferralRedirectSchema(Schema):
    to_org_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ReferralIndicatorSchema(Schema):
    key = fields.Str()
    label = fields.Str()
    kind = fields.Str()
    formula = fields.Str()
    numerator = fields.Int()
    denominator = fields.Int(allow_none=True)
    value = fields.Float(allow_none=True)


class ReferralReasonCountSchema(Schema):
    reason = fields.Str()
    count = fields.Int()


class ReferralStatusCountSchema(Schema):
    direction = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    count = fields.Int()


class ReferralStatsSchema(Schema):
    indicators = fields.List(fields.Nested(ReferralIndicatorSchema))
    rejections_by_reason = fields.List(fields.Nested(ReferralReasonCountSchema))
    by_status = fields.List(fields.Nested(ReferralStatusCountSchema))
    filters = fields.Dict()
    unmatched_arrivals = fields.Int()


class ReferralCapabilitySchema(Schema):
    id = fields.Int(dump_only=True)
    org_code = fields.Str(allow_none=True, load_default=None, validate=validate.Length(max=40))
    org_name = fields.Str(dump_only=True)
    org_level = fields.Str(dump_only=True, allow_none=True)
    hospital_name = fields.Str(load_only=True, load_default="", validate=validate.Length(max=120))
    in_county = fields.Bool(dump_only=True)
    capability = fields.Str(required=True, validate=validate.OneOf(tuple(CAPABILITIES)))
    capability_label = fields.Str(dump_only=True)
    available = fields.Bool(load_default=True)
    unavailable_reason = fields.Str(allow_none=True, load_default=None, validate=validate.Length(max=255))
    insurance_designated = fields.Bool(load_default=True)
    note = fields.Str(allow_none=True, load_default=None, validate=validate.Length(max=255))


class ReferralUnmatchedArrivalSchema(Schema):
    delivery_id = fields.Int()
    received_at = fields.DateTime()
    client_id = fields.Str()
    referral_no = fields.Str(allow_none=True)
    error = fields.Str(allow_none=True)


class ReferralSenderSummarySchema(Schema):
    referral_no = fields.Str()
    resident = fields.Dict()
    form = fields.Dict()
    record = fields.Dict()
    valid_until = fields.Str(allow_none=True)

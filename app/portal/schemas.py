"""Marshmallow schemas of the resident portal API (/api/portal/v1)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.fields import Id, Text
from app.residents.schemas import HomeReadingCreateSchema  # noqa: F401  (the portal uploads the same reading)

from . import consent, services

NAME = validate.Length(min=1, max=80)


class PortalBindStartSchema(Schema):
    id_number = Text(required=True, validate=validate.Length(min=15, max=32),
                     metadata={"description": "居民身份证号码 (18 位)"})
    name = Text(required=True, validate=NAME)


class PortalBindVerifySchema(PortalBindStartSchema):
    code = Text(required=True, validate=validate.Length(min=1, max=12), metadata={"description": "6-digit SMS code"})


class PortalQrRedeemSchema(Schema):
    code = Text(required=True, validate=validate.Length(min=8, max=100))


class PortalSmsSentSchema(Schema):
    phone_hint = Text(allow_none=True, metadata={"description": "where the code went, masked (138****1234)"})
    expires_at = fields.DateTime()
    dev_inbox = fields.Boolean(metadata={"description": "the development SMS sink is on: codes are readable on "
                                                        "/portal/dev-sms"})


class PortalProxyInfoSchema(Schema):
    id = fields.Integer()
    name = Text()
    relation = Text()
    phone_hint = Text()
    status = Text(metadata={"description": "pending | approved | declined | revoked"})
    requested_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class PortalTokenSchema(Schema):
    token = Text(metadata={"description": "send as `X-Portal-Token`; names one resident only"})
    resident_name = Text()
    proxy = fields.Nested(PortalProxyInfoSchema, allow_none=True)


class PortalMeSchema(Schema):
    resident_name = Text()
    proxy = fields.Nested(PortalProxyInfoSchema, allow_none=True, metadata={"description": "set for a family member"})
    consent_needed = fields.Boolean(metadata={"description": "the health-data consent (current version) is missing"})


class PortalTargetSchema(Schema):
    key = Text()
    label = Text()
    value = fields.Raw()


class PortalPlanDrugSchema(Schema):
    drug = Text(allow_none=True)
    name = Text(allow_none=True)
    dose = fields.Raw(allow_none=True)
    frequency = Text(allow_none=True)


class PortalDiseasePlanSchema(Schema):
    disease = Text()
    disease_name = Text()
    next_due_on = fields.Date(allow_none=True)
    window_from = fields.Date(allow_none=True)
    window_to = fields.Date(allow_none=True)
    overdue = fields.Boolean()
    interval_days = fields.Integer(allow_none=True)
    targets = fields.List(fields.Nested(PortalTargetSchema))
    drugs = fields.List(fields.Nested(PortalPlanDrugSchema))
    guidance = fields.List(Text())


class PortalDoctorSchema(Schema):
    name = Text()
    org_name = Text(allow_none=True)
    phone = Text(allow_none=True)


class PortalBookingSchema(Schema):
    id = fields.Integer()
    slot_on = fields.Date()
    half_day = Text()
    status = Text()


class PortalSlotSchema(Schema):
    slot_on = fields.Date()
    half_day = Text(metadata={"description": "am | pm"})
    label = Text(metadata={"description": "e.g. 12月7日 周一 上午"})
    capacity = fields.Integer()
    available = fields.Integer(metadata={"description": "places left (the resident's own request is theirs)"})
    mine = fields.Boolean(metadata={"description": "the resident's open request is on this half-day"})


class PortalSlotListSchema(Schema):
    items = fields.List(fields.Nested(PortalSlotSchema))


class PortalRiskSchema(Schema):
    disease = Text()
    disease_name = Text()
    level_label = Text(metadata={"description": "低危 / 中危 / 高危 / 很高危"})
    explanation = Text(metadata={"description": "what the level means and what to do, in plain Chinese"})


class PortalPlanSchema(Schema):
    resident_name = Text()
    doctor = fields.Nested(PortalDoctorSchema, allow_none=True)
    plans = fields.List(fields.Nested(PortalDiseasePlanSchema))
    risks = fields.List(fields.Nested(PortalRiskSchema), metadata={
        "description": "risk levels with their plain-language explanation only (no raw grades or scores)"})
    booking = fields.Nested(PortalBookingSchema, allow_none=True)


class PortalReadingSchema(Schema):
    id = fields.Integer()
    kind = Text(metadata={"description": "sbp | dbp | pulse | fpg | glucose"})
    name = Text()
    value = fields.Float(allow_none=True)
    unit = Text(allow_none=True)
    at = fields.DateTime()
    origin = Text(metadata={"description": "clinic | self | device"})
    origin_label = Text(metadata={"description": "诊室 | 自测 | 设备"})


class PortalReadingListSchema(Schema):
    items = fields.List(fields.Nested(PortalReadingSchema))
    days = fields.Integer()


class PortalMedicationSchema(Schema):
    id = fields.Integer()
    drug = Text()
    name = Text()
    dose = Text(allow_none=True)
    frequency = Text(allow_none=True)
    started_on = fields.Date(allow_none=True)


class PortalMedicationListSchema(Schema):
    items = fields.List(fields.Nested(PortalMedicationSchema))


class PortalEducationSchema(Schema):
    id = fields.Integer()
    title = Text()
    summary = Text()
    topic = Text()
    pushed_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class PortalEducationListSchema(Schema):
    items = fields.List(fields.Nested(PortalEducationSchema))


class PortalEducationBodySchema(PortalEducationSchema):
    body = Text()


class PortalReferralStatusSchema(Schema):
    id = fields.Integer()
    referral_no = Text()
    direction = Text()
    direction_label = Text()
    step = Text(metadata={"description": "submitted | accepted | visited | returned | closed"})
    step_label = Text()
    hospital = Text(allow_none=True)
    requested_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)
    appointment_at = fields.DateTime(allow_none=True)
    arrived_at = fields.DateTime(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)


class PortalReferralListSchema(Schema):
    items = fields.List(fields.Nested(PortalReferralStatusSchema))


class PortalConsentStateSchema(Schema):
    purpose = Text()
    title = Text()
    text = Text()
    channel = Text()
    required = fields.Boolean()
    current_version = Text()
    granted = fields.Boolean()
    decided = fields.Boolean()
    version = Text(allow_none=True)
    outdated = fields.Boolean()
    decided_by = Text(allow_none=True)
    recorded_at = fields.DateTime(allow_none=True)


class PortalConsentRecordSchema(Schema):
    id = fields.Integer()
    purpose = Text()
    channel = Text()
    version = Text()
    granted = fields.Boolean()
    decided_by = Text()
    guardian_name = Text(allow_none=True)
    guardian_relation = Text(allow_none=True)
    via = Text()
    recorded_at = fields.DateTime()


class PortalConsentsSchema(Schema):
    items = fields.List(fields.Nested(PortalConsentStateSchema))
    history = fields.List(fields.Nested(PortalConsentRecordSchema))
    guardian_needed = fields.Boolean(metadata={"description": "the resident is under 14: a guardian decides"})


class PortalConsentDecisionSchema(Schema):
    purpose = Text(required=True, validate=validate.OneOf([p.code for p in consent.PURPOSES]))
    channel = Text(required=True, validate=validate.Length(min=1, max=20))
    granted = fields.Boolean(required=True)
    decided_by = Text(load_default="self", validate=validate.OneOf(consent.DECIDERS[:2]))
    guardian_name = Text(validate=NAME)
    guardian_relation = Text(validate=validate.OneOf(consent.RELATIONS))


class PortalProxyRequestSchema(PortalBindStartSchema):
    proxy_name = Text(required=True, validate=NAME)
    relation = Text(required=True, validate=validate.OneOf(services.RELATIONS))
    proxy_phone = Text(required=True, validate=validate.Regexp(r"^1[3-9]\d{9}$", error="手机号格式不正确"))


class PortalProxyRequestedSchema(Schema):
    proxy_id = fields.Integer()
    phone_hint = Text()
    dev_inbox = fields.Boolean()


class PortalProxyVerifySchema(Schema):
    proxy_id = Id(required=True)
    code = Text(required=True, validate=validate.Length(min=1, max=12))


class PortalProxyListSchema(Schema):
    items = fields.List(fields.Nested(PortalProxyInfoSchema))


class PortalProxyDecisionSchema(Schema):
    action = Text(required=True, validate=validate.OneOf(("approve", "decline", "revoke")))


class PortalBookingCreateSchema(Schema):
    slot_on = fields.Date(required=True)
    half_day = Text(required=True, validate=validate.OneOf(("am", "pm")))
    disease = Text(validate=validate.Length(max=20))


class PortalSurveyQuestionSchema(Schema):
    key = Text()
    text = Text()


class PortalSurveySchema(Schema):
    code = Text()
    title = Text()
    questions = fields.List(fields.Nested(PortalSurveyQuestionSchema))
    answered_at = fields.DateTime(allow_none=True)


class PortalSurveyListSchema(Schema):
    items = fields.List(fields.Nested(PortalSurveySchema))


class PortalSurveyAnswerSchema(Schema):
    code = Text(required=True, validate=validate.Length(min=1, max=30))
    overall = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    answers = fields.Dict(keys=Text(validate=validate.Length(max=30)),
                          values=fields.Integer(validate=validate.Range(min=1, max=5)), load_default=dict)


class PortalQrIssuedSchema(Schema):
    code = Text()
    url = Text(metadata={"description": "the portal address the QR encodes"})
    svg = Text(metadata={"description": "the QR as inline SVG"})
    expires_at = fields.DateTime()


class PortalDevSmsSchema(Schema):
    id = fields.Integer()
    phone_hint = Text()
    purpose = Text()
    text = Text()
    sent_at = fields.DateTime()


class PortalDevSmsListSchema(Schema):
    items = fields.List(fields.Nested(PortalDevSmsSchema))


class PortalContractPackageSchema(Schema):
    code = Text()
    name = Text()
    price_fen = fields.Integer()
    self_fen = fields.Integer(metadata={"description": "what the resident pays, in fen"})


class PortalLedgerItemSchema(Schema):
    name = Text()
    kind_label = Text()
    provider_level_label = Text(allow_none=True)
    quantity = fields.Integer()
    delivered = fields.Integer()
    remaining = fields.Integer()
    next_due_on = fields.Date(allow_none=True)


class PortalContractDoctorSchema(Schema):
    name = Text()
    org_name = Text(allow_none=True)


class PortalContractBriefSchema(Schema):
    contract_no = Text()
    status = Text()
    status_label = Text()
    team_org_name = Text(allow_none=True)
    doctor = fields.Nested(PortalContractDoctorSchema, allow_none=True)
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    amount_due_fen = fields.Integer(allow_none=True)
    paid = fields.Boolean()
    packages = fields.List(fields.Nested(PortalContractPackageSchema))
    ledger = fields.List(fields.Nested(PortalLedgerItemSchema))


class PortalContractSchema(Schema):
    active = fields.Nested(PortalContractBriefSchema, allow_none=True)
    pending = fields.Nested(PortalContractBriefSchema, allow_none=True)
    can_request = fields.Boolean(metadata={"description": "no request is under way: 申请签约/续约 may be asked"})


class PortalContractRequestSchema(Schema):
    package_code = Text(validate=validate.Length(min=1, max=40),
                        metadata={"description": "a wished-for package; the team assesses and recommends anyway"})


class PortalConsultStatusSchema(Schema):
    id = fields.Integer()
    consult_no = Text()
    step = Text(metadata={"description": "submitted | accepted | held | reported | closed"})
    step_label = Text()
    specialty = Text()
    hospital = Text(allow_none=True)
    mode_label = Text()
    requested_at = fields.DateTime(allow_none=True)
    scheduled_at = fields.DateTime(allow_none=True)
    reported_at = fields.DateTime(allow_none=True)


class PortalConsultListSchema(Schema):
    items = fields.List(fields.Nested(PortalConsultStatusSchema))

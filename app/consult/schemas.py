"""Marshmallow schemas of /api/v1/consults (list, detail, request, steps, opinions, agreements, experts)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.core.paging import PageArgsSchema, per_page

from .labels import MODES, SPECIALTIES, STATUSES, TITLES, TYPES, URGENCIES

ID = validate.Range(min=1, max=2**63 - 1)
TEXT = validate.Length(max=2000)


class ConsultQueryArgsSchema(PageArgsSchema):
    status = fields.Str(validate=validate.OneOf(tuple(STATUSES)))
    side = fields.Str(validate=validate.OneOf(("sent", "received", "mine")),
                      metadata={"description": "sent 本机构发出, received 本机构受邀, mine 我申请或我参加的"})
    open = fields.Bool(metadata={"description": "只列出未结束的会诊"})
    per_page = per_page(default=50, maximum=200)


class ConsultSummarySchema(Schema):
    chief_complaint = fields.Str(validate=validate.Length(max=500), allow_none=True)
    present_illness = fields.Str(validate=TEXT, allow_none=True)
    past_history = fields.Str(validate=TEXT, allow_none=True)
    physical_exam = fields.Str(validate=TEXT, allow_none=True)
    auxiliary_exams = fields.Str(validate=TEXT, allow_none=True)
    diagnosis = fields.Str(validate=validate.Length(max=500), allow_none=True)
    treatment = fields.Str(validate=TEXT, allow_none=True)


class ConsultAttachmentSchema(Schema):
    kind = fields.Str(required=True, validate=validate.Length(max=20),
                      metadata={"description": "dicom | ecg | pathology | lab | document"})
    ref = fields.Str(required=True, validate=validate.Length(max=300),
                     metadata={"description": "DICOM Study Instance UID, 报告编号或链接"})
    title = fields.Str(load_default="", validate=validate.Length(max=120))


class ConsultCreateSchema(Schema):
    resident_id = fields.Int(required=True, validate=ID)
    invited_org_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    consult_type = fields.Str(required=True, validate=validate.OneOf(tuple(TYPES)))
    mode = fields.Str(required=True, validate=validate.OneOf(tuple(MODES)))
    urgency = fields.Str(required=True, validate=validate.OneOf(tuple(URGENCIES)))
    specialty = fields.Str(required=True, validate=validate.OneOf(tuple(SPECIALTIES)))
    requested_title = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(tuple(TITLES)))
    named_expert_id = fields.Int(load_default=None, allow_none=True, validate=ID)
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=1000))
    purpose = fields.Str(required=True, validate=validate.Length(min=1, max=1000))
    summary = fields.Nested(ConsultSummarySchema, required=True)
    attachments = fields.List(fields.Nested(ConsultAttachmentSchema), load_default=list)
    expected_at = fields.AwareDateTime(load_default=None, allow_none=True)
    patient_demanded = fields.Bool(load_default=False)
    device_ids = fields.List(fields.Str(validate=validate.Length(min=1, max=80)), load_default=list,
                             validate=validate.Length(max=10))


class ConsultConsentSchema(Schema):
    informed = fields.List(fields.Str(validate=validate.OneOf(("purpose", "method", "fees", "privacy"))),
                           required=True)
    signer_type = fields.Str(required=True, validate=validate.OneOf(("patient", "guardian", "relative")))
    signer_name = fields.Str(required=True, validate=validate.Length(min=2, max=40))
    relation = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=20))
    not_told_reason = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=500))
    consented = fields.Bool(required=True)
    signature = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=400000),
                           metadata={"description": "手写签名 PNG data URL (data:image/png;base64,…)"})


class ConsultDeclineSchema(Schema):
    reason = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ConsultOpinionCreateSchema(Schema):
    assessment = fields.Str(required=True, validate=TEXT)
    diagnosis = fields.Str(required=True, validate=validate.Length(max=500))
    icd10 = fields.Str(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"))
    exams = fields.Str(load_default=None, allow_none=True, validate=TEXT)
    treatment = fields.Str(load_default=None, allow_none=True, validate=TEXT)
    follow_up = fields.Str(load_default=None, allow_none=True, validate=TEXT)
    risks = fields.Str(load_default=None, allow_none=True, validate=TEXT)
    suggest_referral = fields.Bool(load_default=False)


class ConsultDeteriorationSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class ConsultSatisfactionSchema(Schema):
    score = fields.Int(required=True, validate=validate.Range(min=1, max=5))


class ConsultSchema(Schema):
    id = fields.Int()
    consult_no = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    consult_type = fields.Str()
    type_label = fields.Str()
    mode = fields.Str()
    mode_label = fields.Str()
    urgency = fields.Str()
    urgency_label = fields.Str()
    specialty = fields.Str()
    specialty_label = fields.Str()
    resident_id = fields.Int()
    resident_name = fields.Str(allow_none=True)
    requester_org_code = fields.Str()
    requester_org_name = fields.Str()
    requester_name = fields.Str(allow_none=True)
    invited_org_code = fields.Str()
    invited_org_name = fields.Str()
    reason = fields.Str()
    purpose = fields.Str()
    requested_at = fields.Str(allow_none=True)
    invited_at = fields.Str(allow_none=True)
    accept_due_at = fields.Str(allow_none=True)
    accepted_at = fields.Str(allow_none=True)
    declined_at = fields.Str(allow_none=True)
    decline_reason = fields.Str(allow_none=True)
    scheduled_at = fields.Str(allow_none=True)
    report_due_at = fields.Str(allow_none=True)
    report_signed_at = fields.Str(allow_none=True)
    closed_at = fields.Str(allow_none=True)
    lead_expert_id = fields.Int(allow_none=True)
    expert_ids = fields.List(fields.Int())
    overdue = fields.Bool()


class ConsultListSchema(Schema):
    items = fields.List(fields.Nested(ConsultSchema))
    total = fields.Int()


class ResidentConsultSchema(ConsultSchema):
    diagnosis = fields.Str(allow_none=True)
    treatment = fields.Str(allow_none=True)
    adoption_label = fields.Str()


class ConsultOpinionSchema(Schema):
    id = fields.Int()
    expert_id = fields.Int()
    expert_name = fields.Str()
    role = fields.Str()
    role_label = fields.Str()
    content = fields.Dict()
    signature = fields.Str()
    signed_at = fields.Str()


class ConsultTimelineEntrySchema(Schema):
    at = fields.Str(allow_none=True)
    event = fields.Str(allow_none=True)
    text = fields.Str(allow_none=True)


class ConsultDocumentSchema(Schema):
    side = fields.Str()
    sha256 = fields.Str()
    archived_at = fields.Str(allow_none=True)


class ConsultRoomSchema(Schema):
    status = fields.Str(allow_none=True)
    external_url = fields.Str(allow_none=True)
    participant = fields.Bool()
    opened_at = fields.Str(allow_none=True)


class ConsultDetailSchema(ConsultSchema):
    summary = fields.Dict()
    attachments = fields.List(fields.Dict())
    expected_at = fields.Str(allow_none=True)
    consent = fields.Dict()
    consent_signed_at = fields.Str(allow_none=True)
    review = fields.Dict()
    requested_title_label = fields.Str()
    sla_rule = fields.Str(allow_none=True)
    accept_sla = fields.Str(allow_none=True)
    report_sla = fields.Str(allow_none=True)
    report = fields.Dict()
    opinions = fields.List(fields.Nested(ConsultOpinionSchema))
    adoption = fields.Dict()
    adoption_label = fields.Str()
    evaluation = fields.Dict()
    satisfaction = fields.Int(allow_none=True)
    billing = fields.Dict()
    referral_ids = fields.List(fields.Int())
    timeline = fields.List(fields.Nested(ConsultTimelineEntrySchema))
    documents = fields.List(fields.Nested(ConsultDocumentSchema))
    room = fields.Nested(ConsultRoomSchema)
    my_role = fields.Str()
    pending_opinion = fields.Bool()
    network_record = fields.Bool(metadata={"description": "the caller, an assigned expert of this open consult, may open the resident's network record (全网记录)"})
    can_reassign = fields.Bool(metadata={"description": "the invited 医务科 may take the experts off (改派)"})
    tasks = fields.List(fields.Dict())


class ConsultAgreementSchema(Schema):
    id = fields.Int(dump_only=True)
    agreement_no = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    requester_org_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    requester_org_name = fields.Str(dump_only=True)
    invited_org_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    invited_org_name = fields.Str(dump_only=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
    active = fields.Bool(load_default=True)
    in_force = fields.Bool(dump_only=True)
    terms = fields.Dict(load_default=dict)


class ConsultExpertSchema(Schema):
    id = fields.Int(dump_only=True)
    user_id = fields.Int(required=True, validate=ID)
    name = fields.Str(dump_only=True)
    org_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    specialty = fields.Str(required=True, validate=validate.OneOf(tuple(SPECIALTIES)))
    title = fields.Str(required=True, validate=validate.OneOf(tuple(TITLES)))
    title_label = fields.Str(dump_only=True)
    available = fields.Bool(load_default=True)
    leave_from = fields.Date(load_default=None, allow_none=True)
    leave_to = fields.Date(load_default=None, allow_none=True)
    open_consults = fields.Int(dump_only=True)


class ConsultOptionSchema(Schema):
    value = fields.Str()
    label = fields.Str()


class ConsultOptionsSchema(Schema):
    invited_orgs = fields.List(fields.Nested(ConsultOptionSchema))
    types = fields.List(fields.Nested(ConsultOptionSchema))
    modes = fields.List(fields.Nested(ConsultOptionSchema))
    urgencies = fields.List(fields.Nested(ConsultOptionSchema))
    specialties = fields.List(fields.Nested(ConsultOptionSchema))
    titles = fields.List(fields.Nested(ConsultOptionSchema))

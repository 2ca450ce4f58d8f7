"""Request/response shapes of /api/v1/prescriptions."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from app.auth.fields import Text
from app.core.paging import PageArgsSchema

from . import checks
from .services import STATE_LABELS

SEARCH_STATES = tuple(k for k in STATE_LABELS if k != "escalated")


class PrescriptionItemSchema(Schema):
    drug = fields.Str(required=True)
    name = fields.Str()
    dose_mg = fields.Float(required=True)
    frequency = fields.Str(required=True)
    days = fields.Int(allow_none=True)


class FindingSchema(Schema):
    code = fields.Str(required=True)
    grade = fields.Str(required=True, metadata={"description": "block | warn | info"})
    grade_label = fields.Str()
    message = fields.Str(required=True)
    drug = fields.Str(allow_none=True)
    rule = fields.Str(allow_none=True, metadata={"description": "decision table (or R6b row) that produced it"})
    rule_version = fields.Int(allow_none=True)
    reason = fields.Str(allow_none=True)
    severity = fields.Str(allow_none=True)
    recommended = fields.Str(allow_none=True)
    crcl_for_dosing = fields.Float(allow_none=True)


class PrescriptionStateSchema(Schema):
    state = fields.Str(required=True, metadata={"description": "issued | reviewing | passed | intervened | modified "
                                                              "| insisted | refused | withdrawn | escalated"})
    label = fields.Str(required=True)
    version = fields.Int(required=True)
    version_hash = fields.Str(required=True)
    actor = fields.Str(required=True)
    actor_name = fields.Str(metadata={"description": "the staff member's name (the HIS's name for the prescriber)"})
    org_code = fields.Str(allow_none=True)
    org_name = fields.Str()
    note = fields.Str(allow_none=True)
    detail = fields.Dict()
    at = fields.DateTime(required=True)


class PrescriptionResultSchema(Schema):
    version = fields.Int(required=True)
    outcome = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"description": "pending | sent"})
    payload = fields.Dict()
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)


class PrescriptionBaseSchema(Schema):
    """What a search row and the full prescription share."""

    id = fields.Int(required=True)
    rx_id = fields.Str(required=True)
    resident_id = fields.Int(required=True)
    org_code = fields.Str(required=True)
    org_name = fields.Str()
    prescriber = fields.Str(required=True)
    setting = fields.Str(required=True)
    diagnosis = fields.Str(required=True)
    version = fields.Int(required=True)
    grade = fields.Str(required=True)
    grade_label = fields.Str()
    status = fields.Str(required=True)
    status_label = fields.Str()
    findings = fields.List(fields.Nested(FindingSchema), required=True)
    instance_id = fields.Int(allow_none=True)
    received_at = fields.DateTime(required=True)


class PrescriptionVersionItemSchema(PrescriptionItemSchema):
    text = fields.Str(metadata={"description": "the line in words: 华法林 3 mg 每日1次"})


class PrescriptionVersionSchema(Schema):
    version = fields.Int(required=True)
    version_hash = fields.Str(required=True)
    grade = fields.Str(required=True)
    grade_label = fields.Str()
    findings = fields.Int(metadata={"description": "how many findings the automatic review raised on it"})
    author_name = fields.Str(metadata={"description": "who issued or modified it (name)"})
    created_at = fields.DateTime(required=True)
    items = fields.List(fields.Nested(PrescriptionVersionItemSchema), required=True)
    changes = fields.List(fields.Str(), required=True,
                          metadata={"description": "what this version changed from the one before, in words"})


class MedicationErrorReportSchema(Schema):
    """A 用药差错/不良事件报告 recorded with a refusal."""

    id = fields.Int(required=True)
    prescription_id = fields.Int(required=True)
    rx_id = fields.Str(required=True)
    version = fields.Int(required=True)
    version_hash = fields.Str(required=True)
    resident_id = fields.Int(required=True)
    resident_name = fields.Str(allow_none=True)
    org_code = fields.Str(required=True, metadata={"description": "the prescribing organisation"})
    org_name = fields.Str()
    review_org_code = fields.Str(required=True)
    prescriber = fields.Str(required=True)
    pharmacist_name = fields.Str(required=True, metadata={"description": "who refused (the second signer)"})
    first_pharmacist_name = fields.Str(allow_none=True, metadata={"description": "the first reviewer (double-sign)"})
    double_signed = fields.Bool(required=True)
    problems = fields.List(fields.Str(), required=True)
    problem_labels = fields.List(fields.Str(), required=True)
    opinion = fields.Str(allow_none=True)
    findings = fields.List(fields.Dict(), required=True)
    category = fields.Str(required=True, metadata={"description": "NCC MERP A–I; a pre-review refusal: B"})
    category_label = fields.Str(required=True)
    created_at = fields.DateTime(required=True)


class MedicationErrorReportPageSchema(Schema):
    items = fields.List(fields.Nested(MedicationErrorReportSchema), required=True)
    total = fields.Int(required=True)


class PrescriptionDetailSchema(PrescriptionBaseSchema):
    review_org_code = fields.Str(required=True)
    review_org_name = fields.Str()
    indication = fields.Str(required=True)
    items = fields.List(fields.Nested(PrescriptionItemSchema), required=True)
    clinical = fields.Dict()
    states = fields.List(fields.Nested(PrescriptionStateSchema), required=True)
    versions = fields.List(fields.Nested(PrescriptionVersionSchema), required=True,
                           metadata={"description": "every version's lines (earlier ones too), oldest first"})
    results = fields.List(fields.Nested(PrescriptionResultSchema), required=True)
    error_reports = fields.List(fields.Nested(MedicationErrorReportSchema), required=True,
                                metadata={"description": "用药差错报告 recorded with a refusal"})


def _known_drug(code: str) -> None:
    if checks.drug_name(code) == code:
        raise ValidationError("未知药品代码 (unknown drug code)")


class PrescriptionQueryArgsSchema(PageArgsSchema):
    drug = Text(validate=_known_drug, metadata={"description": "a drug code of the catalogue (any line)"})
    prescriber = Text(validate=validate.Length(min=1, max=120))
    org_code = Text(validate=validate.Length(min=1, max=40),
                    metadata={"description": "the prescribing organisation and its subtree"})
    state = Text(validate=validate.OneOf(SEARCH_STATES),
                 metadata={"description": "the state the prescription stands in: " + " | ".join(SEARCH_STATES)})
    resident_id = fields.Int(validate=validate.Range(min=1))
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")


class PrescriptionRowSchema(PrescriptionBaseSchema):
    resident_name = fields.Str(allow_none=True)
    drugs = fields.List(fields.Str(), required=True)
    summary = fields.Str(required=True)
    state = fields.Str(required=True)
    state_label = fields.Str()
    review_due_at = fields.DateTime(allow_none=True, metadata={"description": "while under review: the SLA's end"})
    review_seconds_left = fields.Int(allow_none=True, metadata={
        "description": "while under review: seconds until the SLA's end by the server's clock (negative: overdue); "
                       "a countdown runs from this, not from the device's clock"})
    escalated = fields.Bool()


class PrescriptionPageSchema(Schema):
    items = fields.List(fields.Nested(PrescriptionRowSchema), required=True)
    total = fields.Int(required=True)
    server_now = fields.DateTime(required=True, metadata={"description": "the server's time of this answer"})


class CodeLabelSchema(Schema):
    code = fields.Str(required=True)
    label = fields.Str(required=True)


class PrescriptionOptionsSchema(Schema):
    drugs = fields.List(fields.Nested(CodeLabelSchema), required=True)
    states = fields.List(fields.Nested(CodeLabelSchema), required=True)
    prescribers = fields.List(fields.Str(), required=True)


class AutoPassArgsSchema(Schema):
    org_code = Text(required=True, validate=validate.Length(min=1, max=40))


class AutoPassSettingSchema(Schema):
    org_code = fields.Str(required=True)
    org_name = fields.Str()
    drug_class = fields.Str(required=True, metadata={"description": "warfarin | rivaroxaban | lmwh"})
    class_label = fields.Str()
    enabled = fields.Bool(required=True)
    source = fields.Str(metadata={"description": "own | inherited (from an organisation above) | default (off)"})
    from_org_code = fields.Str(allow_none=True)
    from_org_name = fields.Str(allow_none=True)
    updated_by = fields.Str(allow_none=True)
    updated_by_name = fields.Str(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class AutoPassUpdateSchema(Schema):
    org_code = Text(required=True, validate=validate.Length(min=1, max=40))
    drug_class = fields.Str(required=True, validate=validate.OneOf(("warfarin", "rivaroxaban", "lmwh")))
    enabled = fields.Bool(required=True)

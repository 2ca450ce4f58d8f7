"""Request/response shapes of /api/v1/prescriptions."""
from __future__ import annotations

from marshmallow import Schema, fields


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
    org_code = fields.Str(allow_none=True)
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


class PrescriptionDetailSchema(Schema):
    id = fields.Int(required=True)
    rx_id = fields.Str(required=True)
    resident_id = fields.Int(required=True)
    org_code = fields.Str(required=True)
    org_name = fields.Str()
    review_org_code = fields.Str(required=True)
    review_org_name = fields.Str()
    prescriber = fields.Str(required=True)
    setting = fields.Str(required=True)
    indication = fields.Str(required=True)
    diagnosis = fields.Str(required=True)
    version = fields.Int(required=True)
    items = fields.List(fields.Nested(PrescriptionItemSchema), required=True)
    clinical = fields.Dict()
    grade = fields.Str(required=True)
    grade_label = fields.Str()
    status = fields.Str(required=True)
    status_label = fields.Str()
    findings = fields.List(fields.Nested(FindingSchema), required=True)
    instance_id = fields.Int(allow_none=True)
    received_at = fields.DateTime(required=True)
    states = fields.List(fields.Nested(PrescriptionStateSchema), required=True)
    results = fields.List(fields.Nested(PrescriptionResultSchema), required=True)

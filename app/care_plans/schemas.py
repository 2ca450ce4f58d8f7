"""Marshmallow schemas of /api/v1/care-plans."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.vocabulary import Disease
from app.vocabulary.fields import Code

from .content import PLAN_DISEASES


class CarePlanVersionSchema(Schema):
    version = fields.Int()
    status = fields.Str()
    kind = fields.Str()
    content = fields.Dict()
    change_reason = fields.Str(allow_none=True)
    instance_id = fields.Int(allow_none=True)
    drafted_by = fields.Str(allow_none=True)
    drafted_at = fields.DateTime(allow_none=True)
    approved_by = fields.Str(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    acknowledged_by = fields.Str(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    closed_by = fields.Str(allow_none=True)         # an open revision that ended: cancelled, expired or superseded
    closed_at = fields.DateTime(allow_none=True)
    close_reason = fields.Str(allow_none=True)


class RevisionCancelSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=2, max=500))


class CarePlanCommentSchema(Schema):
    id = fields.Int()
    version = fields.Int(allow_none=True)
    author = fields.Str()
    body = fields.Str()
    created_at = fields.DateTime()


class CarePlanSchema(Schema):
    id = fields.Int()
    resident_id = fields.Int()
    disease = fields.Str()
    risk_level = fields.Str(allow_none=True)
    status = fields.Str()
    current_version = fields.Int(allow_none=True)
    org_code = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CarePlanDetailSchema(CarePlanSchema):
    current = fields.Nested(CarePlanVersionSchema, allow_none=True)
    versions = fields.List(fields.Nested(CarePlanVersionSchema))
    comments = fields.List(fields.Nested(CarePlanCommentSchema))
    names = fields.Dict(keys=fields.Str(), values=fields.Str())    # username → display name of everyone named


class CarePlanQueryArgsSchema(Schema):
    resident_id = fields.Int(required=True, validate=validate.Range(min=1))


class CarePlanListSchema(Schema):
    items = fields.List(fields.Nested(CarePlanSchema))


class CarePlanRequestSchema(Schema):
    resident_id = fields.Int(required=True, validate=validate.Range(min=1))
    disease = Code(Disease, only=PLAN_DISEASES, required=True)
    risk_level = fields.Str(load_default=None, allow_none=True,
                            validate=validate.OneOf(("LOW", "MODERATE", "HIGH", "VERY_HIGH")))
    reason = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=500))


class CarePlanRequestResultSchema(Schema):
    status = fields.Str()
    mode = fields.Str()
    care_plan_id = fields.Int()
    instance_id = fields.Int()


class RevisionProposalSchema(Schema):
    content = fields.Dict(required=True)
    reason = fields.Str(required=True, validate=validate.Length(min=2, max=500))


class CarePlanCommentCreateSchema(Schema):
    body = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    version = fields.Int(load_default=None, allow_none=True)


class CarePlanChangeSchema(Schema):
    path = fields.Str()
    change = fields.Str()
    from_ = fields.Raw(data_key="from", attribute="from", allow_none=True)
    to = fields.Raw(allow_none=True)


class VersionDiffSchema(Schema):
    care_plan_id = fields.Int()
    from_version = fields.Int()
    to_version = fields.Int()
    change_reason = fields.Str(allow_none=True)
    changes = fields.List(fields.Nested(CarePlanChangeSchema))
    comments = fields.List(fields.Nested(CarePlanCommentSchema))


class CarePlanGuidanceSchema(Schema):
    care_plan_id = fields.Int()
    version = fields.Int(allow_none=True)
    drugs = fields.List(fields.Dict())
    adherence = fields.Dict()
    warnings = fields.List(fields.Dict())
    latest = fields.Dict()
    decision_versions = fields.Dict()

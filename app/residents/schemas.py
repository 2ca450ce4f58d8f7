"""Marshmallow schemas of the resident API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.fields import Id, Text
from app.core.paging import page_args

PHONE = validate.Regexp(r"^\+?[0-9\- ]{5,20}$", error="电话号码格式不正确")


class ResidentCreateSchema(Schema):
    id_number = Text(required=True, validate=validate.Length(min=1, max=32),
                              metadata={"description": "18-digit GB 11643 居民身份证号码"})
    name = Text(required=True, validate=validate.Length(min=1, max=80))
    sex = Text(validate=validate.OneOf(["M", "F"]),
                        metadata={"description": "M/F; defaults to (and must match) the ID number"})
    birth_date = fields.Date(metadata={"description": "defaults to (and must match) the ID number"})
    phone = Text(allow_none=True, validate=PHONE)
    address = Text(allow_none=True, validate=validate.Length(max=255))
    org_code = Text(metadata={"description": "managing village/township; default: the caller's"})
    family_doctor_user_id = Id(allow_none=True)


class ResidentUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=80))
    phone = Text(allow_none=True, validate=PHONE)
    address = Text(allow_none=True, validate=validate.Length(max=255))
    org_code = Text()
    family_doctor_user_id = Id(allow_none=True)


class ResidentQueryArgsSchema(page_args(per_page=20, max_per_page=200)):
    q = Text(metadata={"description": "name prefix, or an exact 18-digit ID number"})
    org_code = Text()


class ResidentSchema(Schema):
    id = fields.Integer()
    name = Text()
    sex = Text()
    birth_date = fields.Date()
    age = fields.Integer()
    id_number = Text(metadata={"description": "masked in lists (3301**********1234); full on the record"})
    phone = Text(allow_none=True)
    address = Text(allow_none=True)
    org_code = Text()
    family_doctor_user_id = Id(allow_none=True)


class ResidentRecordSchema(ResidentSchema):
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ResidentPageSchema(Schema):
    items = fields.List(fields.Nested(ResidentSchema))
    total = fields.Integer()


class HealthRecordSchema(ResidentRecordSchema):
    summary = fields.Dict(metadata={"description": "chronic-disease summary: enrolments, diagnoses, complications, "
                                    "current_medications, key_values (latest + trend per LOINC code), risk_levels "
                                    "(level, label, reason), care_plan, next_follow_up, referral_flags, "
                                    "open_emergencies (emergency up-referrals not yet arrived), open_instances"})
    conditions = fields.List(fields.Dict())
    observations = fields.List(fields.Dict(), metadata={"description": "the 50 most recent, newest first"})
    medications = fields.List(fields.Dict())
    encounters = fields.List(fields.Dict())
    risk_factors = fields.Dict()


class ObservationCreateSchema(Schema):
    id = Text(validate=validate.Length(min=1, max=80),
              metadata={"description": "client-generated id (UUID): a re-send answers the first row (200)"})
    code = Text(required=True, metadata={"description": "LOINC code, e.g. 8480-6 systolic BP"})
    value = fields.Raw(required=True, metadata={"description": "number (or 'positive'/'negative' for FIT)"})
    unit = Text(allow_none=True, load_default=None)
    effective_at = fields.AwareDateTime(required=True, default_timezone=None)
    source = Text(required=True, validate=validate.Length(min=1, max=60))
    abnormal_flag = Text(allow_none=True, load_default=None)


class ObservationSchema(Schema):
    id = fields.Integer()
    code = Text()
    name = Text()
    value = fields.Raw()
    unit = Text(allow_none=True)
    original_value = Text(allow_none=True)
    original_unit = Text(allow_none=True)
    abnormal_flag = Text(allow_none=True)
    effective_at = Text()
    source = Text()
    client_id = Text(allow_none=True)
    recorded_at = Text()


class ObservationQueryArgsSchema(Schema):
    code = Text(metadata={"description": "one LOINC code: its series, newest first"})
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=2000))


class ObservationListSchema(Schema):
    items = fields.List(fields.Nested(ObservationSchema))
    total = fields.Integer()


class RiskReassessmentSchema(Schema):
    level = fields.String(required=True, metadata={"description": "LOW | MODERATE | HIGH | VERY_HIGH"})
    reason = fields.String(load_default="", metadata={"description": "why the clinician changes the grade"})
    previous_level = fields.String(dump_only=True, allow_none=True)
    changed = fields.Boolean(dump_only=True)

"""Marshmallow schemas of the resident API."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.auth.fields import Id, Text
from app.core.paging import PageArgsSchema, per_page

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


class ResidentQueryArgsSchema(PageArgsSchema):
    per_page = per_page(default=20, maximum=200)
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
    org_name = Text(allow_none=True, metadata={"description": "the managing organization's name"})
    family_doctor_name = Text(allow_none=True, metadata={"description": "the family doctor's display name"})
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
    source_label = Text(metadata={"description": "医疗机构 / 患者自测 / 家用设备"})
    home = fields.Bool(metadata={"description": "measured by the resident (at home or by a home device): shown, "
                                                "never in the clinic's trends, grading or classification"})
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


class HomeReadingCreateSchema(Schema):
    """One home measurement by the resident (blood pressure with pulse, and/or glucose), in canonical units."""
    id = Text(validate=validate.Length(min=1, max=60),
              metadata={"description": "client-generated id (UUID): a re-send answers the first rows (200)"})
    measured_at = fields.AwareDateTime(required=True, default_timezone=None)
    sbp = fields.Integer(validate=validate.Range(min=60, max=260, error="收缩压应在 60–260 mmHg 之间"))
    dbp = fields.Integer(validate=validate.Range(min=30, max=160, error="舒张压应在 30–160 mmHg 之间"))
    pulse = fields.Integer(validate=validate.Range(min=30, max=220, error="心率应在 30–220 次/分 之间"))
    glucose = fields.Float(validate=validate.Range(min=1.0, max=35.0, error="血糖应在 1.0–35.0 mmol/L 之间"))
    glucose_kind = Text(validate=validate.OneOf(("fasting", "random"), error="请选择空腹或随机血糖"))

    @validates_schema
    def _pairs(self, data, **_):
        if not any(k in data for k in ("sbp", "dbp", "glucose")):
            raise ValidationError("请至少填写血压或血糖", field_name="sbp")
        if ("sbp" in data) != ("dbp" in data):
            raise ValidationError("血压需同时填写收缩压和舒张压", field_name="dbp" if "sbp" in data else "sbp")
        if "sbp" in data and data["dbp"] >= data["sbp"]:
            raise ValidationError("舒张压应低于收缩压", field_name="dbp")
        if "pulse" in data and "sbp" not in data:
            raise ValidationError("心率随血压一同填写", field_name="pulse")
        if "glucose" in data and "glucose_kind" not in data:
            raise ValidationError("请选择空腹或随机血糖", field_name="glucose_kind")


class HomeReadingListSchema(Schema):
    items = fields.List(fields.Nested(ObservationSchema))

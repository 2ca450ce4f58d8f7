"""Marshmallow schemas of the training API (the OpenAPI document and the UI's types come from these)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from .models import ASSESSMENTS, CATEGORIES, LEVELS, MODES
from .services import TRAINEE_ROLES

Id = fields.Int(validate=validate.Range(min=1, max=2**63 - 1))


class PlanCreateSchema(Schema):
    year = fields.Int(required=True, validate=validate.Range(min=2000, max=2100))
    title = fields.Str(required=True, validate=validate.Length(min=2, max=200))
    org_code = fields.Str(validate=validate.Length(max=40))
    note = fields.Str(load_default="", validate=validate.Length(max=2000))


class PlanUpdateSchema(Schema):
    year = fields.Int(validate=validate.Range(min=2000, max=2100))
    title = fields.Str(validate=validate.Length(min=2, max=200))
    note = fields.Str(validate=validate.Length(max=2000))


class PlanSchema(Schema):
    id = fields.Int()
    org_code = fields.Str()
    org_name = fields.Str()
    year = fields.Int()
    title = fields.Str()
    note = fields.Str()
    created_by = fields.Str()
    created_at = fields.DateTime()
    sessions = fields.Int(metadata={"description": "number of rows (sessions)"})
    started = fields.Int()
    can_manage = fields.Bool()


class SessionWriteSchema(Schema):
    topic = fields.Str(validate=validate.Length(min=2, max=200))
    category = fields.Str(validate=validate.OneOf(CATEGORIES))
    level = fields.Str(validate=validate.OneOf(LEVELS))
    project_no = fields.Str(allow_none=True, validate=validate.Length(max=60))
    lecturer_name = fields.Str(validate=validate.Length(min=1, max=120))
    lecturer_title = fields.Str(validate=validate.Length(max=60))
    lecturer_org = fields.Str(validate=validate.Length(max=120))
    lecturer_user_id = fields.Int(allow_none=True, validate=validate.Range(min=1, max=2**63 - 1))
    target_roles = fields.List(fields.Str(validate=validate.OneOf(TRAINEE_ROLES)), validate=validate.Length(max=10))
    target_org_codes = fields.List(fields.Str(validate=validate.Length(max=40)), validate=validate.Length(max=200))
    mode = fields.Str(validate=validate.OneOf(MODES))
    starts_at = fields.AwareDateTime(default_timezone=None)
    ends_at = fields.AwareDateTime(default_timezone=None)
    venue = fields.Str(validate=validate.Length(max=200))
    venue_lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    venue_lon = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    coordinate_system = fields.Str(validate=validate.OneOf(("wgs84", "gcj02", "bd09")),
                                   metadata={"description": "venue coordinates as picked: WGS-84 (GPS), GCJ-02 "
                                                            "(高德/腾讯), BD-09 (百度); stored as WGS-84"})
    geofence_m = fields.Int(allow_none=True, validate=validate.Range(min=30, max=5000))
    online_url = fields.Url(allow_none=True, schemes={"http", "https"})
    hours = fields.Float(validate=validate.Range(min=0.5, max=200))
    assessment = fields.Str(validate=validate.OneOf(ASSESSMENTS))
    pass_mark = fields.Int(validate=validate.Range(min=1, max=100))
    budget_yuan = fields.Float(allow_none=True, validate=validate.Range(min=0, max=10_000_000))


class SessionCreateSchema(SessionWriteSchema):
    class Meta:
        pass

    @validates_schema
    def _required(self, data, **kwargs):
        missing = [k for k in ("topic", "category", "level", "lecturer_name", "mode", "starts_at", "ends_at", "hours")
                   if data.get(k) is None]
        if missing:
            raise ValidationError({k: ["必填 (required)"] for k in missing})


class SessionSchema(Schema):
    id = fields.Int()
    plan_id = fields.Int()
    seq = fields.Int()
    org_code = fields.Str()
    org_name = fields.Str()
    topic = fields.Str()
    category = fields.Str()
    category_label = fields.Str()
    level = fields.Str()
    level_label = fields.Str()
    project_no = fields.Str(allow_none=True)
    lecturer_name = fields.Str()
    lecturer_title = fields.Str()
    lecturer_org = fields.Str()
    lecturer_user_id = fields.Int(allow_none=True)
    target_roles = fields.List(fields.Str())
    target_org_codes = fields.List(fields.Str())
    mode = fields.Str()
    mode_label = fields.Str()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    venue = fields.Str()
    venue_lat = fields.Float(allow_none=True)
    venue_lon = fields.Float(allow_none=True)
    geofence_m = fields.Int(allow_none=True)
    online_url = fields.Str(allow_none=True)
    hours = fields.Float()
    assessment = fields.Str()
    pass_mark = fields.Int()
    budget_yuan = fields.Float(allow_none=True)
    phase = fields.Str()
    phase_label = fields.Str()
    instance_id = fields.Int(allow_none=True)
    approved_by = fields.Str(allow_none=True)
    approval_comment = fields.Str(allow_none=True)
    attendance_closed_at = fields.DateTime(allow_none=True)
    exam_closes_at = fields.DateTime(allow_none=True)
    makeup_closes_at = fields.DateTime(allow_none=True)
    summary = fields.Dict(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    can_manage = fields.Bool()


class StartPlanSchema(Schema):
    dry_run = fields.Bool(load_default=True)
    session_ids = fields.List(Id, validate=validate.Length(max=500))


class StartReportSchema(Schema):
    plan_id = fields.Int()
    dry_run = fields.Bool()
    started = fields.Int()
    would_start = fields.Int()
    skipped = fields.Int()
    sessions = fields.List(fields.Dict())


class CancelSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=2, max=500))


class RespondSchema(Schema):
    attend = fields.Bool(required=True)
    decline_reason = fields.Str(validate=validate.Length(max=500))


class ScanSchema(Schema):
    token = fields.Str(required=True, validate=validate.Length(min=3, max=100))
    lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(allow_none=True, validate=validate.Range(min=0, max=1_000_000))
    device_id = fields.Str(allow_none=True, validate=validate.Length(max=64))
    action = fields.Str(validate=validate.OneOf(("in", "out")))


class HelpSchema(Schema):
    attempt_id = fields.Int(required=True, validate=validate.Range(min=1, max=2**63 - 1))
    note = fields.Str(load_default="", validate=validate.Length(max=500))


class ManualSchema(Schema):
    user_id = fields.Int(required=True, validate=validate.Range(min=1, max=2**63 - 1))
    action = fields.Str(load_default="in", validate=validate.OneOf(("in", "out")))
    reason = fields.Str(required=True, validate=validate.Length(min=2, max=500))
    attempt_id = fields.Int(allow_none=True, validate=validate.Range(min=1, max=2**63 - 1))


class HeartbeatSchema(Schema):
    leaving = fields.Bool(load_default=False)


class AttendanceSchema(Schema):
    session_id = fields.Int()
    user_id = fields.Int()
    signed_in_at = fields.DateTime()
    sign_in_method = fields.Str()
    late = fields.Bool()
    late_minutes = fields.Int()
    distance_m = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    signed_out_at = fields.DateTime(allow_none=True)
    sign_out_method = fields.Str(allow_none=True)
    attended_hours = fields.Float(allow_none=True)
    presence_share = fields.Float(allow_none=True)
    manual_by = fields.Str(allow_none=True)


class CodeSchema(Schema):
    session_id = fields.Int()
    token = fields.Str()
    url = fields.Str()
    svg = fields.Str()
    rotates_at = fields.DateTime()
    period_s = fields.Int()
    signed_in = fields.Int()
    signed_out = fields.Int()
    expected = fields.Int()


class MaterialSchema(Schema):
    id = fields.Int()
    session_id = fields.Int()
    kind = fields.Str()
    file_name = fields.Str()
    mime = fields.Str()
    size_bytes = fields.Int()
    sha256 = fields.Str()
    taken_at = fields.DateTime(allow_none=True)
    uploaded_by = fields.Str()
    uploaded_at = fields.DateTime()


class MaterialUploadSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(("slides", "document", "video", "photo")))


class ItemWriteSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(("single", "multiple", "true_false")))
    stem = fields.Str(required=True, validate=validate.Length(min=2, max=2000))
    options = fields.List(fields.Dict(keys=fields.Str(), values=fields.Str()), load_default=list,
                          validate=validate.Length(max=8))
    answer = fields.List(fields.Str(validate=validate.Length(max=2)), required=True, validate=validate.Length(min=1, max=8))
    explanation = fields.Str(load_default="", validate=validate.Length(max=2000))
    category = fields.Str(load_default="", validate=validate.Length(max=60))


class ItemSchema(Schema):
    id = fields.Int()
    org_code = fields.Str()
    kind = fields.Str()
    stem = fields.Str()
    options = fields.List(fields.Dict())
    answer = fields.List(fields.Str())
    explanation = fields.Str()
    category = fields.Str()
    created_by = fields.Str()


class ItemQuerySchema(Schema):
    category = fields.Str(validate=validate.Length(max=60))


class PaperWriteSchema(Schema):
    item_ids = fields.List(Id, required=True, validate=validate.Length(min=1, max=200))
    time_limit_min = fields.Int(validate=validate.Range(min=1, max=600))
    pass_mark = fields.Int(validate=validate.Range(min=1, max=100))
    shuffle = fields.Bool(load_default=True)


class PaperSchema(Schema):
    session_id = fields.Int()
    item_ids = fields.List(fields.Int())
    pass_mark = fields.Int()
    time_limit_min = fields.Int()
    shuffle = fields.Bool()


class AnswerSchema(Schema):
    item_id = fields.Int(required=True, validate=validate.Range(min=1, max=2**63 - 1))
    keys = fields.List(fields.Str(validate=validate.Length(max=2)), required=True, validate=validate.Length(max=8))


class SubmitSchema(Schema):
    answers = fields.Dict(keys=fields.Str(validate=validate.Length(max=20)),
                          values=fields.List(fields.Str(validate=validate.Length(max=2)), validate=validate.Length(max=8)),
                          load_default=dict)


class SatisfactionSchema(Schema):
    overall = fields.Int(required=True, validate=validate.Range(min=1, max=5))
    content = fields.Int(required=True, validate=validate.Range(min=1, max=5))
    lecturer = fields.Int(required=True, validate=validate.Range(min=1, max=5))
    organisation = fields.Int(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.Str(load_default="", validate=validate.Length(max=1000))


class YearQuerySchema(Schema):
    year = fields.Int(validate=validate.Range(min=2000, max=2100))
    org_code = fields.Str(validate=validate.Length(max=40))
    format = fields.Str(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv", "pdf")))


class PeriodQuerySchema(Schema):
    org_code = fields.Str(validate=validate.Length(max=40))
    start = fields.Date()
    end = fields.Date()


class SessionQuerySchema(Schema):
    phase = fields.Str(validate=validate.Length(max=30))
    start = fields.Date()
    end = fields.Date()

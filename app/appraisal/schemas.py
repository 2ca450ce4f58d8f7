"""Marshmallow schemas of /api/v1/appraisal (schemes and their versions, runs, period results)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .schemes import KINDS

PERIOD = validate.Regexp(r"^(19|20)\d{2}(-(0[1-9]|1[0-2])|Q[1-4])?$",
                         error="考核期格式应为 YYYY-MM、YYYYQn 或 YYYY")
KIND = validate.OneOf(tuple(KINDS))


class AppraisalSchemeItemSchema(Schema):
    indicator_id = fields.Str()
    indicator_name = fields.Str()
    unit = fields.Str()
    direction = fields.Str()
    weight = fields.Float()
    rule = fields.Str(metadata={"description": "interval | max | target"})
    rule_label = fields.Str()
    params = fields.Dict()
    params_label = fields.Str()


class AppraisalSchemeSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    kind_label = fields.Str()
    version = fields.Int()
    name = fields.Str()
    note = fields.Str()
    items = fields.List(fields.Nested(AppraisalSchemeItemSchema))
    created_by = fields.Str()
    created_at = fields.DateTime()


class AppraisalVersionSchema(Schema):
    version = fields.Int()
    name = fields.Str()
    note = fields.Str()
    created_by = fields.Str()
    created_at = fields.DateTime()
    indicator_count = fields.Int()


class AppraisalIndicatorChoiceSchema(Schema):
    id = fields.Str()
    name = fields.Str()
    unit = fields.Str()
    direction = fields.Str()
    group = fields.Str()
    has_target = fields.Bool()


class AppraisalRuleSchema(Schema):
    code = fields.Str()
    label = fields.Str()
    params = fields.Dict()


class AppraisalSchemeDetailSchema(AppraisalSchemeSchema):
    versions = fields.List(fields.Nested(AppraisalVersionSchema))
    indicators = fields.List(fields.Nested(AppraisalIndicatorChoiceSchema),
                             metadata={"description": "the library's indicators this type may use"})
    rules = fields.List(fields.Nested(AppraisalRuleSchema))


class AppraisalSchemeBodySchema(Schema):
    name = fields.Str(allow_none=True)
    note = fields.Str(allow_none=True)
    items = fields.List(fields.Raw(), required=True,
                        metadata={"description": "[{indicator_id, weight, rule: interval|max|target, params}]"})


class AppraisalRunBodySchema(Schema):
    period = fields.Str(required=True, validate=PERIOD)
    kind = fields.Str(validate=KIND, metadata={"description": "one type (default: all three)"})


class AppraisalResultArgsSchema(Schema):
    period = fields.Str(validate=PERIOD, metadata={"description": "考核期 (默认: 最近计算的一期)"})
    kind = fields.Str(load_default="township", validate=KIND)


class AppraisalExportArgsSchema(Schema):
    period = fields.Str(validate=PERIOD, metadata={"description": "考核期 (默认: 最近计算的一期)"})
    kind = fields.Str(validate=KIND, metadata={"description": "one type (default: every type computed)"})


class AppraisalBreakdownSchema(Schema):
    indicator_id = fields.Str()
    value = fields.Float(allow_none=True)
    numerator = fields.Int(allow_none=True)
    denominator = fields.Float(allow_none=True)
    score = fields.Float(allow_none=True)
    weighted = fields.Float(allow_none=True)


class AppraisalSubjectSchema(Schema):
    key = fields.Str()
    name = fields.Str()
    org_code = fields.Str()
    org_name = fields.Str()
    doctor_name = fields.Str(allow_none=True)
    active_contracts = fields.Int(allow_none=True)
    total = fields.Float(allow_none=True)
    rank = fields.Int(allow_none=True)
    breakdown = fields.List(fields.Nested(AppraisalBreakdownSchema))


class AppraisalIndicatorStatSchema(Schema):
    indicator_id = fields.Str()
    indicator_name = fields.Str()
    unit = fields.Str()
    direction = fields.Str()
    weight = fields.Float()
    rule = fields.Str()
    rule_label = fields.Str()
    params = fields.Dict()
    window_start = fields.Str()
    window_end = fields.Str()
    p10 = fields.Float(allow_none=True)
    p90 = fields.Float(allow_none=True)
    best = fields.Float(allow_none=True)
    worst = fields.Float(allow_none=True)
    reference = fields.Float(allow_none=True)
    target = fields.Float(allow_none=True)


class AppraisalResultSchema(Schema):
    kind = fields.Str()
    kind_label = fields.Str()
    period = fields.Str()
    scheme_version = fields.Int()
    scheme_name = fields.Str()
    window_start = fields.Str()
    window_end = fields.Str()
    indicators = fields.List(fields.Nested(AppraisalIndicatorStatSchema))
    peer_count = fields.Int()
    subjects = fields.List(fields.Nested(AppraisalSubjectSchema))
    computed_by = fields.Str()
    computed_at = fields.DateTime()


class AppraisalRunSchema(Schema):
    results = fields.List(fields.Nested(AppraisalResultSchema))


class AppraisalPeriodSchema(Schema):
    kind = fields.Str()
    kind_label = fields.Str()
    period = fields.Str()
    scheme_version = fields.Int()
    computed_at = fields.DateTime()


class AppraisalExportJobBodySchema(Schema):
    period = fields.Str(required=True, validate=PERIOD, metadata={"description": "YYYY-MM | YYYYQn | YYYY"})
    kind = fields.Str(load_default=None, validate=KIND,
                      metadata={"description": "one type; omitted: every type in one file"})
    format = fields.Str(load_default="pdf", validate=validate.OneOf(["pdf", "xlsx"]))


"""Marshmallow schemas of /api/v1/quality (indicator catalogue, values, breakdowns, trends, drill-down, alerts)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .queries import PARTS
from .sources import DIMENSIONS

PERIOD = validate.Regexp(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", error="统计期格式应为 YYYY-MM (1900–2099)")


class QualityFreshnessSchema(Schema):
    """How fresh the figures are: read from the materialized aggregates as of a time, or computed live."""
    as_of = fields.DateTime(allow_none=True, metadata={"description": "when the (oldest) figures read were computed"})
    live = fields.Bool(metadata={"description": "some month had no materialized figures and was computed live"})
    refresh_status = fields.Str(allow_none=True, metadata={"description": "running | done | failed, null: never"})
    refresh_status_label = fields.Str()
    refresh_error = fields.Bool()
    window_end = fields.Date(allow_none=True, metadata={"description": "last day the month's figures counted"})


class QualityRefreshArgsSchema(Schema):
    period = fields.Str(load_default=None, validate=PERIOD)


class QualityPeriodArgsSchema(Schema):
    period = fields.Str(validate=PERIOD, metadata={"description": "统计月份 YYYY-MM (默认本月)"})
    org_code = fields.Str(validate=validate.Length(max=40), metadata={"description": "机构 (默认本人机构)"})


class QualityOverviewArgsSchema(QualityPeriodArgsSchema):
    group = fields.Str(validate=validate.OneOf(("chronic", "process", "recognition", "contracting", "liaison",
                                                "anticoag")))


class QualityBreakdownArgsSchema(QualityPeriodArgsSchema):
    by = fields.Str(load_default="org", validate=validate.OneOf(tuple(DIMENSIONS)))


class QualityTrendArgsSchema(QualityPeriodArgsSchema):
    months = fields.Int(load_default=12, validate=validate.Range(min=1, max=36))


class QualityDrilldownArgsSchema(QualityPeriodArgsSchema):
    part = fields.Str(load_default="numerator", validate=validate.OneOf(PARTS),
                      metadata={"description": "numerator 分子 / denominator 分母 / gap 在分母而不在分子"})
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))
    doctor_id = fields.Int(validate=validate.Range(min=1),
                           metadata={"description": "只列该责任医生的 (发现: 同级医生的离群)"})


class QualityThresholdsSchema(Schema):
    target = fields.Float()
    warning = fields.Float()
    alarm = fields.Float()


class QualityFormulaSchema(Schema):
    source = fields.Str()
    source_label = fields.Str()
    where = fields.List(fields.Raw())
    scale = fields.Float(allow_none=True)


class QualityRateFormulaSchema(Schema):
    numerator = fields.Nested(QualityFormulaSchema)
    denominator = fields.Nested(QualityFormulaSchema, allow_none=True)


class QualityCodeLabelSchema(Schema):
    code = fields.Str()
    label = fields.Str()


class QualityIndicatorSchema(Schema):
    id = fields.Str()
    name = fields.Str()
    group = fields.Str()
    unit = fields.Str()
    direction = fields.Str()
    window = fields.Str()
    source_note = fields.Str()
    edition = fields.Str()
    formula = fields.Nested(QualityRateFormulaSchema)
    aggregate = fields.Dict(allow_none=True, metadata={"description": "{field, stat: mean|median}: the figure is that "
                                                       "statistic of the field over the numerator rows"})
    dimensions = fields.List(fields.Nested(QualityCodeLabelSchema))
    thresholds = fields.Nested(QualityThresholdsSchema, allow_none=True)


class QualityFigureSchema(Schema):
    numerator = fields.Int()
    denominator = fields.Float(allow_none=True)
    value = fields.Float(allow_none=True)
    thresholds = fields.Nested(QualityThresholdsSchema, allow_none=True)
    status = fields.Str(metadata={"description": "met | below_target | warning | alarm | no_data | none"})


class QualityGroupSchema(QualityFigureSchema):
    key = fields.Raw(allow_none=True)
    label = fields.Str()
    org_code = fields.Str(allow_none=True)


class QualityOrgRefSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    level = fields.Str()


class QualityIndicatorValueSchema(QualityIndicatorSchema, QualityFigureSchema):
    window_start = fields.Date()
    window_end = fields.Date()
    children = fields.List(fields.Nested(QualityGroupSchema))


class QualityOverviewSchema(Schema):
    period = fields.Str()
    org = fields.Nested(QualityOrgRefSchema)
    indicators = fields.List(fields.Nested(QualityIndicatorValueSchema))
    freshness = fields.Nested(QualityFreshnessSchema)


class QualityBreakdownSchema(Schema):
    indicator = fields.Nested(QualityIndicatorSchema)
    period = fields.Str()
    org = fields.Nested(QualityOrgRefSchema)
    by = fields.Str()
    groups = fields.List(fields.Nested(QualityGroupSchema))
    freshness = fields.Nested(QualityFreshnessSchema)


class QualityTrendPointSchema(QualityFigureSchema):
    period = fields.Str()


class QualityTrendSchema(Schema):
    indicator = fields.Nested(QualityIndicatorSchema)
    org = fields.Nested(QualityOrgRefSchema)
    points = fields.List(fields.Nested(QualityTrendPointSchema))
    freshness = fields.Nested(QualityFreshnessSchema)


class QualityDrilldownItemSchema(Schema):
    key = fields.Str()
    resident_id = fields.Int(allow_none=True)
    resident_name = fields.Str(allow_none=True)
    task_id = fields.Int(allow_none=True)
    org_code = fields.Str(allow_none=True)
    org_name = fields.Str(allow_none=True)
    disease = fields.Str(allow_none=True)
    disease_label = fields.Str()
    risk_level_label = fields.Str()
    doctor_name = fields.Str(allow_none=True)
    sex_label = fields.Str()
    age = fields.Int(allow_none=True)
    facts = fields.Dict(keys=fields.Str(), values=fields.Raw(allow_none=True))


class QualityDrilldownSchema(Schema):
    indicator = fields.Nested(QualityIndicatorSchema)
    period = fields.Str()
    org = fields.Nested(QualityOrgRefSchema)
    part = fields.Str()
    total = fields.Int()
    items = fields.List(fields.Nested(QualityDrilldownItemSchema))
    doctor_id = fields.Int(allow_none=True)


class QualityAlertArgsSchema(Schema):
    period = fields.Str(validate=PERIOD)
    org_code = fields.Str(validate=validate.Length(max=40))


class QualityAlertSchema(Schema):
    id = fields.Int()
    indicator_id = fields.Str()
    indicator_name = fields.Str()
    org_code = fields.Str()
    org_name = fields.Str()
    period = fields.Str()
    level = fields.Str()
    level_label = fields.Str()
    value = fields.Float(allow_none=True)
    numerator = fields.Int()
    denominator = fields.Float(allow_none=True)
    threshold = fields.Float()
    part = fields.Str()
    count = fields.Int()
    created_at = fields.DateTime()
    status = fields.Str(metadata={"description": "open | handled (the handling task was completed)"})
    status_label = fields.Str()
    handled_at = fields.DateTime(allow_none=True)
    handled_by = fields.Str(allow_none=True)
    instance_id = fields.Int(allow_none=True)


class QualityAlertListSchema(Schema):
    items = fields.List(fields.Nested(QualityAlertSchema))


class QualityScoreArgsSchema(QualityPeriodArgsSchema):
    level = fields.Str(load_default="township", validate=validate.OneOf(("township", "village")))


class QualityScoreItemSchema(QualityFigureSchema):
    org_code = fields.Str()
    org_name = fields.Str()
    score = fields.Float(allow_none=True)
    rank = fields.Int(allow_none=True)


class QualityScoresSchema(Schema):
    indicator = fields.Nested(QualityIndicatorSchema)
    period = fields.Str()
    org = fields.Nested(QualityOrgRefSchema)
    level = fields.Str()
    p10 = fields.Float(allow_none=True)
    p90 = fields.Float(allow_none=True)
    items = fields.List(fields.Nested(QualityScoreItemSchema))


class QualityCohortArgsSchema(QualityPeriodArgsSchema):
    disease = fields.Str(load_default="htn", validate=validate.OneOf(("htn", "t2dm")))


class QualityCohortSchema(Schema):
    quarter = fields.Str()
    outcome_start = fields.Date()
    outcome_end = fields.Date()
    registered = fields.Int()
    controlled = fields.Int()
    uncontrolled = fields.Int()
    visited_no_value = fields.Int()
    missed_visit = fields.Int()


class QualityCohortsSchema(Schema):
    disease = fields.Str()
    period = fields.Str()
    org = fields.Nested(QualityOrgRefSchema)
    outcomes = fields.List(fields.Nested(QualityCodeLabelSchema))
    cohorts = fields.List(fields.Nested(QualityCohortSchema))


class QualityIndicatorCheckSchema(Schema):
    definition = fields.Dict(required=True, metadata={"description": "one indicator definition as in indicators/*.json"})


class QualityCohortMembersArgsSchema(QualityCohortArgsSchema):
    quarter = fields.Str(required=True, validate=validate.Regexp(r"^(19|20)\d{2}Q[1-4]$", error="季度格式应为 YYYYQn"))
    outcome = fields.Str(required=True, validate=validate.OneOf(("controlled", "uncontrolled", "visited_no_value",
                                                                 "missed_visit")))
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


class QualityCohortMembersSchema(Schema):
    quarter = fields.Str()
    outcome = fields.Str()
    total = fields.Int()
    items = fields.List(fields.Nested(QualityDrilldownItemSchema))


class QualityFindingArgsSchema(QualityPeriodArgsSchema):
    months = fields.Int(load_default=12, validate=validate.Range(min=12, max=24),
                        metadata={"description": "控制图回看月数 12–24"})


class QualityFindingLinkSchema(Schema):
    indicator_id = fields.Str()
    org_code = fields.Str()
    period = fields.Str()
    part = fields.Str()
    doctor_id = fields.Int(allow_none=True)
    url = fields.Str()


class QualityChartPointSchema(Schema):
    period = fields.Str()
    key = fields.Str()
    label = fields.Str()
    value = fields.Float()
    numerator = fields.Int()
    denominator = fields.Int()
    lcl = fields.Float()
    ucl = fields.Float()
    lwl = fields.Float()
    uwl = fields.Float()


class QualityFunnelLimitSchema(Schema):
    n = fields.Int()
    lo95 = fields.Float()
    hi95 = fields.Float()
    lo998 = fields.Float()
    hi998 = fields.Float()


class PreparedNested(fields.Nested):
    """A nested object the service built from plain JSON values only (a finding's chart: up to hundreds of points):
    documented as its schema, dumped as it is — marshmallow's field-by-field dump of the points was most of the
    findings' response time on a county of 400 villages."""

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        return nested_obj


class QualityFindingChartSchema(Schema):
    type = fields.Str(metadata={"description": "p_chart | funnel"})
    centre = fields.Float()
    group = fields.Str()
    group_label = fields.Str()
    network_rate = fields.Float()
    highlight = fields.Str()
    ref = fields.Str(metadata={"description": "an outlier's funnel: the key of the shared chart in `charts` "
                                              "(its points and curve are there, not repeated per finding)"})
    points = fields.List(fields.Nested(QualityChartPointSchema))
    curve = fields.List(fields.Nested(QualityFunnelLimitSchema))


class QualityFindingSchema(Schema):
    id = fields.Str()
    kind = fields.Str(metadata={"description": "drift 与自身历史相比 | outlier 与同级相比"})
    kind_label = fields.Str()
    rule = fields.Str()
    rules = fields.List(fields.Str())
    severity = fields.Str(metadata={"description": "alarm 严重 | warning 关注 | info 向好"})
    severity_label = fields.Str()
    indicator_id = fields.Str()
    indicator_name = fields.Str()
    subject = fields.Str()
    subject_kind = fields.Str()
    sentence = fields.Str()
    value = fields.Float()
    numerator = fields.Int()
    denominator = fields.Int()
    reference = fields.Float()
    link = fields.Nested(QualityFindingLinkSchema)
    chart = PreparedNested(QualityFindingChartSchema)


class QualityFindingsSchema(Schema):
    period = fields.Str()
    months = fields.Int()
    min_denominator = fields.Int()
    org = fields.Nested(QualityOrgRefSchema)
    indicators = fields.Int()
    findings = fields.List(fields.Nested(QualityFindingSchema))
    charts = fields.Dict(keys=fields.Str(), values=PreparedNested(QualityFindingChartSchema),
                         metadata={"description": "the funnels the outlier findings refer to (`chart.ref`), once each"})
    freshness = fields.Nested(QualityFreshnessSchema)


# -- breakdowns (issue 20.6) ----------------------------------------------------------------------------------------

class QualityBreakdownsArgsSchema(QualityPeriodArgsSchema):
    section = fields.Str(validate=validate.OneOf(("population", "disease", "cost", "resources", "outcomes")),
                         metadata={"description": "人口构成 / 疾病谱 / 费用 / 资源利用 / 结局比较 (默认全部)"})


class QualityBreakdownGroupSchema(Schema):
    key = fields.Str(metadata={"description": "the group's key: pass it to the members list"})
    label = fields.Str()
    count = fields.Int(metadata={"description": "distinct residents, tasks or cases"})
    sums = fields.Dict(keys=fields.Str(), values=fields.Float(), metadata={"description": "summed fields (元, 天)"})


class QualityBreakdownFigureSchema(Schema):
    id = fields.Str()
    section = fields.Str()
    title = fields.Str()
    by = fields.Str()
    unit = fields.Str()
    note = fields.Str()
    sum_fields = fields.List(fields.Str())
    total = fields.Int()
    groups = fields.List(fields.Nested(QualityBreakdownGroupSchema))


class QualityComparisonGroupSchema(Schema):
    key = fields.Str()
    label = fields.Str()
    value = fields.Float(allow_none=True)
    numerator = fields.Int()
    denominator = fields.Float(allow_none=True)
    org_code = fields.Str(allow_none=True)
    doctor_id = fields.Int(allow_none=True)
    versus = fields.Float(allow_none=True, metadata={"description": "value − the organisation's own, 个百分点"})


class QualityComparisonSchema(Schema):
    indicator_id = fields.Str()
    name = fields.Str()
    by = fields.Str()
    unit = fields.Str()
    reference = fields.Float(allow_none=True)
    numerator = fields.Int()
    denominator = fields.Float(allow_none=True)
    groups = fields.List(fields.Nested(QualityComparisonGroupSchema))


class QualitySectionSchema(Schema):
    code = fields.Str()
    label = fields.Str()
    not_held = fields.List(fields.Str(), metadata={"description": "what the platform does not hold for this section"})


class QualityBreakdownsSchema(Schema):
    period = fields.Str()
    window_start = fields.Date()
    window_end = fields.Date()
    org = fields.Nested(QualityOrgRefSchema)
    sections = fields.List(fields.Nested(QualitySectionSchema))
    figures = fields.List(fields.Nested(QualityBreakdownFigureSchema))
    comparisons = fields.List(fields.Nested(QualityComparisonSchema))


class QualityBreakdownMembersArgsSchema(QualityPeriodArgsSchema):
    key = fields.Str(required=True, validate=validate.Length(max=120))
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


class QualityBreakdownMembersSchema(Schema):
    figure_id = fields.Str()
    title = fields.Str()
    key = fields.Str()
    label = fields.Str()
    period = fields.Str()
    org = fields.Nested(QualityOrgRefSchema)
    total = fields.Int()
    items = fields.List(fields.Nested(QualityDrilldownItemSchema))


# -- 转诊对账 -------------------------------------------------------------------------------------------------------

class QualityReferralSummaryArgsSchema(QualityPeriodArgsSchema):
    months = fields.Int(load_default=6, validate=validate.Range(min=1, max=24),
                        metadata={"description": "回看月数 1–24 (截至 period)"})


class QualityReferralUnmatchedArgsSchema(QualityReferralSummaryArgsSchema):
    side = fields.Str(load_default="reported", validate=validate.OneOf(("reported", "network")),
                      metadata={"description": "reported: 外部上报而平台无记录; network: 平台转诊而外部未上报"})
    source = fields.Str(validate=validate.OneOf(("his", "public_health", "insurance")))
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


class QualitySourceCountsSchema(Schema):
    up = fields.Int()
    down = fields.Int()
    matched = fields.Int()


class QualityReferralCountsSchema(Schema):
    network_up = fields.Int()
    network_down = fields.Int()
    his = fields.Nested(QualitySourceCountsSchema)
    public_health = fields.Nested(QualitySourceCountsSchema)
    insurance = fields.Nested(QualitySourceCountsSchema)
    reported = fields.Int()
    matched = fields.Int()
    unmatched_reported = fields.Int()
    unmatched_network = fields.Int()


class QualityReferralMonthSchema(QualityReferralCountsSchema):
    period = fields.Str()


class QualityReferralOrgSchema(QualityReferralCountsSchema):
    key = fields.Str()
    label = fields.Str()
    org_code = fields.Str(allow_none=True)


class QualityReferralSummarySchema(Schema):
    period = fields.Str()
    months = fields.Int()
    from_period = fields.Str()
    match_days = fields.Int()
    org = fields.Nested(QualityOrgRefSchema)
    sources = fields.List(fields.Nested(QualityCodeLabelSchema))
    totals = fields.Nested(QualityReferralCountsSchema)
    by_month = fields.List(fields.Nested(QualityReferralMonthSchema))
    by_org = fields.List(fields.Nested(QualityReferralOrgSchema))


class QualityUnmatchedReferralSchema(Schema):
    key = fields.Str()
    side = fields.Str()
    source = fields.Str(allow_none=True)
    source_label = fields.Str()
    source_id = fields.Str(allow_none=True)
    referral_no = fields.Str(allow_none=True)
    direction = fields.Str()
    direction_label = fields.Str()
    on = fields.Date()
    resident_id = fields.Int()
    resident_name = fields.Str(allow_none=True)
    from_name = fields.Str(allow_none=True)
    to_name = fields.Str(allow_none=True)


class QualityUnmatchedReferralsSchema(Schema):
    period = fields.Str()
    months = fields.Int()
    side = fields.Str()
    source = fields.Str(allow_none=True)
    org = fields.Nested(QualityOrgRefSchema)
    total = fields.Int()
    items = fields.List(fields.Nested(QualityUnmatchedReferralSchema))

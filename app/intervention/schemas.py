"""Marshmallow schemas of /api/v1/interventions (cases, scans, the DRG import, the centre's indicators)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from app.core.paging import PageArgsSchema, per_page

from .labels import SERVICE_LINES, STATUSES

ID = validate.Range(min=1, max=2**63 - 1)
MONEY = validate.Range(min=0, max=100_000_000)


class InterventionCaseFilterSchema(Schema):
    status = fields.Str(validate=validate.OneOf(tuple(STATUSES)))
    service_line = fields.Str(validate=validate.OneOf(tuple(SERVICE_LINES)))
    procedure = fields.Str(validate=validate.Length(min=1, max=100), metadata={"description": "术式名称或编码包含"})
    diagnosis = fields.Str(validate=validate.Length(min=1, max=100))
    device = fields.Str(validate=validate.Length(min=1, max=100), metadata={"description": "耗材名称或 GTIN 包含"})
    drg_code = fields.Str(validate=validate.Length(min=1, max=20))
    discharged_from = fields.Date()
    discharged_to = fields.Date()
    with_complication = fields.Bool()
    with_unplanned_return = fields.Bool()
    ids = DelimitedList(fields.Int(validate=ID), validate=validate.Length(max=500),
                        metadata={"description": "病例 id 列表 (逗号分隔): 指标下钻"})


class InterventionCaseQueryArgsSchema(PageArgsSchema, InterventionCaseFilterSchema):
    per_page = per_page(default=50, maximum=200)


class InterventionCaseCreateSchema(Schema):
    resident_id = fields.Int(required=True, validate=ID)
    service_line = fields.Str(required=True, validate=validate.OneOf(tuple(SERVICE_LINES)))
    diagnosis = fields.Str(required=True, validate=validate.Length(min=1, max=500))
    procedure_code = fields.Str(required=True, validate=validate.Length(min=1, max=20),
                                metadata={"description": "ICD-9-CM-3 手术操作编码"})
    procedure_name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    admitted_on = fields.Date(load_default=None, allow_none=True)


class InterventionCaseSchema(Schema):
    id = fields.Int()
    case_no = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    resident_id = fields.Int()
    resident_name = fields.Str(allow_none=True)
    org_code = fields.Str()
    org_name = fields.Str()
    doctor_name = fields.Str(allow_none=True)
    service_line = fields.Str()
    service_line_label = fields.Str()
    diagnosis = fields.Str()
    procedure_code = fields.Str()
    procedure_name = fields.Str()
    procedure_grade = fields.Int(allow_none=True)
    grade_label = fields.Str()
    admitted_on = fields.Str(allow_none=True)
    operated_at = fields.Str(allow_none=True)
    discharged_on = fields.Str(allow_none=True)
    los_days = fields.Int(allow_none=True)
    drg_code = fields.Str(allow_none=True)
    drg_weight = fields.Float(allow_none=True)
    total_charge = fields.Float(allow_none=True)
    case_cost = fields.Float(allow_none=True)
    margin = fields.Float(allow_none=True)
    satisfaction = fields.Int(allow_none=True)
    readmitted_30d = fields.Bool(allow_none=True)
    died = fields.Bool()
    created_at = fields.Str(allow_none=True)
    closed_at = fields.Str(allow_none=True)


class InterventionCaseListSchema(Schema):
    items = fields.List(fields.Nested(InterventionCaseSchema))
    total = fields.Int()


class InterventionDeviceSchema(Schema):
    id = fields.Int()
    udi = fields.Str()
    gtin = fields.Str()
    lot = fields.Str(allow_none=True)
    serial = fields.Str(allow_none=True)
    expiry = fields.Str(allow_none=True)
    name = fields.Str()
    quantity = fields.Int()
    unit_price = fields.Float()
    insurance_code = fields.Str(allow_none=True)
    high_value = fields.Bool()
    implant = fields.Bool()
    self_pay = fields.Bool()
    scanned_at = fields.Str(allow_none=True)


class InterventionComplicationSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    kind_label = fields.Str()
    grade = fields.Str()
    grade_label = fields.Str()
    severe = fields.Bool()
    occurred_at = fields.Str(allow_none=True)
    during_stay = fields.Bool()
    treatment = fields.Str(allow_none=True)
    checkpoint = fields.Str()
    checkpoint_label = fields.Str()


class InterventionReoperationSchema(Schema):
    id = fields.Int()
    unplanned = fields.Bool()
    reoperated_at = fields.Str(allow_none=True)
    interval_hours = fields.Float()
    reason = fields.Str()
    reason_label = fields.Str()
    description = fields.Str(allow_none=True)
    rca = fields.Dict()
    rca_done_at = fields.Str(allow_none=True)


class InterventionTimelineEntrySchema(Schema):
    at = fields.Str(allow_none=True)
    event = fields.Str(allow_none=True)
    text = fields.Str(allow_none=True)


class InterventionCaseDetailSchema(InterventionCaseSchema):
    assessment = fields.Dict()
    contrast_risk_label = fields.Str()
    mdt = fields.Dict()
    consent = fields.Dict()
    self_pay_estimate = fields.Float(allow_none=True)
    reservation = fields.List(fields.Dict())
    operation = fields.Dict()
    approach_label = fields.Str()
    outcome_label = fields.Str()
    checkpoints = fields.Dict()
    discharge = fields.Dict()
    destination_label = fields.Str()
    drg = fields.Dict()
    cost = fields.Dict()
    follow_up = fields.Dict()
    devices = fields.List(fields.Nested(InterventionDeviceSchema))
    complications = fields.List(fields.Nested(InterventionComplicationSchema))
    reoperations = fields.List(fields.Nested(InterventionReoperationSchema))
    timeline = fields.List(fields.Nested(InterventionTimelineEntrySchema))
    tasks = fields.List(fields.Dict())
    scanning_open = fields.Bool()


class InterventionScanSchema(Schema):
    udi = fields.Str(required=True, validate=validate.Length(min=1, max=200),
                     metadata={"description": "扫描得到的 UDI (GS1-128 / DataMatrix 元素串或括号形式); 一次扫码 = 一件"})
    self_pay = fields.Bool(load_default=False, metadata={"description": "患者已签字同意自费"})


class InterventionDrgChargesSchema(Schema):
    drugs = fields.Float(load_default=0, validate=MONEY)
    exams = fields.Float(load_default=0, validate=MONEY)
    other_consumables = fields.Float(load_default=0, validate=MONEY)
    services = fields.Float(load_default=0, validate=MONEY)


class InterventionDrgImportSchema(Schema):
    case_no = fields.Str(required=True, validate=validate.Length(min=1, max=24))
    drg_code = fields.Str(required=True, validate=validate.Length(min=1, max=20))
    drg_name = fields.Str(load_default="", validate=validate.Length(max=200))
    weight = fields.Float(required=True, validate=validate.Range(min=0, max=100, min_inclusive=False),
                          metadata={"description": "相对权重 RW"})
    total_charge = fields.Float(required=True, validate=MONEY, metadata={"description": "住院总费用 (元)"})
    patient_share = fields.Float(load_default=0, validate=MONEY, metadata={"description": "患者自付 (医保范围内)"})
    charges = fields.Nested(InterventionDrgChargesSchema, load_default=dict)
    grouper = fields.Str(load_default="", validate=validate.Length(max=80),
                         metadata={"description": "分组器及版本, 如 CHS-DRG 2.0"})
    settled_on = fields.Date(load_default=None, allow_none=True)


class InterventionDrgImportResultSchema(Schema):
    case_no = fields.Str()
    created = fields.Bool()
    status = fields.Str()


MONTH = validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$", error="月份格式为 YYYY-MM")


class CentrePeriodArgsSchema(Schema):
    month = fields.Str(required=True, validate=MONTH, metadata={"description": "出院月份 (起), YYYY-MM"})
    to_month = fields.Str(load_default=None, validate=MONTH, metadata={"description": "出院月份 (止), 默认同起"})


class CentreMonthArgsSchema(Schema):
    month = fields.Str(required=True, validate=MONTH)


class CentreIndicatorSchema(Schema):
    code = fields.Str()
    label = fields.Str()
    definition = fields.Str()
    unit = fields.Str()
    numerator = fields.Float(allow_none=True)
    denominator = fields.Float(allow_none=True)
    value = fields.Float(allow_none=True)
    target = fields.Float(allow_none=True)
    direction = fields.Str(allow_none=True)
    alarm = fields.Bool()
    case_ids = fields.List(fields.Int())


class CentreLineSchema(Schema):
    service_line = fields.Str()
    label = fields.Str()
    indicators = fields.Dict(keys=fields.Str(), values=fields.Nested(CentreIndicatorSchema))


class CentreIndicatorsSchema(Schema):
    from_ = fields.Str(data_key="from")
    to = fields.Str()
    quality = fields.List(fields.Str())
    economy = fields.List(fields.Str())
    total = fields.Dict(keys=fields.Str(), values=fields.Nested(CentreIndicatorSchema))
    lines = fields.List(fields.Nested(CentreLineSchema))


class InterventionCancelSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500),
                        metadata={"description": "取消手术的原因"})


class CentreMonthlyReportSchema(Schema):
    id = fields.Int(required=True)
    period = fields.Str(required=True)
    centre_name = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"description": "delivered | failed"})
    status_label = fields.Str(required=True)
    error = fields.Str(allow_none=True)
    attempts = fields.Int(required=True)
    recipients = fields.Int(required=True, metadata={"description": "how many people it was delivered to"})
    delivered_at = fields.Str(allow_none=True)
    has_files = fields.Bool(required=True)


class CentreMonthlyReportListSchema(Schema):
    items = fields.List(fields.Nested(CentreMonthlyReportSchema), required=True)

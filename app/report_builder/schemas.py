"""Marshmallow schemas of /api/v1/report-builder. The definition is checked by `definition.parse` (422 with a
stable code and the JSON path), so the body schema only fixes its outer shape."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.vocabulary import Role

from .services import FORMATS


class ReportRunSchema(Schema):
    definition = fields.Dict(required=True, metadata={"description": "报表定义 (docs/quality.md 自定义报表)"})


class ReportExportArgsSchema(Schema):
    format = fields.Str(load_default="xlsx", validate=validate.OneOf(FORMATS))


class ReportExportBodySchema(ReportRunSchema):
    name = fields.Str(load_default="自定义报表", validate=validate.Length(min=1, max=120))


class SavedReportBodySchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    definition = fields.Dict(required=True)
    shared_role = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(Role.codes()))
    schedule_day = fields.Int(load_default=None, allow_none=True, validate=validate.Range(min=1, max=28))
    schedule_format = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(FORMATS))


class SavedReportSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    definition = fields.Dict()
    mine = fields.Bool()
    shared_role = fields.Str(allow_none=True)
    shared_role_label = fields.Str(allow_none=True)
    schedule_day = fields.Int(allow_none=True)
    schedule_format = fields.Str(allow_none=True)
    updated_at = fields.DateTime()


class SavedReportListSchema(Schema):
    items = fields.List(fields.Nested(SavedReportSchema))


class ReportDeliverySchema(Schema):
    id = fields.Int()
    period = fields.Str()
    format = fields.Str()
    filename = fields.Str()
    created_at = fields.DateTime()
    download = fields.Str()


class ReportDeliveryListSchema(Schema):
    items = fields.List(fields.Nested(ReportDeliverySchema))


class _Choice(Schema):
    code = fields.Str()
    label = fields.Str()


class _MeasureChoice(Schema):
    kind = fields.Str()
    code = fields.Str()
    name = fields.Str()
    unit = fields.Str()
    group = fields.Str()
    dimensions = fields.List(fields.Str())


class _OrgChoice(Schema):
    code = fields.Str()
    name = fields.Str()
    level = fields.Str()
    depth = fields.Int(metadata={"description": "0: the caller's own organisation (county-wide: the county)"})


class ReportOptionsSchema(Schema):
    measures = fields.List(fields.Nested(_MeasureChoice))
    orgs = fields.List(fields.Nested(_OrgChoice), metadata={"description": "the organisations the caller may report on"})
    dimensions = fields.List(fields.Nested(_Choice))
    granularities = fields.List(fields.Nested(_Choice))
    comparisons = fields.List(fields.Nested(_Choice))
    roles = fields.List(fields.Nested(_Choice))


class _Comparison(Schema):
    base = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True)
    change_pct = fields.Float(allow_none=True)


class _Cell(Schema):
    coords = fields.Dict(keys=fields.Str(), values=fields.Raw(allow_none=True),
                         metadata={"description": "the cell's period and group values, for POST /drilldown"})
    value = fields.Float(allow_none=True)
    numerator = fields.Int(allow_none=True)
    denominator = fields.Float(allow_none=True)
    status = fields.Str()
    mom = fields.Nested(_Comparison)
    yoy = fields.Nested(_Comparison)


class _Row(Schema):
    key = fields.Str()
    label = fields.Str()
    labels = fields.List(fields.Str(), metadata={"description": "one label per row dimension"})
    cells = fields.List(fields.Nested(_Cell))


class _Column(Schema):
    key = fields.Str()
    value_key = fields.Str(allow_none=True)
    value_label = fields.Str(allow_none=True)
    measure = fields.Str()
    measure_name = fields.Str()
    unit = fields.Str()
    label = fields.Str()


class _Filter(Schema):
    dimension = fields.Str()
    label = fields.Str()
    values = fields.List(fields.Raw())
    value_labels = fields.List(fields.Str())


class _Org(Schema):
    code = fields.Str()
    name = fields.Str()
    level = fields.Str()


class _Measure(Schema):
    key = fields.Str()
    name = fields.Str()
    unit = fields.Str()


class ReportResultSchema(Schema):
    org = fields.Nested(_Org)
    definition = fields.Dict()
    period_label = fields.Str()
    row_dimension = fields.Nested(_Choice)
    row_dimensions = fields.List(fields.Nested(_Choice))
    column_dimension = fields.Nested(_Choice, allow_none=True)
    measures = fields.List(fields.Nested(_Measure))
    comparisons = fields.List(fields.Nested(_Choice))
    filters = fields.List(fields.Nested(_Filter))
    columns = fields.List(fields.Nested(_Column))
    rows = fields.List(fields.Nested(_Row))


class ReportDrilldownBodySchema(ReportRunSchema):
    measure = fields.Str(required=True, metadata={"description": "the cell's measure key (indicator:… or raw:…)"})
    coords = fields.Dict(load_default=dict, metadata={"description": "the cell's `coords` from POST /run"})
    part = fields.Str(load_default="numerator", validate=validate.OneOf(("numerator", "denominator", "gap")))
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


class ReportJobBodySchema(ReportRunSchema):
    name = fields.Str(load_default="自定义报表", validate=validate.Length(min=1, max=120))

"""Marshmallow schemas of the screening API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.fields import Text
from app.core.paging import PageArgsSchema, per_page
from app.vocabulary import CaseKind, Disease
from app.vocabulary.fields import Code


class RunCreateSchema(Schema):
    resume = fields.Boolean(load_default=False, metadata={"description": "continue the last unfinished run"})
    chunk_size = fields.Integer(load_default=5000, validate=validate.Range(min=1, max=100_000))


class RunSchema(Schema):
    id = fields.Integer()
    status = Text()
    as_of = Text()
    cursor = fields.Integer()
    total = fields.Integer()
    processed = fields.Integer()
    percent = fields.Float()
    cases_created = fields.Integer()
    chunk_size = fields.Integer()
    started_by = Text()
    started_at = Text()
    updated_at = Text()
    finished_at = Text(allow_none=True)
    residents_per_second = fields.Float(allow_none=True)
    decision_versions = fields.Dict()
    counts = fields.Dict()
    error = Text(allow_none=True)
    total_chunks = fields.Integer(metadata={"description": "chunks of resident ids (one job each); 0 = cursor run"})
    done_chunks = fields.Integer()
    failed_chunks = fields.Integer()


class RunListSchema(Schema):
    items = fields.List(fields.Nested(RunSchema))
    total = fields.Integer()


class CaseQueryArgsSchema(PageArgsSchema):
    per_page = per_page(default=50, maximum=500)
    disease = Code(Disease)
    status = Text()
    kind = Code(CaseKind)
    referral_flag = fields.Boolean()
    org_code = Text()


class HighRiskQueryArgsSchema(PageArgsSchema):
    per_page = per_page(default=50, maximum=500)
    disease = Code(Disease)
    org_code = Text()


class CaseSchema(Schema):
    id = fields.Integer()
    resident_id = fields.Integer()
    resident_name = Text(allow_none=True)
    org_code = Text()
    township_code = Text(allow_none=True)
    disease = Text()
    disease_name = Text()
    kind = Text()
    track = Text()
    status = Text()
    open = fields.Boolean()
    evidence = fields.Dict()
    decision_id = Text()
    reason = Text()
    versions = fields.Dict()
    referral_flag = fields.Boolean()
    source = Text()
    run_id = fields.Integer(allow_none=True)
    instance_id = fields.Integer(allow_none=True)
    flagged_at = Text()
    reject_reason = Text(allow_none=True)
    closed_at = Text(allow_none=True)


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    total = fields.Integer()


class StatsQueryArgsSchema(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    group_by = Text(load_default="township", validate=validate.OneOf(("township", "village")))


class StatsSchema(Schema):
    group_by = Text()
    date_from = Text(allow_none=True)
    date_to = Text(allow_none=True)
    items = fields.List(fields.Dict(), metadata={"description": "per organization and disease: flagged, verified, "
                                                "rejected, enrolled, open, referral_flagged"})
    totals = fields.Dict()
    high_risk = fields.Dict(metadata={"description": "open prevention-list entries per disease"})
    referral_flags = fields.Dict(metadata={"description": "two-way-referral patients: residents, by_source, "
                                           "with_open_case"})

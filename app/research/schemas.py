"""Marshmallow schemas of /api/v1/research. Criteria and variables are checked by `criteria` (422 with the JSON path
of the bad value), so the body schema only fixes their outer shape."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .services import FORMATS


class ResearchProjectBodySchema(Schema):
    title = fields.Str(required=True, validate=validate.Length(min=2, max=200))
    purpose = fields.Str(load_default="", validate=validate.Length(max=4000))
    criteria = fields.Dict(load_default=dict, metadata={"description": "筛选条件 (docs/processes/research.md)"})
    variables = fields.List(fields.Str(validate=validate.Length(max=60)), required=True,
                            validate=validate.Length(max=50))
    date_mode = fields.Str(load_default="shift", validate=validate.OneOf(("shift", "month")))
    k = fields.Int(load_default=None, allow_none=True, validate=validate.Range(min=1, max=1000))
    l = fields.Int(load_default=None, allow_none=True, validate=validate.Range(min=1, max=1000),
                   metadata={"description": "distinct l-diversity of the sensitive attributes (1: not enforced)"})


class ResearchPreviewBodySchema(Schema):
    criteria = fields.Dict(load_default=dict)


class ResearchPreviewSchema(Schema):
    cohort_size = fields.Int(allow_none=True)
    below_minimum = fields.Bool()
    minimum = fields.Int()


class ResearchDownloadBodySchema(Schema):
    format = fields.Str(load_default="csv", validate=validate.OneOf(tuple(FORMATS)))


class ResearchRefreshBodySchema(Schema):
    format = fields.Str(load_default="csv", validate=validate.OneOf(tuple(FORMATS)))
    until = fields.Date(load_default=None, allow_none=True,
                        metadata={"description": "data up to this day (default today, never later)"})


class _Option(Schema):
    value = fields.Str()
    label = fields.Str()
    unit = fields.Str()


class _Variable(Schema):
    id = fields.Str()
    label = fields.Str()
    group = fields.Str()
    free_text = fields.Bool()


class ResearchOptionsSchema(Schema):
    variables = fields.List(fields.Nested(_Variable))
    observation_stats = fields.List(fields.Nested(_Option))
    observations = fields.List(fields.Nested(_Option))
    diseases = fields.List(fields.Nested(_Option))
    risk_levels = fields.List(fields.Nested(_Option))
    sexes = fields.List(fields.Nested(_Option))
    date_modes = fields.List(fields.Nested(_Option))
    direct_identifiers = fields.List(fields.Nested(_Option))
    default_k = fields.Int()
    min_k = fields.Int()
    max_k = fields.Int()
    default_l = fields.Int()
    max_l = fields.Int()
    sensitive = fields.List(fields.Nested(_Option))
    download_limit = fields.Int()
    expiry_days = fields.Int()


class _BelowL(Schema):
    label = fields.Str()
    size = fields.Int()
    attribute = fields.Str()
    attribute_label = fields.Str()
    distinct = fields.Int()


class _Extract(Schema):
    l_before = fields.Int(allow_none=True)
    l_diversity = fields.Int(allow_none=True)
    l_required = fields.Int()
    l_label = fields.Str()
    meets_l = fields.Bool()
    sensitive_attributes = fields.List(fields.Str())
    sensitive_label = fields.Str()
    below_l = fields.List(fields.Nested(_BelowL))
    suppressed_rows_l = fields.Int()
    cohort_size = fields.Int()
    row_count = fields.Int()
    k_before = fields.Int(allow_none=True)
    k_anonymity = fields.Int(allow_none=True)
    k_required = fields.Int()
    k_label = fields.Str()
    meets_k = fields.Bool()
    quasi_identifiers = fields.List(fields.Str())
    qi_label = fields.Str()
    suppressed_rows = fields.Int()
    suppressed_cells = fields.Int()
    columns = fields.List(fields.Str())
    built_at = fields.Str()
    data_until = fields.Str(allow_none=True)
    refreshes = fields.Int()


class _Download(Schema):
    username = fields.Str()
    format = fields.Str()
    at = fields.DateTime()
    refresh = fields.Bool()
    data_until = fields.Date(allow_none=True)


class _Vote(Schema):
    round = fields.Int()
    voter_name = fields.Str()
    vote = fields.Str()
    vote_label = fields.Str()
    opinion = fields.Str(allow_none=True)
    at = fields.DateTime()


class _Member(Schema):
    name = fields.Str()
    chair = fields.Bool()
    vote = fields.Str(allow_none=True)
    vote_label = fields.Str()


class _Result(Schema):
    decision = fields.Str(allow_none=True)
    decision_label = fields.Str()
    rule = fields.Str(allow_none=True)
    by = fields.Str(allow_none=True)
    by_label = fields.Str()
    round = fields.Int(allow_none=True)
    tally_label = fields.Str()


class _Person(Schema):
    user_id = fields.Int()
    username = fields.Str()
    name = fields.Str()


class ResearchCommitteeSchema(Schema):
    county_code = fields.Str()
    source = fields.Str(metadata={"description": "named: the county named its members; role: everyone holding role"})
    role = fields.Str()
    role_label = fields.Str()
    members = fields.List(fields.Nested(_Person))
    chair = fields.Nested(_Person, allow_none=True)
    vote_days = fields.Int()
    reminder_days = fields.Int()
    can_edit = fields.Bool()


class ResearchCommitteeBodySchema(Schema):
    members = fields.List(fields.Str(validate=validate.Length(max=80)), required=True,
                          validate=validate.Length(max=30))
    chair = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=80))


class ResearchProjectSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    purpose = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    requester_name = fields.Str()
    mine = fields.Bool()
    cohort_size = fields.Int(allow_none=True)
    k = fields.Int()
    l = fields.Int()
    date_mode = fields.Str()
    date_mode_label = fields.Str()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    editable = fields.Bool()
    criteria_label = fields.Str()
    criteria = fields.Dict()
    variables = fields.List(fields.Str())
    variable_labels = fields.List(fields.Str())
    free_text_requested = fields.Bool()
    free_text_approved = fields.Bool()
    review_comment = fields.Str(allow_none=True)
    reviewed_by = fields.Str(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    released_by = fields.Str(allow_none=True)
    released_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    download_limit = fields.Int()
    downloads_left = fields.Int()
    downloads = fields.List(fields.Nested(_Download))
    extract = fields.Nested(_Extract, allow_none=True)
    review_round = fields.Int()
    committee = fields.List(fields.Nested(_Member))
    votes = fields.List(fields.Nested(_Vote))
    committee_result = fields.Nested(_Result, allow_none=True)
    can_download = fields.Bool()


class ResearchProjectListSchema(Schema):
    items = fields.List(fields.Nested(ResearchProjectSchema))
    can_create = fields.Bool()
    can_review = fields.Bool()

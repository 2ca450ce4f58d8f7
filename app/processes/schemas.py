"""Marshmallow schemas of the process-definition and process-instance API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.core.paging import PageArgsSchema
from app.tasks.schemas import TaskSchema

STATUSES = ("running", "waiting", "completed", "error", "suspended", "terminated")


class VersionSchema(Schema):
    version = fields.Int()
    name = fields.Str()
    file_name = fields.Str()
    content_hash = fields.Str()
    deployed_at = fields.DateTime()
    deployed_by = fields.Str()


class DefinitionSchema(Schema):
    process_id = fields.Str()
    name = fields.Str()
    latest_version = fields.Int()
    versions = fields.List(fields.Nested(VersionSchema))
    start_messages = fields.List(fields.Str())
    start = fields.Dict(metadata={"description": "who may start it: {roles: [role codes], resident: "
                                                  "required|optional|none}"})
    user_tasks = fields.List(fields.Dict())
    decisions = fields.List(fields.Str())


class DefinitionListSchema(Schema):
    items = fields.List(fields.Nested(DefinitionSchema))
    total = fields.Int()


class DeployResultSchema(Schema):
    deployment_id = fields.Int()
    deployed = fields.List(fields.Dict())
    decisions = fields.List(fields.Dict())
    warnings = fields.List(fields.Str(), metadata={"description": "things the deployer should know (not errors)"})
    overrides = fields.List(fields.Dict(), metadata={
        "description": "ANY/FIRST tables deployed despite findings: decision_id, hit_policy, findings, reason, by"})


class ElementStatsSchema(Schema):
    process_id = fields.Str()
    elements = fields.Dict(keys=fields.Str(), values=fields.Int())
    errors = fields.Dict(keys=fields.Str(), values=fields.Int())


class InstanceStartSchema(Schema):
    process_id = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    data = fields.Dict(load_default=dict)
    business_key = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=120))
    resident_id = fields.Int(load_default=None, allow_none=True)
    org_code = fields.Str(load_default=None, allow_none=True)
    version = fields.Int(load_default=None, allow_none=True)


class InstanceQueryArgsSchema(PageArgsSchema):
    process_id = fields.Str()
    status = fields.Str(validate=validate.OneOf(STATUSES))
    org_code = fields.Str()
    resident_id = fields.Int()
    business_key = fields.Str()
    started_from = fields.DateTime()
    started_to = fields.DateTime()


class EventSchema(Schema):
    id = fields.Int()
    at = fields.DateTime()
    type = fields.Str()
    element_id = fields.Str(allow_none=True)
    actor = fields.Str()
    data = fields.Dict()


class InstanceSchema(Schema):
    id = fields.Int()
    process_id = fields.Str()
    version = fields.Int()
    status = fields.Str()
    business_key = fields.Str(allow_none=True)
    resident_id = fields.Int(allow_none=True)
    resident_name = fields.Str(allow_none=True)
    org_code = fields.Str(allow_none=True)
    started_by = fields.Str()
    started_at = fields.DateTime()
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    error = fields.Dict(allow_none=True)
    next_timer_at = fields.DateTime(allow_none=True)


class CalledSchema(Schema):
    element_id = fields.Str()
    process_id = fields.Str()
    version = fields.Int(allow_none=True)
    process_name = fields.Str(allow_none=True, metadata={"description": "the BPMN name of the callee version that ran"})


class InstanceDetailSchema(InstanceSchema):
    open_tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "the inbox's task objects"})
    history = fields.List(fields.Nested(EventSchema))
    diagram = fields.Dict()
    decision_versions = fields.Dict()
    result = fields.Dict(allow_none=True)
    timers = fields.List(fields.Dict())
    waiting_messages = fields.List(fields.Dict())
    called = fields.List(fields.Nested(CalledSchema), metadata={
        "description": "called processes this instance started, with the version that ran"})


class InstanceListSchema(Schema):
    items = fields.List(fields.Nested(InstanceSchema))
    total = fields.Int()


class InstanceStatsSchema(Schema):
    by_status = fields.Dict(keys=fields.Str(), values=fields.Int())
    by_process = fields.Dict(keys=fields.Str(), values=fields.Dict())


class TerminateSchema(Schema):
    reason = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=500))


class RetrySchema(Schema):
    data = fields.Dict(load_default=None, allow_none=True)


class ClockSchema(Schema):
    now = fields.DateTime()
    enabled = fields.Bool()
    pending_timers = fields.Int(metadata={"description": "timers waiting on running instances"})
    next_timer_at = fields.DateTime(allow_none=True, metadata={"description": "when the earliest of them is due"})
    advanced_by_seconds = fields.Int()
    instances_with_due_timers = fields.Int()


class ClockAdvanceSchema(Schema):
    days = fields.Float(load_default=0, validate=validate.Range(min=0, max=400))
    hours = fields.Float(load_default=0, validate=validate.Range(min=0, max=24 * 400))
    minutes = fields.Float(load_default=0, validate=validate.Range(min=0, max=60 * 24 * 400))
    until = fields.AwareDateTime(load_default=None, metadata={
        "description": "move the clock to this instant instead (with an offset; at most 400 days ahead)"})
    until_date = fields.Date(load_default=None, metadata={
        "description": "move the clock to 23:59 (the county's time) of this day, so what is due that day fires"})


class BatchFailureSchema(Schema):
    ref = fields.Str()
    business_key = fields.Str()
    error = fields.Str(allow_none=True)
    instance_id = fields.Int(allow_none=True, metadata={"description": "set when the instance started but stopped "
                                                                      "at an incident (retry it)"})


class BatchSchema(Schema):
    """A batch start (app.workflows.batch): how many of its instances started, were already there, failed."""
    id = fields.Int()
    kind = fields.Str()
    process_id = fields.Str()
    label = fields.Str(allow_none=True)
    status = fields.Str(metadata={"description": "running | done | done_with_failures"})
    total = fields.Int()
    started = fields.Int()
    skipped = fields.Int(metadata={"description": "already started (re-run of a chunk, or a single start)"})
    failed = fields.Int()
    pending = fields.Int()
    percent = fields.Int()
    chunk_size = fields.Int()
    created_by = fields.Str()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    failures = fields.List(fields.Nested(BatchFailureSchema))
    process_name = fields.Str(metadata={"description": "the process's display name (newest deployed version)"})
    source_name = fields.Str(metadata={"description": "where the batch came from, in words (随访周期 …)"})
    resumable = fields.Bool(metadata={"description": "items are still pending: 继续 (resume) has something to start"})


class BatchFailedItemSchema(Schema):
    seq = fields.Int()
    resident_id = fields.Int(allow_none=True, metadata={"description": "null: no resident, or outside the scope"})
    resident_name = fields.Str(allow_none=True)
    in_scope = fields.Bool(metadata={"description": "false: the item is about a resident outside the caller's "
                                                    "scope (counted, not named)"})
    reason = fields.Str(metadata={"description": "the reason in words"})
    detail = fields.Str(allow_none=True, metadata={"description": "the recorded technical reason"})
    instance_id = fields.Int(allow_none=True, metadata={"description": "started, but in error: the instance"})


class BatchFailuresSchema(Schema):
    """A batch start's failed items (first 200, in item order), by the residents' names."""
    batch_id = fields.Int()
    failed = fields.Int()
    items = fields.List(fields.Nested(BatchFailedItemSchema))
    more = fields.Int(metadata={"description": "failed items beyond the list"})


class BatchListSchema(Schema):
    items = fields.List(fields.Nested(BatchSchema))


class BatchQueryArgsSchema(Schema):
    kind = fields.Str(load_default=None)

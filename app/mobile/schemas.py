"""Marshmallow schemas of the mobile API (`/api/mobile/v1`); docs/mobile.md describes each shape."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

CLIENT_ID = validate.Regexp(r"^[A-Za-z0-9_.:-]{8,80}$", error="应为 8-80 位字母、数字或 - _ . : (a client UUID)")
LOINC = validate.Regexp(r"^[0-9]{1,7}-[0-9]$", error="应为 LOINC 代码，如 8480-6")


class PullArgsSchema(Schema):
    token = fields.Str(validate=validate.Length(max=80), metadata={"description": "the token of the last packet"})
    limit = fields.Int(load_default=500, validate=validate.Range(min=1, max=500),
                       metadata={"description": "tasks per page (with their residents and forms); default 500"})


class PacketTaskSchema(Schema):
    id = fields.Int()
    etag = fields.Str()
    name = fields.Str()
    process_id = fields.Str()
    process_name = fields.Str(allow_none=True)
    element_id = fields.Str()
    resident_id = fields.Int()
    due_at = fields.Str(allow_none=True)
    priority = fields.Int()
    overdue = fields.Bool()
    disease = fields.Str(allow_none=True)
    risk_level = fields.Str(allow_none=True)
    instructions = fields.Str(allow_none=True)
    assigned_to_me = fields.Bool()
    lease_until = fields.Str(allow_none=True)
    schema_ref = fields.Str(allow_none=True)
    form_version = fields.Str()
    data = fields.Dict()


class ReadingSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    value = fields.Raw()
    unit = fields.Str(allow_none=True)
    effective_at = fields.Str()
    source = fields.Str()


class PacketResidentSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    sex = fields.Str()
    age = fields.Int()
    birth_date = fields.Str()
    id_number = fields.Str(metadata={"description": "masked"})
    phone = fields.Str(allow_none=True, metadata={"description": "masked"})
    address = fields.Str(allow_none=True)
    org_code = fields.Str()
    org_name = fields.Str(allow_none=True)
    family_doctor_user_id = fields.Int(allow_none=True)
    conditions = fields.List(fields.Dict())
    medications = fields.List(fields.Dict())
    latest = fields.List(fields.Nested(ReadingSchema))


class PacketFormSchema(Schema):
    ref = fields.Str()
    form_key = fields.Str(allow_none=True)
    version = fields.Str()
    title = fields.Str(allow_none=True)
    schema = fields.Dict()
    ui_schema = fields.Dict()


class RemovalSchema(Schema):
    id = fields.Int()
    reason = fields.Str(metadata={"description": "task_completed | task_completed_elsewhere | task_cancelled | "
                                                 "task_reassigned | resident_out_of_scope | no_open_task"})


class RemovedSchema(Schema):
    tasks = fields.List(fields.Nested(RemovalSchema))
    residents = fields.List(fields.Nested(RemovalSchema))
    schemas = fields.List(fields.Str())


class LeaseSchema(Schema):
    task_id = fields.Int()
    until = fields.Str()


class PacketSchema(Schema):
    token = fields.Str()
    reset = fields.Bool()
    server_time = fields.Str()
    lease_hours = fields.Float()
    has_more = fields.Bool(metadata={"description": "pull again with this token for the next page"})
    tasks = fields.List(fields.Nested(PacketTaskSchema))
    residents = fields.List(fields.Nested(PacketResidentSchema))
    schemas = fields.List(fields.Nested(PacketFormSchema))
    leases = fields.List(fields.Nested(LeaseSchema))
    removed = fields.Nested(RemovedSchema)


class ObservationInSchema(Schema):
    id = fields.Str(required=True, validate=CLIENT_ID)
    resident_id = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1))
    code = fields.Str(required=True, validate=LOINC)
    value = fields.Raw(required=True)
    unit = fields.Str(allow_none=True, validate=validate.Length(max=30))
    effective_at = fields.AwareDateTime(required=True)
    task_id = fields.Int(strict=True, allow_none=True, validate=validate.Range(min=1, max=2**63 - 1))
    device_serial = fields.Str(allow_none=True, validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{1,40}$"))


class ObservationsInSchema(Schema):
    observations = fields.List(fields.Nested(ObservationInSchema), required=True,
                               validate=validate.Length(min=1, max=500))


class ItemErrorSchema(Schema):
    code = fields.Str()
    message = fields.Str()
    details = fields.Dict()


class ObservationResultSchema(Schema):
    id = fields.Str()
    status = fields.Str(metadata={"description": "created | duplicate | invalid"})
    observation_id = fields.Int()
    error = fields.Nested(ItemErrorSchema)


class ObservationResultsSchema(Schema):
    results = fields.List(fields.Nested(ObservationResultSchema))


class CompletionInSchema(Schema):
    completion_id = fields.Str(required=True, validate=CLIENT_ID)
    task_id = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1))
    etag = fields.Str(validate=validate.Length(max=80))
    form_version = fields.Str(validate=validate.Length(max=40))
    data = fields.Dict(required=True)
    observations = fields.List(fields.Nested(ObservationInSchema), validate=validate.Length(max=100))
    completed_at_device = fields.AwareDateTime()


class CompletionSchema(Schema):
    completion_id = fields.Str()
    status = fields.Str()
    task = fields.Dict()
    next_tasks = fields.List(fields.Dict())
    observations = fields.List(fields.Nested(ObservationResultSchema))


class DeviceUserSchema(Schema):
    id = fields.Int()
    display_name = fields.Str(allow_none=True)


class DeviceSchema(Schema):
    id = fields.Int()
    device_id = fields.Str()
    label = fields.Str(allow_none=True)
    user = fields.Nested(DeviceUserSchema)
    registered_at = fields.DateTime()
    last_sync_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    revoked_by = fields.Str(allow_none=True)
    revoke_reason = fields.Str(allow_none=True)
    leases = fields.Int()


class DeviceListSchema(Schema):
    items = fields.List(fields.Nested(DeviceSchema))
    total = fields.Int()


class RevokeSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=200))


class ResolveInSchema(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(["attach_as_note", "record_visit", "discard"]),
                        metadata={"description": "attach_as_note | record_visit | discard"})


class ResolutionNoteSchema(Schema):
    task_id = fields.Int()
    task_name = fields.Str(allow_none=True)
    holder = fields.Str(allow_none=True, metadata={"description": "display name of who holds the task (null: "
                                                                  "offered to a group)"})


class ResolutionEncounterSchema(Schema):
    id = fields.Int()
    started_at = fields.Str()


class ResolutionSchema(Schema):
    completion_id = fields.Str()
    action = fields.Str()
    message = fields.Str(metadata={"description": "what was done, in Chinese"})
    note = fields.Nested(ResolutionNoteSchema, allow_none=True)
    encounter = fields.Nested(ResolutionEncounterSchema, allow_none=True)

"""Marshmallow schemas of the inbox API (`/api/v1/tasks…`)."""
from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.core.paging import PageArgsSchema

from .queries import SORTS, VIEWS

STATUSES = ("open", "completed", "cancelled")


class When(fields.DateTime):
    """A date-time that may already be an ISO string (stored completion receipts are JSON)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):
            return value
        return super()._serialize(value, attr, obj, **kwargs)


class TaskQueryArgsSchema(PageArgsSchema):
    view = fields.Str(load_default="mine", validate=validate.OneOf(VIEWS))
    process_id = fields.Str()
    element_id = fields.Str()
    resident_id = fields.Int()
    org_code = fields.Str()
    village_code = fields.Str()
    disease = fields.Str()
    risk_level = fields.Str()
    due_before = fields.AwareDateTime(default_timezone=UTC)
    overdue = fields.Bool()
    priority = fields.Int(validate=validate.Range(min=1, max=5))
    status = fields.Str(load_default="open", validate=validate.OneOf(STATUSES))
    q = fields.Str(validate=validate.Length(max=120))
    sort = fields.Str(load_default="due", validate=validate.OneOf(SORTS))
    cursor = fields.Str(validate=validate.Length(max=400), metadata={
        "description": "the previous page's `next_cursor` (keyset paging: the page starts after that row; `page` "
                       "is then ignored). Same view, filters and sort as the previous page."})


class UserRefSchema(Schema):
    id = fields.Int()
    username = fields.Str(allow_none=True)
    display_name = fields.Str(allow_none=True)


class ResidentRefSchema(Schema):
    id = fields.Int(allow_none=True)
    name = fields.Str(allow_none=True)
    village_code = fields.Str(allow_none=True)


class TaskSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    process_id = fields.Str()
    process_name = fields.Str(allow_none=True, metadata={"description": "the deployed process's Chinese name"})
    instance_id = fields.Int()
    element_id = fields.Str()
    status = fields.Str()
    lane = fields.Str(allow_none=True)
    role = fields.Str(allow_none=True)
    org_code = fields.Str(allow_none=True)
    org_name = fields.Str(allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    due_at = When(allow_none=True)
    priority = fields.Int()
    overdue = fields.Bool()
    resident = fields.Nested(ResidentRefSchema, allow_none=True)
    disease = fields.Str(allow_none=True)
    risk_level = fields.Str(allow_none=True)
    created_at = When()
    completed_at = When(allow_none=True)
    completed_by = fields.Str(allow_none=True)
    etag = fields.Str()


class TaskListSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema))
    total = fields.Int()
    next_cursor = fields.Str(allow_none=True, metadata={
        "description": "pass as `cursor` for the next page; null on the last page"})


class TaskCountsSchema(Schema):
    mine = fields.Int(metadata={"description": 'open tasks assigned to the caller (1000 = more than 999, shown as "999+")'})
    groups = fields.Int(metadata={"description": 'unassigned open tasks offered to the caller (1000 = more than 999, shown as "999+")'})
    org = fields.Int(metadata={"description": 'open tasks in the caller\'s organization subtree (1000 = more than 999, shown as "999+")'})
    overdue = fields.Int(metadata={"description": 'overdue tasks among mine and groups (1000 = more than 999, shown as "999+")'})


class FormSchema(Schema):
    schema = fields.Dict()
    ui_schema = fields.Dict()
    data = fields.Dict()


class DelegatedFromSchema(UserRefSchema):
    delegated_at = When()


class TaskLinkSchema(Schema):
    label = fields.Str(required=True)
    href = fields.Str(required=True, metadata={"description": "a path inside the platform"})


class TaskDetailSchema(TaskSchema):
    instructions = fields.Str(allow_none=True)
    links = fields.List(fields.Nested(TaskLinkSchema))
    form = fields.Nested(FormSchema, allow_none=True)
    draft = fields.Dict(allow_none=True)
    resident_summary = fields.Dict(allow_none=True)
    candidates = fields.List(fields.Nested(UserRefSchema))
    delegated_from = fields.Nested(DelegatedFromSchema, allow_none=True)
    can = fields.Dict(keys=fields.Str(), values=fields.Bool())


class CompletedTaskSchema(TaskSchema):
    next_tasks = fields.List(fields.Nested(TaskSchema))


class CompleteSchema(Schema):
    data = fields.Dict(load_default=dict)
    completion_id = fields.UUID(load_default=None, allow_none=True)


class DraftSchema(Schema):
    data = fields.Dict(required=True)


class DraftSavedSchema(Schema):
    task_id = fields.Int()
    data = fields.Dict(allow_none=True)
    saved_at = When(allow_none=True)


class UserTargetSchema(Schema):
    """Name the user by id or by username (one of them)."""

    user_id = fields.Int(load_default=None, allow_none=True)
    username = fields.Str(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))

    @validates_schema
    def _one(self, data, **_kw):
        if data.get("user_id") is None and not data.get("username"):
            raise ValidationError("请指定用户 (user_id or username)", field_name="user_id")


class DelegateSchema(UserTargetSchema):
    to_username = fields.Str(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))
    note = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @validates_schema
    def _one(self, data, **_kw):
        if data.get("user_id") is None and not data.get("username") and not data.get("to_username"):
            raise ValidationError("请指定用户 (user_id, username or to_username)", field_name="user_id")


class CommentCreateSchema(Schema):
    body = fields.Str(required=True, validate=validate.Length(min=1, max=4000))


class CommentSchema(Schema):
    id = fields.Int()
    task_id = fields.Int()
    author = fields.Str()
    author_name = fields.Str()
    body = fields.Str()
    created_at = fields.DateTime()


class CommentListSchema(Schema):
    items = fields.List(fields.Nested(CommentSchema))
    total = fields.Int()


class SavedFilterCreateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    view = fields.Str(load_default="mine", validate=validate.OneOf(VIEWS))
    params = fields.Dict(load_default=dict)
    shared_with_org = fields.Bool(load_default=False)

    @validates_schema
    def _params(self, data, **_kw):
        allowed = set(TaskQueryArgsSchema().fields) - {"view", "page", "cursor"}
        unknown = set(data.get("params") or {}) - allowed
        if unknown:
            raise ValidationError(f"不支持的筛选项：{', '.join(sorted(unknown))}", field_name="params")
        errors = TaskQueryArgsSchema().validate(data.get("params") or {})
        if errors:
            raise ValidationError(errors, field_name="params")


class SavedFilterSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    view = fields.Str()
    params = fields.Dict()
    shared_with_org = fields.Bool()
    owner = fields.Str()
    org_code = fields.Str()
    created_at = fields.DateTime()


class SavedFilterListSchema(Schema):
    items = fields.List(fields.Nested(SavedFilterSchema))
    total = fields.Int()

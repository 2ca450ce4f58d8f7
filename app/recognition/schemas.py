"""Marshmallow schemas of /api/v1/recognition (network record, order checks, answers, item catalogue)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .models import ITEM_CLASSES
from .rules import REPEAT_REASONS
from .services import ACTIONS


class RecognitionMarkSchema(Schema):
    recognised = fields.Bool(required=True)
    code = fields.Str(required=True, metadata={"description": "recognised | not_listed | outside_network | "
                                                              "not_accredited | expired | not_yet"})
    label = fields.Str(required=True)
    basis = fields.Str(required=True)
    valid_until = fields.Str(allow_none=True, metadata={"format": "date"})


class NetworkItemSchema(Schema):
    key = fields.Str(required=True)
    kind = fields.Str(required=True, metadata={"description": "lab | imaging | ecg | document"})
    kind_label = fields.Str(required=True)
    title = fields.Str(required=True)
    item_code = fields.Str(allow_none=True)
    value = fields.Str(allow_none=True)
    abnormal_flag = fields.Str(allow_none=True)
    at = fields.Str(allow_none=True)
    org_code = fields.Str(allow_none=True)
    org_name = fields.Str(required=True)
    viewer_url = fields.Str(allow_none=True)
    report_text = fields.Str(allow_none=True)
    recognition = fields.Nested(RecognitionMarkSchema, allow_none=True)


class AccessSchema(Schema):
    kind = fields.Str(required=True, metadata={"description": "scope | referral | consult"})
    ref = fields.Int(allow_none=True)
    label = fields.Str(required=True)


class MatchedResultSchema(Schema):
    key = fields.Str(required=True)
    title = fields.Str(required=True)
    value = fields.Str(allow_none=True)
    at = fields.Str(required=True)
    org_code = fields.Str(allow_none=True)
    org_name = fields.Str(required=True)
    viewer_url = fields.Str(allow_none=True)
    valid_until = fields.Str(allow_none=True, metadata={"format": "date"})


class ReasonOptionSchema(Schema):
    code = fields.Str(required=True)
    label = fields.Str(required=True)
    note_required = fields.Bool(required=True)


class RecognitionOrderSchema(Schema):
    id = fields.Int(required=True)
    order_no = fields.Str(required=True)
    channel = fields.Str(required=True, metadata={"description": "his | platform"})
    resident_id = fields.Int(required=True)
    org_code = fields.Str(required=True)
    orderer = fields.Str(required=True)
    item_class = fields.Str(required=True)
    item_code = fields.Str(required=True)
    item_name = fields.Str(required=True)
    ordered_at = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"description": "clear | awaiting_reason | kept | withdrawn"})
    status_label = fields.Str(required=True)
    matched = fields.List(fields.Nested(MatchedResultSchema), required=True)
    reason_code = fields.Str(allow_none=True)
    reason_label = fields.Str(allow_none=True)
    reason_note = fields.Str(allow_none=True)
    answered_by = fields.Str(allow_none=True)
    answered_at = fields.Str(allow_none=True)


class OrderAnswerSchema(RecognitionOrderSchema):
    reason_required = fields.Bool(required=True)
    reasons = fields.List(fields.Nested(ReasonOptionSchema), required=True)


class NetworkRecordSchema(Schema):
    resident_name = fields.Str(allow_none=True, metadata={"description": "whose record (a reader outside the "
                                                          "resident's scope cannot open the resident page)"})
    items = fields.List(fields.Nested(NetworkItemSchema), required=True)
    total = fields.Int(required=True)
    rules_available = fields.Bool(required=True)
    on = fields.Str(required=True, metadata={"format": "date"})
    access = fields.Nested(AccessSchema, required=True)
    orders = fields.List(fields.Nested(RecognitionOrderSchema), required=True)
    reasons = fields.List(fields.Nested(ReasonOptionSchema), required=True)


class OrderCheckSchema(Schema):
    request_id = fields.Str(required=True, validate=validate.Length(min=8, max=60),
                            metadata={"description": "the page's own id of this check (a repeat answers the same)"})
    item_class = fields.Str(required=True, validate=validate.OneOf(ITEM_CLASSES))
    item_code = fields.Str(required=True, validate=validate.Length(min=1, max=20))
    reason_code = fields.Str(validate=validate.OneOf(tuple(REPEAT_REASONS)))
    reason_note = fields.Str(validate=validate.Length(max=500))


class OrderReplySchema(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(ACTIONS),
                        metadata={"description": "keep: repeat with a reason; withdraw: use the recognised result"})
    reason_code = fields.Str(validate=validate.OneOf(tuple(REPEAT_REASONS)))
    reason_note = fields.Str(validate=validate.Length(max=500))


class OrderableItemSchema(Schema):
    item_class = fields.Str(required=True)
    item_code = fields.Str(required=True)
    name = fields.Str(required=True)


class OrderableItemsSchema(Schema):
    items = fields.List(fields.Nested(OrderableItemSchema), required=True)


class AccreditationSchema(Schema):
    id = fields.Int(dump_only=True)
    org_code = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    org_name = fields.Str(dump_only=True)
    item_class = fields.Str(required=True, validate=validate.OneOf(ITEM_CLASSES))
    item_code = fields.Str(required=True, validate=validate.Length(min=1, max=20),
                           metadata={"description": "LOINC code, DICOM modality, or * for every item of the class"})
    item_name = fields.Str(dump_only=True)
    programme = fields.Str(required=True, validate=validate.Length(min=1, max=200),
                           metadata={"description": "the quality-control programme passed, e.g. 省临检中心室间质评"})
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True, load_default=None)


class AccreditationListSchema(Schema):
    items = fields.List(fields.Nested(AccreditationSchema), required=True)

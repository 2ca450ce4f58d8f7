"""A compiled load (app.core.loads) answers exactly what marshmallow's load answers: the same result (keys in the same
order, values of the same types) for good input, the same ValidationError messages for bad input (wrong types,
missing and extra fields, None, values out of range), for the engine path's request schemas, from a JSON body (a
dict) and from a query string (webargs' MultiDictProxy over werkzeug's MultiDict)."""
from __future__ import annotations

import uuid

import pytest
from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, post_load, pre_load, validates
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import ImmutableMultiDict

from app.core.loads import COMPILED_LOADS, compiled_load
from app.processes.schemas import InstanceStartSchema
from app.tasks.schemas import CompleteSchema, TaskQueryArgsSchema
from tests.helpers import assert_same_result

CID = str(uuid.UUID(int=7))
BODIES = {
    CompleteSchema: [
        {"data": {"amount": 150, "comment": "bench"}, "completion_id": CID},
        {"data": {"approved": True}}, {}, {"completion_id": None}, {"data": {}, "completion_id": CID.upper()},
        {"data": [1]}, {"data": "x"}, {"data": None}, {"completion_id": "not-a-uuid"}, {"completion_id": 5},
        {"data": {}, "extra": 1}, {"extra": 1, "other": 2}, {"data": {"a": 1}, "completion_id": [CID]},
    ],
    InstanceStartSchema: [
        {"process_id": "approval", "org_code": "C01T01"},
        {"process_id": "approval", "data": {"x": 1}, "business_key": "k", "resident_id": 9, "org_code": None,
         "version": 2},
        {}, {"org_code": "C01T01"}, {"process_id": ""}, {"process_id": "x" * 121}, {"process_id": 5},
        {"process_id": None}, {"process_id": "a", "resident_id": "12"}, {"process_id": "a", "resident_id": "x"},
        {"process_id": "a", "resident_id": True}, {"process_id": "a", "resident_id": 1.5},
        {"process_id": "a", "version": 2.0}, {"process_id": "a", "business_key": "k" * 121},
        {"process_id": "a", "data": [1]}, {"process_id": "a", "unknown_field": 1}, {"process_id": "a", "data": None},
    ],
}
QUERIES = [
    [("view", "groups"), ("process_id", "approval"), ("per_page", "1"), ("sort", "created")],
    [], [("view", "org"), ("page", "3"), ("overdue", "true"), ("priority", "5"), ("q", "王")],
    [("due_before", "2026-12-05T10:00:00"), ("due_before", "2026-12-06T10:00:00+08:00"), ("resident_id", "12")],
    [("view", "nope")], [("per_page", "0")], [("per_page", "201")], [("page", "x")], [("priority", "6")],
    [("overdue", "maybe")], [("q", "x" * 121)], [("sort", "")], [("due_before", "yesterday")],
    [("view", "mine"), ("unknown", "1"), ("status", "completed")], [("resident_id", " 12 ")], [("page", "1.0")],
    [("cursor", "c" * 401)], [("per_page", "25"), ("per_page", "x")],
]


def _answer(schema: Schema, data, **kw):
    try:
        return "ok", schema.load(data, **kw)
    except ValidationError as exc:
        return "error", exc.messages, exc.valid_data



@pytest.mark.parametrize(("cls", "body"), [(cls, body) for cls, bodies in BODIES.items() for body in bodies])
@pytest.mark.parametrize("unknown", [None, RAISE, EXCLUDE, INCLUDE])
def test_a_json_body_loads_as_marshmallow_loads_it(cls, body, unknown):
    kw = {} if unknown is None else {"unknown": unknown}
    fast = compiled_load(cls())
    assert fast in COMPILED_LOADS
    assert_same_result(_answer(fast, body, **kw), _answer(cls(), body, **kw))


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("unknown", [EXCLUDE, RAISE])
def test_a_query_string_loads_as_marshmallow_loads_it(query, unknown):
    fast = compiled_load(TaskQueryArgsSchema())
    slow = TaskQueryArgsSchema()
    args = ImmutableMultiDict(query)
    assert_same_result(_answer(fast, MultiDictProxy(args, fast), unknown=unknown),
          _answer(slow, MultiDictProxy(args, slow), unknown=unknown))


@pytest.mark.parametrize("data", [[{"data": {}}], "text", None, 5])
def test_what_is_not_a_mapping_is_marshmallows_to_refuse(data):
    assert_same_result(_answer(compiled_load(CompleteSchema()), data), _answer(CompleteSchema(), data))
    assert_same_result(_answer(compiled_load(CompleteSchema()), data, many=True), _answer(CompleteSchema(), data, many=True))


def test_partial_loads_are_marshmallows():
    body = {"resident_id": "12"}
    assert_same_result(_answer(compiled_load(InstanceStartSchema()), body, partial=True),
          _answer(InstanceStartSchema(), body, partial=True))
    assert_same_result(_answer(compiled_load(InstanceStartSchema()), body, partial=("process_id",)),
          _answer(InstanceStartSchema(), body, partial=("process_id",)))


def test_a_schema_with_load_hooks_keeps_marshmallows_load():
    class Hooked(Schema):
        a = fields.Int()

        @pre_load
        def strip(self, data, **_kw):
            return data

    class Validated(Schema):
        a = fields.Int()

        @validates("a")
        def positive(self, value, **_kw):
            if value < 0:
                raise ValidationError("negative")

    class Posted(Schema):
        a = fields.Int()

        @post_load
        def wrap(self, data, **_kw):
            return {"wrapped": data}

    class Dotted(Schema):
        a = fields.Int(attribute="x.y")

    for cls in (Hooked, Validated, Posted, Dotted):
        schema = cls()
        original = schema.load
        assert compiled_load(schema).load == original
    assert compiled_load(Validated()).load.__self__  # a bound method: marshmallow's own
    with pytest.raises(ValidationError) as refused:
        compiled_load(Validated()).load({"a": -1})
    assert refused.value.messages == {"a": ["negative"]}


def test_data_key_and_attribute_are_read_and_written_as_marshmallow_does():
    class Keyed(Schema):
        a = fields.Str(data_key="A", load_default="d")
        b = fields.Int(attribute="bee", required=True)

    for body in ({"A": "x", "b": 1}, {"b": "2"}, {"a": "x", "b": 1}, {"A": "x"}):
        assert_same_result(_answer(compiled_load(Keyed()), body), _answer(Keyed(), body))

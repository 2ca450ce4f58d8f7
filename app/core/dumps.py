"""Response schemas dumped by a plan compiled once: marshmallow's own output without its per-field machinery.

`compiled(schema)` gives the schema instance back with a `dump` that walks a plan built from the schema's
`dump_fields` at start-up (issue 23: the engine path's response dumps were ≈ 2 % of a worker's samples, most of it
marshmallow's generic `Field.serialize` → accessor → `_serialize` chain per field of every task). Output is
marshmallow's, field for field and in its order (tests/unit/test_compiled_dumps.py holds them equal on every shape):

* a value is taken as `marshmallow.utils.get_value` takes it (a plain dict's key, else an attribute), a missing one
  gets the field's `dump_default` or is left out;
* an `Int`, `Str` or `Bool` value that already is what the field returns (an int, a str, True/False) is kept; any
  other value, and every other field, goes through the field's own `_serialize`;
* a `Nested` (or a `List` of `Nested`) schema is walked by its own plan.

A schema with dump hooks, a custom `get_attribute`, dotted attributes or fields that do not read the object
(`Method`, `Function`) is not compiled: it keeps marshmallow's `dump`. The OpenAPI document does not change: the
schema is the same instance of the same class (only its `dump` is replaced).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import get_value

S = TypeVar("S", bound=Schema)
Plan = Callable[[Any], Any]
Serializer = Callable[[Any, Any], Any]
_ABSENT = object()
COMPILED: list[Schema] = []     # every schema instance compiled (tests compare each answer to marshmallow's)


def compiled(schema: S) -> S:
    """`schema` (an instance) with its `dump` replaced by the compiled plan (unchanged when it cannot be compiled)."""
    plan = _plan(schema)
    if plan is None:
        return schema
    original = schema.dump

    def dump(obj: Any, *, many: bool | None = None) -> Any:
        many = schema.many if many is None else bool(many)
        if not many:
            return plan(obj)
        if obj is None:
            return original(obj, many=True)
        return [plan(item) for item in obj]

    schema.dump = dump  # type: ignore[method-assign]
    COMPILED.append(schema)
    return schema


def _plan(schema: Schema) -> Plan | None:
    if type(schema).get_attribute is not Schema.get_attribute or any(
            schema._hooks.get(tag) for tag in (PRE_DUMP, POST_DUMP)):
        return None
    steps: list[tuple[str, str, Any, Serializer]] = []
    for attr_name, field in schema.dump_fields.items():
        check_key = attr_name if field.attribute is None else field.attribute
        if not field._CHECK_ATTRIBUTE or not isinstance(check_key, str) or "." in check_key:
            return None
        key = field.data_key if field.data_key is not None else attr_name
        steps.append((key, check_key, field.dump_default, _serializer(field, attr_name)))
    make = schema.dict_class

    def plan(obj: Any) -> Any:
        out = make()
        plain = type(obj) is dict
        for key, check_key, default, serialize in steps:
            value = obj.get(check_key, _ABSENT) if plain else _ABSENT
            if value is _ABSENT:
                value = get_value(obj, check_key, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = serialize(value, obj)
        return out
    return plan


def _serializer(field: fields.Field, attr: str) -> Serializer:
    """How one field's value becomes its output (`field._serialize(value, attr, obj)`, with shortcuts where the
    value already is the output)."""
    generic = field._serialize
    kind = type(field)
    if kind is fields.Integer and not cast(fields.Integer, field).as_string:
        return lambda value, obj: value if type(value) is int else generic(value, attr, obj)
    if kind is fields.String:
        return lambda value, obj: value if type(value) is str else generic(value, attr, obj)
    if kind is fields.Boolean:
        return lambda value, obj: value if value is True or value is False else generic(value, attr, obj)
    nested = _nested(field)
    if nested is not None:
        return lambda value, obj: None if value is None else nested(value)
    if kind is fields.List and type(cast(fields.List, field).inner) is fields.Nested:
        inner = _nested(cast(fields.List, field).inner)
        if inner is not None:
            return lambda value, obj: None if value is None else [None if item is None else inner(item)
                                                                   for item in value]
    return lambda value, obj: generic(value, attr, obj)


def _nested(field: fields.Field) -> Plan | None:
    """The plan of a `Nested` field's schema for a value that is not None (as `Nested._serialize` dumps it)."""
    if type(field) is not fields.Nested:
        return None
    schema = field.schema
    plan = _plan(schema)
    if plan is None:
        return None
    if schema.many or field.many:
        return lambda value: [plan(item) for item in value]
    return plan

"""Request schemas loaded by a plan built once: marshmallow's own result for valid input without its per-load machinery.

`compiled_load(schema)` gives the schema instance back with a `load` that, for input every field accepts, walks the
schema's `load_fields` once and calls each field's own `deserialize` (its type check, conversion, `required`,
`allow_none`, `load_default` and validators: the same calls, in the same order, as marshmallow's `_deserialize`);
issue 23.2: the engine path's request bodies and the inbox's query went through marshmallow's error store, a getter
closure per field and the hooks' bookkeeping on every request. Anything else takes marshmallow's own `load`, so every
error is marshmallow's, message for message (tests/unit/test_compiled_loads.py holds both equal on good and bad input):

* input that is not a mapping, `many`, `partial`, `unknown=INCLUDE`, or with `unknown=RAISE` a key no field reads;
* any field's `ValidationError` (the whole load is then done again by marshmallow, which reports every field's).

A query string's missing parameters are not looked up by raising and catching werkzeug's `BadRequestKeyError` (what
`MultiDict.get` does for each of them) but by asking the `MultiDict` whether it has the key; a present one is read as
webargs' `MultiDictProxy` reads it. A schema with load hooks (`pre_load`, `post_load`, `validates`,
`validates_schema`) or dotted attributes is not compiled: it keeps marshmallow's `load`. The OpenAPI document does
not change: the schema is the same instance of the same class (only its `load` is replaced).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

S = TypeVar("S", bound=Schema)
COMPILED_LOADS: list[Schema] = []       # every schema instance compiled (tests compare each answer to marshmallow's)


def compiled_load(schema: S) -> S:
    """`schema` (an instance) with its `load` replaced by the compiled plan (unchanged when it cannot be compiled)."""
    if schema.many or schema.partial is not None or any(schema._hooks.get(tag) for tag in
                                            (PRE_LOAD, POST_LOAD, VALIDATES, VALIDATES_SCHEMA)):
        return schema
    steps: list[tuple[str, str, Any]] = []
    for attr_name, field in schema.load_fields.items():
        name = field.data_key if field.data_key is not None else attr_name
        key = field.attribute or attr_name
        if "." in key:
            return schema
        steps.append((name, key, field.deserialize))
    names = frozenset(name for name, _key, _deserialize in steps)
    original = schema.load
    make = schema.dict_class

    def load(data: Any, *, many: bool | None = None, partial: Any = None, unknown: str | None = None) -> Any:
        mode = schema.unknown if unknown is None else unknown
        if many or partial is not None or mode not in (RAISE, EXCLUDE) or not isinstance(data, Mapping) or \
                (mode == RAISE and not names.issuperset(data)):
            return original(data, many=many, partial=partial, unknown=unknown)
        inner = data.data if type(data) is MultiDictProxy and isinstance(data.data, MultiDict) else None
        out = make()
        try:
            for name, key, deserialize in steps:
                if inner is None:
                    raw = data.get(name, missing)
                else:       # a query string: present keys read through the proxy, absent ones without an exception
                    raw = data[name] if name in inner else missing
                value = deserialize(raw, name, data)
                if value is not missing:
                    out[key] = value
        except ValidationError:
            return original(data, many=many, partial=partial, unknown=unknown)   # marshmallow's own errors
        return out

    schema.load = load  # type: ignore[method-assign]
    COMPILED_LOADS.append(schema)
    return schema

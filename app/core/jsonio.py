"""JSON in and out of the API, and the input guard every request passes before a view sees it.

Refused before anything is parsed into a schema or written (`guard_request`, installed by `app.web`):
* nested deeper than `MAX_DEPTH` arrays/objects → 400 `json_too_deep` (Python's parser would recurse until it
  crashed; no form or message of ours nests beyond a dozen levels);
* a NUL character or a lone UTF-16 surrogate in any JSON string, query parameter or form field → 422
  `validation_error` with `details.reason = "invalid_characters"` and the field (neither can be stored: PostgreSQL
  text refuses NUL, UTF-8 cannot encode a lone surrogate).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson
from flask import request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.sansio.response import Response

from .errors import DomainError

MAX_DEPTH = 64


class JsonTooDeep(DomainError):
    status, code = 400, "json_too_deep"


class InvalidCharacters(DomainError):
    """A field-level validation error like marshmallow's: `details.errors[].field` names the field."""

    status, code = 422, "validation_error"

    def __init__(self, message: str, *, field: str, what: str) -> None:
        super().__init__(message, reason="invalid_characters", errors=[{"field": field, "message": message}],
                         character=what)


class InvalidJson(BadRequest):
    description = "请求体不是合法的 UTF-8 JSON (invalid JSON: lone surrogate)"


def _check(value: Any) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidJson() from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list):
        for item in value:
            _check(item)


class JSONProvider(DefaultJSONProvider):
    ensure_ascii = False  # Chinese stays readable
    sort_keys = False     # form schemas keep their authored property order

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        value = super().loads(s, **kwargs)
        _check(value)
        return value

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Flask's `response`, the compact text written by orjson when it writes it byte for byte as `json.dumps`
        would (`compact_json`; issue 23.2: the API's JSON was ≈ 1 % of a worker's samples on the engine path)."""
        obj = self._prepare_response_obj(args, kwargs)
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(obj)
        body = compact_json(obj)
        if body is None:
            return super().response(obj)
        make: Callable[..., Response] = self._app.response_class    # flask.Response: takes the body as bytes
        return make(body + b"\n", mimetype=self.mimetype)


# orjson writes a float in [1e-9, 1e-4) otherwise than Python's repr: "0.00001" for "1e-05", "9.8e-9" for "9.8e-09"
_ONE_DIGIT_NEGATIVE_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")
_NUMBER_PART = frozenset(b"0123456789.")
_BEFORE_VALUE = frozenset(b":,[")


def _other_float(raw: bytes) -> bool:
    """Does orjson's text hold a float that `json.dumps` writes otherwise? Any "0.0000" does (also one inside a
    string or a longer number: those only take the slower path); a one-digit negative exponent does when it ends a
    number token (a UUID's "…3e-4…" is preceded by a hex letter, a '"' or a '-' after a hex digit)."""
    if b"0.0000" in raw:
        return True
    for match in _ONE_DIGIT_NEGATIVE_EXPONENT.finditer(raw):
        i = match.start() - 1
        while i >= 0 and raw[i] in _NUMBER_PART:
            i -= 1
        if i == match.start() - 1:
            continue                    # no digits before the "e"
        if i >= 0 and raw[i] == 0x2D:   # a minus sign
            i -= 1
        if i < 0 or raw[i] in _BEFORE_VALUE:
            return True
    return False


def compact_json(obj: Any) -> bytes | None:
    """`obj` as `json.dumps(obj, ensure_ascii=False, sort_keys=False, separators=(",", ":"))` writes it, UTF-8
    encoded, written by orjson; None when orjson would write it otherwise or it is not plain JSON.

    orjson writes strings (every code point), ints, bools, null, lists and dicts (keys in their order) as `json.dumps`
    does, and floats too but for [1e-9, 1e-4) (`_other_float`, looked for in the text). It refuses non-str keys,
    ints beyond 64 bits and lone surrogates, and writes some values its own way (NaN as null, dates, UUIDs,
    enums, tuples, dataclasses); reading its text back equal to `obj` rules those out: what it holds is plain JSON,
    which both write alike."""
    return _orjson_text(obj, same_floats=True)


def _orjson_text(obj: Any, *, same_floats: bool) -> bytes | None:
    """orjson's text of `obj` when it holds plain JSON only (read back equal to `obj`: see `compact_json`); with
    `same_floats`, only when its floats are written as `json.dumps` writes them (`_other_float`), else in orjson's
    own shortest form, which reads back as the same float ("0.00001" for 1e-05)."""
    try:
        raw = orjson.dumps(obj)
    except orjson.JSONEncodeError:
        return None
    if same_floats and _other_float(raw) or orjson.loads(raw) != obj:
        return None
    return raw


# -- JSON column values (the database engine's serializer and deserializer, issue 23) ---------------------------

def db_dumps(obj: Any) -> bytes:
    """A JSON column's value as psycopg sends it (the engine's `json_serializer` on PostgreSQL): orjson's text (UTF-8)
    when `obj` is plain JSON, which orjson writes as `json.dumps` does but for the form (checked as `compact_json`
    checks it: read back equal, in C); else `json.dumps(obj)` with its default arguments, as psycopg's default
    dumper wrote every value before (and raising as it raised: a date, a Decimal, a set, a UUID …). Both texts hold
    the same value; they differ in form only (spaces after `,` and `:`, `\\uXXXX` escapes, a float in [1e-9, 1e-4)
    as "0.00001" for "1e-05", as the engine's state text already writes them: `app.engine.codec.dump_state_text`),
    which a `jsonb` column does not keep and a `json` column keeps verbatim (the engine's state, a version's spec and
    forms: nothing reads their text, only the value). Not `compact_json` itself: the API's byte-for-byte check of
    the floats (`_other_float`) was a third of this function's time on the engine path."""
    raw = _orjson_text(obj, same_floats=False)
    if raw is None:
        return _std_dumps(obj).encode()
    return raw


def db_dumps_text(obj: Any) -> str:
    """`db_dumps` as text (SQLite binds a str; bytes would be stored as a BLOB)."""
    raw = _orjson_text(obj, same_floats=False)
    if raw is None:
        return _std_dumps(obj)
    return raw.decode()


# bytes → b"0" for a digit, b" " for anything else: a run of 19 b"0" is a run of 19 digits
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def db_loads(data: Any) -> Any:
    """A JSON column's text read as `json.loads(data)` reads it (the engine's `json_deserializer`), parsed by orjson
    when orjson reads it alike: the same values, types included (int vs float), and key order (a duplicate key: the
    last value at the first key's place, as both do). orjson refuses NaN and ±Infinity, numbers beyond the float
    range, lone surrogates in `\\u` escapes, invalid UTF-8 and nesting deeper than 1024: `json.loads` then reads
    the text (and raises as before for what it refuses too). orjson does not refuse an integer beyond 64 bits: it
    reads it as a float; an integer of 19 digits or more can be one, so a text with a run of 19 digits anywhere (a
    long number, or a long digit string: only the slower path) goes to `json.loads` before orjson sees it."""
    kind = type(data)
    if kind is bytes:
        raw = data
    elif kind is str:
        try:
            raw = data.encode()
        except UnicodeEncodeError:          # a lone surrogate: not UTF-8, orjson would refuse it
            return _std_loads(data)
    elif isinstance(data, bytearray | memoryview):
        raw = data = bytes(data)            # as psycopg's loader hands json.loads a memoryview
    else:                                   # json.loads raises TypeError (SQLite's JSON reads a number so)
        return _std_loads(data)
    if _LONG_DIGIT_RUN in raw.translate(_DIGITS_AS_ZERO):
        return _std_loads(data)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _std_loads(data)


# the standard library's functions, as the two above fall back to them (a name of their own: the guard tests see
# which path ran)
_std_dumps = json.dumps
_std_loads = json.loads


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _bad_text(value: str) -> str | None:
    if "\x00" in value:
        return "NUL"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "lone surrogate"
    return None


def _check_strings(value: Any, path: str = "") -> None:
    if isinstance(value, str):
        bad = _bad_text(value)
        if bad:
            raise InvalidCharacters(f"不能包含 {bad} 字符 (must not contain {bad} characters)",
                                    field=path.strip("/").replace("/", ".") or "/", what=bad)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, path)
            _check_strings(item, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_strings(item, f"{path}/{i}")


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def guard_request() -> None:
    """Refuse malformed input before any view runs (see the module doc)."""
    req = request._get_current_object()     # type: ignore[attr-defined]  # one context lookup (issue 23.2)
    environ = req.environ
    if environ.get("QUERY_STRING"):
        _check_parameters(req.args)
    # no Content-Type (a GET): `mimetype` is "" — neither a form nor JSON — so there is nothing more to check
    if not environ.get("CONTENT_TYPE"):
        return
    mimetype = req.mimetype
    if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_parameters(req.form)
    if not _is_json(mimetype) or not req.content_length and not req.headers.get("Transfer-Encoding"):
        return
    raw = req.get_data(cache=True)
    if not raw.strip():
        return
    text = raw.decode("utf-8", errors="replace")
    # nesting deeper than MAX_DEPTH takes more than MAX_DEPTH opening brackets: a body with fewer is not scanned
    if text.count("[") + text.count("{") > MAX_DEPTH and nesting_depth(text) > MAX_DEPTH:
        raise JsonTooDeep(f"JSON 嵌套过深 (nested deeper than {MAX_DEPTH} levels)", max_depth=MAX_DEPTH)
    # the decoded text holds no lone surrogate (UTF-8 cannot carry one) and JSON refuses a raw control character
    # in a string, so only a \u escape can put NUL or a lone surrogate into a value: a body without one is not
    # parsed here (issue 23.2; the view parses it anyway)
    if "\\u" not in text:
        return
    try:
        value = json.loads(text)
    except ValueError:
        return          # not JSON at all: the endpoint answers that in its own terms (400, OperationOutcome, …)
    _check_strings(value)


def _check_parameters(source: MultiDict[str, str]) -> None:
    for key, value in source.items(multi=True):
        bad = _bad_text(key) or _bad_text(value)
        if bad:
            raise InvalidCharacters(f"参数不能包含 {bad} 字符 (parameter must not contain {bad} characters)",
                                    field=key if not _bad_text(key) else "?", what=bad)

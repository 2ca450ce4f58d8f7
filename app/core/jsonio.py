"""JSON in and out of the API: request bodies with lone UTF-16 surrogates are refused (they cannot be stored)."""
from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest


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

    def loads(self, s, **kwargs):
        value = super().loads(s, **kwargs)
        _check(value)
        return value

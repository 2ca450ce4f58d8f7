"""Field errors of a 422 in Chinese with a stable code (app.core.field_errors): every message the installed
marshmallow can produce has a rule, the template's values are kept, other messages pass unchanged."""
from __future__ import annotations

import inspect
import re

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from app.core.field_errors import describe, field_errors

CJK = re.compile(r"[\u4e00-\u9fff]")


def _marshmallow_messages() -> set[str]:
    """Every message template of marshmallow's fields, validators and schema, with sample values filled in."""
    found: set[str] = set()
    for _name, cls in inspect.getmembers(fields, inspect.isclass):
        for klass in cls.__mro__:
            found.update(getattr(klass, "default_error_messages", {}).values())
    found.update(Schema._default_error_messages.values())
    for _name, cls in inspect.getmembers(validate, inspect.isclass):
        for attr in ("default_message", "default_error_message", "message_min", "message_max", "message_all",
                     "message_equal"):
            value = getattr(cls, attr, None)
            if isinstance(value, str):
                if "{min_op}" in value or "{max_op}" in value:       # Range's: the operator words go in first
                    value = value.format(min_op=cls.message_gte, max_op=cls.message_lt)
                found.add(value)
    samples = {"input": "x", "obj_type": "datetime", "awareness": "aware", "choices": "a, b", "values": "a, b",
               "min": "1", "max": "9", "equal": "3", "other": "5"}
    return {m.replace("{input!r}", "'x'").format(**samples) for m in found}


@pytest.mark.parametrize("message", sorted(_marshmallow_messages()))
def test_every_marshmallow_message_has_a_chinese_rule(message):
    code, text = describe(message)
    assert code != "invalid" or message in ("Invalid value.", "Invalid input."), message
    assert CJK.search(text), (message, text)
    assert not re.search(r"\b(Not|Must|Missing|Field|Length|Longer|Shorter|Unknown|Invalid)\b", text), text


@pytest.mark.parametrize(("message", "code", "text"), [
    ("Missing data for required field.", "required", "必填"),
    ("Not a valid string.", "not_string", "应为文本"),
    ("Unknown field.", "unknown_field", "不支持的字段"),
    ("Longer than maximum length 200.", "too_long", "长度不能超过 200"),
    ("Length must be between 1 and 120.", "bad_length", "长度应在 1 到 120 之间"),
    ("Must be greater than or equal to 0 and less than or equal to 300.", "out_of_range", "应大于等于 0 且小于等于 300"),
    ("Must be greater than 0.", "out_of_range", "应大于 0"),
    ("Must be one of: 1, 2, 3.", "not_one_of", "应为以下之一：1, 2, 3"),
    ("Not a valid aware datetime.", "not_datetime", "应为带时区的日期时间"),
    ("Not a valid datetime.", "not_datetime", "日期时间格式不正确"),
    ("统计期格式应为 YYYY-MM (1900–2099)", "invalid", "统计期格式应为 YYYY-MM (1900–2099)"),
    ("Something a library says.", "invalid", "Something a library says."),
])
def test_messages(message, code, text):
    assert describe(message) == (code, text)


class _Visit(Schema):
    sbp = fields.Integer(required=True, validate=validate.Range(min=40, max=300))
    note = fields.String(validate=validate.Length(max=5))
    drugs = fields.List(fields.Nested(Schema.from_dict({"dose": fields.Float(required=True)})))


def test_a_schemas_errors_as_the_api_lists_them():
    with pytest.raises(ValidationError) as caught:
        _Visit().load({"sbp": "high", "note": "toolongnote", "drugs": [{"dose": None}, {}], "x": 1})
    errors = sorted(field_errors(caught.value.messages), key=lambda e: e["field"])
    assert errors == [
        {"field": "drugs.0.dose", "code": "null", "message": "不能为空"},
        {"field": "drugs.1.dose", "code": "required", "message": "必填"},
        {"field": "note", "code": "too_long", "message": "长度不能超过 5"},
        {"field": "sbp", "code": "not_integer", "message": "应为整数"},
        {"field": "x", "code": "unknown_field", "message": "不支持的字段"},
    ]


def test_several_messages_of_one_field_are_joined_and_the_first_gives_the_code():
    assert field_errors({"name": ["Shorter than minimum length 2.", "String does not match expected pattern."]}) == [
        {"field": "name", "code": "too_short", "message": "长度不能少于 2；格式不正确"}]

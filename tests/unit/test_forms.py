"""Task forms without a database: option/default resolution from task data, and validation messages in Chinese."""
from __future__ import annotations

import pytest

from app.tasks.forms import fingerprint, resolve_form, validate

BP_FORM = {
    "schema": {
        "type": "object",
        "required": ["sbp", "visit_on"],
        "properties": {
            "sbp": {"type": "integer", "title": "收缩压", "minimum": 60, "maximum": 260},
            "dbp": {"type": "integer", "title": "舒张压", "exclusiveMinimum": 30, "exclusiveMaximum": 160},
            "visit_on": {"type": "string", "format": "date", "title": "随访日期"},
            "measured_at": {"type": "string", "format": "date-time", "title": "测量时间"},
            "email": {"type": "string", "format": "email", "title": "邮箱"},
            "phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$", "title": "手机号"},
            "note": {"type": "string", "minLength": 2, "maxLength": 10, "title": "备注"},
            "control": {"type": "string", "enum": ["满意", "不满意"], "title": "控制情况"},
            "smoker": {"type": "boolean", "title": "吸烟"},
            "drugs": {"type": "array", "title": "用药", "minItems": 1, "maxItems": 2,
                      "items": {"type": "object", "required": ["name"],
                                "properties": {"name": {"type": "string", "title": "药名"},
                                               "dose": {"type": "number", "title": "剂量", "multipleOf": 0.5}}}},
        },
    },
}


def messages(data, schema=BP_FORM["schema"]):
    return {e["field"]: e["message"] for e in validate(schema, data)}


def test_valid_data_has_no_errors():
    assert validate(BP_FORM["schema"], {"sbp": 140, "visit_on": "2024-05-01", "measured_at": "2024-05-01T08:30:00+08:00",
                                        "drugs": [{"name": "氨氯地平", "dose": 5}]}) == []


def test_required_fields_are_named_by_their_title():
    assert messages({}) == {"sbp": "收缩压为必填项", "visit_on": "随访日期为必填项"}


@pytest.mark.parametrize("value, message", [
    ("140", "收缩压应为整数"), (140.5, "收缩压应为整数"), (True, "收缩压应为整数"), (None, "收缩压应为整数"),
    (59, "收缩压不能小于 60"), (261, "收缩压不能大于 260")])
def test_types_are_never_coerced_and_ranges_are_checked(value, message):
    assert messages({"sbp": value, "visit_on": "2024-05-01"}) == {"sbp": message}


def test_exclusive_bounds():
    assert messages({"sbp": 120, "visit_on": "2024-05-01", "dbp": 30}) == {"dbp": "舒张压必须大于 30"}
    assert messages({"sbp": 120, "visit_on": "2024-05-01", "dbp": 160}) == {"dbp": "舒张压必须小于 160"}


@pytest.mark.parametrize("field, value, message", [
    ("visit_on", "2024-13-01", "随访日期应为日期（如 2024-05-01）"),
    ("visit_on", "2024/05/01", "随访日期应为日期（如 2024-05-01）"),
    ("measured_at", "2024-05-01 08:30", "测量时间应为日期时间（如 2024-05-01T08:30:00+08:00）"),
    ("email", "nobody", "邮箱应为有效的电子邮箱地址"),
    ("phone", "12345", "手机号格式不正确"),
    ("note", "短", "备注至少需要 2 个字符"),
    ("note", "这是一段超过十个字的备注内容", "备注最多 10 个字符"),
    ("control", "一般", "控制情况必须是以下之一：满意、不满意"),
    ("smoker", "否", "吸烟应为是/否"),
])
def test_formats_lengths_patterns_and_enums(field, value, message):
    assert messages({"sbp": 120, "visit_on": "2024-05-01", field: value}) == {
        **({"visit_on": message} if field == "visit_on" else {field: message})}


def test_nested_items_are_reported_with_a_dotted_path():
    errors = messages({"sbp": 120, "visit_on": "2024-05-01", "drugs": [{"dose": 0.3}]})
    assert errors == {"drugs.0.name": "药名为必填项", "drugs.0.dose": "剂量必须是 0.5 的倍数"}
    assert messages({"sbp": 120, "visit_on": "2024-05-01", "drugs": []}) == {"drugs": "用药至少需要 1 项"}


def test_additional_properties_are_named():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    assert messages({"a": "x", "b": 1}, schema) == {"b": "不允许的字段：b"}


def test_a_field_without_title_is_named_by_its_key_and_draft7_is_honoured():
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": ["x"],
              "properties": {"x": {"type": "number", "exclusiveMinimum": 0}}}
    assert messages({}, schema) == {"x": "x为必填项"}
    assert messages({"x": 0}, schema) == {"x": "x必须大于 0"}


def test_options_and_defaults_are_filled_from_the_task_data():
    form = {"schema": {"type": "object", "properties": {
        "doctor": {"type": "string", "x-options-from": "doctors"},
        "level": {"type": "string", "x-options-from": "levels", "x-default-from": "suggested.level"},
        "tags": {"type": "array", "items": {"type": "string", "x-options-from": "all_tags"}}}},
        "ui_schema": {"doctor": {"ui:widget": "select"}}}
    data = {"doctors": ["张医生", "李医生"], "levels": [{"value": "high", "label": "高危"}, {"value": "low", "label": "低危"}],
            "suggested": {"level": "high"}, "all_tags": ["a", "b"], "level": "low", "unrelated": 1}
    resolved = resolve_form(form, data)
    props = resolved["schema"]["properties"]
    assert props["doctor"]["enum"] == ["张医生", "李医生"]
    assert props["level"]["enum"] == ["high", "low"] and props["level"]["default"] == "high"
    assert resolved["ui_schema"]["level"] == {"ui:enumNames": ["高危", "低危"]}
    assert resolved["ui_schema"]["doctor"] == {"ui:widget": "select"}
    assert props["tags"]["items"]["enum"] == ["a", "b"]
    assert resolved["data"] == {"level": "low"}                   # task data limited to the form's fields
    assert form["schema"]["properties"]["doctor"].get("enum") is None        # the definition is not changed


def test_a_missing_source_leaves_the_property_alone_and_a_draft_wins():
    form = {"schema": {"type": "object", "properties": {"x": {"type": "string", "x-options-from": "nope",
                                                             "x-default-from": "nope"}}}}
    resolved = resolve_form(form, {"x": "task"}, draft={"x": "draft"})
    assert "enum" not in resolved["schema"]["properties"]["x"] and "default" not in resolved["schema"]["properties"]["x"]
    assert resolved["data"] == {"x": "draft"}
    assert resolve_form(None, {}) is None


def test_the_fingerprint_follows_the_definition():
    other = {"schema": {**BP_FORM["schema"], "required": ["sbp"]}}
    assert fingerprint(BP_FORM) == fingerprint(dict(BP_FORM)) != fingerprint(other)


def test_validation_builds_its_validator_class_once_per_draft(monkeypatch):
    """Issue 23.2: extending a jsonschema validator creates a class (attrs, compiled snippets) — too dear per request."""
    from jsonschema import validators
    calls = []
    real = validators.extend
    monkeypatch.setattr(validators, "extend", lambda *a, **k: calls.append(a) or real(*a, **k))
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {"n": {"type": "integer"}}}
    for _ in range(3):
        assert validate(BP_FORM["schema"], {"sbp": "x", "visit_on": "2024-05-01"})
        assert validate(draft7, {"n": 1}) == []
    assert len(calls) <= 2

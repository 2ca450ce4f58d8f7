"""Task forms: resolve a JSON Schema form against the task's data, and validate a submission with Chinese messages.

Resolution conventions (a schema property may carry them at any depth, also on array `items`):

* `"x-options-from": "<data key>"` — the enum is filled from the task data: a list of values, or of
  `{"value", "label"}` objects (labels go to the uiSchema as `ui:enumNames`, which the form renderer shows).
* `"x-default-from": "<data key>"` — the property's `default` is taken from the task data when present.
* `"x-examples-from": "drug_catalogue"` — `examples` (offered as a pick list, not a restriction) from a named source.
* `"x-description-from": "<data key>"` (or a list of keys, the first non-empty wins) — the property's `description`
  (shown under the field) is taken from the task data when it is a non-empty string, e.g. the patient's plan target beside the measured value.
* `"x-not-after": "today"` — a date (or date-time) no later than the county's local today (`app.core.clock`,
  Asia/Shanghai): a later value is refused with the error code `date_in_future`, and a default that would be later
  (e.g. a visit date defaulted from a due date still ahead) is offered as today instead.

Data keys may be dotted (`"resident.village"`). Validation follows the schema's `$schema` (Draft 2020-12 when it
names none), checks formats (date, date-time, time, email, uri) and never coerces: `"150"` is not a number.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from app.core import clock
from app.vocabulary import drugs

TYPE_NAMES = {"string": "文本", "number": "数字", "integer": "整数", "boolean": "是/否", "object": "对象",
              "array": "列表", "null": "空值"}
FORMAT_NAMES = {"date": "日期（如 2024-05-01）", "date-time": "日期时间（如 2024-05-01T08:30:00+08:00）",
                "time": "时间（如 08:30:00）", "email": "有效的电子邮箱地址", "uri": "有效的网址",
                "ipv4": "IPv4 地址", "uuid": "UUID"}
_MISSING = object()


def _drug_names() -> list[str]:
    return drugs.generic_names()


# `"x-examples-from": "<source>"` — suggestions (the renderer offers them as a pick list; they do not restrict)
EXAMPLE_SOURCES = {"drug_catalogue": _drug_names}


# -- resolution ---------------------------------------------------------------------------------------------

def fingerprint(form: Mapping[str, Any] | None) -> str:
    """A short stable hash of a form definition (part of a task detail's ETag)."""
    raw = json.dumps(form or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:10]


def lookup(data: Mapping[str, Any], key: str) -> Any:
    """`data[key]`, following dots into nested objects; `_MISSING` when absent."""
    if key in data:
        return data[key]
    value: Any = data
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def resolve_form(form: Mapping[str, Any] | None, task_data: Mapping[str, Any],
                 draft: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The form as the doer sees it: options and defaults filled in, and the data to start from."""
    if not form:
        return None
    schema = copy.deepcopy(form.get("schema") or {})
    ui_schema = copy.deepcopy(form.get("ui_schema") or {})
    _fill(schema, ui_schema, task_data)
    props = schema.get("properties") or {}
    data = dict(draft) if draft is not None else {k: task_data[k] for k in props if k in task_data}
    return {"schema": schema, "ui_schema": ui_schema, "data": data}


def _fill(node: dict[str, Any], ui: dict[str, Any], task_data: Mapping[str, Any]) -> None:
    if not isinstance(node, dict):
        return
    for name, prop in (node.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        sub_ui = ui.setdefault(name, {}) if isinstance(ui, dict) else {}
        _fill_property(prop, sub_ui, task_data)
        _fill(prop, sub_ui, task_data)
        if isinstance(prop.get("items"), dict):
            items_ui = sub_ui.setdefault("items", {})
            _fill_property(prop["items"], items_ui, task_data)
            _fill(prop["items"], items_ui, task_data)
            if not items_ui:
                sub_ui.pop("items")
        if not sub_ui and isinstance(ui, dict):
            ui.pop(name, None)


def _fill_property(prop: dict[str, Any], ui: dict[str, Any], task_data: Mapping[str, Any]) -> None:
    source = prop.get("x-options-from")
    if source:
        options = lookup(task_data, source)
        if isinstance(options, list):
            values = [o.get("value") if isinstance(o, Mapping) else o for o in options]
            prop["enum"] = values
            if any(isinstance(o, Mapping) and "label" in o for o in options):
                ui["ui:enumNames"] = [str(o.get("label", o.get("value"))) if isinstance(o, Mapping) else str(o)
                                      for o in options]
    default_from = prop.get("x-default-from")
    if default_from:
        value = lookup(task_data, default_from)
        if value is not _MISSING:
            prop["default"] = value
    examples_from = prop.get("x-examples-from")
    if examples_from in EXAMPLE_SOURCES:
        prop["examples"] = EXAMPLE_SOURCES[examples_from]()
    description_from = prop.get("x-description-from")
    for key in [description_from] if isinstance(description_from, str) else description_from or []:
        text = lookup(task_data, key)
        if isinstance(text, str) and text.strip():
            prop["description"] = text
            break
    if prop.get("x-not-after") == "today" and (day := _day(prop.get("default"))) is not None and day > clock.today():
        prop["default"] = clock.today().isoformat()


def _day(value: object) -> date | None:
    """The local calendar day of a date or date-time string (None when it is neither)."""
    if not isinstance(value, str):
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        at = datetime.fromisoformat(value.upper())
        return clock.date_of(at) if at.tzinfo else at.date()
    except ValueError:
        return None


def _not_after(validator, limit, instance, schema):
    """`x-not-after: "today"`: the value's day may not be after the local today."""
    day = _day(instance) if limit == "today" else None
    if day is not None and day > clock.today():
        yield ValidationError(f"{instance} is after today ({clock.today().isoformat()})")


DATE_IN_FUTURE = "date_in_future"


# -- validation ---------------------------------------------------------------------------------------------

def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        return not isinstance(value, str) or (bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
                                              and date.fromisoformat(value) is not None)

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})", value):
            return False
        return datetime.fromisoformat(value.upper()) is not None

    @checker.checks("time", raises=ValueError)
    def _time(value: object) -> bool:
        return not isinstance(value, str) or (bool(re.fullmatch(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?",
                                                                value)) and time.fromisoformat(value.rstrip("Zz"))
                                              is not None)

    @checker.checks("email")
    def _email(value: object) -> bool:
        return not isinstance(value, str) or bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value))
    return checker


FORMATS = _format_checker()


# the draft's validator class extended with `x-not-after`, built once per draft: `validators.extend` creates a new
# class (attrs, compiled snippets), which cost 15 % of a task completion's CPU when done per request (issue 23.2)
_EXTENDED: dict[type, Any] = {}


def _validator_class(schema: Mapping[str, Any]) -> Any:
    base = validators.validator_for(schema, default=Draft202012Validator)
    cls = _EXTENDED.get(base)
    if cls is None:
        cls = _EXTENDED.setdefault(base, validators.extend(base, {"x-not-after": _not_after}))
    return cls


def validate(schema: Mapping[str, Any], data: Any) -> list[dict[str, str]]:
    """Every violation of `schema` by `data`, as `[{"field": "bp.sbp", "message": "<中文>"}]` (empty if valid)."""
    validator = _validator_class(schema)(schema, format_checker=FORMATS)
    out: list[dict[str, str]] = []
    seen = set()
    for error in sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator or "")):
        for field, message in _describe(error, schema):
            if (field, message) not in seen:
                seen.add((field, message))
                out.append({"field": field, "message": message} | (
                    {"code": DATE_IN_FUTURE} if error.validator == "x-not-after" else {}))
    return out


def _join(path) -> str:
    return ".".join(str(p) for p in path)


def _title(schema: Mapping[str, Any] | None, fallback: str) -> str:
    if isinstance(schema, Mapping) and isinstance(schema.get("title"), str) and schema["title"]:
        return schema["title"]
    return fallback or "表单"


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _describe(error: ValidationError, root: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    field = _join(error.absolute_path)
    label = _title(error.schema, str(error.absolute_path[-1]) if error.absolute_path else "")
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        for name in _missing(error):
            sub = (error.schema.get("properties") or {}).get(name) if isinstance(error.schema, Mapping) else None
            yield _join([*error.absolute_path, name]), f"{_title(sub, name)}为必填项"
        return
    if kind == "dependentRequired" or kind == "dependencies":
        for name in _missing(error):
            yield _join([*error.absolute_path, name]), f"{name}为必填项"
        return
    if kind == "additionalProperties" or kind == "unevaluatedProperties":
        for name in _extra(error):
            yield _join([*error.absolute_path, name]), f"不允许的字段：{name}"
        return
    yield field, _message(kind, expected, label, error)


def _missing(error: ValidationError) -> list[str]:
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    if error.validator == "required":
        return [n for n in error.validator_value if n not in instance]
    match = re.search(r"'([^']+)' is a dependency", error.message)
    return [match.group(1)] if match else [""]


def _extra(error: ValidationError) -> list[str]:
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    allowed = set((error.schema.get("properties") or {}) if isinstance(error.schema, Mapping) else ())
    patterns = list((error.schema.get("patternProperties") or {}) if isinstance(error.schema, Mapping) else ())
    return [k for k in instance if k not in allowed and not any(re.search(p, k) for p in patterns)]


def _message(kind: str, expected: Any, label: str, error: ValidationError) -> str:
    if kind == "type":
        names = [TYPE_NAMES.get(t, str(t)) for t in (expected if isinstance(expected, list) else [expected])]
        return f"{label}应为{'或'.join(names)}"
    simple = {
        "minimum": f"{label}不能小于 {_num(expected)}",
        "maximum": f"{label}不能大于 {_num(expected)}",
        "exclusiveMinimum": f"{label}必须大于 {_num(expected)}",
        "exclusiveMaximum": f"{label}必须小于 {_num(expected)}",
        "multipleOf": f"{label}必须是 {_num(expected)} 的倍数",
        "minLength": f"{label}至少需要 {expected} 个字符" if expected != 1 else f"{label}不能为空",
        "maxLength": f"{label}最多 {expected} 个字符",
        "pattern": f"{label}格式不正确",
        "minItems": f"{label}至少需要 {expected} 项",
        "maxItems": f"{label}最多 {expected} 项",
        "uniqueItems": f"{label}不能有重复项",
        "contains": f"{label}缺少符合要求的项",
        "minProperties": f"{label}至少需要 {expected} 项内容",
        "maxProperties": f"{label}最多 {expected} 项内容",
        "const": f"{label}必须为 {json.dumps(expected, ensure_ascii=False)}",
        "anyOf": f"{label}不符合任何一种允许的格式",
        "oneOf": f"{label}必须恰好符合一种允许的格式",
        "not": f"{label}的值不被允许",
    }
    if kind in simple:
        return simple[kind]
    if kind == "enum":
        return f"{label}必须是以下之一：{'、'.join(json.dumps(v, ensure_ascii=False).strip(chr(34)) for v in expected)}"
    if kind == "format":
        return f"{label}应为{FORMAT_NAMES.get(expected, expected + ' 格式')}"
    if kind == "x-not-after":
        return f"{label}不能晚于今天（{clock.today().isoformat()}）"
    return f"{label}不合法"


_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMAS = ("if", "then", "else")


def form_fields(schema: Mapping[str, Any] | None) -> set[str] | None:
    """The top-level field names a form schema declares (`properties`, also inside allOf/anyOf/oneOf, if/then/else
    and dependentSchemas); None when the schema declares none or admits any name (`patternProperties`)."""
    if not isinstance(schema, Mapping):
        return None
    names: set[str] = set()
    open_names = False

    def walk(node) -> None:
        nonlocal open_names
        if not isinstance(node, Mapping):
            return
        names.update((node.get("properties") or {}).keys())
        open_names = open_names or bool(node.get("patternProperties"))
        for key in _SUBSCHEMA_LISTS:
            for sub in node.get(key) or ():
                walk(sub)
        for key in _SUBSCHEMAS:
            walk(node.get(key))
        for sub in (node.get("dependentSchemas") or {}).values():
            walk(sub)
    walk(schema)
    return None if open_names or not names else names


def only_form_fields(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The submitted data narrowed to the form's fields, and the names dropped (issue 14.11: fields outside the
    form never reach the instance data)."""
    names = form_fields(schema)
    if names is None:
        return dict(data), []
    return {k: v for k, v in data.items() if k in names}, sorted(k for k in data if k not in names)

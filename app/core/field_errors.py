"""A request's field errors as the API answers them: each with a stable code and a Chinese message.

marshmallow and webargs word their errors in English ("Not a valid string.", "Longer than maximum length 200.").
The UI shows a 422's `details.errors[].message` next to the field it names (ui/src/lib/formErrors.ts), so those words
reached clinicians as they were. Each of marshmallow's own messages (its fields' `default_error_messages`, its
validators' templates, the schema's) is matched here by its template and answered with:

- `code`: what is wrong, stable and machine-readable (`required`, `not_string`, `too_long`, `unknown_field`, …);
- `message`: the same in Chinese, the template's values kept (a length limit, a range's bounds, the choices).

A message that is not one of marshmallow's (our own validators already speak Chinese) keeps its words, code
`invalid`. tests/unit/test_field_errors.py checks that every message of the installed marshmallow has a rule here.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_RANGE_OPS = {"greater than or equal to": "大于等于", "greater than": "大于", "less than or equal to": "小于等于",
              "less than": "小于"}
_OP = "(greater than or equal to|greater than|less than or equal to|less than)"
_OBJ_TYPES = {"datetime": "日期时间", "time": "时间", "date": "日期", "aware datetime": "带时区的日期时间",
              "naive datetime": "不带时区的日期时间", "aware time": "带时区的时间", "naive time": "不带时区的时间"}


def _op(word: str) -> str:
    return _RANGE_OPS[word]


def _obj(word: str) -> str:
    return _OBJ_TYPES.get(word, word)


# (code, the message as a pattern, its Chinese): `{1}`, `{2}`… take the pattern's groups (a callable for the ones
# that need a word translated). The order matters only where one pattern could also match another's message.
_RULES: tuple[tuple[str, str, Any], ...] = (
    ("required", r"Missing data for required field\.", "必填"),
    ("null", r"Field may not be null\.", "不能为空"),
    ("unknown_field", r"Unknown field\.", "不支持的字段"),
    ("invalid_type", r"Invalid input type\.", "数据类型不正确"),
    ("invalid_type", r"Invalid type\.", "数据类型不正确"),
    ("invalid", r"Invalid value\.", "取值无效"),
    ("invalid", r"Invalid input\.", "输入无效"),
    ("not_string", r"Not a valid string\.", "应为文本"),
    ("not_utf8", r"Not a valid utf-8 string\.", "应为 UTF-8 编码的文本"),
    ("not_integer", r"Not a valid integer\.", "应为整数"),
    ("not_number", r"Not a valid number\.", "应为数字"),
    ("not_boolean", r"Not a valid boolean\.", "应为是或否 (true/false)"),
    ("not_list", r"Not a valid list\.", "应为列表"),
    ("not_tuple", r"Not a valid tuple\.", "应为固定长度的列表"),
    ("not_mapping", r"Not a valid mapping type\.", "应为对象 (键值对)"),
    ("not_uuid", r"Not a valid UUID\.", "应为 UUID 格式的编号"),
    ("not_email", r"Not a valid email address\.", "电子邮箱格式不正确"),
    ("not_url", r"Not a valid URL\.", "网址格式不正确"),
    ("not_ip", r"Not a valid IP(?:v4|v6)? address\.", "IP 地址格式不正确"),
    ("not_ip", r"Not a valid IP(?:v4|v6)? interface\.", "IP 网段格式不正确"),
    ("not_duration", r"Not a valid period of time\.", "时长格式不正确"),
    ("not_date", r"Not a valid date\.", "日期格式不正确 (应为 YYYY-MM-DD)"),
    ("not_datetime", r"Not a valid (aware|naive) (datetime|time)\.", lambda a, b: f"应为{_obj(f'{a} {b}')}"),
    ("not_datetime", r"Not a valid (datetime|time|date)\.", lambda t: f"{_obj(t)}格式不正确"),
    ("too_large", r"Number too large\.", "数值过大"),
    ("not_finite", r"Special numeric values \(nan or infinity\) are not permitted\.", "不能是 NaN 或无穷大"),
    ("not_one_of", r"Must be one of: (.*)\.", lambda c: f"应为以下之一：{c}"),
    ("not_equal", r"Must be equal to (.*)\.", lambda o: f"应等于 {o}"),
    ("out_of_range", rf"Must be {_OP} (.+) and {_OP} (.+)\.",
     lambda o1, a, o2, b: f"应{_op(o1)} {a} 且{_op(o2)} {b}"),
    ("out_of_range", rf"Must be {_OP} (.+)\.", lambda o, a: f"应{_op(o)} {a}"),
    ("bad_length", r"Length must be between (.+) and (.+)\.", lambda a, b: f"长度应在 {a} 到 {b} 之间"),
    ("bad_length", r"Length must be (.+)\.", lambda n: f"长度应为 {n}"),
    ("too_long", r"Longer than maximum length (.+)\.", lambda n: f"长度不能超过 {n}"),
    ("too_short", r"Shorter than minimum length (.+)\.", lambda n: f"长度不能少于 {n}"),
    ("bad_format", r"String does not match expected pattern\.", "格式不正确"),
    ("not_allowed", r"One or more of the choices you made was not in: (.*)\.", lambda c: f"含有不允许的选项 (允许：{c})"),
    ("not_allowed", r"One or more of the choices you made was in: (.*)\.", lambda c: f"含有不允许的选项：{c}"),
    ("bad_format", r'"(.*)" cannot be formatted as a (.+)\.', lambda _v, t: f"无法表示为{_obj(t)}"),
    ("bad_format", r"(.*) cannot be formatted as a timedelta\.", lambda _v: "无法表示为时长"),
)
_COMPILED = tuple((code, re.compile(pattern, re.DOTALL), chinese) for code, pattern, chinese in _RULES)


def describe(message: str) -> tuple[str, str]:
    """One marshmallow message → (code, Chinese message); any other message → ("invalid", the message)."""
    for code, pattern, chinese in _COMPILED:
        match = pattern.fullmatch(message)
        if match:
            return code, chinese(*match.groups()) if callable(chinese) else chinese
    return "invalid", message


def field_errors(messages: Any) -> list[dict[str, str]]:
    """marshmallow's nested messages (`{"field": ["…"], "nested": {"0": {"x": ["…"]}}}`) as the API's list: one entry
    per field, `field` the dotted path, `message` its messages in Chinese joined by "；", `code` the first one's."""
    out = []
    for path, msgs in _flatten(messages):
        texts = msgs if isinstance(msgs, list) else [msgs]
        described = [describe(str(m)) for m in texts] or [("invalid", "")]
        out.append({"field": ".".join(map(str, path)), "code": described[0][0],
                    "message": "；".join(text for _code, text in described)})
    return out


def _flatten(messages: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, prefix + (key,))
    else:
        yield prefix, messages

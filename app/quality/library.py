"""The indicator library: definitions are data (`indicators/*.json`), checked against the sources' vocabulary when
loaded, and interpreted here — never evaluated as code.

A formula is `{"source": <name>, "where": [condition, …], "scale": <number, optional>}`; the conditions of a list
must all hold. A condition is `[field, op, value]` with op one of `= != < <= > >= in not_in is_null not_null`,
where `value` is a literal or `{"field": <other field>}`; or `{"all": [...]}`, `{"any": [...]}`, `{"not": cond}`.
A comparison with a missing value is false (a lost-to-follow-up patient has no BP, so is not controlled).
A definition that does not parse or names an unknown field is refused with its JSON path (`invalid_indicator`).

An indicator without a denominator is a count of its numerator rows, or — with `"aggregate": {"field": <numeric
field>, "stat": "mean" | "median"}` — that statistic of the field over the numerator rows that have it (e.g. the
mean response time of consults in minutes, unit `分钟`).
"""
from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from app.core.errors import Invalid

from .sources import SOURCES

FOLDER = Path(__file__).parent / "indicators"
OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "not_null")
ORDERED = ("int", "float", "date")
UNITS = ("%", "人", "人次", "‰", "分钟")
STATS = ("mean", "median")
WINDOWS = ("month", "year_to_date")
DIRECTIONS = ("higher", "lower")
_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "date": (str,)}


@dataclass(frozen=True)
class Formula:
    source: str
    where: tuple[Any, ...]
    scale: float | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    group: str
    unit: str
    direction: str
    window: str
    source_note: str
    edition: str
    numerator: Formula
    denominator: Formula | None
    dimensions: tuple[str, ...] = field(default=())
    aggregate: dict[str, str] | None = None

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None

    @property
    def subject(self) -> str:
        return SOURCES[self.numerator.source].subject


def _fail(path: str, reason: str) -> Invalid:
    return Invalid(f"指标定义错误 {path}: {reason}", code="invalid_indicator", path=path, reason=reason)


def _check_value(source: str, kind: str, value: Any, path: str) -> None:
    if isinstance(value, dict):
        if set(value) != {"field"} or not isinstance(value["field"], str) \
                or value["field"] not in SOURCES[source].fields:
            raise _fail(path, f"unknown field reference {value!r}")
        return
    ok = _TYPES[kind]
    if isinstance(value, bool) and kind != "bool" or not isinstance(value, ok):
        raise _fail(path, f"value {value!r} is not of type {kind}")
    if kind == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            raise _fail(path, f"value {value!r} is not a date") from None


def check_condition(source: str, cond: Any, path: str) -> None:
    """Refuse a condition that does not parse or names an unknown field (the error names its JSON path)."""
    if isinstance(cond, dict):
        if len(cond) != 1 or next(iter(cond)) not in ("all", "any", "not"):
            raise _fail(path, "a group is {\"all\": [...]}, {\"any\": [...]} or {\"not\": condition}")
        op, body = next(iter(cond.items()))
        if op == "not":
            return check_condition(source, body, f"{path}/not")
        if not isinstance(body, list) or not body:
            raise _fail(f"{path}/{op}", "expected a non-empty list of conditions")
        for i, part in enumerate(body):
            check_condition(source, part, f"{path}/{op}/{i}")
        return None
    if not isinstance(cond, list) or len(cond) not in (2, 3):
        raise _fail(path, "a condition is [field, op, value]")
    name, op = cond[0], cond[1]
    kind = SOURCES[source].fields.get(name) if isinstance(name, str) else None
    if kind is None:
        raise _fail(f"{path}/0", f"unknown field {name!r} of source {source}")
    if op not in OPS:
        raise _fail(f"{path}/1", f"unknown operator {op!r}")
    if op in ("is_null", "not_null"):
        return None
    if len(cond) != 3:
        raise _fail(path, "missing value")
    if op in ("<", "<=", ">", ">=") and kind not in ORDERED:
        raise _fail(f"{path}/1", f"operator {op} needs a number or date field, {name} is {kind}")
    if op in ("in", "not_in"):
        if not isinstance(cond[2], list) or not cond[2]:
            raise _fail(f"{path}/2", "in/not_in need a non-empty list")
        for i, item in enumerate(cond[2]):
            _check_value(source, kind, item, f"{path}/2/{i}")
        return None
    _check_value(source, kind, cond[2], f"{path}/2")
    return None


def _formula(data: Any, path: str) -> Formula:
    if not isinstance(data, dict) or not isinstance(data.get("source"), str) or data["source"] not in SOURCES:
        raise _fail(f"{path}/source", f"unknown source, one of {sorted(SOURCES)}")
    where = data.get("where", [])
    if not isinstance(where, list):
        raise _fail(f"{path}/where", "expected a list of conditions")
    for i, cond in enumerate(where):
        check_condition(data["source"], cond, f"{path}/where/{i}")
    scale = data.get("scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0):
        raise _fail(f"{path}/scale", "scale is a positive number")
    return Formula(data["source"], tuple(where), float(scale) if scale is not None else None)


def parse_indicator(data: Any, *, edition: str = "", path: str = "") -> Indicator:
    """One definition, checked: every key, every field, every operator (raises Invalid naming the path)."""
    if not isinstance(data, dict):
        raise _fail(path or "/", "an indicator is an object")
    for key in ("id", "name", "unit", "direction", "window", "numerator"):
        if key not in data:
            raise _fail(f"{path}/{key}", "required")
    for key in ("id", "name", "group", "source_note", "edition"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise _fail(f"{path}/{key}", "a non-empty text")
    for key, allowed in (("unit", UNITS), ("direction", DIRECTIONS), ("window", WINDOWS)):
        if not isinstance(data[key], str) or data[key] not in allowed:
            raise _fail(f"{path}/{key}", f"one of {list(allowed)}")
    numerator = _formula(data["numerator"], f"{path}/numerator")
    denominator = _formula(data["denominator"], f"{path}/denominator") if "denominator" in data else None
    if denominator is not None and data["unit"] not in ("%", "‰"):
        raise _fail(f"{path}/unit", "a rate (with a denominator) is % or ‰")
    aggregate = data.get("aggregate")
    if aggregate is not None:
        if denominator is not None:
            raise _fail(f"{path}/aggregate", "an aggregate has no denominator")
        if not isinstance(aggregate, dict) or set(aggregate) != {"field", "stat"}:
            raise _fail(f"{path}/aggregate", "an aggregate is {\"field\": <numeric field>, \"stat\": mean|median}")
        if SOURCES[numerator.source].fields.get(aggregate["field"]) not in ("int", "float"):
            raise _fail(f"{path}/aggregate/field", f"not a numeric field of source {numerator.source}")
        if aggregate["stat"] not in STATS:
            raise _fail(f"{path}/aggregate/stat", f"one of {list(STATS)}")
    dims = SOURCES[numerator.source].dimensions
    if denominator is not None:
        dims = tuple(d for d in dims if d in SOURCES[denominator.source].dimensions)
    return Indicator(id=data["id"], name=data["name"], group=data.get("group", "other"), unit=data["unit"],
                     direction=data["direction"], window=data["window"], source_note=data.get("source_note", ""),
                     edition=data.get("edition", edition), numerator=numerator, denominator=denominator,
                     dimensions=dims, aggregate=dict(aggregate) if aggregate is not None else None)


@cache
def library() -> dict[str, Indicator]:
    """Every shipped indicator by id, in file order (a bad file fails loudly at first use and in the tests)."""
    out: dict[str, Indicator] = {}
    for file in sorted(FOLDER.glob("*.json")):
        if file.name == "thresholds.json":
            continue
        doc = json.loads(file.read_text(encoding="utf-8"))
        for i, data in enumerate(doc["indicators"]):
            ind = parse_indicator(data, edition=doc.get("edition", ""), path=f"{file.name}#/indicators/{i}")
            if ind.id in out:
                raise _fail(f"{file.name}#/indicators/{i}/id", f"duplicate id {ind.id}")
            out[ind.id] = ind
    return out


@cache
def _thresholds() -> dict[str, Any]:
    return json.loads((FOLDER / "thresholds.json").read_text(encoding="utf-8"))


def thresholds(indicator_id: str, year: int) -> dict[str, float] | None:
    """Target, warning and alarm of an indicator for a year (that year's entry, else the default)."""
    conf = _thresholds()
    return (conf.get(str(year)) or {}).get(indicator_id) or conf["default"].get(indicator_id)


def alert_settings() -> dict[str, Any]:
    """Which organisation levels are alerted and the smallest denominator worth an alert (small numbers are noise)."""
    return {"org_levels": ["county", "township"], "min_denominator": 5, **_thresholds().get("alerts", {})}


def status(ind: Indicator, value: float | None, limits: dict[str, float] | None) -> str:
    """`met`, `below_target`, `warning`, `alarm` or `no_data` (`none` when no thresholds are configured)."""
    if value is None:
        return "no_data"
    if not limits:
        return "none"
    worse = (lambda v, t: v < t) if ind.direction == "higher" else (lambda v, t: v > t)
    if worse(value, limits["alarm"]):
        return "alarm"
    if worse(value, limits["warning"]):
        return "warning"
    return "below_target" if worse(value, limits["target"]) else "met"


# -- interpretation -------------------------------------------------------------------------------------------------

def _resolve(row: dict[str, Any], value: Any) -> Any:
    if isinstance(value, dict):
        return row.get(value["field"])
    return value


def _as_comparable(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, date) and isinstance(right, str):
        return left, date.fromisoformat(right)
    return left, right


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "is_null":
        return left is None
    if op == "not_null":
        return left is not None
    if left is None:
        return False
    if op in ("in", "not_in"):
        inside = left in right
        return inside if op == "in" else not inside
    if right is None:
        return False
    left, right = _as_comparable(left, right)
    return _COMPARISONS[op](left, right)


_COMPARISONS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
                ">=": operator.ge}


def matches(row: dict[str, Any], cond: Any) -> bool:
    """Whether one row satisfies a (checked) condition."""
    if isinstance(cond, dict):
        op, body = next(iter(cond.items()))
        if op == "not":
            return not matches(row, body)
        parts = (matches(row, c) for c in body)
        return all(parts) if op == "all" else any(parts)
    right = cond[2] if len(cond) == 3 else None
    if isinstance(right, list):
        right = [_resolve(row, v) for v in right]
    return _compare(row.get(cond[0]), cond[1], _resolve(row, right))


def selects(formula: Formula, row: dict[str, Any]) -> bool:
    return all(matches(row, c) for c in formula.where)


def compiled(formula: Formula) -> Callable[[dict[str, Any]], bool]:
    """`selects` for one formula as a function built once (the refresh tests every row of a source against each
    indicator): the same conditions and comparisons, without reading the condition's shape on every row."""
    tests = [_compiled(c) for c in formula.where]
    return lambda row: all(t(row) for t in tests)


def _compiled(cond: Any) -> Callable[[dict[str, Any]], bool]:
    if isinstance(cond, dict):
        op, body = next(iter(cond.items()))
        if op == "not":
            inner = _compiled(body)
            return lambda row: not inner(row)
        parts = [_compiled(c) for c in body]
        if op == "all":
            return lambda row: all(p(row) for p in parts)
        return lambda row: any(p(row) for p in parts)
    field, op = cond[0], cond[1]
    right = cond[2] if len(cond) == 3 else None
    if isinstance(right, list) and any(isinstance(v, dict) for v in right):
        values = right
        return lambda row: _compare(row.get(field), op, [_resolve(row, v) for v in values])
    if isinstance(right, dict):
        other = right["field"]
        return lambda row: _compare(row.get(field), op, row.get(other))
    return lambda row: _compare(row.get(field), op, right)

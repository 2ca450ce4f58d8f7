"""A report definition, checked before anything is counted: every refusal is `422` with a stable `code` and the JSON
`path` of the offending part (e.g. `/measures/1/code`), so the builder can point at it.

    {"measures": [{"kind": "indicator" | "raw", "code": ...}, ...],     1 … 8
     "rows": ["org", "disease"],               1 or 2 row dimensions (none: the organisation itself)
     "columns": ["period"],                    0 or 1 column dimension (× the measures)
     (or the older "dimensions": [row, column?], read as rows [row] and columns [column])
     "filters": {"disease": ["htn"], "sex": ["F"], ...},                 values of dimensions, all measures must offer
     "org_code": "C01",                        default: the caller's own organisation (county-wide: the county)
     "period": {"from": "2026-04", "to": "2026-06", "granularity": "month" | "quarter" | "year"},
     "compare": ["mom", "yoy"]}                环比 (the period before) / 同比 (the same period a year before)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.core.errors import Invalid
from app.quality.library import Indicator
from app.quality.sources import AGE_BANDS
from app.vocabulary import Disease, RiskLevel, Sex

from .measures import COMPARISONS, DIMENSION_LABELS, GRANULARITIES, PERIOD_DIMENSION, find

MAX_MEASURES = 8
MAX_BUCKETS = 36
MAX_ROW_DIMENSIONS = 2
MAX_COLUMN_DIMENSIONS = 1
MONTH = re.compile(r"^((?:19|20)\d{2})-(0[1-9]|1[0-2])$")
FILTER_VALUES: dict[str, tuple[str, ...] | None] = {
    "disease": Disease.codes(), "risk_level": RiskLevel.codes(), "sex": Sex.codes(),
    "age_band": tuple(label for _lo, _hi, label in AGE_BANDS), "doctor": None}      # doctor: user ids


@dataclass(frozen=True)
class Measure:
    kind: str
    code: str
    indicator: Indicator

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.code}"


@dataclass(frozen=True)
class Definition:
    measures: tuple[Measure, ...]
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    filters: dict[str, tuple[Any, ...]]
    org_code: str | None
    start: str                      # YYYY-MM
    end: str                        # YYYY-MM
    granularity: str
    compare: tuple[str, ...]

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.rows + self.columns

    @property
    def groups(self) -> tuple[str, ...]:
        """The dimensions besides the period, rows first (empty: the organisation itself)."""
        return tuple(d for d in self.dimensions if d != PERIOD_DIMENSION)


def _fail(code: str, path: str, message: str, **extra: Any) -> Invalid:
    return Invalid(f"报表定义有误 ({path}): {message}", code=code, path=path, **extra)


def _measure(item: Any, i: int) -> Measure:
    path = f"/measures/{i}"
    if not isinstance(item, dict) or not isinstance(item.get("kind"), str) or not isinstance(item.get("code"), str):
        raise _fail("invalid_report", path, "指标应为 {kind, code}")
    if item["kind"] not in ("indicator", "raw"):
        raise _fail("unknown_measure", f"{path}/kind", "kind 应为 indicator 或 raw")
    ind = find(item["kind"], item["code"])
    if ind is None:
        raise _fail("unknown_measure", f"{path}/code", "没有这个指标或统计量", value=item["code"])
    return Measure(item["kind"], item["code"], ind)


def _month(value: Any, path: str) -> str:
    if not isinstance(value, str) or not MONTH.match(value):
        raise _fail("invalid_period", path, "统计期格式应为 YYYY-MM", value=value)
    return value


def month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:]) - 1


def parse(data: Any) -> Definition:
    """The definition, checked (raises Invalid with `code` and `path`)."""
    if not isinstance(data, dict):
        raise _fail("invalid_report", "/", "报表定义应为对象")
    unknown = sorted(set(data) - {"measures", "dimensions", "rows", "columns", "filters", "org_code", "period",
                                  "compare", "name"})
    if unknown:
        raise _fail("invalid_report", f"/{unknown[0]}", "未知的字段")
    raw_measures = data.get("measures")
    if not isinstance(raw_measures, list) or not 1 <= len(raw_measures) <= MAX_MEASURES:
        raise _fail("invalid_report", "/measures", f"请选择 1 至 {MAX_MEASURES} 个指标")
    measures = tuple(_measure(m, i) for i, m in enumerate(raw_measures))
    if len({m.key for m in measures}) != len(measures):
        raise _fail("invalid_report", "/measures", "指标重复")
    rows, columns = _layout(data)
    dims = [*rows, *columns]
    for i, d in enumerate(dims):
        for j, m in enumerate(measures):
            if d != PERIOD_DIMENSION and d not in m.indicator.dimensions:
                raise _fail("dimension_not_supported", _dim_path(data, d),
                            f"「{m.indicator.name}」不能按{DIMENSION_LABELS[d]}统计", measure=j)
    filters = _filters(data.get("filters") or {}, measures)
    org_code = data.get("org_code")
    if org_code is not None and (not isinstance(org_code, str) or not org_code.strip()):
        raise _fail("invalid_report", "/org_code", "机构编码应为文本")
    period = data.get("period")
    if not isinstance(period, dict):
        raise _fail("invalid_period", "/period", "请选择统计期")
    start, end = _month(period.get("from"), "/period/from"), _month(period.get("to"), "/period/to")
    granularity = period.get("granularity", "month")
    if granularity not in GRANULARITIES:
        raise _fail("invalid_period", "/period/granularity", "粒度应为 month / quarter / year")
    if month_index(start) > month_index(end):
        raise _fail("invalid_period", "/period", "开始月份晚于结束月份")
    compare = data.get("compare") or []
    if not isinstance(compare, list):
        raise _fail("invalid_report", "/compare", "对比应为列表")
    for i, c in enumerate(compare):
        if not isinstance(c, str) or c not in COMPARISONS:
            raise _fail("invalid_report", f"/compare/{i}", "对比应为 mom (环比) 或 yoy (同比)")
    out = Definition(measures, rows, columns, filters, org_code, start, end, granularity, tuple(dict.fromkeys(compare)))
    if len(buckets(out)) > MAX_BUCKETS:
        raise _fail("period_range_too_long", "/period", f"统计期最多 {MAX_BUCKETS} 期, 请缩小范围")
    return out


def _dim_list(value: Any, path: str, most: int, what: str) -> list[str]:
    if not isinstance(value, list) or len(value) > most:
        raise _fail("invalid_report", path, f"{what}最多 {most} 个")
    for i, d in enumerate(value):
        if not isinstance(d, str) or d not in DIMENSION_LABELS:
            raise _fail("unknown_dimension", f"{path}/{i}", "没有这个维度", value=d)
    return value


def _layout(data: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(row dimensions, column dimensions): `rows`/`columns`, or the older `dimensions` [row, column?]."""
    if "dimensions" in data and ("rows" in data or "columns" in data):
        raise _fail("invalid_report", "/dimensions", "dimensions 与 rows/columns 只能用一种")
    if "dimensions" in data:
        dims = _dim_list(data["dimensions"], "/dimensions", 2, "维度")
        if sum(d != PERIOD_DIMENSION for d in dims) > 1:
            raise _fail("invalid_report", "/dimensions", "除统计期外最多选一个维度")
        rows, columns = dims[:1], dims[1:]
    else:
        rows = _dim_list(data.get("rows", []), "/rows", MAX_ROW_DIMENSIONS, "行维度")
        columns = _dim_list(data.get("columns", []), "/columns", MAX_COLUMN_DIMENSIONS, "列维度")
    if len(set(rows + columns)) != len(rows) + len(columns):
        raise _fail("invalid_report", "/dimensions" if "dimensions" in data else "/columns" if columns else "/rows",
                    "维度重复")
    if not rows and columns:
        raise _fail("invalid_report", "/rows", "请先选择行维度")
    return tuple(rows), tuple(columns)


def _dim_path(data: dict[str, Any], dim: str) -> str:
    for key in ("dimensions", "rows", "columns"):
        if isinstance(data.get(key), list) and dim in data[key]:
            return f"/{key}/{data[key].index(dim)}"
    return "/rows"


def _filters(data: Any, measures: tuple[Measure, ...]) -> dict[str, tuple[Any, ...]]:
    if not isinstance(data, dict):
        raise _fail("invalid_report", "/filters", "筛选应为对象")
    out: dict[str, tuple[Any, ...]] = {}
    for dim, values in data.items():
        path = f"/filters/{dim}"
        if dim not in FILTER_VALUES:
            raise _fail("unknown_dimension", path, "不能按此维度筛选", value=dim)
        if not isinstance(values, list) or not values:
            raise _fail("invalid_report", path, "筛选值应为非空列表")
        allowed = FILTER_VALUES[dim]
        for i, v in enumerate(values):
            ok = isinstance(v, int) and not isinstance(v, bool) if allowed is None else v in allowed
            if not ok:
                raise _fail("invalid_filter", f"{path}/{i}", "筛选值无效", value=v)
        for j, m in enumerate(measures):
            if dim not in m.indicator.dimensions:
                raise _fail("dimension_not_supported", path, f"「{m.indicator.name}」不能按{DIMENSION_LABELS[dim]}筛选",
                            measure=j)
        out[dim] = tuple(values)
    return out


@dataclass(frozen=True)
class Bucket:
    """A span of whole months (`first` … `last`, YYYY-MM) and how it is shown."""
    first: str
    last: str
    label: str


def _period_of(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _bucket(first: int, last: int, granularity: str) -> Bucket:
    year, month = first // 12, first % 12 + 1
    if first == last:
        label = f"{year}年{month}月"
    elif granularity == "quarter" and last - first == 2 and (month - 1) % 3 == 0:
        label = f"{year}年第{(month - 1) // 3 + 1}季度"
    elif granularity == "year" and last - first == 11 and month == 1:
        label = f"{year}年"
    else:
        label = f"{_period_of(first)}~{_period_of(last)}"
    return Bucket(_period_of(first), _period_of(last), label)


def _span(index: int, granularity: str) -> tuple[int, int]:
    if granularity == "month":
        return index, index
    size = 3 if granularity == "quarter" else 12
    first = index - index % size
    return first, first + size - 1


def buckets(d: Definition) -> list[Bucket]:
    """The periods of the report: each month / quarter / year touching the range when `period` is a dimension,
    else the whole range as one."""
    lo, hi = month_index(d.start), month_index(d.end)
    if PERIOD_DIMENSION not in d.dimensions:
        return [_bucket(lo, hi, d.granularity)]
    out, i = [], lo
    while i <= hi:
        first, last = _span(i, d.granularity)
        out.append(_bucket(first, last, d.granularity))
        i = last + 1
    return out


def shifted(b: Bucket, granularity: str, compare: str) -> Bucket:
    """The period a comparison reads: the one before (环比, same length) or the same a year before (同比)."""
    first, last = month_index(b.first), month_index(b.last)
    step = 12 if compare == "yoy" else last - first + 1
    return _bucket(first - step, last - step, granularity)

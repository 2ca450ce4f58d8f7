"""Running a report: each measure counted per period and per value of the other dimension with the quality
library's own functions (the same windows, rows and figures as the quality overview), then laid out as a pivot
(rows × columns) with 环比 / 同比 beside each figure.

The caller's scope applies: an organisation outside it answers 404 (`app.quality.queries.resolve_org`); rows are
read from that organisation's subtree only. A pivot over `MAX_ROWS` rows or `MAX_CELLS` cells is refused
(`422 too_many_rows`, narrow the organisation, dimension or filters)."""
from __future__ import annotations

from datetime import date
from typing import Any

from app.auth.principal import Principal
from app.auth.queries import users_by_id
from app.core.errors import Invalid
from app.quality import queries as quality
from app.quality.sources import Window
from app.vocabulary import Disease, RiskLevel, Sex

from .definition import Bucket, Definition, Measure, buckets, month_index, parse, shifted
from .measures import COMPARISONS, DIMENSION_LABELS, PERIOD_DIMENSION

MAX_ROWS = 500
MAX_CELLS = 10_000
FILTER_FIELDS = {"doctor": "doctor_id"}


class FilteredRows(quality.Rows):
    """The quality rows of an organisation's subtree, keeping only those matching the report's filters."""

    def __init__(self, prefix: str, filters: dict[str, tuple[Any, ...]]) -> None:
        super().__init__(prefix)
        self.filters = {FILTER_FIELDS.get(k, k): set(v) for k, v in filters.items()}

    def of(self, source: str, w: Window) -> list[dict[str, Any]]:
        rows = super().of(source, w)
        if not self.filters:
            return rows
        return [r for r in rows if all(r.get(f) in allowed for f, allowed in self.filters.items())]


def _window(m: Measure, b: Bucket) -> Window:
    """The days a measure counts for a period: the period's months (to today for the current month), or 1 January
    to its end for a year-to-date indicator; for one month exactly the quality overview's window."""
    end = quality.month_end(b.last)
    first = date(int(b.first[:4]), int(b.first[5:]), 1)
    start = date(end.year, 1, 1) if m.indicator.window == "year_to_date" else first
    return Window(start, end, b.last)


def _figures(m: Measure, b: Bucket, rows: quality.Rows, org, by: str | None) -> dict[str, dict[str, Any]]:
    """The figure per value of the dimension (key → figure with `label`)."""
    if month_index(b.last) < 0 or b.first > quality.current_period():
        return {}
    w = _window(m, b)
    if by is None:
        num, den = quality.parts(m.indicator, w, rows)
        return {org.code: {"label": org.name, **quality.figure(m.indicator, num, den, w.end.year)}}
    return {str(g["key"]): g for g in quality.groups(m.indicator, w, rows, org, by)}


def _change(value: float | None, base: float | None) -> dict[str, Any]:
    if value is None or base is None:
        return {"base": base, "change": None, "change_pct": None}
    return {"base": base, "change": round(value - base, 1),
            "change_pct": round(100.0 * (value - base) / base, 1) if base else None}


def run(p: Principal, data: Any) -> dict[str, Any]:
    """The report as a pivot: `rows` (the first dimension), `columns` (the second dimension × measures, or the
    measures), each cell a figure with its comparisons."""
    d = parse(data)
    org = quality.resolve_org(p, d.org_code)
    if d.start > quality.current_period():
        raise Invalid("统计期尚未开始", code="period_in_future", path="/period/from", value=d.start)
    rows = FilteredRows(org.path, d.filters)
    periods = buckets(d)
    by = d.by
    figures: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    bases: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
    labels: dict[str, str] = {}
    for m in d.measures:
        for b in periods:
            got = figures[(m.key, b.first)] = _figures(m, b, rows, org, by)
            labels.update({k: f["label"] for k, f in got.items()})
            for c in d.compare:
                bases[(m.key, b.first, c)] = _figures(m, shifted(b, d.granularity, c), rows, org, by)
    group_keys = list(labels)
    axes = {PERIOD_DIMENSION: [(b.first, b.label) for b in periods]}
    axes["_group"] = [(k, labels[k]) for k in group_keys]
    dims = [dim if dim == PERIOD_DIMENSION else "_group" for dim in d.dimensions] or ["_group"]
    row_axis = axes[dims[0]]
    col_axis = axes[dims[1]] if len(dims) > 1 else [(None, None)]
    columns = [{"key": f"{ck}|{m.key}" if ck is not None else m.key, "value_key": ck, "value_label": cl,
                "measure": m.key, "measure_name": m.indicator.name, "unit": m.indicator.unit,
                "label": f"{cl} · {m.indicator.name}" if cl is not None else m.indicator.name}
               for ck, cl in col_axis for m in d.measures]
    if len(row_axis) > MAX_ROWS or len(row_axis) * len(columns) > MAX_CELLS:
        raise Invalid(f"报表超过 {MAX_ROWS} 行或 {MAX_CELLS} 个单元格, 请缩小机构、维度或筛选范围", code="too_many_rows",
                      limit=MAX_ROWS, total=len(row_axis), cells=len(row_axis) * len(columns))
    only_bucket, only_group = periods[-1].first, group_keys[0] if group_keys else org.code

    def cell(rk: str, ck: str | None, m: Measure) -> dict[str, Any]:
        coords = {dims[0]: rk}
        if ck is not None:
            coords[dims[1]] = ck
        bk, gk = coords.get(PERIOD_DIMENSION, only_bucket), coords.get("_group", only_group)
        fig = figures[(m.key, bk)].get(gk)
        out: dict[str, Any] = {"value": None, "numerator": None, "denominator": None, "status": "no_data"}
        if fig is not None:
            out = {k: fig[k] for k in ("value", "numerator", "denominator", "status")}
        for c in d.compare:
            base = bases[(m.key, bk, c)].get(gk)
            out[c] = _change(out["value"], base["value"] if base else None)
        return out

    table = [{"key": rk, "label": rl, "cells": [cell(rk, ck, m) for ck, _cl in col_axis for m in d.measures]}
             for rk, rl in row_axis]
    return {"org": {"code": org.code, "name": org.name, "level": org.level},
            "definition": data, "period_label": f"{periods[0].label} 至 {periods[-1].label}"
            if len(periods) > 1 else periods[0].label,
            "row_dimension": _dim(d.dimensions[0] if d.dimensions else None),
            "column_dimension": _dim(d.dimensions[1] if len(d.dimensions) > 1 else None),
            "measures": [{"key": m.key, "name": m.indicator.name, "unit": m.indicator.unit} for m in d.measures],
            "comparisons": [{"code": c, "label": COMPARISONS[c]} for c in d.compare],
            "filters": _filter_labels(d), "columns": columns, "rows": table}


def _dim(code: str | None) -> dict[str, str]:
    if code is None:
        return {"code": "org_self", "label": "机构"}
    return {"code": code, "label": DIMENSION_LABELS[code]}


def _value_label(dim: str, value: Any) -> str:
    if dim == "disease":
        return Disease.label_of(value)
    if dim == "risk_level":
        return RiskLevel.label_of(value)
    if dim == "sex":
        return Sex.label_of(value)
    if dim == "doctor":
        user = users_by_id([value]).get(value)
        return (user.display_name if user else None) or "未指定"
    return str(value)


def _filter_labels(d: Definition) -> list[dict[str, Any]]:
    return [{"dimension": k, "label": DIMENSION_LABELS[k], "values": list(v),
             "value_labels": [_value_label(k, x) for x in v]} for k, v in d.filters.items()]


def check(data: Any) -> Definition:
    """The definition checked without running it (saving a report)."""
    return parse(data)

"""Running a report: each measure counted per period and per value of the other dimension with the quality
library's own functions (the same windows, rows and figures as the quality overview), then laid out as a pivot
(rows × columns) with 环比 / 同比 beside each figure.

The caller's scope applies: an organisation outside it answers 404 (`app.quality.queries.resolve_org`); rows are
read from that organisation's subtree only. A pivot over `MAX_ROWS` rows (`YGT_REPORT_MAX_ROWS`, default 500) or
`MAX_CELLS` cells is refused (`422 too_many_rows`, narrow the organisation, dimension or filters, or run it as a
background job: app.report_builder.jobs.build_report)."""
from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from typing import Any

from app.auth.principal import Principal
from app.auth.queries import users_by_id
from app.core.errors import Invalid
from app.org import queries as org_queries
from app.quality import queries as quality
from app.quality.sources import Window
from app.vocabulary import UNGRADED_LABEL, Disease, RiskLevel, Sex

from .definition import Bucket, Definition, Measure, buckets, month_index, parse, shifted
from .measures import COMPARISONS, DIMENSION_LABELS, PERIOD_DIMENSION

MAX_ROWS = int(os.environ.get("YGT_REPORT_MAX_ROWS", "500"))        # the page's limit; a job goes to 20,000
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


def _key_fn(dim: str, children) -> Callable[[dict[str, Any]], Any]:
    """The value of a dimension in a quality row (a child organisation's code or 本级 for `org`)."""
    if dim == "org":
        paths = [(c.path, c.code) for c in children]

        def org_key(row: dict[str, Any]) -> Any:
            path = row.get("org_path") or ""
            return next((code for p, code in paths if path.startswith(p)), quality.SELF)
        return org_key
    field = FILTER_FIELDS.get(dim, dim)
    return lambda row: row.get(field)


def _grouped(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], tuple]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return out


def _figures(m: Measure, b: Bucket, rows: quality.Rows, org, groups: tuple[str, ...],
             children) -> dict[tuple, dict[str, Any]]:
    """The figure per combination of the group dimensions' values (a tuple; `()` for the organisation itself).
    One group dimension: exactly the quality library's `groups` (every child organisation, with 本级 when it has
    rows); several: the combinations that have rows."""
    if month_index(b.last) < 0 or b.first > quality.current_period():
        return {}
    w = _window(m, b)
    if not groups:
        num, den = quality.parts(m.indicator, w, rows)
        return {(): quality.figure(m.indicator, num, den, w.end.year)}
    if len(groups) == 1:
        return {(g["key"],): g for g in quality.groups(m.indicator, w, rows, org, groups[0])}
    num, den = quality.parts(m.indicator, w, rows)
    fns = [_key_fn(g, children) for g in groups]

    def key(r: dict[str, Any]) -> tuple:
        return tuple(f(r) for f in fns)
    gn, gd = _grouped(num, key), _grouped(den or [], key)
    return {k: quality.figure(m.indicator, gn.get(k, []), None if den is None else gd.get(k, []), w.end.year)
            for k in set(gn) | set(gd)}


def _change(value: float | None, base: float | None) -> dict[str, Any]:
    if value is None or base is None:
        return {"base": base, "change": None, "change_pct": None}
    return {"base": base, "change": round(value - base, 1),
            "change_pct": round(100.0 * (value - base) / base, 1) if base else None}


def _ordered(dim: str, values: set[Any], children) -> list[Any]:
    if dim == "org":
        order = [c.code for c in children] + [quality.SELF]
        return [v for v in order if v in values]
    return sorted(values, key=lambda v: (v is None, str(v)))


def _labels(dim: str, values: list[Any], org, children) -> dict[Any, str]:
    if dim == "org":
        names = {c.code: c.name for c in children} | {quality.SELF: f"{org.name} (本级)"}
        return {v: names.get(v, str(v)) for v in values}
    if dim == "doctor":
        users = users_by_id([v for v in values if v])
        return {v: ((users[v].display_name or "未填写姓名") if v in users else "未指定") for v in values}
    return {v: _value_label(dim, v) for v in values}


def _key_text(value: Any) -> str:
    return "" if value is None else str(value)


def run(p: Principal, data: Any, *, max_rows: int | None = None,
        progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """The report as a pivot: `rows` (one line per combination of the row dimensions' values), `columns` (the
    column dimension's values × measures, or the measures), each cell a figure with its comparisons and the
    coordinates of its drill-down (`coords`). Over `max_rows` (default `MAX_ROWS`) rows or `MAX_CELLS` cells:
    `422 too_many_rows` with `details.job` (it may run as a background job)."""
    d = parse(data)
    org = quality.resolve_org(p, d.org_code)
    if d.start > quality.current_period():
        raise Invalid("统计期尚未开始", code="period_in_future", path="/period/from", value=d.start)
    rows = FilteredRows(org.path, d.filters)
    periods = buckets(d)
    groups = d.groups
    children = org_queries.children(org.code, exclude_levels=("department",)) if "org" in groups else []
    figures: dict[tuple[str, str], dict[tuple, dict[str, Any]]] = {}
    bases: dict[tuple[str, str, str], dict[tuple, dict[str, Any]]] = {}
    steps, done = len(d.measures) * len(periods) * (1 + len(d.compare)), 0
    for m in d.measures:
        for b in periods:
            figures[(m.key, b.first)] = _figures(m, b, rows, org, groups, children)
            done += 1
            for c in d.compare:
                bases[(m.key, b.first, c)] = _figures(m, shifted(b, d.granularity, c), rows, org, groups, children)
                done += 1
            if progress is not None:
                progress(done, steps + 1)
    combos = {k for got in figures.values() for k in got}
    values = {g: _ordered(g, {k[i] for k in combos}, children) for i, g in enumerate(groups)}
    labels = {g: _labels(g, values[g], org, children) for g in groups}

    def axis(dims: tuple[str, ...]) -> list[list[tuple[str, Any, str]]]:
        """The points of an axis: each a list of (dimension, value, label)."""
        if not dims:
            return [[]]
        points: list[list[tuple[str, Any, str]]] = [[]]
        for dim in dims:
            if dim == PERIOD_DIMENSION:
                options = [(dim, b.first, b.label) for b in periods]
            else:
                options = [(dim, v, labels[dim][v]) for v in values[dim]]
            points = [pt + [o] for pt in points for o in options]
        if sum(dim != PERIOD_DIMENSION for dim in dims) > 1:          # only combinations that have figures
            at = [groups.index(dim) for dim in dims if dim != PERIOD_DIMENSION]
            present = {tuple(k[i] for i in at) for k in combos}
            points = [pt for pt in points if tuple(v for dim, v, _l in pt if dim != PERIOD_DIMENSION) in present]
        return points

    row_axis = axis(d.rows) if d.rows else [[("org_self", org.code, org.name)]]
    col_axis = axis(d.columns)
    columns = []
    for pt in col_axis:
        ck = "|".join(_key_text(v) for _dim, v, _l in pt) or None
        cl = " · ".join(label for _dim, _v, label in pt) or None
        for m in d.measures:
            columns.append({"key": f"{ck}|{m.key}" if ck is not None else m.key, "value_key": ck, "value_label": cl,
                            "measure": m.key, "measure_name": m.indicator.name, "unit": m.indicator.unit,
                            "label": f"{cl} · {m.indicator.name}" if cl is not None else m.indicator.name})
    limit = max_rows or MAX_ROWS
    if len(row_axis) > limit or len(row_axis) * len(columns) > max(MAX_CELLS, limit * 20):
        raise Invalid(f"报表超过 {limit} 行或 {MAX_CELLS} 个单元格, 可缩小机构、维度或筛选范围, 或转为后台生成",
                      code="too_many_rows", limit=limit, total=len(row_axis), cells=len(row_axis) * len(columns),
                      job=max_rows is None)
    only_bucket = periods[-1].first

    def cell(coords: dict[str, Any], m: Measure) -> dict[str, Any]:
        bk = coords.get(PERIOD_DIMENSION, only_bucket)
        gk = tuple(coords.get(g) for g in groups)
        fig = figures[(m.key, bk)].get(gk)
        out: dict[str, Any] = {"value": None, "numerator": None, "denominator": None, "status": "no_data"}
        if fig is not None:
            out = {k: fig[k] for k in ("value", "numerator", "denominator", "status")}
        for c in d.compare:
            base = bases[(m.key, bk, c)].get(gk)
            out[c] = _change(out["value"], base["value"] if base else None)
        out["coords"] = {"period": bk, **{g: coords.get(g) for g in groups}}
        return out

    table = []
    for rp in row_axis:
        rc = {dim: v for dim, v, _l in rp}
        table.append({"key": "|".join(_key_text(v) for _dim, v, _l in rp), "label": " · ".join(lab for *_x, lab in rp),
                      "labels": [lab for *_x, lab in rp],
                      "cells": [cell({**rc, **{dim: v for dim, v, _l in cp}}, m) for cp in col_axis
                                for m in d.measures]})
    if progress is not None:
        progress(steps + 1, steps + 1)
    row_dims = [_dim(x) for x in d.rows] or [_dim(None)]
    return {"org": {"code": org.code, "name": org.name, "level": org.level},
            "definition": data, "period_label": f"{periods[0].label} 至 {periods[-1].label}"
            if len(periods) > 1 else periods[0].label,
            "row_dimension": {"code": "+".join(x["code"] for x in row_dims),
                              "label": " × ".join(x["label"] for x in row_dims)},
            "row_dimensions": row_dims,
            "column_dimension": _dim(d.columns[0]) if d.columns else None,
            "measures": [{"key": m.key, "name": m.indicator.name, "unit": m.indicator.unit} for m in d.measures],
            "comparisons": [{"code": c, "label": COMPARISONS[c]} for c in d.compare],
            "filters": _filter_labels(d), "columns": columns, "rows": table}


def _dim(code: str | None) -> dict[str, str]:
    if code is None:
        return {"code": "org_self", "label": "机构"}
    return {"code": code, "label": DIMENSION_LABELS[code]}


def _value_label(dim: str, value: Any) -> str:
    if dim == "disease":
        return Disease.label_of(value, "未注明")
    if dim == "risk_level":
        return RiskLevel.label_of(value, UNGRADED_LABEL)
    if dim == "sex":
        return Sex.label_of(value, "未知")
    if dim == "doctor":
        user = users_by_id([value]).get(value)
        return (user.display_name if user else None) or "未指定"
    return "未知" if value is None else str(value)


def _filter_labels(d: Definition) -> list[dict[str, Any]]:
    return [{"dimension": k, "label": DIMENSION_LABELS[k], "values": list(v),
             "value_labels": [_value_label(k, x) for x in v]} for k, v in d.filters.items()]


def check(data: Any) -> Definition:
    """The definition checked without running it (saving a report)."""
    return parse(data)


class CellRows(quality.Rows):
    """The rows of a report's organisation and filters that fall in one cell (its group dimensions' values)."""

    def __init__(self, parent: quality.Rows, keys: list[tuple[Callable[[dict[str, Any]], Any], Any]]) -> None:
        super().__init__(parent.prefix)
        self.parent, self.keys = parent, keys

    def of(self, source: str, w: Window) -> list[dict[str, Any]]:
        return [r for r in self.parent.of(source, w) if all(key(r) == value for key, value in self.keys)]


def drilldown(p: Principal, data: Any, *, measure: str, coords: dict[str, Any], part: str, page: int = 1,
              per_page: int = 50) -> dict[str, Any]:
    """The de-duplicated residents (or tasks) behind one cell of a report: the cell's measure, period and group
    values (`coords`, as `run` gives them) under the report's organisation and filters, counted by the quality
    library's own `behind` (numerator, denominator or gap) and listed by its `items`."""
    d = parse(data)
    org = quality.resolve_org(p, d.org_code)
    m = next((x for x in d.measures if x.key == measure), None)
    if m is None:
        raise Invalid("报表中没有这个指标", code="unknown_measure", path="/measure", value=measure)
    for key, value in coords.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise Invalid("单元格坐标应为文本或数字", code="invalid_coords", path=f"/coords/{key}")
    periods = buckets(d)
    wanted = coords.get(PERIOD_DIMENSION) or periods[-1].first
    b = next((x for x in periods if x.first == wanted), None)
    if b is None or b.first > quality.current_period():
        raise Invalid("单元格的统计期不在报表范围内", code="invalid_coords", path="/coords/period", value=wanted)
    extra = sorted(set(coords) - {PERIOD_DIMENSION, *d.groups})
    if extra:
        raise Invalid("单元格坐标含有报表没有的维度", code="invalid_coords", path=f"/coords/{extra[0]}")
    children = org_queries.children(org.code, exclude_levels=("department",)) if "org" in d.groups else []
    if "org" in coords and coords["org"] != quality.SELF and coords["org"] not in {c.code for c in children}:
        raise Invalid("单元格的机构不在报表机构之下", code="invalid_coords", path="/coords/org", value=coords["org"])
    keys = [(_key_fn(g, children), coords.get(g)) for g in d.groups if g in coords]
    rows = CellRows(FilteredRows(org.path, d.filters), keys)
    w = _window(m, b)
    found = quality.behind(m.indicator, w, rows, part)
    formula = m.indicator.numerator if part == "numerator" or m.indicator.denominator is None \
        else m.indicator.denominator
    page_rows = found[(page - 1) * per_page: page * per_page]
    return {"indicator": quality.describe(m.indicator, w.end.year), "period": b.label, "org": {"code": org.code, "name": org.name, "level": org.level},
            "part": part, "total": len(found), "items": quality.items(page_rows, formula.source), "doctor_id": None}


def org_choices(p: Principal) -> list[dict[str, Any]]:
    """The organisations the caller may report on: their own (county-wide: the county) and everything below it
    (departments left out), in tree order with their depth below it."""
    top = quality.resolve_org(p, None)
    base = top.path.strip("/").count("/")
    return [{"code": o.code, "name": o.name, "level": o.level, "depth": o.path.strip("/").count("/") - base}
            for o in org_queries.orgs_in_scope(p, under=top.code) if o.level != "department"]

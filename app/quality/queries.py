"""Read side of quality control: indicator values for a period and an organisation (with its child organisations),
breakdowns by a dimension, monthly trends and the drill-down list behind a figure.

Every entry point takes the caller's `Principal`: an organisation outside their scope answers 404, and rows are
read from that organisation's subtree only. Rows of one request are fetched once per source and window
(`Rows`), then counted per group in memory.

The overview, breakdowns (by organisation, disease, risk level, doctor) and trends read the materialized figures of
`app.quality.aggregates` for the months that have them (`freshness` in the answer: as-of time, `live` when a month
was computed from the rows), so do the breakdowns by age band and sex and the peer scores; drill-down lists are
always computed live.
"""
from __future__ import annotations

import calendar
import re
import statistics
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from app.auth.principal import Principal
from app.auth.queries import users_by_id
from app.core import clock
from app.core.errors import Invalid, NotFound
from app.org import queries as org_queries
from app.org.scope import sees_organizations
from app.vocabulary import UNGRADED_LABEL, Disease, RiskLevel, Sex

from . import aggregates, scoring
from .library import Indicator, compiled, library, status, thresholds
from .sources import DIMENSIONS, SOURCES, Window

PERIOD = re.compile(r"^((?:19|20)\d{2})-(0[1-9]|1[0-2])$")
PARTS = ("numerator", "denominator", "gap")
SELF = "_self"


# -- periods and organisations --------------------------------------------------------------------------------------

def current_period() -> str:
    return clock.today().strftime("%Y-%m")


def month_end(period: str) -> date:
    """The last day of a `YYYY-MM` period that counts: the month's last day, or today for the current month."""
    match = PERIOD.match(period or "")
    if not match:
        raise Invalid("统计期格式应为 YYYY-MM", code="invalid_period", field="period", value=period)
    year, month = int(match[1]), int(match[2])
    first, today = date(year, month, 1), clock.today()
    if first > today:
        raise Invalid("统计期尚未开始", code="period_in_future", field="period", value=period)
    return min(date(year, month, calendar.monthrange(year, month)[1]), today)


def window(ind: Indicator, period: str) -> Window:
    end = month_end(period)
    start = date(end.year, 1, 1) if ind.window == "year_to_date" else end.replace(day=1)
    return Window(start, end, period)


def previous_periods(period: str, months: int) -> list[str]:
    year, month = int(period[:4]), int(period[5:])
    out = []
    for _ in range(months):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(out))


def resolve_org(p: Principal, org_code: str | None):
    """The organisation asked for (default: the caller's own), or NotFound when outside the caller's scope."""
    if not sees_organizations(p):
        raise NotFound("机构不存在 (organization not found)", org_code=org_code)
    code = org_code or (p.org_code if not p.county_wide else None)
    org = org_queries.find_org(code) if code else org_queries.root_org()
    if org is None or not (p.county_wide or org.path.startswith(p.org_path)):
        raise NotFound("机构不存在 (organization not found)", org_code=org_code)
    return org


def get_indicator(indicator_id: str) -> Indicator:
    ind = library().get(indicator_id)
    if ind is None:
        raise NotFound("指标不存在 (indicator not found)", indicator_id=indicator_id)
    return ind


# -- counting -------------------------------------------------------------------------------------------------------

class Rows:
    """Rows of each (source, window) under one organisation path, fetched once per request."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._cache: dict[tuple[str, date, date], list[dict[str, Any]]] = {}

    def of(self, source: str, w: Window) -> list[dict[str, Any]]:
        key = (source, w.start, w.end)
        if key not in self._cache:
            self._cache[key] = SOURCES[source].rows(w, self.prefix)
        return self._cache[key]


def parts(ind: Indicator, w: Window, rows: Rows) -> tuple[list[dict], list[dict] | None]:
    """The numerator rows and the denominator rows (None for a count indicator)."""
    test = compiled(ind.numerator)
    num = [r for r in rows.of(ind.numerator.source, w) if test(r)]
    if ind.denominator is None:
        return num, None
    test = compiled(ind.denominator)
    return num, [r for r in rows.of(ind.denominator.source, w) if test(r)]


def figure(ind: Indicator, num: list[dict], den: list[dict] | None, year: int) -> dict[str, Any]:
    """Numerator, denominator (scaled for estimates), value, thresholds and status of one figure."""
    per_key = {r["key"]: r.get(ind.aggregate["field"]) for r in num} if ind.aggregate is not None else None
    n, d, value = counted(ind, len({r["key"] for r in num}),
                          None if den is None else len({r["key"] for r in den}),
                          None if per_key is None else per_key.values())
    limits = thresholds(ind.id, year)
    return {"numerator": n, "denominator": d, "value": value, "thresholds": limits,
            "status": status(ind, value, limits)}


def counted(ind: Indicator, n: int, den_keys: int | None,
            aggregated: Iterable[Any] | None) -> tuple[int, float | None, float | None]:
    """Numerator, denominator (scaled for estimates) and value from the distinct numerator and denominator row
    counts (and, for an aggregate indicator, the field's value per numerator row key): the one formula of a
    figure, shared by the live computation and the refresh."""
    value: float | None = float(n)
    d: float | None = None
    if ind.aggregate is not None:
        value = _statistic(ind.aggregate, aggregated or ())
    if den_keys is not None and ind.denominator is not None:
        scale = ind.denominator.scale
        raw = den_keys * (scale or 1)
        value = round(100.0 * n / raw, 1) if raw else None
        d = round(raw, 1) if scale else int(raw)
    return n, d, value


def _statistic(spec: dict[str, str], per_key: Iterable[Any]) -> float | None:
    values = [float(v) for v in per_key if v is not None]
    if not values:
        return None
    return round(statistics.mean(values) if spec["stat"] == "mean" else statistics.median(values), 1)


def aggregate_of(spec: dict[str, str], rows: list[dict]) -> float | None:
    """Mean or median of a numeric field over the rows that have it (one value per row key), None without any."""
    return _statistic(spec, {r["key"]: r.get(spec["field"]) for r in rows}.values())


def _grouped(rows: Iterable[dict], key: Callable[[dict], Any]) -> dict[Any, list[dict]]:
    out: dict[Any, list[dict]] = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return out


def _child_of(children) -> Callable[[dict], str]:
    paths = [(c.path, c.code) for c in children]

    def key(row: dict) -> str:
        path = row.get("org_path") or ""
        return next((code for p, code in paths if path.startswith(p)), SELF)
    return key


def _dimension_key(by: str) -> Callable[[dict], Any]:
    field = {"doctor": "doctor_id"}.get(by, by)
    return lambda r: r.get(field)


def _label_of(by: str, value: Any, names: dict) -> str:
    if by == "disease":
        return Disease.label_of(value, "未注明")
    if by == "risk_level":
        return RiskLevel.label_of(value, UNGRADED_LABEL)
    if by == "sex":
        return Sex.label_of(value, "未知")
    if by == "doctor":
        return names.get(value, "未指定")
    return value if value is not None else "未知"


def groups(ind: Indicator, w: Window, rows: Rows, org, by: str) -> list[dict[str, Any]]:
    """The figure per child organisation (`by=org`) or per value of a dimension."""
    if by not in ind.dimensions:
        raise Invalid("该指标不支持此维度", code="invalid_dimension", field="by", value=by,
                      allowed=list(ind.dimensions))
    num, den = parts(ind, w, rows)
    if by == "org":
        children = org_queries.children(org.code, exclude_levels=("department",))
        key = _child_of(children)
        labels = {c.code: c.name for c in children} | {SELF: f"{org.name} (本级)"}
        order = [c.code for c in children] + [SELF]
    else:
        key = _dimension_key(by)
        values = {key(r) for r in num} | ({key(r) for r in den} if den is not None else set())
        names = {i: u.display_name or "未填写姓名" for i, u in users_by_id(v for v in values if v).items()} \
            if by == "doctor" else {}
        order = sorted(values, key=lambda v: (v is None, str(v)))
        labels = {v: _label_of(by, v, names) for v in order}
    gn, gd = _grouped(num, key), _grouped(den or [], key)
    out = []
    for k in order:
        if by == "org" and k == SELF and k not in gn and k not in gd:
            continue
        fig = figure(ind, gn.get(k, []), None if den is None else gd.get(k, []), w.end.year)
        out.append({"key": k, "label": labels[k], "org_code": k if by == "org" and k != SELF else None, **fig})
    return out


# -- entry points ---------------------------------------------------------------------------------------------------

def describe(ind: Indicator, year: int | None = None) -> dict[str, Any]:
    def formula(f):
        return None if f is None else {"source": f.source, "source_label": SOURCES[f.source].label,
                                       "where": list(f.where), "scale": f.scale}
    return {"id": ind.id, "name": ind.name, "group": ind.group, "unit": ind.unit, "direction": ind.direction,
            "window": ind.window, "source_note": ind.source_note, "edition": ind.edition,
            "formula": {"numerator": formula(ind.numerator), "denominator": formula(ind.denominator)},
            "aggregate": ind.aggregate,
            "dimensions": [{"code": d, "label": DIMENSIONS[d]} for d in ind.dimensions],
            "thresholds": thresholds(ind.id, year or clock.today().year)}


def catalogue() -> list[dict[str, Any]]:
    return [describe(ind) for ind in library().values()]


def indicator_choices() -> list[dict[str, Any]]:
    """The library as a pick list (id, name, unit, direction) for other capabilities' targets."""
    return [{"id": i.id, "name": i.name, "unit": i.unit, "direction": i.direction} for i in library().values()]


def indicator_value(indicator_id: str, org_code: str, period: str) -> dict[str, Any] | None:
    """One indicator's figure for an organisation's subtree and a month, read by the system (no caller scope):
    None when the indicator, the organisation or the period does not exist yet."""
    ind, org = library().get(indicator_id), org_queries.find_org(org_code)
    if ind is None or org is None:
        return None
    try:
        w = window(ind, period)
    except Invalid:
        return None
    num, den = parts(ind, w, Rows(org.path))
    return {"id": ind.id, "name": ind.name, "unit": ind.unit, **figure(ind, num, den, w.end.year)}


def _org_dict(org) -> dict[str, Any]:
    return {"code": org.code, "name": org.name, "level": org.level}


def overview(p: Principal, *, period: str | None = None, org_code: str | None = None,
             group: str | None = None) -> dict[str, Any]:
    """Every indicator (or one group) for the period and organisation, each with its child organisations."""
    org, period = resolve_org(p, org_code), period or current_period()
    month_end(period)
    chosen = [ind for ind in library().values() if not group or ind.group == group]
    stored = _stored([period], org)
    rows, items = Rows(org.path), []
    for ind in chosen:
        w = window(ind, period)
        if stored is not None:
            fig, children = stored.figure(ind, period, org.code), _stored_org_groups(stored, ind, period, org)
        else:
            num, den = parts(ind, w, rows)
            fig, children = figure(ind, num, den, w.end.year), groups(ind, w, rows, org, "org")
        items.append({**describe(ind, w.end.year), **fig, "window_start": w.start, "window_end": w.end,
                      "children": children})
    return {"period": period, "org": _org_dict(org), "indicators": items,
            "freshness": aggregates.freshness([period])}


def _children(org) -> list:
    return org_queries.children(org.code, exclude_levels=("department",))


def _stored(periods: list[str], org, dims: tuple[str, ...] = (aggregates.TOTAL, aggregates.SELF),
            with_children: bool = True) -> aggregates.Stored | None:
    """The materialized figures of the organisation (and its children) when every month asked for has them."""
    if aggregates.ready(periods) != set(periods):
        return None
    codes = [org.code, *([c.code for c in _children(org)] if with_children else [])]
    return aggregates.Stored(periods, codes, dims)


def _stored_org_groups(stored: aggregates.Stored, ind: Indicator, period: str, org) -> list[dict[str, Any]]:
    out = [{"key": c.code, "label": c.name, "org_code": c.code, **stored.figure(ind, period, c.code)}
           for c in _children(org)]
    if stored.has(ind, period, org.code, aggregates.SELF):
        out.append({"key": SELF, "label": f"{org.name} (本级)", "org_code": None,
                    **stored.figure(ind, period, org.code, aggregates.SELF)})
    return out


def _stored_dim_groups(stored: aggregates.Stored, ind: Indicator, period: str, org, by: str) -> list[dict[str, Any]]:
    raw = stored.values(ind, period, org.code, by)
    decoded = {v: aggregates.decode(v, by) for v in raw}
    names = {i: u.display_name or "未填写姓名" for i, u in users_by_id(v for v in decoded.values() if v).items()} \
        if by == "doctor" else {}
    order = sorted(raw, key=lambda v: (decoded[v] is None, str(decoded[v])))
    return [{"key": decoded[v], "label": _label_of(by, decoded[v], names), "org_code": None,
             **stored.figure(ind, period, org.code, by, v)} for v in order]


def stored_groups(ind: Indicator, period: str, org, by: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The organisation's figure and its groups by child organisation (`org`) or a materialized dimension, read
    from the month's figures; None when the month has none (then count them from the rows)."""
    if by == "org":
        stored = _stored([period], org)
        found = _stored_org_groups(stored, ind, period, org) if stored is not None else None
    else:
        stored = _stored([period], org, (aggregates.TOTAL, by), with_children=False)
        found = _stored_dim_groups(stored, ind, period, org, by) if stored is not None else None
    if stored is None or found is None:
        return None
    return stored.figure(ind, period, org.code), found


def breakdown(p: Principal, indicator_id: str, *, by: str, period: str | None = None,
              org_code: str | None = None) -> dict[str, Any]:
    ind, org, period = get_indicator(indicator_id), resolve_org(p, org_code), period or current_period()
    w = window(ind, period)
    if by not in ind.dimensions:
        raise Invalid("该指标不支持此维度", code="invalid_dimension", field="by", value=by,
                      allowed=list(ind.dimensions))
    stored = None
    if by == "org":
        stored = _stored([period], org)
        found = _stored_org_groups(stored, ind, period, org) if stored is not None else None
    elif by in aggregates.MATERIALIZED_DIMS:
        stored = _stored([period], org, (by,), with_children=False)
        found = _stored_dim_groups(stored, ind, period, org, by) if stored is not None else None
    else:
        found = None
    if found is None:
        found = groups(ind, w, Rows(org.path), org, by)
    fresh = aggregates.freshness([period])
    if stored is None:
        fresh = {**fresh, "live": True}
    return {"indicator": describe(ind, w.end.year), "period": period, "org": _org_dict(org), "by": by,
            "groups": found, "freshness": fresh}


def trend(p: Principal, indicator_id: str, *, period: str | None = None, org_code: str | None = None,
          months: int = 12) -> dict[str, Any]:
    """The figure at the end of each of the last `months` months (the year-to-date ones restart in January); months
    with materialized figures read them, the others are computed from the rows."""
    ind, org, period = get_indicator(indicator_id), resolve_org(p, org_code), period or current_period()
    month_end(period)
    periods = previous_periods(period, months)
    have = aggregates.ready(periods)
    stored = aggregates.Stored(have, [org.code]) if have else None
    rows, points = Rows(org.path), []
    for month in periods:
        w = window(ind, month)
        if stored is not None and month in have:
            points.append({"period": month, **stored.figure(ind, month, org.code)})
            continue
        num, den = parts(ind, w, rows)
        points.append({"period": month, **figure(ind, num, den, w.end.year)})
    return {"indicator": describe(ind), "org": _org_dict(org), "points": points,
            "freshness": aggregates.freshness(periods)}


def scores(p: Principal, indicator_id: str, *, level: str, period: str | None = None,
           org_code: str | None = None) -> dict[str, Any]:
    """Peer institutions of one level below an organisation, scored by P10/P90 interval scoring and ranked (their
    figures read from the materialized aggregates when the month has them, else counted live).

    Peers without a value (an empty denominator) are listed unscored."""
    ind, org, period = get_indicator(indicator_id), resolve_org(p, org_code), period or current_period()
    w = window(ind, period)
    peers = [o for o in org_queries.orgs_in_scope(p, level=level, under=org.code)]
    if aggregates.ready([period]) == {period}:
        stored = aggregates.Stored([period], [o.code for o in peers], indicator_ids=[ind.id])
        figures = [(o, stored.figure(ind, period, o.code)) for o in peers]
    else:
        num, den = parts(ind, w, Rows(org.path))
        figures = [(o, figure(ind, [r for r in num if (r.get("org_path") or "").startswith(o.path)],
                              None if den is None else [r for r in den
                                                        if (r.get("org_path") or "").startswith(o.path)],
                              w.end.year)) for o in peers]
    values = [f["value"] for _o, f in figures if f["value"] is not None]
    p10, p90 = scoring.p10_p90(values) if values else (None, None)
    scored = [scoring.interval_score(f["value"], p10, p90, higher_is_better=ind.direction == "higher")
              if f["value"] is not None and p10 is not None and p90 is not None else None for _o, f in figures]
    ranks = dict(zip([i for i, s in enumerate(scored) if s is not None],
                     scoring.rank([s for s in scored if s is not None]), strict=True))
    items = [{"org_code": o.code, "org_name": o.name, **f, "score": scored[i], "rank": ranks.get(i)}
             for i, (o, f) in enumerate(figures)]
    items.sort(key=lambda x: (x["rank"] is None, x["rank"] or 0, x["org_code"]))
    return {"indicator": describe(ind, w.end.year), "period": period, "org": _org_dict(org), "level": level,
            "p10": p10, "p90": p90, "items": items}


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def behind(ind: Indicator, w: Window, rows: Rows, part: str) -> list[dict[str, Any]]:
    """The de-duplicated rows behind a figure: numerator, denominator, or gap (in the denominator, not the
    numerator — e.g. the uncontrolled patients of a control rate)."""
    if part not in PARTS:
        raise Invalid("part 应为 numerator/denominator/gap", code="invalid_part", field="part", value=part)
    num, den = parts(ind, w, rows)
    chosen = num
    if part != "numerator":
        if den is None or ind.denominator is None:
            raise Invalid("计数指标没有分母", code="invalid_part", field="part", value=part)
        if part == "gap" and ind.numerator.source != ind.denominator.source:
            raise Invalid("分子与分母来源不同, 无法求差", code="invalid_part", field="part", value=part)
        inside = {r["key"] for r in num} if part == "gap" else set()
        chosen = [r for r in den if r["key"] not in inside]
    unique = {r["key"]: r for r in chosen}
    return sorted(unique.values(), key=lambda r: (r.get("org_path") or "", r.get("resident_name") or "", r["key"]))


def drilldown(p: Principal, indicator_id: str, *, part: str, period: str | None = None,
              org_code: str | None = None, page: int = 1, per_page: int = 50,
              doctor_id: int | None = None) -> dict[str, Any]:
    """One page of the residents (or tasks) behind a figure, with the facts the indicator counted (optionally only
    those of one responsible doctor: the list behind a doctor's finding)."""
    ind, org, period = get_indicator(indicator_id), resolve_org(p, org_code), period or current_period()
    w = window(ind, period)
    rows = behind(ind, w, Rows(org.path), part)
    if doctor_id is not None:
        rows = [r for r in rows if r.get("doctor_id") == doctor_id]
    page_rows = rows[(page - 1) * per_page: page * per_page]
    return {"indicator": describe(ind, w.end.year), "period": period, "org": _org_dict(org), "part": part,
            "total": len(rows), "items": items(page_rows, _source_of(ind, part)), "doctor_id": doctor_id}


def _source_of(ind: Indicator, part: str) -> str:
    formula = ind.numerator if part == "numerator" or ind.denominator is None else ind.denominator
    return formula.source


def items(rows: list[dict], source_name: str) -> list[dict[str, Any]]:
    """Rows of a source as list items: who, where, which disease and risk, and the facts that were counted."""
    source = SOURCES[source_name]
    names = _org_names({r.get("org_code") for r in rows})
    doctors = {i: u.display_name or "未填写姓名"
               for i, u in users_by_id(r["doctor_id"] for r in rows if r.get("doctor_id")).items()}
    return [{"key": r["key"], "resident_id": r.get("resident_id"), "resident_name": r.get("resident_name"),
             "task_id": r.get("task_id"), "org_code": r.get("org_code"), "org_name": names.get(r.get("org_code") or ""),
             "disease": r.get("disease"), "disease_label": Disease.label_of(r.get("disease"), "—"),
             "risk_level_label": RiskLevel.label_of(r.get("risk_level"), UNGRADED_LABEL),
             "doctor_name": doctors.get(r.get("doctor_id") or 0), "sex_label": Sex.label_of(r.get("sex"), "—"),
             "age": r.get("age"), "facts": {k: _jsonable(r.get(k)) for k in source.fields}} for r in rows]


def _org_names(codes) -> dict[str, str]:
    out = {}
    for code in codes:
        org = org_queries.find_org(code) if code else None
        if org is not None:
            out[code] = org.name
    return out

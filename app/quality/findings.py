"""Findings for managers (issue 20.6, 发现): what changed, found by the platform rather than read off fixed charts.

Two kinds, over the library's plain rates (unit %, no estimated denominator), for one organisation and month:

- `drift` — the organisation, and each of its child organisations, against its own history: a p-chart over the
  last 12–24 months with the run rules of `spc.signals` read at the month asked for;
- `outlier` — townships, villages and responsible doctors below the organisation against their peers: a funnel
  plot around the organisation's own rate with 95 % and 99.8 % limits.

Each finding is one plain-Chinese sentence, a severity (`alarm` 严重 / `warning` 关注 on the worse side of the
indicator's direction, `info` 向好 on the better side) and the drill-down behind it (`link`: indicator, organisation,
period, part and, for a doctor, `doctor_id`), plus the data of its chart. A rate whose denominator is below
`alerts.min_denominator` (thresholds.json, default 5) is noise and is not judged, nor is one where the normal
approximation does not hold (`spc.normal_ok`: fewer than 5 expected events or non-events).

When every month looked at has materialized figures (`app.quality.aggregates`) the counts are read from them — the
organisation's and its children's totals per month, the peers' totals and the doctors' figures of the month — and
the answer is fast; otherwise they are counted from the rows as before (`freshness.live`).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.auth.principal import Principal
from app.auth.queries import users_by_id
from app.org import queries as org_queries

from . import aggregates, spc
from .library import Indicator, alert_settings, library
from .queries import Rows, current_period, month_end, parts, previous_periods, resolve_org, window

SEVERITY = {"alarm": "严重", "warning": "关注", "info": "向好"}
KINDS = {"drift": "与自身历史相比", "outlier": "与同级相比"}
PEER_LEVELS = ("township", "village")
# Shares of the whole registry at a month's end (签约覆盖率 …) count the same residents every month: a stock, not
# independent monthly trials, so a p-chart does not apply; they are compared across peers (funnel) only.
STOCK_SOURCES = ("residents", "contract_residents")
PEER_LABELS = {"township": "乡镇", "village": "村", "doctor": "责任医生"}


def judged(ind: Indicator) -> bool:
    """A plain binomial rate: numerator and denominator counted in patients or tasks, no scaled estimate."""
    return ind.denominator is not None and ind.unit == "%" and ind.denominator.scale is None


def list_part(ind: Indicator) -> str:
    """The list that explains a finding: the patients not counted (gap) of a higher-is-better rate over one
    source; else the counted ones (e.g. the overdue patients of an overdue share)."""
    assert ind.denominator is not None
    return "gap" if ind.direction == "higher" and ind.denominator.source == ind.numerator.source else "numerator"


def _worse(ind: Indicator) -> int:
    return -1 if ind.direction == "higher" else 1


def _pct(x: float) -> float:
    return round(100.0 * x, 1)


def _month(period: str) -> str:
    return f"{int(period[:4])}年{int(period[5:])}月"


def _side(side: int) -> str:
    return "高于" if side > 0 else "低于"


def _prefixes(path: str) -> list[str]:
    out = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    return out if path.endswith("/") else [*out, path]


def _counts(rows: Iterable[dict], key) -> dict[Any, set]:
    out: dict[Any, set] = {}
    for r in rows:
        for k in key(r):
            out.setdefault(k, set()).add(r["key"])
    return out


def _by_org(paths: dict[str, str]):
    return lambda r: [paths[p] for p in _prefixes(r.get("org_path") or "") if p in paths]


def _link(ind: Indicator, org_code: str, period: str, doctor_id: int | None = None) -> dict[str, Any]:
    part = list_part(ind)
    url = f"/quality?indicator={ind.id}&org={org_code}&period={period}&part={part}"
    if doctor_id is not None:
        url += f"&doctor={doctor_id}"
    return {"indicator_id": ind.id, "org_code": org_code, "period": period, "part": part,
            "doctor_id": doctor_id, "url": url}


# -- drift: control charts against the organisation's own history ---------------------------------------------------

def _drift_sentence(name: str, ind: Indicator, signal: spc.Signal, chart: spc.PChart, months: int,
                    period: str) -> str:
    last, centre = chart.points[-1], _pct(chart.centre)
    if signal.rule == "beyond_3sigma":
        limit = last.ucl if signal.side > 0 else last.lcl
        return (f"{name} {ind.name} {_month(period)}为 {_pct(last.p)}%，{_side(signal.side)}控制"
                f"{'上' if signal.side > 0 else '下'}限 {_pct(limit)}%（近{months}个月均值 {centre}%）")
    if signal.rule == "two_of_three":
        return f"{name} {ind.name} 近3个月有2个月明显{_side(signal.side)}近{months}个月均值 {centre}%（超出2倍标准差）"
    return f"{name} {ind.name} 连续{signal.months}个月{_side(signal.side)}近{months}个月均值 {centre}%"


def _drift(ind: Indicator, chart: spc.PChart, org, months: int, period: str, min_den: int) -> dict | None:
    last = chart.points[-1]
    if last.label != period or last.denominator < min_den or not spc.normal_ok(chart.centre, last.denominator):
        return None
    found = spc.signals(chart)
    if not found:
        return None
    signal = found[0]
    worse = signal.side == _worse(ind)
    severity = ("alarm" if signal.rule == "beyond_3sigma" else "warning") if worse else "info"
    return {"id": f"drift:{ind.id}:{org.code}:{period}", "kind": "drift", "rule": signal.rule,
            "rules": [s.rule for s in found], "severity": severity,
            "indicator_id": ind.id, "indicator_name": ind.name, "subject": org.name, "subject_kind": org.level,
            "sentence": _drift_sentence(org.name, ind, signal, chart, months, period),
            "value": _pct(last.p), "numerator": last.numerator, "denominator": last.denominator,
            "reference": _pct(chart.centre), "link": _link(ind, org.code, period),
            "chart": {"type": "p_chart", "centre": _pct(chart.centre), "points": [
                {"period": q.label, "value": _pct(q.p), "numerator": q.numerator, "denominator": q.denominator,
                 "lcl": _pct(q.lcl), "ucl": _pct(q.ucl), "lwl": _pct(q.lwl), "uwl": _pct(q.uwl)}
                for q in chart.points]}}


def drift_findings(ind: Indicator, rows: Rows, org, children: list, period: str, months: int,
                   min_den: int) -> list[dict]:
    subjects = [org, *children]
    paths = {o.path: o.code for o in children}
    series: dict[str, list[tuple[str, int, int]]] = {o.code: [] for o in subjects}
    for month in previous_periods(period, months):
        num, den = parts(ind, window(ind, month), rows)
        assert den is not None
        cn, cd = _counts(num, _by_org(paths)), _counts(den, _by_org(paths))
        series[org.code].append((month, len({r["key"] for r in num}), len({r["key"] for r in den})))
        for o in children:
            series[o.code].append((month, len(cn.get(o.code, ())), len(cd.get(o.code, ()))))
    return _drifts(ind, subjects, series, period, months, min_den)


def stored_drift_findings(ind: Indicator, stored: aggregates.Stored, org, children: list, period: str, months: int,
                          min_den: int) -> list[dict]:
    subjects = [org, *children]
    series: dict[str, list[tuple[str, int, int]]] = {o.code: [] for o in subjects}
    for month in previous_periods(period, months):
        for o in subjects:
            series[o.code].append((month, *stored.counts(ind, month, o.code)))
    return _drifts(ind, subjects, series, period, months, min_den)


def _drifts(ind: Indicator, subjects: list, series: dict[str, list[tuple[str, int, int]]], period: str,
            months: int, min_den: int) -> list[dict]:
    out = []
    for o in subjects:
        chart = spc.p_chart(series[o.code])
        found = chart and _drift(ind, chart, o, months, period, min_den)
        if found:
            out.append(found)
    return out


# -- outliers: funnel plots against the peers -----------------------------------------------------------------------

def _outlier(ind: Indicator, org, group: str, peer: dict, point: spc.FunnelPoint, p0: float, period: str,
             funnel: dict) -> dict | None:
    band, worse = point.band, _worse(ind)
    side = 1 if band > 0 else -1
    if band == 0 or (side != worse and abs(band) < 2):
        return None
    severity = ("alarm" if abs(band) == 2 else "warning") if side == worse else "info"
    limit = "99.8%" if abs(band) == 2 else "95%"
    sentence = (f"{peer['label']} {ind.name} {_pct(point.p)}%（{point.numerator}/{point.denominator}），"
                f"{_side(side)}{org.name}整体 {_pct(p0)}%，超出{limit}控制限")
    subject_id = peer["org_code"] or f"d{peer['doctor_id']}"
    return {"id": f"outlier:{ind.id}:{group}:{subject_id}:{period}", "kind": "outlier", "rule": f"funnel_{limit}",
            "rules": [f"funnel_{limit}"], "severity": severity, "indicator_id": ind.id, "indicator_name": ind.name,
            "subject": peer["label"], "subject_kind": group, "sentence": sentence, "value": _pct(point.p),
            "numerator": point.numerator, "denominator": point.denominator, "reference": _pct(p0),
            "link": _link(ind, peer["org_code"] or org.code, period, peer["doctor_id"]),
            "chart": {**funnel, "highlight": peer["key"]}}


def _peers(p: Principal, org, num: list[dict], den: list[dict]) -> dict[str, list[dict]]:
    """Peer groups below the organisation: each level's organisations and the responsible doctors, with counts."""
    out: dict[str, list[dict]] = {}
    for level in PEER_LEVELS:
        orgs = [o for o in org_queries.orgs_in_scope(p, level=level, under=org.code) if o.code != org.code]
        paths = {o.path: o.code for o in orgs}
        cn, cd = _counts(num, _by_org(paths)), _counts(den, _by_org(paths))
        out[level] = [{"key": o.code, "label": o.name, "org_code": o.code, "doctor_id": None,
                       "numerator": len(cn.get(o.code, ())), "denominator": len(cd.get(o.code, ()))} for o in orgs]
    doctor = (lambda r: [r["doctor_id"]] if r.get("doctor_id") else [])
    cn, cd = _counts(num, doctor), _counts(den, doctor)
    names = users_by_id(cd)
    out["doctor"] = [{"key": f"d{i}", "label": names[i].display_name or "未填写姓名", "org_code": None,
                      "doctor_id": i, "numerator": len(cn.get(i, ())), "denominator": len(cd[i])}
                     for i in sorted(cd) if i in names]
    return out


def outlier_findings(p: Principal, ind: Indicator, rows: Rows, org, period: str, min_den: int) -> list[dict]:
    num, den = parts(ind, window(ind, period), rows)
    assert den is not None
    n_all, d_all = len({r["key"] for r in num}), len({r["key"] for r in den})
    if not d_all or n_all in (0, d_all):
        return []
    return _outliers(ind, org, period, min_den, n_all / d_all, _peers(p, org, num, den))


def _peer_orgs(p: Principal, org) -> dict[str, list]:
    return {level: [o for o in org_queries.orgs_in_scope(p, level=level, under=org.code) if o.code != org.code]
            for level in PEER_LEVELS}


def _doctor_names(ids: Iterable[int], known: dict[int, str | None]) -> dict[int, str | None]:
    """Display names of doctors (None: no such user), read once per request into `known`."""
    missing = [i for i in ids if i not in known]
    if missing:
        found = users_by_id(missing)
        known.update({i: (found[i].display_name or "未填写姓名") if i in found else None for i in missing})
    return known


def stored_outlier_findings(ind: Indicator, stored: aggregates.Stored, org, peer_orgs: dict[str, list], period: str,
                            min_den: int, names: dict[int, str | None] | None = None) -> list[dict]:
    n_all, d_all = stored.counts(ind, period, org.code)
    if not d_all or n_all in (0, d_all):
        return []
    peers: dict[str, list[dict]] = {}
    for level, orgs in peer_orgs.items():
        peers[level] = []
        for o in orgs:
            n, d = stored.counts(ind, period, o.code)
            peers[level].append({"key": o.code, "label": o.name, "org_code": o.code, "doctor_id": None,
                                 "numerator": n, "denominator": d})
    doctors = {aggregates.decode(v, "doctor"): stored.counts(ind, period, org.code, "doctor", v)
               for v in stored.values(ind, period, org.code, "doctor") if v}
    doctors = {i: nd for i, nd in doctors.items() if nd[1]}
    names = _doctor_names(doctors, {} if names is None else names)
    peers["doctor"] = [{"key": f"d{i}", "label": names[i], "org_code": None,
                        "doctor_id": i, "numerator": doctors[i][0], "denominator": doctors[i][1]}
                       for i in sorted(doctors) if names[i] is not None]
    return _outliers(ind, org, period, min_den, n_all / d_all, peers)


def _outliers(ind: Indicator, org, period: str, min_den: int, p0: float,
              peer_groups: dict[str, list[dict]]) -> list[dict]:
    out = []
    for group, peers in peer_groups.items():
        judged_peers = [(peer, spc.funnel_point(p0, peer["numerator"], peer["denominator"]))
                        for peer in peers if peer["denominator"] >= min_den]
        if len(judged_peers) < 2:
            continue
        funnel = {"type": "funnel", "group": group, "group_label": PEER_LABELS[group], "network_rate": _pct(p0),
                  "points": [{"key": peer["key"], "label": peer["label"], "numerator": fp.numerator,
                              "denominator": fp.denominator, "value": _pct(fp.p)} for peer, fp in judged_peers],
                  "curve": [{k: (v if k == "n" else _pct(v)) for k, v in c.items()}
                            for c in spc.funnel_curve(p0, max(fp.denominator for _p, fp in judged_peers))]}
        for peer, fp in judged_peers:
            if not spc.normal_ok(p0, fp.denominator):
                continue
            found = _outlier(ind, org, group, peer, fp, p0, period, funnel)
            if found:
                out.append(found)
    return out


# -- entry point ----------------------------------------------------------------------------------------------------

def findings(p: Principal, *, period: str | None = None, org_code: str | None = None,
             months: int = 12) -> dict[str, Any]:
    """Every finding for an organisation (default: the caller's own) and month, worst first."""
    org, period = resolve_org(p, org_code), period or current_period()
    month_end(period)
    min_den = int(alert_settings()["min_denominator"])
    children = org_queries.children(org.code, exclude_levels=("department",))
    indicators = [ind for ind in library().values() if judged(ind)]
    periods = previous_periods(period, months)
    peer_orgs = _peer_orgs(p, org)
    out: list[dict] = []
    if aggregates.ready(periods) == set(periods):
        ids = [i.id for i in indicators]
        series = aggregates.Stored(periods, [org.code, *(c.code for c in children)], (aggregates.TOTAL,), ids)
        peers = [org.code, *(o.code for orgs in peer_orgs.values() for o in orgs)]
        month = aggregates.Stored([period], peers, (aggregates.TOTAL, "doctor"), ids)
        names: dict[int, str | None] = {}
        for ind in indicators:
            if ind.numerator.source not in STOCK_SOURCES:
                out += stored_drift_findings(ind, series, org, children, period, months, min_den)
            out += stored_outlier_findings(ind, month, org, peer_orgs, period, min_den, names)
    else:
        rows = Rows(org.path)
        for ind in indicators:
            if ind.numerator.source not in STOCK_SOURCES:
                out += drift_findings(ind, rows, org, children, period, months, min_den)
            out += outlier_findings(p, ind, rows, org, period, min_den)
    order = {ind.id: i for i, ind in enumerate(indicators)}
    rank = {"alarm": 0, "warning": 1, "info": 2}
    out.sort(key=lambda f: (rank[f["severity"]], f["kind"], order[f["indicator_id"]], f["subject"]))
    for f in out:
        f["severity_label"], f["kind_label"] = SEVERITY[f["severity"]], KINDS[f["kind"]]
    return {"period": period, "months": months, "min_denominator": min_den,
            "org": {"code": org.code, "name": org.name, "level": org.level},
            "indicators": len(indicators), "findings": out, "charts": shared_funnels(out),
            "freshness": aggregates.freshness(periods)}


def shared_funnels(found: list[dict]) -> dict[str, dict]:
    """Move each funnel out of its outlier findings into one shared chart (`charts[ref]`): all outliers of an
    indicator and peer group share the same funnel (every peer's point and the limit curves), so a finding keeps
    only what is its own (`highlight`, and `ref` to the funnel). Without this the answer grew with findings × peers:
    at 1,000,000 residents the limits are narrow, hundreds of villages and doctors come out, each with 400 points."""
    charts: dict[str, dict] = {}
    for f in found:
        chart = f["chart"]
        if chart["type"] != "funnel":
            continue
        ref = f"funnel:{f['indicator_id']}:{chart['group']}"
        charts.setdefault(ref, {k: v for k, v in chart.items() if k != "highlight"})
        f["chart"] = {"type": "funnel", "group": chart["group"], "group_label": chart["group_label"],
                      "network_rate": chart["network_rate"], "highlight": chart["highlight"], "ref": ref}
    return charts

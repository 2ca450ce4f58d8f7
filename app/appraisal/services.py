"""Period results: every subject of a type (townships, villages, family-doctor teams) gets each scheme indicator's
value for the period, its score under the item's rule among its peers (all subjects of the type in the county), a
weighted total and a rank. The snapshot is stored once per (type, period); running the period again recomputes and
replaces it, so a run is idempotent and always reflects the scheme in force and the data of the moment.

Periods: `YYYY-MM` (month), `YYYYQn` (quarter), `YYYY` (year). An indicator counted per month is counted over the
whole period; a year-to-date one from 1 January to the period's end (as the 基本公卫 annual figures are). The end is
today for a period still running; a period not yet begun is refused (`422 period_in_future`).

Values come only from app.quality's public functions (`Rows`, `parts`, `figure`): a township's or village's figure
counts the rows of its subtree, a team's the rows whose responsible doctor is the team's doctor.
"""
from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from sqlalchemy import select

from app.auth.queries import users_by_id
from app.contracting.queries import family_doctor_teams
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import Invalid
from app.org import queries as org_queries
from app.quality import queries as quality
from app.quality.library import Indicator, thresholds
from app.quality.sources import Window

from . import rules, schemes
from .models import AppraisalResult, AppraisalScheme

log = logs.get("appraisal")
PERIOD = re.compile(r"^((?:19|20)\d{2})(?:-(0[1-9]|1[0-2])|Q([1-4]))?$")


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day that count (the last: today for a running period)."""
    match = PERIOD.match(period or "")
    if not match:
        raise Invalid("考核期格式应为 YYYY-MM、YYYYQn 或 YYYY", code="invalid_period", field="period", value=period)
    year = int(match[1])
    if match[2]:
        first_month = last_month = int(match[2])
    elif match[3]:
        first_month = 3 * int(match[3]) - 2
        last_month = first_month + 2
    else:
        first_month, last_month = 1, 12
    first = date(year, first_month, 1)
    today = clock.today()
    if first > today:
        raise Invalid("考核期尚未开始", code="period_in_future", field="period", value=period)
    return first, min(date(year, last_month, calendar.monthrange(year, last_month)[1]), today)


def _window(ind: Indicator, period: str, first: date, last: date) -> Window:
    start = date(last.year, 1, 1) if ind.window == "year_to_date" else first
    return Window(start, last, period)


def subjects(kind: str) -> list[dict[str, Any]]:
    """The peers of a type: townships or villages of the county, or the family-doctor teams (named by doctor)."""
    root = org_queries.root_org()
    if root is None:
        return []
    orgs = org_queries.subtree(root.code)
    names = {o.code: o.name for o in orgs}
    if kind in ("township", "village"):                 # 所属机构: the township of a village, the county of a township
        return [{"key": o.code, "org_code": o.code, "org_path": o.path, "name": o.name,
                 "org_name": names.get(o.parent_code or "", ""), "doctor_user_id": None}
                for o in orgs if o.level == kind]
    teams = family_doctor_teams()
    users = users_by_id([t["doctor_user_id"] for t in teams])
    out = []
    for t in teams:
        user = users.get(t["doctor_user_id"])
        doctor = (user.display_name or "未具名医生") if user else "未具名医生"
        org_name = names.get(t["org_code"], "")
        out.append({"key": f"team-{t['doctor_user_id']}", "org_code": t["org_code"], "org_path": t["org_path"],
                    "name": f"{doctor}团队", "org_name": org_name, "doctor_user_id": t["doctor_user_id"],
                    "doctor_name": doctor, "active_contracts": t["active_contracts"]})
    return out


def _mine(subject: dict[str, Any], rows: list[dict] | None) -> list[dict] | None:
    if rows is None:
        return None
    if subject["doctor_user_id"] is not None:
        return [r for r in rows if r.get("doctor_id") == subject["doctor_user_id"]]
    return [r for r in rows if (r.get("org_path") or "").startswith(subject["org_path"])]


def compute(kind: str, period: str, scheme: AppraisalScheme) -> dict[str, Any]:
    """The result of a type for a period under one scheme version (not stored)."""
    first, last = period_bounds(period)
    peers = subjects(kind)
    root = org_queries.root_org()
    rows = quality.Rows(root.path if root else "/")
    stats, per_subject = [], [[] for _ in peers]                      # type: list[dict], list[list[dict]]
    for item in scheme.items:
        ind = quality.get_indicator(item["indicator_id"])
        w = _window(ind, period, first, last)
        num, den = quality.parts(ind, w, rows)
        figures = [quality.figure(ind, _mine(s, num) or [], _mine(s, den), w.end.year) for s in peers]
        higher = ind.direction == "higher"
        target = (thresholds(ind.id, w.end.year) or {}).get("target")
        peer, scores = rules.score_all(item["rule"], item["params"], [f["value"] for f in figures], higher=higher,
                                       target=target)
        stats.append({"indicator_id": ind.id, "indicator_name": ind.name, "unit": ind.unit,
                      "direction": ind.direction, "weight": item["weight"], "rule": item["rule"],
                      "rule_label": rules.RULES[item["rule"]], "params": item["params"],
                      "window_start": w.start.isoformat(), "window_end": w.end.isoformat(), **peer})
        for i, (f, sc) in enumerate(zip(figures, scores, strict=True)):
            per_subject[i].append({"indicator_id": ind.id, "value": f["value"], "numerator": f["numerator"],
                                   "denominator": f["denominator"], "score": sc,
                                   "weighted": None if sc is None else round(sc * item["weight"] / 100, 2)})
    weights = [item["weight"] for item in scheme.items]
    totals = [rules.weighted_total(weights, [b["score"] for b in breakdown]) for breakdown in per_subject]
    ranks = rules.ranks(totals)
    out = [{**s, "total": t, "rank": r, "breakdown": b}
           for s, t, r, b in zip(peers, totals, ranks, per_subject, strict=True)]
    out.sort(key=lambda x: (x["rank"] is None, x["rank"] or 0, x["org_path"], x["key"]))
    return {"kind": kind, "period": period, "window_start": first.isoformat(), "window_end": last.isoformat(),
            "indicators": stats, "subjects": out}


def run(kind: str, period: str, *, by: str) -> AppraisalResult:
    """Compute a type's period result with the scheme in force and store it (replacing an earlier snapshot)."""
    schemes.check_kind(kind)
    scheme = schemes.current(kind)
    data = compute(kind, period, scheme)
    values = {"scheme_id": scheme.id, "scheme_version": scheme.version, "window_start": data["window_start"],
              "window_end": data["window_end"], "indicators": data["indicators"], "subjects": data["subjects"],
              "computed_by": by, "computed_at": clock.now()}
    with unit_of_work() as s:
        row = s.scalars(select(AppraisalResult).where(AppraisalResult.kind == kind, AppraisalResult.period == period)
                        .with_for_update()).first()
        if row is None:
            row = AppraisalResult(kind=kind, period=period, **values)
            s.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
    log.info("appraisal computed", extra={"job": f"appraisal.{kind}.{period}", "status": len(data["subjects"])})
    return row


def stored(kind: str, period: str) -> AppraisalResult | None:
    return session().scalars(select(AppraisalResult).where(AppraisalResult.kind == kind,
                                                           AppraisalResult.period == period)).first()

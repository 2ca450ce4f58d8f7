"""Simple.org-style cohort report: patients registered (enrolled) in a quarter and their status in the quarter
after it — controlled, not controlled, visited without a BP (or glucose), or missed visit.

Differs on purpose from 管理人群血压控制率 (rules.md §8): one target for all ages (<140/90; FPG <7.0 mmol/L for T2DM),
the outcome is the last visit of the following quarter, and a lost-to-follow-up visit counts as a missed visit.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from app.auth.principal import Principal
from app.core.errors import Invalid

from . import queries
from .sources import SOURCES, Window

QUARTER = re.compile(r"^((?:19|20)\d{2})Q([1-4])$")
OUTCOMES = {"controlled": "已控制", "uncontrolled": "未控制", "visited_no_value": "随访未测量", "missed_visit": "失访/未随访"}
QUARTERS = 4


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(start: date) -> date:
    return date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)


def outcome_of(row: dict[str, Any], disease: str) -> str:
    """Which of the four boxes one patient lands in, from the last visit of the outcome window."""
    if row.get("last_visit_on") is None or row.get("lost_to_follow_up"):
        return "missed_visit"
    if disease == "t2dm":
        fpg = row.get("last_fpg")
        return "visited_no_value" if fpg is None else ("controlled" if fpg < 7.0 else "uncontrolled")
    sbp, dbp = row.get("last_sbp"), row.get("last_dbp")
    if sbp is None or dbp is None:
        return "visited_no_value"
    return "controlled" if sbp < 140 and dbp < 90 else "uncontrolled"


def cohorts(p: Principal, *, disease: str = "htn", period: str | None = None,
            org_code: str | None = None) -> dict[str, Any]:
    """The last four quarterly cohorts whose outcome quarter has begun by the end of `period`."""
    org, period = queries.resolve_org(p, org_code), period or queries.current_period()
    end = queries.month_end(period)
    outcome_start = _quarter_start(end)
    items = []
    for _ in range(QUARTERS):
        cohort_start = _quarter_start(outcome_start - timedelta(days=1))
        outcome_end = min(_next_quarter(outcome_start) - timedelta(days=1), end)
        rows = SOURCES["chronic_patients"].rows(Window(outcome_start, outcome_end, period), org.path)
        cohort = [r for r in rows if r["disease"] == disease and cohort_start <= r["enrolled_on"] < outcome_start]
        counts = {k: 0 for k in OUTCOMES}
        for r in cohort:
            counts[outcome_of(r, disease)] += 1
        items.append({"quarter": f"{cohort_start.year}Q{(cohort_start.month - 1) // 3 + 1}",
                      "outcome_start": outcome_start, "outcome_end": outcome_end, "registered": len(cohort),
                      **counts})
        outcome_start = cohort_start
    return {"disease": disease, "period": period, "org": {"code": org.code, "name": org.name, "level": org.level},
            "outcomes": [{"code": k, "label": v} for k, v in OUTCOMES.items()], "cohorts": list(reversed(items))}


def members(p: Principal, *, quarter: str, outcome: str, disease: str = "htn", period: str | None = None,
            org_code: str | None = None, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """The patients of one box of one cohort (e.g. 2026Q1's registrations missing a visit in 2026Q2)."""
    match = QUARTER.match(quarter or "")
    if not match:
        raise Invalid("季度格式应为 YYYYQn", code="invalid_quarter", field="quarter", value=quarter)
    org, period = queries.resolve_org(p, org_code), period or queries.current_period()
    end = queries.month_end(period)
    cohort_start = date(int(match[1]), 3 * int(match[2]) - 2, 1)
    outcome_start = _next_quarter(cohort_start)
    if outcome_start > end:
        raise Invalid("该季度队列的随访季度尚未开始", code="period_in_future", field="quarter", value=quarter)
    outcome_end = min(_next_quarter(outcome_start) - timedelta(days=1), end)
    rows = SOURCES["chronic_patients"].rows(Window(outcome_start, outcome_end, period), org.path)
    chosen = sorted((r for r in rows if r["disease"] == disease and cohort_start <= r["enrolled_on"] < outcome_start
                     and outcome_of(r, disease) == outcome),
                    key=lambda r: (r.get("org_path") or "", r.get("resident_name") or "", r["key"]))
    return {"quarter": quarter, "outcome": outcome, "total": len(chosen),
            "items": queries.items(chosen[(page - 1) * per_page: page * per_page], "chronic_patients")}

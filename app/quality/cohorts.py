"""Simple.org-style cohort report: patients registered (enrolled) in a quarter and their status in the quarter
after it — controlled, not controlled, visited without a BP (or glucose), or missed visit.

Differs on purpose from 管理人群血压控制率 (rules.md §8): one target for all ages (<140/90; FPG <7.0 mmol/L for T2DM),
the outcome is the last visit of the following quarter, and a lost-to-follow-up visit counts as a missed visit.

The counts per organisation subtree are materialized by the month's refresh (`app.quality.refresh`, rows of
`quality_aggregates` with indicator id `cohort:<disease>:<quarter>` and dim `outcome`); the members of a box are
always listed live.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.auth.principal import Principal
from app.core.db import session
from app.core.errors import Invalid

from . import aggregates, queries
from .models import QualityAggregate
from .sources import Window, cohort_rows

QUARTER = re.compile(r"^((?:19|20)\d{2})Q([1-4])$")
OUTCOMES = {"controlled": "已控制", "uncontrolled": "未控制", "visited_no_value": "随访未测量", "missed_visit": "失访/未随访"}
QUARTERS = 4
DISEASES = ("htn", "t2dm")
OUTCOME_DIM = "outcome"


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


def quarters(period: str) -> list[tuple[str, date, date, date]]:
    """The last four cohorts of a month, newest first: (quarter, cohort start, outcome start, outcome end)."""
    end = queries.month_end(period)
    outcome_start, out = _quarter_start(end), []
    for _ in range(QUARTERS):
        cohort_start = _quarter_start(outcome_start - timedelta(days=1))
        outcome_end = min(_next_quarter(outcome_start) - timedelta(days=1), end)
        out.append((f"{cohort_start.year}Q{(cohort_start.month - 1) // 3 + 1}", cohort_start, outcome_start,
                    outcome_end))
        outcome_start = cohort_start
    return out


def members_of(rows: list[dict[str, Any]], disease: str, cohort_start: date, outcome_start: date) -> list[dict]:
    return [r for r in rows if r["disease"] == disease and cohort_start <= r["enrolled_on"] < outcome_start]


def stored_id(disease: str, quarter: str) -> str:
    """The cohort's figures in `quality_aggregates`: indicator id `cohort:<disease>:<quarter>`, dim `outcome`."""
    return f"cohort:{disease}:{quarter}"


def cohorts(p: Principal, *, disease: str = "htn", period: str | None = None,
            org_code: str | None = None) -> dict[str, Any]:
    """The last four quarterly cohorts whose outcome quarter has begun by the end of `period` (read from the
    month's materialized figures when it has them, else counted from the rows)."""
    org, period = queries.resolve_org(p, org_code), period or queries.current_period()
    found = quarters(period)
    stored: dict[tuple[str, str], int] | None = None
    if aggregates.ready([period]) == {period}:
        stmt = select(QualityAggregate.indicator_id, QualityAggregate.dim_value, QualityAggregate.numerator).where(
            QualityAggregate.period == period, QualityAggregate.org_code == org.code,
            QualityAggregate.dim == OUTCOME_DIM,
            QualityAggregate.indicator_id.in_([stored_id(disease, q[0]) for q in found]))
        stored = {(ind, aggregates.decode(value, OUTCOME_DIM)): n for ind, value, n in session().execute(stmt)}
    items = []
    for quarter, cohort_start, outcome_start, outcome_end in found:
        if stored is not None:
            counts = {k: stored.get((stored_id(disease, quarter), k), 0) for k in OUTCOMES}
        else:
            rows = cohort_rows(Window(outcome_start, outcome_end, period), org.path, cohort_start, outcome_start)
            counts = {k: 0 for k in OUTCOMES}
            for r in members_of(rows, disease, cohort_start, outcome_start):
                counts[outcome_of(r, disease)] += 1
        items.append({"quarter": quarter, "outcome_start": outcome_start, "outcome_end": outcome_end,
                      "registered": sum(counts.values()), **counts})
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
    rows = cohort_rows(Window(outcome_start, outcome_end, period), org.path, cohort_start, outcome_start)
    chosen = sorted((r for r in members_of(rows, disease, cohort_start, outcome_start)
                     if outcome_of(r, disease) == outcome),
                    key=lambda r: (r.get("org_path") or "", r.get("resident_name") or "", r["key"]))
    return {"quarter": quarter, "outcome": outcome, "total": len(chosen),
            "items": queries.items(chosen[(page - 1) * per_page: page * per_page], "chronic_patients")}

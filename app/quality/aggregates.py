"""Materialized indicator figures (issue 20.3): the dashboards, trends and findings read these, not the live rows.

One refresh of a month computes every indicator of the library once over the whole county (the same windows, rows,
formulas and figure arithmetic as the live figures: one pass per indicator over its source's rows counts every
organisation and dimension value at once, `app.quality.refresh`) and stores, for every organisation of
the tree, its subtree's numerator, denominator and value

- in total (`dim` ""),
- per value of the dimensions the dashboards break down by and the findings compare (`disease`, `risk_level`,
  `doctor`, `age_band`, `sex` — each only where the indicator has it), and
- for the rows of the organisation itself outside its child organisations (`dim` "self", the 本级 line),

replacing the month's previous figures in one transaction (readers see the old or the new figures, never a mix).
Distinct counts cannot be added up, so every organisation's figure is counted from its own rows, not summed from
its children; the mean or median of an aggregate indicator likewise.

Freshness: `quality_aggregate_runs` keeps per month when the figures were computed (`as_of`), up to which day the
window counted and whether a refresh is running or failed. The current month is refreshed every 10 minutes
(schedule `quality.refresh_current`, a job: rq on production, the in-process worker on the embedded default) and on
demand (the page's 刷新 button, `POST /api/v1/quality/aggregates/refresh`); a month refreshed before it closed, or
never, is refreshed once more after its end (schedule `quality.refresh_closed`, hourly, the last 24 months).

A month without figures is computed live as before (and says so: `live: true`). Drill-down lists are always live.
Computing and storing the figures: `app.quality.refresh`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select

from app.core.db import session

from .library import Indicator, status, thresholds
from .models import QualityAggregate, QualityAggregateRun

TOTAL, SELF = "", "self"
MATERIALIZED_DIMS = ("disease", "risk_level", "doctor", "age_band", "sex")
STATUS_LABELS = {"running": "正在更新", "done": "已更新", "failed": "更新失败"}


# -- reading --------------------------------------------------------------------------------------------------------

def encode(value: Any) -> str:
    """A dimension value as stored: "" for none, else "=" and the value (so an empty text stays apart from none)."""
    return "" if value is None else f"={value}"


def decode(raw: str, dim: str) -> Any:
    if raw == "":
        return None
    return int(raw[1:]) if dim == "doctor" else raw[1:]


def runs(periods: Iterable[str]) -> dict[str, QualityAggregateRun]:
    wanted = list(dict.fromkeys(periods))
    return {r.period: r for r in session().scalars(
        select(QualityAggregateRun).where(QualityAggregateRun.period.in_(wanted)))} if wanted else {}


def ready(periods: Iterable[str]) -> set[str]:
    """The months that have figures to read (a refresh may be running over them)."""
    return {p for p, r in runs(periods).items() if r.as_of is not None}


def freshness(periods: list[str]) -> dict[str, Any]:
    """What the page shows: the oldest as-of time of the months read, whether any month was computed live, and
    the refresh state of the month asked for (the last of `periods`)."""
    found = runs(periods)
    stored = [found[p] for p in periods if p in found and found[p].as_of is not None]
    last = found.get(periods[-1]) if periods else None
    state = last.status if last is not None else None
    return {"as_of": min((r.as_of for r in stored if r.as_of is not None), default=None),
            "live": len(stored) < len(periods),
            "refresh_status": state, "refresh_status_label": STATUS_LABELS.get(state or "", "未生成"),
            "refresh_error": bool(last is not None and last.status == "failed"),
            "window_end": date.fromisoformat(last.window_end) if last is not None and last.window_end else None}


class Stored:
    """Figures of some months and organisations loaded in one query, answered per indicator."""

    def __init__(self, periods: Iterable[str], org_codes: Iterable[str], dims: Iterable[str] = (TOTAL,),
                 indicator_ids: Iterable[str] | None = None) -> None:
        periods, codes, dims = list(set(periods)), list(set(org_codes)), list(set(dims))
        stmt = select(QualityAggregate.period, QualityAggregate.indicator_id, QualityAggregate.org_code,
                      QualityAggregate.dim, QualityAggregate.dim_value, QualityAggregate.numerator,
                      QualityAggregate.denominator, QualityAggregate.value).where(
            QualityAggregate.period.in_(periods), QualityAggregate.org_code.in_(codes), QualityAggregate.dim.in_(dims))
        if indicator_ids is not None:
            stmt = stmt.where(QualityAggregate.indicator_id.in_(list(set(indicator_ids))))
        self._by: dict[tuple, tuple] = {}
        self._values: dict[tuple, list[str]] = {}
        for period, ind, org, dim, value, num, den, val in session().execute(stmt):
            self._by[(period, ind, org, dim, value)] = (num, den, val)
            self._values.setdefault((period, ind, org, dim), []).append(value)

    def figure(self, ind: Indicator, period: str, org_code: str, dim: str = TOTAL,
               value: str = "") -> dict[str, Any]:
        found = self._by.get((period, ind.id, org_code, dim, value))
        return _figure(ind, found, int(period[:4]))

    def counts(self, ind: Indicator, period: str, org_code: str, dim: str = TOTAL, value: str = "") -> tuple[int, int]:
        """Numerator and denominator (0 when absent) of a plain rate, without its thresholds and status (the
        findings read thousands of them)."""
        found = self._by.get((period, ind.id, org_code, dim, value))
        return (0, 0) if found is None else (int(found[0] or 0), int(found[1] or 0))

    def has(self, ind: Indicator, period: str, org_code: str, dim: str, value: str = "") -> bool:
        return (period, ind.id, org_code, dim, value) in self._by

    def values(self, ind: Indicator, period: str, org_code: str, dim: str) -> list[str]:
        return list(self._values.get((period, ind.id, org_code, dim), []))


def _figure(ind: Indicator, found: tuple | None, year: int) -> dict[str, Any]:
    num, den, value = found if found is not None else (0, 0.0, None)
    d: float | None = None
    if ind.denominator is not None:
        d = round(float(den or 0), 1) if ind.denominator.scale else int(den or 0)
    elif found is None and ind.aggregate is None:
        value = 0.0
    limits = thresholds(ind.id, year)
    return {"numerator": int(num), "denominator": d, "value": value, "thresholds": limits,
            "status": status(ind, value, limits)}

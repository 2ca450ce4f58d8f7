"""Computing the materialized figures of `app.quality.aggregates` (see there): one month at a time, as a job."""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select

from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.jobs.queue import enqueue
from app.org import queries as org_queries

from . import queries
from .aggregates import MATERIALIZED_DIMS, SELF, TOTAL, encode, freshness
from .library import library
from .models import QualityAggregate, QualityAggregateRun

log = logs.get("quality")
FIELDS = {"doctor": "doctor_id"}
CLOSED_MONTHS = 24
CHUNK = 5000


# -- refresh --------------------------------------------------------------------------------------------------------

def _chains(rows: Iterable[dict], orgs: dict[str, Any]) -> dict[str, list]:
    """Per distinct org_path, the organisations above it (root first) that are in the tree."""
    out: dict[str, list] = {}
    for r in rows:
        path = r.get("org_path") or ""
        if path not in out:
            prefixes = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
            out[path] = [orgs[p] for p in prefixes if p in orgs]
    return out


def _groups(rows: list[dict], chains: dict[str, list], dims: tuple[str, ...]) -> dict[tuple, list[dict]]:
    """Rows per (org code, dim, dim value): every ancestor's total, its 本级 share and its dimension values."""
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        chain = chains[r.get("org_path") or ""]
        for i, org in enumerate(chain):
            keys = [(org.code, TOTAL, "")]
            if i == len(chain) - 1 or chain[i + 1].level == "department":
                keys.append((org.code, SELF, ""))
            for dim in dims:
                value = r.get(FIELDS.get(dim, dim))
                keys.append((org.code, dim, encode(value)))
            for k in keys:
                out.setdefault(k, []).append(r)
    return out


def compute(period: str) -> list[dict[str, Any]]:
    """Every figure of a month for every organisation (rows for `quality_aggregates`), from the live rows."""
    root = org_queries.root_org()
    if root is None:
        return []
    orgs = {o.path: o for o in org_queries.subtree(root.code)}
    rows, out = queries.Rows(root.path), []
    for ind in library().values():
        w = queries.window(ind, period)
        num, den = queries.parts(ind, w, rows)
        dims = tuple(d for d in MATERIALIZED_DIMS if d in ind.dimensions)
        chains = _chains([*num, *(den or [])], orgs)
        gn, gd = _groups(num, chains, dims), _groups(den or [], chains, dims)
        for key in gn.keys() | gd.keys():
            fig = queries.figure(ind, gn.get(key, []), None if den is None else gd.get(key, []), w.end.year)
            out.append({"period": period, "indicator_id": ind.id, "org_code": key[0], "dim": key[1],
                        "dim_value": key[2][:80], "numerator": fig["numerator"], "denominator": fig["denominator"],
                        "value": fig["value"]})
    return out


def refresh(period: str | None = None) -> dict[str, Any]:
    """Recompute one month's figures (default: this month) and replace them; returns the run's state."""
    period = period or queries.current_period()
    end = queries.month_end(period)
    started, t0 = clock.now(), time.perf_counter()
    with unit_of_work() as s:
        run = s.get(QualityAggregateRun, period)
        if run is None:
            run = QualityAggregateRun(period=period, status="running", started_at=started, rows=0)
            s.add(run)
        run.status, run.started_at, run.error = "running", started, None
    try:
        found = compute(period)
        with unit_of_work() as s:
            s.execute(delete(QualityAggregate).where(QualityAggregate.period == period))
            for i in range(0, len(found), CHUNK):
                s.execute(insert(QualityAggregate), found[i: i + CHUNK])
            run = s.get(QualityAggregateRun, period)
            assert run is not None
            run.status, run.as_of, run.window_end, run.finished_at = "done", started, end.isoformat(), clock.now()
            run.rows, run.seconds = len(found), round(time.perf_counter() - t0, 3)
    except Exception as exc:
        session().rollback()
        with unit_of_work() as s:
            run = s.get(QualityAggregateRun, period)
            if run is not None:
                run.status, run.error, run.finished_at = "failed", f"{type(exc).__name__}: {exc}"[:2000], clock.now()
        log.exception("quality aggregates refresh failed", extra={"job": "quality.refresh", "status": period})
        raise
    log.info("quality aggregates refreshed", extra={"job": "quality.refresh", "status": period})
    return freshness([period])


def refresh_job_id(period: str) -> str:
    return f"quality.aggregates:{period}"


def enqueue_refresh(period: str) -> None:
    enqueue("app.quality.refresh.refresh", period, job_id=refresh_job_id(period), timeout_s=3600, retries=1)


def stale_periods(months: int = CLOSED_MONTHS) -> list[str]:
    """The closed months (of the last `months`) never refreshed, refreshed before they closed, or failed."""
    current = queries.current_period()
    closed = queries.previous_periods(current, months + 1)[:-1]
    runs = {r.period: r for r in session().scalars(
        select(QualityAggregateRun).where(QualityAggregateRun.period.in_(closed)))}
    out = []
    for period in closed:
        run = runs.get(period)
        last_day = queries.month_end(period).isoformat()
        if run is None or run.status == "failed" or (run.status == "done" and (run.window_end or "") < last_day):
            out.append(period)
    return out




def refresh_recent(months: int = CLOSED_MONTHS) -> int:
    """Refresh, here and now, this month and every stale closed month (the demo seed; `ygt` on first install)."""
    periods = [*stale_periods(months), queries.current_period()]
    for period in periods:
        refresh(period)
    return len(periods)

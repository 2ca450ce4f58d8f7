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

from . import cohorts, queries
from .aggregates import MATERIALIZED_DIMS, SELF, TOTAL, encode, freshness
from .library import compiled, library
from .models import QualityAggregate, QualityAggregateRun
from .sources import Window, cohort_rows, shared_reads

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


def _keys(rows: list[dict], orgs: dict[str, Any], dims: tuple[str, ...]) -> list[list[tuple]]:
    """Per row, every figure it counts in: (org code, dim, dim value) for each ancestor's total, its 本级 share (the
    organisation the row is managed at, or above a department) and its values of the dimensions."""
    chains, out = _chains(rows, orgs), []
    shared: dict[tuple, list[tuple]] = {}          # rows of one place and the same dimension values share a list
    fields = [FIELDS.get(dim, dim) for dim in dims]
    for r in rows:
        path = r.get("org_path") or ""
        seen = (path, *(r.get(f) for f in fields))
        keys = shared.get(seen)
        if keys is None:
            chain = chains[path]
            values = [(dim, encode(value)) for dim, value in zip(dims, seen[1:], strict=True)]
            keys = []
            for i, org in enumerate(chain):
                keys.append((org.code, TOTAL, ""))
                if i == len(chain) - 1 or chain[i + 1].level == "department":
                    keys.append((org.code, SELF, ""))
                keys.extend((org.code, dim, value) for dim, value in values)
            shared[seen] = keys
        out.append(keys)
    return out


class _Tally:
    """One pass over a formula's rows that counts every organisation and dimension value at once: distinct row keys
    per figure (a plain count when the source's rows are one per key), or the aggregated field per row key."""

    def __init__(self, rows: list[dict], keys: list[list[tuple]], formula, field: str | None, unique: bool) -> None:
        self.counts: dict[tuple, int] = {}
        self.sets: dict[tuple, set] = {}
        self.values: dict[tuple, dict] = {}
        test = compiled(formula)
        for r, ks in zip(rows, keys, strict=True):
            if not test(r):
                continue
            rk = r["key"]
            if field is not None:
                v = r.get(field)
                for k in ks:
                    self.values.setdefault(k, {})[rk] = v
            if unique:
                for k in ks:
                    self.counts[k] = self.counts.get(k, 0) + 1
            else:
                for k in ks:
                    self.sets.setdefault(k, set()).add(rk)
        for k, found in self.sets.items():
            self.counts[k] = len(found)


def compute(period: str) -> list[dict[str, Any]]:
    """Every figure of a month for every organisation (rows for `quality_aggregates`), from the live rows: per
    indicator one pass over its source's rows that counts all organisations and dimension values together (the
    rows of each source and window, and their figure keys, are built once for all indicators)."""
    root = org_queries.root_org()
    if root is None:
        return []
    orgs = {o.path: o for o in org_queries.subtree(root.code)}
    rows, out = queries.Rows(root.path), []
    keyed: dict[tuple, tuple[list[dict], list[list[tuple]], bool]] = {}

    def prepared(source: str, w, dims: tuple[str, ...]) -> tuple[list[dict], list[list[tuple]], bool]:
        k = (source, w.start, w.end, dims)
        if k not in keyed:
            found = rows.of(source, w)
            keyed[k] = (found, _keys(found, orgs, dims), len({r["key"] for r in found}) == len(found))
        return keyed[k]

    with shared_reads():
        for ind in library().values():
            w = queries.window(ind, period)
            dims = tuple(d for d in MATERIALIZED_DIMS if d in ind.dimensions)
            field = ind.aggregate["field"] if ind.aggregate is not None else None
            num = _Tally(*_args(prepared(ind.numerator.source, w, dims), ind.numerator, field))
            den = None if ind.denominator is None else _Tally(
                *_args(prepared(ind.denominator.source, w, dims), ind.denominator, None))
            for key in num.counts.keys() | (den.counts.keys() if den is not None else set()):
                n, d, value = queries.counted(
                    ind, num.counts.get(key, 0), None if den is None else den.counts.get(key, 0),
                    None if field is None else num.values.get(key, {}).values())
                out.append({"period": period, "indicator_id": ind.id, "org_code": key[0], "dim": key[1],
                            "dim_value": key[2][:80], "numerator": n, "denominator": d, "value": value})
        out += _cohort_figures(period, rows, orgs)
    return out


def _cohort_figures(period: str, rows: queries.Rows, orgs: dict[str, Any]) -> list[dict[str, Any]]:
    """The Simple.org cohort boxes of the month (`app.quality.cohorts`) per organisation subtree."""
    counts: dict[tuple[str, str, str], int] = {}
    for quarter, cohort_start, outcome_start, outcome_end in cohorts.quarters(period):
        found = cohort_rows(Window(outcome_start, outcome_end, period), rows.prefix, cohort_start, outcome_start)
        chains = _chains(found, orgs)
        for disease in cohorts.DISEASES:
            for r in cohorts.members_of(found, disease, cohort_start, outcome_start):
                box = cohorts.outcome_of(r, disease)
                for org in chains[r.get("org_path") or ""]:
                    k = (cohorts.stored_id(disease, quarter), org.code, box)
                    counts[k] = counts.get(k, 0) + 1
    return [{"period": period, "indicator_id": ind, "org_code": org, "dim": cohorts.OUTCOME_DIM,
             "dim_value": encode(box), "numerator": n, "denominator": None, "value": None}
            for (ind, org, box), n in counts.items()]


def _args(prepared: tuple[list[dict], list[list[tuple]], bool], formula, field: str | None) -> tuple:
    found, keys, unique = prepared
    return found, keys, formula, field, unique


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

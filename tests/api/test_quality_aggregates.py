"""Materialized indicator figures (issue 20.3): on the demo county, every indicator of the library read from the
aggregates equals the live computation — overview (county, townships, a few villages, with their child
organisations and 本级 lines), breakdowns by disease, risk level, doctor, age band and sex, the 12-month trend, the
P10/P90 scores of townships and villages, the quarterly cohorts (under the control-rate indicators), and the
findings.

The demo county is seeded once (it is the expensive part) and both answers are collected for every indicator; the
parametrized test then compares them one indicator at a time, so a mismatch names its indicator.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select

from app.auth.services import create_token, create_user
from app.core import db
from app.org import queries as org_queries
from app.quality import jobs, refresh
from app.quality.library import library
from app.quality.models import QualityAggregate, QualityAggregateRun
from app.seed import demo
from app.workflows.deploy import collect_folder_files, deploy_files
from tests.helpers import REPO, ApiClient

DIMS = ("disease", "risk_level", "doctor", "age_band", "sex", "org")
_collected: dict[str, Any] = {}


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k != "freshness"}
    if isinstance(data, list):
        return [_strip(v) for v in data]
    return data


def _answers(api: ApiClient, orgs: list[str], period: str, previous: str) -> dict[str, dict[str, Any]]:
    """Everything the dashboards read, per indicator id."""
    out: dict[str, dict[str, Any]] = {ind: {} for ind in library()}
    for org in orgs:
        for month in (period, previous):
            resp = api.get(f"/api/v1/quality/overview?period={month}&org_code={org}")
            assert resp.status_code == 200, resp.json
            for item in resp.json["indicators"]:
                out[item["id"]][f"overview:{org}:{month}"] = _strip(item)
    root = orgs[0]
    for ind in library().values():
        for by in DIMS:
            if by in [d for d in ind.dimensions]:
                resp = api.get(f"/api/v1/quality/indicators/{ind.id}/breakdown?by={by}&period={period}"
                               f"&org_code={root}")
                assert resp.status_code == 200, resp.json
                out[ind.id][f"breakdown:{by}"] = _strip(resp.json["groups"])
        resp = api.get(f"/api/v1/quality/indicators/{ind.id}/trend?period={period}&org_code={root}")
        out[ind.id]["trend"] = _strip(resp.json["points"])
        for level in ("township", "village"):
            resp = api.get(f"/api/v1/quality/indicators/{ind.id}/scores?level={level}&period={period}"
                           f"&org_code={root}")
            assert resp.status_code == 200, resp.json
            out[ind.id][f"scores:{level}"] = _strip(resp.json)
    for org in orgs:
        for disease in ("htn", "t2dm"):
            resp = api.get(f"/api/v1/quality/cohorts?period={period}&org_code={org}&disease={disease}")
            assert resp.status_code == 200, resp.json
            out["htn_bp_control_rate" if disease == "htn" else "t2dm_glucose_control_rate"][
                f"cohorts:{org}:{disease}"] = _strip(resp.json)
    for org in orgs[:2]:
        resp = api.get(f"/api/v1/quality/findings?period={period}&org_code={org}")
        assert resp.status_code == 200, resp.json
        for f in resp.json["findings"]:
            out[f["indicator_id"]].setdefault(f"findings:{org}", []).append(_strip(f))
    return out


def _collect(app, client) -> dict[str, Any]:
    with app.app_context():
        deploy_files(collect_folder_files(REPO, [REPO / "bpmn", REPO / "dmn", REPO / "forms"]), deployed_by="test",
                     source="folder")
        demo.seed_demo(residents=60)
        user = create_user("agg_supervisor", password="secret-pass-1", roles=["supervisor"], org_code="C01",
                           display_name="质控员")
        _, token = create_token(user.id, name="test")
        api = ApiClient(client, token, user)
        runs = db.session().scalars(select(QualityAggregateRun)).all()
        assert runs and all(r.status == "done" for r in runs)          # the seed refreshed the figures
        period = max(r.period for r in runs)
        previous = sorted(r.period for r in runs)[-2]
        townships = [o.code for o in org_queries.subtree("C01") if o.level == "township"]
        villages = [o.code for o in org_queries.subtree("C01T01") if o.level == "village"][:3]
        orgs = ["C01", *townships, *villages]
        first = api.get(f"/api/v1/quality/overview?period={period}").json["freshness"]
        stored = _answers(api, orgs, period, previous)
        with db.unit_of_work() as s:
            s.execute(delete(QualityAggregateRun))
            s.execute(delete(QualityAggregate))
        live_first = api.get(f"/api/v1/quality/overview?period={period}").json["freshness"]
        live = _answers(api, orgs, period, previous)
        rows = {ind: sum(1 for k, v in live[ind].items() if k.startswith("overview")
                         and (v.get("numerator") or v.get("denominator"))) for ind in live}
    return {"stored": stored, "live": live, "freshness": (first, live_first), "with_data": rows}


@pytest.fixture()
def compared(app, client):
    if not _collected:
        _collected.update(_collect(app, client))
    return _collected


@pytest.mark.timeout(900)      # the first one seeds the demo county (with its activity) and reads everything twice
@pytest.mark.parametrize("indicator_id", list(library()))
def test_aggregate_figures_equal_the_live_computation(compared, indicator_id):
    stored, live = compared["stored"][indicator_id], compared["live"][indicator_id]
    assert stored.keys() == live.keys()
    for key in live:
        assert stored[key] == live[key], key


def test_the_demo_shows_figures_for_most_indicators_and_says_how_fresh(compared):
    with_data = [i for i, n in compared["with_data"].items() if n]
    assert len(with_data) >= 15, sorted(with_data)            # 21 of 45 when written: chronic, process, contracts …
    stored, live = compared["freshness"]
    assert stored["live"] is False and stored["as_of"] and stored["refresh_status"] == "done"
    assert stored["refresh_status_label"] == "已更新"
    assert live["live"] is True and live["as_of"] is None and live["refresh_status_label"] == "未生成"


def test_refresh_replaces_a_months_figures_and_records_its_state(app, login_as, county):
    api = login_as("supervisor")
    assert api.get("/api/v1/quality/aggregates").json["refresh_status"] is None
    resp = api.post("/api/v1/quality/aggregates/refresh")
    assert resp.status_code == 202, resp.json                     # eager jobs in tests: already done
    assert resp.json["refresh_status"] == "done" and resp.json["as_of"]
    with app.app_context():
        period = db.session().scalars(select(QualityAggregateRun.period)).one()
        before = db.session().scalar(select(func.count()).select_from(QualityAggregate))
        refresh.refresh(period)
        assert db.session().scalar(select(func.count()).select_from(QualityAggregate)) == before
        assert len(refresh.stale_periods()) == 24                   # the last 24 closed months: never refreshed
        assert jobs.refresh_closed() == 24 and refresh.stale_periods() == []      # eager jobs: refreshed at once
        assert jobs.refresh_current() == 1
    village = login_as("village_doctor", org="C01T01V01")
    assert village.post("/api/v1/quality/aggregates/refresh").status_code == 403
    assert api.post("/api/v1/quality/aggregates/refresh?period=2026-13").status_code == 422

"""Background exports on real rq workers (PostgreSQL + Redis): a report started through the API stays 排队中 until a
worker takes it, the worker (a separate `ygt worker` process) builds the xlsx under the requester's scope, and the
requester downloads it; a builder that fails in the worker reports its code instead of 生成中 for ever."""
from __future__ import annotations

import os
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.api.test_quality import PERIOD, small_county  # noqa: F401  (fixture)
from tests.integration.test_workers import _worker, rq_mode  # noqa: F401  (fixture)

pytestmark = [pytest.mark.usefixtures("small_county"),
              pytest.mark.skipif(not (os.environ.get("REDIS_URL")
                                      and os.environ.get("DATABASE_URL", "").startswith("postgresql")),
                                 reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")]

DEFINITION = {"measures": [{"kind": "raw", "code": "enrolments"}], "rows": ["org", "disease"],
              "period": {"from": PERIOD, "to": PERIOD, "granularity": "month"}}


def _run_worker(settings, queue_name):
    worker = _worker(settings, queue_name, burst=True)
    assert worker.wait(timeout=120) == 0


def test_a_report_job_waits_for_a_worker_then_is_downloaded(login_as, settings, rq_mode):  # noqa: F811
    api = login_as("supervisor")
    started = api.post("/api/v1/report-builder/jobs", json={"definition": DEFINITION, "name": "各乡镇分病种建档"})
    assert started.status_code == 202, started.json
    url = f"/api/v1/report-builder/jobs/{started.json['id']}"
    waiting = api.get(url).json
    assert (waiting["status"], waiting["status_label"], waiting["download"]) == ("queued", "排队中", None)

    _run_worker(settings, rq_mode)

    job = api.get(url).json
    assert (job["status"], job["percent"], job["error_code"]) == ("done", 100.0, None), job
    ws = load_workbook(BytesIO(api.get(job["download"]).data))["报表"]
    assert [c.value for c in ws[1]] == ["机构", "病种", "慢病建档管理人数 (人)"]
    assert ws.max_row == 5                      # header + township 1 HTN/T2DM + township 2 HTN/T2DM (hand counts)


def test_the_worker_builds_under_the_requesters_scope(login_as, settings, rq_mode):  # noqa: F811
    township = login_as("township_public_health", org="C01T02")
    started = township.post("/api/v1/report-builder/jobs", json={"definition": DEFINITION, "name": "本乡镇"})
    assert started.status_code == 202, started.json
    _run_worker(settings, rq_mode)
    job = township.get(f"/api/v1/report-builder/jobs/{started.json['id']}").json
    assert job["status"] == "done", job
    ws = load_workbook(BytesIO(township.get(job["download"]).data))["报表"]
    orgs = {row[0].value for row in ws.iter_rows(min_row=2)}
    assert orgs and not any("C01T01" in str(o) for o in orgs)
    assert ws.max_row == 3                      # township 2: 戊 (HTN) and 庚 (T2DM), nothing of township 1

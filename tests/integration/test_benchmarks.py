"""The benchmarks keep working: each runs in its `--short` mode (tiny data, seconds) and prints its figures.

Not timed: these assert that a benchmark runs to the end and reports what docs/benchmarks.md quotes, never how fast
(the machine is shared and CI's load varies). The PostgreSQL-only benchmarks run in the PostgreSQL pass of CI.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="this benchmark generates its data with PostgreSQL SQL")


def bench(name: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}     # jobs inline, never the CI's Redis db
    done = subprocess.run([sys.executable, str(ROOT / "bench" / name), "--short", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_engine_bare_reports_instances_per_second():
    out = bench("engine.py")
    assert '"instances": 5' in out and '"bare_in_memory_per_s"' in out and '"peak_rss_mb"' in out


def test_engine_profile_reports_statements_per_request():
    out = bench("engine_profile.py")
    assert '"statements_per_instance"' in out and '"complete_a"' in out and '"instances": 3' in out
    assert '"peak_rss_mb"' in out


def test_follow_up_reports_generation_and_start_rates():
    out = bench("follow_up.py")
    assert "generate_due_cycles: 200 visits" in out and "instance starts: 3 in" in out
    assert "peak RSS of this process" in out


def test_follow_up_batch_reports_starts_and_statements():
    out = bench("follow_up.py", "--batch")
    assert "batch: 200 started, 0 skipped, 0 failed" in out and "SQL statements" in out
    assert "re-run: 0 visits" in out


@postgres_only
def test_inbox_reports_every_view():
    out = bench("inbox.py")
    assert "generated 3000 open tasks" in out
    for label in ("groups · township doctor · sort=priority |", "sort=risk |", "q=王", "next page (cursor)",
                  "counts · township doctor", "claim (", "complete ("):
        assert label in out, label


@postgres_only
def test_screening_reports_the_batch():
    out = bench("screening.py")
    for key in ("residents: 2000", "residents_per_s", "cases_created", "rerun_s"):
        assert key in out, key


@postgres_only
def test_quality_reports_refresh_and_every_view():
    out = bench("quality.py")
    for label in ("county: 2,000 residents", "refresh: 2 months", "overview (county)", "breakdown by age band",
                  "breakdown by sex", "scores, villages", "cohorts (county)", "findings (county)",
                  "threshold alerts sweep", "load average"):
        assert label in out, label


@postgres_only
def test_engine_server_reports_the_workers_cpu_per_instance():
    redis = os.environ.get("REDIS_URL")
    if not redis:
        pytest.skip("the server hands its jobs to rq: needs REDIS_URL")
    out = bench("engine_server.py", "--redis-url", redis)
    for key in ('"code": "new"', '"instances": 4', '"worker_cpu_ms_per_instance"', '"summary"'):
        assert key in out, key

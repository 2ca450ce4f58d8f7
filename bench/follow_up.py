"""Follow-up benchmark (issue 6): how long it takes to generate the due follow-ups of 100,000 patients.

    python bench/follow_up.py --patients 100000 --starts 2000 [--database-url postgresql+psycopg://…/postgres]

Phase 1 is set-based SQL (`app.follow_up.scheduling.generate_due_cycles`: one INSERT … SELECT … ON CONFLICT DO
NOTHING and one correlated UPDATE) over `--patients` schedules that are all due. Phase 2 starts `--starts` of the
resulting `follow_up` instances one by one in this process (what one rq worker does per job) and reports the rate;
with W workers the rate multiplies (each start is its own short transaction). Phase 3 re-runs the generation to show
it is idempotent. A scratch database is created and dropped (PostgreSQL) or a temporary SQLite file is used.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scratch  # bench/scratch.py, beside this script


def scratch_url(server: str | None) -> tuple[str, callable]:
    if server and server.startswith("postgresql"):
        return scratch.scratch_url(server, "ygt_bench_fu")
    path = Path(tempfile.mkdtemp()) / "bench.db"
    return f"sqlite:///{path}", lambda: None


def seed_schedules(n: int) -> float:
    from sqlalchemy import text

    from app.core import clock
    from app.core.db import unit_of_work
    due = (clock.today() - timedelta(days=1)).isoformat()
    t0 = time.perf_counter()
    with unit_of_work() as s:
        rows = [{"r": i + 1, "due": due, "now": clock.now()} for i in range(n)]
        s.execute(text("INSERT INTO follow_up_schedules (resident_id, disease, risk_level, org_code, org_path, "
                       "interval_days, next_due_on, consecutive_uncontrolled, cycle_no, status, updated_at) "
                       "VALUES (:r, 'htn', 'MODERATE', 'C01T01V01', '/C01/C01T01/C01T01V01/', 90, :due, 0, 0, "
                       "'active', :now)"), rows)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--starts", type=int, default=2_000)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--short", action="store_true", help="tiny data, seconds: CI checks the benchmark runs and prints its figures (no timing asserts)")
    args = ap.parse_args()
    if args.short:
        args.patients, args.starts = 200, 3
    url, drop = scratch_url(args.database_url)
    from app import create_app
    from app.config import Settings
    from app.core.migrate import upgrade
    upgrade(url)
    app = create_app(Settings.from_env(database_url=url, jobs_mode="eager", scheduler_enabled=False,
                                       data_dir=tempfile.mkdtemp()))
    try:
        with app.app_context():
            from app.follow_up import scheduling
            from app.workflows.deploy import collect_folder_files, deploy_files
            deploy_files(collect_folder_files(ROOT, [ROOT / "bpmn" / "follow_up.bpmn", ROOT / "forms" / "follow_up",
                                                     ROOT / "dmn"]), deployed_by="bench", source="folder")
            seeded = seed_schedules(args.patients)
            t0 = time.perf_counter()
            made = scheduling.generate_due_cycles()
            generate_s = time.perf_counter() - t0
            ids = scheduling.pending_visit_ids(limit=args.starts)
            t0 = time.perf_counter()
            for visit_id in ids:
                scheduling.start_cycle(visit_id)
            start_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = scheduling.generate_due_cycles()
            again_s = time.perf_counter() - t0
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        rate = len(ids) / start_s if start_s else 0
        print(f"backend: {backend}")
        print(f"seeded {args.patients} due schedules in {seeded:.1f} s")
        print(f"generate_due_cycles: {made} visits in {generate_s:.2f} s ({made / generate_s:,.0f}/s)")
        print(f"re-run (idempotent): {again} visits in {again_s:.2f} s")
        print(f"instance starts: {len(ids)} in {start_s:.1f} s = {rate:.0f}/s per worker; "
              f"{args.patients} would take {args.patients / rate / 60:.1f} min on 1 worker, "
              f"{args.patients / rate / 60 / 8:.1f} min on 8")
    finally:
        drop()


if __name__ == "__main__":
    main()

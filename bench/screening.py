"""Benchmark the population screening batch on PostgreSQL (not a test).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/screening.py --residents 1000000 [--chunk 10000] [--starts 1000] [--keep]

Creates a scratch database, bulk-loads a synthetic county (12 townships, 150 villages) with N residents and about
five observations each (SBP, DBP, fasting glucose, BMI, waist; COPY), deploys the decision pack, then times one
full batch: residents/s, cases created/s, peak RSS and RSS per chunk (flat = memory does not grow with the
population). Process starts for new cases are queued by the batch (workers start them); the benchmark captures the
queue and then times `--starts` verification-process starts separately (tasks created per second).
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scratch  # bench/scratch.py, beside this script
from sqlalchemy import text
from sqlalchemy.engine import make_url


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


scratch_database, drop_database = scratch.create_database, scratch.drop_database


def orgs() -> list[tuple[str, str, str, str | None, str]]:
    rows = [("C01", "青溪县人民医院", "county", None, "/C01/")]
    for t in range(1, 13):
        tcode = f"C01T{t:02d}"
        rows.append((tcode, f"乡镇{t}卫生院", "township", "C01", f"/C01/{tcode}/"))
        for v in range(1, 13 + (t <= 6)):
            vcode = f"{tcode}V{v:02d}"
            rows.append((vcode, f"村{t}-{v}卫生室", "village", tcode, f"/C01/{tcode}/{vcode}/"))
    return rows


def copy_rows(cur, table: str, columns: str, rows) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(url: str, n: int, seed: int = 7) -> float:
    """Bulk-load orgs, residents and ~5 observations per resident with COPY; return seconds."""
    import psycopg
    rng = random.Random(seed)
    villages = [o for o in orgs() if o[2] == "village"]
    now = datetime(2026, 3, 1, tzinfo=UTC)
    started = time.perf_counter()
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        with conn.cursor() as cur:
            copy_rows(cur, "organizations", "code, name, level, parent_code, path", orgs())
            residents = []
            for i in range(1, n + 1):
                v = villages[i % len(villages)]
                born = date(1936, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
                residents.append((i, f"居民{i}", "M" if i % 2 else "F", born, "x", f"{i:064x}", "3X", v[0], v[4],
                                  now, now))
            copy_rows(cur, "residents", "id, name, sex, birth_date, id_number_encrypted, id_number_hash, "
                      "id_number_hint, org_code, org_path, created_at, updated_at", residents)
            del residents
            copy_rows(cur, "observations", "resident_id, code, value_num, unit, effective_at, source, "
                      "recorded_at, recorded_by", _observations(rng, n, now))
            cur.execute("SELECT setval(pg_get_serial_sequence('residents', 'id'), %s)", (n,))
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
    return time.perf_counter() - started


def _observations(rng: random.Random, n: int, now: datetime):
    for i in range(1, n + 1):
        at = now - timedelta(days=rng.randrange(0, 365))
        sbp = int(rng.gauss(132, 18))
        yield (i, "8480-6", max(80, min(240, sbp)), "mm[Hg]", at, "bench", at, "bench")
        yield (i, "8462-4", max(45, min(140, int(sbp * 0.62 + rng.gauss(0, 6)))), "mm[Hg]", at, "bench", at, "bench")
        yield (i, "1558-6", round(max(3.5, rng.lognormvariate(1.68, 0.18)), 1), "mmol/L", at, "bench", at, "bench")
        yield (i, "39156-5", round(max(15.0, rng.gauss(24.0, 3.5)), 1), "kg/m2", at, "bench", at, "bench")
        if i % 4:
            yield (i, "8280-0", round(max(55.0, rng.gauss(84, 10)), 1), "cm", at, "bench", at, "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--starts", type=int, default=1000, help="verification processes to start and time")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--short", action="store_true", help="tiny data, seconds: CI checks the benchmark runs and prints its figures (no timing asserts)")
    args = parser.parse_args()
    if args.short:
        args.residents, args.chunk, args.starts = 2000, 500, 3
    server = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    url, name = scratch_database(server)
    try:
        run(url, args)
    finally:
        if not args.keep:
            from app.core import db
            if db._engine is not None:
                db.engine().dispose()
            drop_database(server, name)


def run(url: str, args) -> None:
    from app import create_app
    from app.config import Settings
    from app.core.migrate import upgrade
    from app.jobs import queue
    upgrade(url)
    print(f"loading {args.residents:,} residents …", flush=True)
    load_s = load(url, args.residents)
    app = create_app(Settings.from_env(database_url=url, jobs_mode="eager", scheduler_enabled=False,
                                       data_dir=str(ROOT / "instance" / "bench")))
    queued: list[int] = []

    def capture(func, *ids, **kwargs):       # the batch's process-start jobs go to workers; keep them here
        if func.endswith("start_case_processes"):
            queued.extend(ids[0])
    queue.enqueue = capture
    with app.app_context():
        from app.core.db import session
        from app.screening import batch
        from app.workflows.deploy import collect_folder_files, deploy_files
        deploy_files(collect_folder_files(ROOT, [ROOT / "dmn"]), deployed_by="bench", source="folder")
        observations = session().execute(text("SELECT count(*) FROM observations")).scalar()
        session().close()
        print(f"loaded in {load_s:.1f}s ({observations:,} observations); screening …", flush=True)
        samples = []
        r = batch.create_run(started_by="bench", chunk_size=args.chunk)
        started = time.perf_counter()
        r = batch.run(r.id, on_chunk=lambda _id: samples.append(rss_mb()))
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report = {
            "residents": r.processed, "observations": observations, "chunk": args.chunk,
            "batch_s": round(elapsed, 1), "residents_per_s": round(r.processed / elapsed),
            "cases_created": r.cases_created, "cases_per_s": round(r.cases_created / elapsed),
            "process_starts_queued": len(queued), "peak_rss_mb": round(peak),
            "rss_first_chunks_mb": [round(x) for x in samples[:3]],
            "rss_last_chunks_mb": [round(x) for x in samples[-3:]], "counts": r.counts["cases"],
        }
        rerun = batch.create_run(started_by="bench", chunk_size=args.chunk)
        t2 = time.perf_counter()
        rerun = batch.run(rerun.id)
        report["rerun_s"], report["rerun_cases_created"] = round(time.perf_counter() - t2, 1), rerun.cases_created
        if args.starts and queued:
            report |= time_starts(queued[:args.starts])
        for key, value in report.items():
            print(f"{key:>24}: {value}")


def time_starts(case_ids: list[int]) -> dict:
    """Deploy the screening models and start verification processes for the first queued cases."""
    from app.screening import services
    from app.workflows.deploy import collect_folder_files, deploy_files
    paths = [ROOT / "bpmn" / f"{p}.bpmn" for p in ("screening", "stratify", "cancer_screening")] + [
        ROOT / "forms" / p for p in ("screening", "stratify", "cancer_screening")]
    deploy_files(collect_folder_files(ROOT, paths), deployed_by="bench", source="folder")
    started = time.perf_counter()
    for case_id in case_ids:
        services.start_case_process(case_id)
    elapsed = time.perf_counter() - started
    return {"tasks_started": len(case_ids), "tasks_per_s_one_process": round(len(case_ids) / elapsed, 1)}


if __name__ == "__main__":
    main()

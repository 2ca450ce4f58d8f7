"""Benchmark the population screening batch on PostgreSQL (not a test).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/screening.py --residents 1000000 [--chunk 10000] [--starts 1000] [--keep] \
        [--database NAME] [--path here|cursor] [--workers 1,2]   # --workers: that many rq workers each (needs REDIS_URL)

Creates a scratch database, bulk-loads a synthetic county (12 townships, 150 villages) with N residents and about
five observations each (SBP, DBP, fasting glucose, BMI, waist; COPY), deploys the decision pack, then times one
full batch: residents/s, cases created/s, peak RSS and RSS per chunk (flat = memory does not grow with the
population). `--path here` (default) is the chunked run screened by this process, `--path cursor` the older cursor
run; `--workers 1,2` also times the chunked run on 1 and then 2 rq workers (`bench/screening_worker.py`, the cases
emptied between runs) and reports per-chunk CPU and wall seconds of the workers. Process starts for new cases are queued by the batch (workers start them); the benchmark captures the
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
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (its name is printed)")
    parser.add_argument("--database", default="",
                        help="reuse a database an earlier --keep run loaded (skip loading; it is kept)")
    parser.add_argument("--path", choices=("here", "cursor"), default="here",
                        help="chunked run in this process (default) or the older single-process cursor run")
    parser.add_argument("--workers", default="", help="comma-separated rq worker counts to time, e.g. 1,2")
    parser.add_argument("--only-workers", action="store_true", help="time only the --workers runs")
    parser.add_argument("--short", action="store_true", help="tiny data, seconds: CI checks the benchmark runs and prints its figures (no timing asserts)")
    args = parser.parse_args()
    if args.short:
        args.residents, args.chunk, args.starts = 2000, 500, 3
    server = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    if args.database:
        url, name, args.keep = scratch.database_url(server, args.database), args.database, True
    else:
        url, name = scratch_database(server)
    print(f"database: {name}{' (kept)' if args.keep else ''}", flush=True)
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
    if args.database:               # loaded by an earlier --keep run: its screening results are emptied below
        load_s = 0.0
        print(f"reusing {args.database} (not loaded again)", flush=True)
    else:
        print(f"loading {args.residents:,} residents …", flush=True)
        load_s = load(url, args.residents)
    app = create_app(Settings.from_env(database_url=url, jobs_mode="eager", scheduler_enabled=False,
                                       data_dir=str(ROOT / "instance" / "bench")))
    queued: list[int] = []

    def capture(func, *ids, **kwargs):       # the batch's process-start jobs go to workers; keep them here
        if func.endswith(("start_case_processes", "start_case_batch")):
            queued.extend(ids[0])
    queue.enqueue = capture
    with app.app_context():
        from app.core.db import session
        from app.screening import batch
        from app.workflows.deploy import collect_folder_files, deploy_files
        deploy_files(collect_folder_files(ROOT, [ROOT / "dmn"]), deployed_by="bench", source="folder")
        if args.database:           # a rerun starts from no cases, as a fresh load would
            session().execute(text("TRUNCATE screening_cases, screening_run_chunks, screening_runs, job_outbox"))
            session().commit()
        observations = session().execute(text("SELECT count(*) FROM observations")).scalar()
        session().close()
        print(f"loaded in {load_s:.1f}s ({observations:,} observations); screening …", flush=True)
        if args.only_workers:
            report = {"residents": args.residents, "observations": observations, "chunk": args.chunk}
            for n in [int(w) for w in args.workers.split(",") if w.strip()]:
                report |= with_workers(url, batch, args, n)
            for key, value in report.items():
                print(f"{key:>24}: {value}", flush=True)
            return
        samples: list[float] = []
        started = time.perf_counter()
        r = screen(batch, args, on_chunk=lambda: samples.append(rss_mb()))
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
        report |= chunk_cpu(r.id)
        t2 = time.perf_counter()
        rerun = screen(batch, args)
        report["rerun_s"], report["rerun_cases_created"] = round(time.perf_counter() - t2, 1), rerun.cases_created
        for n in [int(w) for w in args.workers.split(",") if w.strip()]:
            report |= with_workers(url, batch, args, n)
        if args.starts and queued:
            report |= time_starts(queued[:args.starts])
        for key, value in report.items():
            print(f"{key:>24}: {value}")


def screen(batch, args, on_chunk=lambda: None):
    """One full run, chunked in this process (`ygt screen --here`) or the older cursor run; the finished run."""
    from app.core.db import remove_session
    from app.screening.queries import stored_run
    if args.path == "cursor":
        r = batch.create_run(started_by="bench", chunk_size=args.chunk)
        return batch.run(r.id, on_chunk=lambda _id: on_chunk())
    run_id = batch.create_chunked_run(started_by="bench", chunk_size=args.chunk, enqueue=False).id
    for seq in batch.pending_chunks(run_id):
        batch.screen_chunk(run_id, seq)
        on_chunk()
    remove_session()
    return stored_run(run_id)


def chunk_cpu(run_id: int, prefix: str = "") -> dict:
    """Per chunk: CPU seconds of the screening process (Python: features parsing, rules, COPY) and wall seconds."""
    from app.core.db import session
    rows = session().execute(text("SELECT cpu_s, wall_s, processed FROM screening_run_chunks WHERE run_id = :r "
                                  "AND status = 'done'"), {"r": run_id}).all()
    if not rows or rows[0][0] is None:
        return {}
    cpu, wall, n = sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows)
    return {f"{prefix}chunks": len(rows), f"{prefix}chunk_cpu_s_mean": round(cpu / len(rows), 2),
            f"{prefix}chunk_wall_s_mean": round(wall / len(rows), 2),
            f"{prefix}cpu_us_per_resident": round(1e6 * cpu / n, 1) if n else None,
            f"{prefix}wall_us_per_resident_per_worker": round(1e6 * wall / n, 1) if n else None}


class PostgresCpu:
    """CPU seconds (user + system) of this database's PostgreSQL backends and of the server's own processes (WAL
    writer, checkpointer, background writer, autovacuum: shared with any other database on the server) while a
    run goes: /proc sampled every 0.2 s from a thread, so a backend that exits loses at most its last 0.2 s."""

    def __init__(self, database: str):
        import threading
        self.database, self.tick = database, os.sysconf("SC_CLK_TCK")
        self.backends: dict[int, tuple[int, int]] = {}      # pid -> (first, last) ticks
        self.server: dict[int, tuple[int, int]] = {}
        self.stop = threading.Event()
        self._sample()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.wait(0.2):
            self._sample()

    def _sample(self) -> None:
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                title = (proc / "cmdline").read_bytes().decode(errors="replace")
                if not title.startswith("postgres: "):
                    continue
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            ticks, pid = int(fields[11]) + int(fields[12]), int(proc.name)
            words = title.replace("\0", " ").split()[1:]       # "postgres: [cluster: ]user database host state"
            if words and words[0].endswith(":"):
                words = words[1:]
            mine = len(words) > 1 and words[1] == self.database
            if mine or (words and words[0] in ("walwriter", "checkpointer", "background", "autovacuum")):
                table = self.backends if mine else self.server
                first = table.get(pid, (ticks, ticks))[0]
                table[pid] = (first, ticks)

    def result(self) -> tuple[float, float]:
        self.stop.set()
        self.thread.join()
        self._sample()
        return tuple(round(sum(b - a for a, b in t.values()) / self.tick, 1)   # type: ignore[return-value]
                     for t in (self.backends, self.server))


def with_workers(url: str, batch, args, n: int) -> dict:
    """Empty the cases, queue a chunked run to rq and time `n` burst workers screening it."""
    print(f"{n} worker(s) …", flush=True)
    import subprocess
    import uuid

    from app.core.db import remove_session, session
    from app.jobs import backend
    from app.screening.queries import stored_run
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise SystemExit("--workers needs REDIS_URL (a Redis db of your own)")
    session().execute(text("TRUNCATE screening_cases, screening_run_chunks, screening_runs, job_outbox"))
    session().commit()
    name = f"ygt-bench-{uuid.uuid4().hex[:8]}"
    backend.QUEUE_NAME = name
    saved = backend.mode()
    backend.configure("rq", redis_url)
    try:
        run_id = batch.create_chunked_run(started_by="bench", chunk_size=args.chunk).id
    finally:
        backend.set_mode(saved)
    env = {**os.environ, "DATABASE_URL": url, "YGT_QUEUE": name, "REDIS_URL": redis_url,
           "DATA_DIR": str(ROOT / "instance" / "bench"), "YGT_SCHEDULER": "0"}
    started, pg = time.perf_counter(), PostgresCpu(make_url(url).database or "")
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = [subprocess.Popen([sys.executable, str(ROOT / "bench" / "screening_worker.py")], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]
    for w in workers:
        w.wait()
    elapsed = time.perf_counter() - started
    (pg_backends, pg_server), children = pg.result(), resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    remove_session()
    r = stored_run(run_id)
    load = Path("/proc/loadavg").read_text().split()[:3]
    # the run itself: created (its chunks queued) until its last chunk marked it finished — what a user waits for;
    # `workers_{n}_s` also holds the burst workers' exit, which waits for jobs rq holds scheduled for later
    run_s = (r.finished_at - r.started_at).total_seconds() if r.finished_at and r.started_at else None
    return {f"workers_{n}_run_s": None if run_s is None else round(run_s, 1),
            f"workers_{n}_s": round(elapsed, 1), f"workers_{n}_residents_per_s": round(r.processed / elapsed),
            f"workers_{n}_status": f"{r.status} {r.done_chunks}/{r.total_chunks} chunks, {r.processed} residents, "
                                   f"{r.cases_created} cases", f"workers_{n}_loadavg": " ".join(load),
            # every process's CPU over the run, so the two cores' split is visible: the rq workers and their work
            # horses (all of it, not only the chunks' own process_time) and PostgreSQL's server processes
            f"workers_{n}_rq_cpu_s": round(worker_cpu, 1),
            f"workers_{n}_postgres_backends_cpu_s": pg_backends,
            f"workers_{n}_postgres_server_cpu_s": pg_server} | chunk_cpu(
        run_id, f"workers_{n}_")


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

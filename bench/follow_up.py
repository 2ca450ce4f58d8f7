"""Follow-up benchmark (issue 6): how long it takes to generate the due follow-ups of 100,000 patients.

    python bench/follow_up.py --patients 100000 --starts 2000 [--database-url postgresql+psycopg://…/postgres]

Phase 1 is set-based SQL (`app.follow_up.scheduling.generate_due_cycles`: one INSERT … SELECT … ON CONFLICT DO
NOTHING and one correlated UPDATE) over `--patients` schedules that are all due. Phase 2 starts `--starts` of the
resulting `follow_up` instances one by one in this process (what one rq worker does per job) and reports the rate;
with W workers the rate multiplies (each start is its own short transaction). Phase 3 re-runs the generation to show
it is idempotent. A scratch database is created and dropped (PostgreSQL) or a temporary SQLite file is used.

`--batch` measures the batch start instead (issue 23.3, `app.workflows.batch`): phase 2 becomes
`scheduling.enqueue_starts()` — one batch row, chunks of `--chunk` visits — run by `--workers` real `ygt worker`
processes on Redis (`--redis-url`, PostgreSQL only) or, without Redis, in this process; it reports the time until every
instance is started (the batch row says done), the rate, and the time until the queue is drained (the new-task
announcements each started task queues). The batch is then re-run to show it starts nothing twice.

    python bench/follow_up.py --batch --patients 100000 --workers 2 --database-url postgresql+psycopg://…/postgres \
        --redis-url redis://127.0.0.1:6379/3
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import memory  # bench/memory.py, beside this script
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
    from app.org.services import create_org
    for code, name, level, parent in (("C01", "青溪县人民医院", "county", None),
                                      ("C01T01", "石门镇卫生院", "township", "C01"),
                                      ("C01T01V01", "上塘村卫生室", "village", "C01T01")):
        create_org(code, name, level=level, parent_code=parent)   # the schedules' village exists, as in a county
    due = (clock.today() - timedelta(days=1)).isoformat()
    t0 = time.perf_counter()
    with unit_of_work() as s:
        rows = [{"r": i + 1, "due": due, "now": clock.now()} for i in range(n)]
        s.execute(text("INSERT INTO follow_up_schedules (resident_id, disease, risk_level, org_code, org_path, "
                       "interval_days, next_due_on, consecutive_uncontrolled, cycle_no, status, updated_at) "
                       "VALUES (:r, 'htn', 'MODERATE', 'C01T01V01', '/C01/C01T01/C01T01V01/', 90, :due, 0, 0, "
                       "'active', :now)"), rows)
    return time.perf_counter() - t0


def count_statements() -> list[int]:
    """A counter of the SQL statements this process sends from now on (load-independent evidence)."""
    from sqlalchemy import event

    from app.core import db
    counter = [0]

    def count(*_args, **_kw):
        counter[0] += 1
    event.listen(db.engine(), "before_cursor_execute", count)
    return counter


def process_cpu_s(pid: int) -> float:
    """CPU seconds of a process and of its children it waited for (utime + stime + cutime + cstime): an rq
    worker's own, plus its work horses' (one per job) and whatever those reaped (the script-isolation pool)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class ZygoteCpu:
    """CPU seconds of the script zygotes and their script workers that carry this run's queue name in their
    environment, sampled from /proc every 0.25 s until `stop()`. They start in a new session and are never reaped
    by an rq worker (the zygote outlives the job that started it, the script workers are reaped by the kernel), so
    `process_cpu_s` of the workers never includes them."""

    def __init__(self, queue_name: str):
        import threading
        self.mark, self.seen, self.other = f"YGT_QUEUE={queue_name}\0".encode(), {}, set()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self.done.wait(0.25):
            for name in os.listdir("/proc"):
                if not name.isdigit() or int(name) in self.other:
                    continue
                pid = int(name)
                try:
                    if pid not in self.seen:
                        with open(f"/proc/{pid}/cmdline", "rb") as f, open(f"/proc/{pid}/environ", "rb") as e:
                            if b"app.engine.zygote" not in f.read() or self.mark not in e.read():
                                self.other.add(pid)
                                continue
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    self.seen[pid] = max(self.seen.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / tick)
                except OSError:
                    pass

    def stop(self) -> tuple[float, int]:
        self.done.set()
        self.thread.join()
        return sum(self.seen.values()), len(self.seen)


def run_batch(args, url: str, app) -> None:
    """Phase 2 as a batch start (see the module doc)."""
    from sqlalchemy import func, select

    from app.core.db import session
    from app.follow_up import scheduling
    from app.workflows import batch
    from app.workflows.models import BatchStart, HumanTask, ProcessEvent, ProcessInstance
    workers = []
    zygotes = None
    if args.redis_url:
        from redis import Redis
        queue_name = os.environ["YGT_QUEUE"]
        Redis.from_url(args.redis_url).delete(f"rq:queue:{queue_name}")
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": args.redis_url, "YGT_QUEUE": queue_name,
               "PYTHONPATH": str(ROOT), "YGT_SCHEDULER": "0"}
        ygt = str(Path(sys.executable).parent / "ygt")
        workers = [subprocess.Popen([ygt, "worker"], cwd=ROOT, env=env, start_new_session=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(args.workers)]
        zygotes = ZygoteCpu(queue_name)
    try:
        with app.app_context():
            statements = count_statements()
            with open("/proc/loadavg") as f:
                load0 = " ".join(f.read().split()[:3])
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            made = scheduling.enqueue_starts()
            queued_s = time.perf_counter() - t0
            batch_id = batch.unfinished(scheduling.BATCH_KIND) or session().scalar(
                select(func.max(BatchStart.id)))
            session().rollback()
            while True:
                p = batch.progress(batch_id, failures=3)
                session().rollback()
                if p["status"] != "running":
                    break
                time.sleep(0.5)
            started_s = time.perf_counter() - t0
            cpu_s = time.process_time() - cpu0
            drained_s = started_s
            if args.redis_url:
                from redis import Redis
                r = Redis.from_url(args.redis_url)
                while r.llen(f"rq:queue:{queue_name}") or r.zcard(f"rq:wip:{queue_name}"):
                    time.sleep(0.5)
                drained_s = time.perf_counter() - t0
                time.sleep(1)       # the last work horse reaped
            workers_cpu_s = sum(process_cpu_s(w.pid) for w in workers)
            zygote_cpu_s, zygote_n = zygotes.stop() if zygotes is not None else (0.0, 0)
            counts = {name: session().scalar(select(func.count()).select_from(model)) for name, model in (
                ("instances", ProcessInstance), ("open tasks", HumanTask), ("history events", ProcessEvent))}
            session().rollback()
            t1 = time.perf_counter()
            again = scheduling.enqueue_starts()
            again_s = time.perf_counter() - t1
            with open("/proc/loadavg") as f:
                load = " ".join(f.read().split()[:3])
        print(f"load average at the start: {load0}")
        where = f"{args.workers} rq workers" if args.redis_url else "in this process (eager jobs)"
        print(f"batch {batch_id}: {made} visits queued in {queued_s:.1f} s; {where}, chunks of {scheduling.BATCH_CHUNK}")
        print(f"batch: {p['started']} started, {p['skipped']} skipped, {p['failed']} failed in {started_s:.1f} s "
              f"= {p['started'] / started_s:,.0f} starts/s" + (f" ({p['failures']})" if p["failed"] else ""))
        if workers:
            print(f"rq workers: {workers_cpu_s:.1f} s CPU until the queue was drained (own + reaped work horses; chunks and announcements) = "
                  f"{1000 * workers_cpu_s / max(1, p['started']):.2f} ms CPU per start")
            print(f"script zygotes and script workers (never reaped by the rq workers, so not above): {zygote_cpu_s:.1f} s "
                  f"CPU in {zygote_n} processes = {1000 * zygote_cpu_s / max(1, p['started']):.2f} ms per start; "
                  f"together {1000 * (workers_cpu_s + zygote_cpu_s) / max(1, p['started']):.2f} ms per start")
        if not args.redis_url:
            print(f"this process: {cpu_s:.1f} s CPU = {1000 * cpu_s / max(1, p['started']):.1f} ms CPU per start; "
                  f"{statements[0]} SQL statements = {statements[0] / max(1, p['started']):.2f} per start "
                  f"(batch rows, locks, instances, events, tasks, timers, announcements)")
        print(f"queue drained (new-task announcements run) after {drained_s:.1f} s")
        print(f"rows: {counts}")
        print(f"re-run: {again} visits put in a new batch in {again_s:.2f} s")
        print(f"load average at the end: {load}")
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:       # a work horse still busy with a leftover job: stop it hard
                os.killpg(w.pid, signal.SIGKILL)
                w.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--starts", type=int, default=2_000)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--batch", action="store_true", help="measure the batch start (app.workflows.batch)")
    ap.add_argument("--workers", type=int, default=2, help="--batch: rq workers (with --redis-url)")
    ap.add_argument("--chunk", type=int, default=None,
                    help="--batch: visits per chunk (one transaction, one job); default: the platform's")
    ap.add_argument("--redis-url", default=None, help="--batch: run the chunks on real rq workers (PostgreSQL)")
    ap.add_argument("--short", action="store_true", help="tiny data, seconds: CI checks the benchmark runs and prints its figures (no timing asserts)")
    args = ap.parse_args()
    if args.short:
        args.patients, args.starts = 200, 3
    url, drop = scratch_url(args.database_url)
    if args.batch:
        if args.chunk is not None:
            os.environ["YGT_FOLLOW_UP_BATCH_CHUNK"] = str(args.chunk)
        os.environ["YGT_QUEUE"] = f"ygt-bench-{os.getpid()}"        # read when app.jobs is imported
    from app import create_app
    from app.config import Settings
    from app.core.migrate import upgrade
    upgrade(url)
    rq = bool(args.batch and args.redis_url)
    app = create_app(Settings.from_env(database_url=url, jobs_mode="rq" if rq else "eager", scheduler_enabled=False,
                                       data_dir=tempfile.mkdtemp(), **({"redis_url": args.redis_url} if rq else {})))
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
            if args.batch:
                print(f"seeded {args.patients} due schedules in {seeded:.1f} s; generate_due_cycles: {made} visits "
                      f"in {generate_s:.2f} s")
        if args.batch:
            run_batch(args, url, app)
            return
        with app.app_context():
            ids = scheduling.pending_visit_ids(limit=args.starts)
            statements = count_statements()
            t0 = time.perf_counter()
            for visit_id in ids:
                scheduling.start_cycle(visit_id)
            start_s = time.perf_counter() - t0
            per_start = statements[0] / max(1, len(ids))
            t0 = time.perf_counter()
            again = scheduling.generate_due_cycles()
            again_s = time.perf_counter() - t0
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        rate = len(ids) / start_s if start_s else 0
        print(f"backend: {backend}")
        print(f"seeded {args.patients} due schedules in {seeded:.1f} s")
        print(f"generate_due_cycles: {made} visits in {generate_s:.2f} s ({made / generate_s:,.0f}/s)")
        print(f"re-run (idempotent): {again} visits in {again_s:.2f} s")
        print(f"single starts: {per_start:.1f} SQL statements per start (one transaction per visit)")
        print(f"instance starts: {len(ids)} in {start_s:.1f} s = {rate:.0f}/s per worker; "
              f"{args.patients} would take {args.patients / rate / 60:.1f} min on 1 worker, "
              f"{args.patients / rate / 60 / 8:.1f} min on 8")
        # the starts ran here as one rq worker runs them (issue 23.7)
        print(f"peak RSS of this process (one worker's work): {memory.self_peak_rss_mb()} MB, "
              f"now {memory.self_rss_mb()} MB")
    finally:
        drop()


if __name__ == "__main__":
    main()

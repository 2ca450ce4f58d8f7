"""The engine path as production serves it (issue 23.2): one gunicorn worker, its CPU per instance, old and new code.

`bench/engine.py` measures instances/s through a server someone started; this script starts the server itself, as
production does (`gunicorn -c python:app.gunicorn_conf 'app:create_app()'`, one gthread worker, jobs to rq), and
reads the worker's CPU (and that of the PostgreSQL backends it is connected to) from /proc around the measured run:
on a shared 2-core machine instances/s moves with the load of everything else, the worker's CPU per instance much
less. With `--compare DIR` it alternates this checkout
with another one (for example `git worktree add --detach /tmp/old <rev>`) in the order A B B A …, each on its own
scratch database migrated by its own code (old code does not know newer migrations).

    python bench/engine_server.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        --redis-url redis://127.0.0.1:6379/6 [--compare /tmp/old] [--instances 500] [--rounds 2] [--clients 2]
    python bench/engine_server.py --short        # CI: a few instances, one round (tests/integration/test_benchmarks.py)

Linux only (/proc). Jobs go to the Redis database given and nothing reads them; it is emptied at the end. Prints
one JSON line per run and a summary (medians per checkout).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scratch  # bench/scratch.py, beside this script
from engine import http_run  # bench/engine.py

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
ORG = "C01T01"
SETUP = """
import json, os, sys
sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "bench")]
import engine_profile
app, token = engine_profile.setup(sys.argv[1])
print(json.dumps({"token": token}))
"""


def prepare(code: Path, server_url: str, redis_url: str) -> tuple[str, str, str]:
    """A scratch database set up by `code` itself (its migrations, the approval model, a user): url, name, token."""
    url, name = scratch.create_database(server_url, "ygt_enginesrv")
    env = {**os.environ, "PYTHONPATH": str(code), "REDIS_URL": redis_url}
    done = subprocess.run([sys.executable, "-c", SETUP, url], cwd=code, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        scratch.drop_database(server_url, name)
        raise SystemExit(f"setting up {code} failed:\n{done.stderr[-3000:]}")
    return url, name, json.loads(done.stdout.strip().splitlines()[-1])["token"]


def cpu_ticks(pid: int) -> tuple[int, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])         # utime, stime (fields 14 and 15 of the whole line)


def backends_ticks(url: str) -> dict[int, int]:
    """The CPU ticks (user + system) of the PostgreSQL backends connected to the scratch database (the worker's
    pooled connections; the server runs on this machine), by pid."""
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()")]
    ticks = {}
    for pid in pids:
        try:
            ticks[pid] = sum(cpu_ticks(pid))
        except OSError:         # gone, or not on this machine
            pass
    return ticks


def web_worker(master: int) -> int:
    """The gunicorn worker: the master's child that is not the script zygote (app.engine.isolation)."""
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        workers = [int(c) for c in children if b"zygote" not in Path(f"/proc/{c}/cmdline").read_bytes()]
        if workers:
            return workers[0]
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker appeared")


def serve(code: Path, url: str, redis_url: str, port: int, data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(code), "DATABASE_URL": url, "REDIS_URL": redis_url,
           "YGT_SCHEDULER": "0", "WEB_CONCURRENCY": "1", "WEB_MAX_REQUESTS": "1000000",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "DATA_DIR": str(data_dir)}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf",
                               "app:create_app()"], cwd=code, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn from {code} exited with {server.returncode}") from None
            time.sleep(0.5)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz within 120 s")


def one_run(label: str, code: Path, url: str, token: str, args) -> dict:
    data_dir = Path(f"/tmp/ygt-enginesrv-{args.port}")
    data_dir.mkdir(exist_ok=True)
    server = serve(code, url, args.redis_url, args.port, data_dir)
    try:
        worker = web_worker(server.pid)
        base = f"http://127.0.0.1:{args.port}"
        http_run(base, token, args.warmup, args.clients, ORG)
        spy = None
        if args.py_spy:         # a GIL profile of the worker over the measured run (bench/flame_summary.py reads it)
            out = f"{args.py_spy}.{label}.{int(time.time())}.raw"
            spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "-r", "200", "--gil", "--nonblocking",
                                    "-p", str(worker), "-o", out], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            time.sleep(1)
        pg0 = backends_ticks(url)
        user0, sys0 = cpu_ticks(worker)
        result = http_run(base, token, args.instances, args.clients, ORG)
        user1, sys1 = cpu_ticks(worker)
        pg1 = backends_ticks(url)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    n = result["instances"]
    return {"code": label, "instances": n, "clients": args.clients, "instances_per_s": result["instances_per_s"],
            "worker_cpu_ms_per_instance": round((user1 - user0 + sys1 - sys0) * TICK_MS / n, 2),
            "user_ms": round((user1 - user0) * TICK_MS / n, 2), "sys_ms": round((sys1 - sys0) * TICK_MS / n, 2),
            # the backends connected before and after the run (a connection made during it: not counted)
            "postgres_cpu_ms_per_instance": round(sum(t - pg0[p] for p, t in pg1.items() if p in pg0) * TICK_MS / n,
                                                  2),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "median_ms": {k: v["median_ms"] for k, v in result["requests"].items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                    help="the PostgreSQL server (scratch databases are made and dropped on it)")
    ap.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6"))
    ap.add_argument("--compare", type=Path, help="another checkout to alternate with this one (A B B A …)")
    ap.add_argument("--instances", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="runs per checkout")
    ap.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    ap.add_argument("--py-spy", metavar="PREFIX", help="record a py-spy GIL profile of the worker per run "
                    "(PREFIX.<code>.<time>.raw; py-spy must be on PATH)")
    ap.add_argument("--short", action="store_true", help="a few instances, one round (CI: runs and prints)")
    args = ap.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("--database-url (or DATABASE_URL) must name a PostgreSQL server")
    args.port = args.port or free_port()
    if args.short:
        args.instances, args.warmup, args.rounds, args.clients = 4, 2, 1, 2
    trees = [("new", ROOT)] + ([("old", args.compare.resolve())] if args.compare else [])
    prepared = {}
    try:
        for label, code in trees:
            prepared[label] = prepare(code, args.database_url, args.redis_url)
        order = [label for r in range(args.rounds) for label in ([t[0] for t in trees][::1 if r % 2 == 0 else -1])]
        runs = []
        for label in order:
            url, _name, token = prepared[label]
            run = one_run(label, dict(trees)[label], url, token, args)
            runs.append(run)
            print(json.dumps(run, ensure_ascii=False), flush=True)
    finally:
        for url, name, _token in prepared.values():
            scratch.drop_database(args.database_url, name)
        _empty_queue(args.redis_url)
    summary = {label: {"runs": sum(r["code"] == label for r in runs),
                       "median_instances_per_s": statistics.median(r["instances_per_s"] for r in runs
                                                                   if r["code"] == label),
                       "median_worker_cpu_ms_per_instance": statistics.median(
                           r["worker_cpu_ms_per_instance"] for r in runs if r["code"] == label),
                       "median_postgres_cpu_ms_per_instance": statistics.median(
                           r["postgres_cpu_ms_per_instance"] for r in runs if r["code"] == label)}
               for label, _code in trees}
    print(json.dumps({"summary": summary}, ensure_ascii=False, indent=1))


def _empty_queue(redis_url: str) -> None:
    """The runs' jobs (new-task announcements) went to the platform's queue in this Redis database and nobody ran
    them: empty that queue (only it)."""
    from redis import Redis
    from rq import Queue

    from app.jobs.backend import QUEUE_NAME
    Queue(QUEUE_NAME, connection=Redis.from_url(redis_url)).empty()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()

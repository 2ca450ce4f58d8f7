"""Where an engine-path request goes (issue 23.1): statements, transactions and CPU per request of bench/engine.py.

The same four requests per instance as bench/engine.py (start, list, complete A, complete B) through the Flask app
in-process (token auth, routing, serialization; no network, no gunicorn), on a scratch database. Counts are exact
and do not depend on the machine's load: SQL statements and transactions per request kind (SQLAlchemy events), and
the statements by their first words, and round trips to PostgreSQL per request kind (a pipeline counts one;
`app.core.pgexec.round_trips`). With --profile, a cProfile summary grouped by layer (the figures in
docs/benchmarks.md).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        python bench/engine_profile.py --instances 200 [--profile] [--statements]
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import memory  # bench/memory.py, beside this script

KINDS = ("start", "list", "complete_a", "complete_b")


class Counters:
    """Statements and transactions per request, from engine events."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event
        self.statements: list[str] = []
        self.transactions = 0
        self.sql_s = 0.0
        started: list[float] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _before(_conn, _cursor, statement, *_a):
            self.statements.append(statement)
            started.append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(*_a):
            self.sql_s += time.perf_counter() - started.pop()

        @event.listens_for(engine, "begin")
        def _begin(_conn):
            self.transactions += 1

    def reset(self) -> None:
        self.statements, self.transactions, self.sql_s = [], 0, 0.0


def shape(statement: str) -> str:
    """A statement's kind and table: `SELECT human_tasks`, `INSERT audit_entries`; a statement of several writes
    (`app.core.hot.update_then_insert`, `insert_together`) its writes in order: `WITH UPDATE process_instances +
    INSERT process_events`."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    low = [w.lower().strip('"(') for w in words]
    if verb == "WITH":
        writes = [f"{low[i].upper()} {low[i + (2 if low[i] == 'insert' else 1)].strip(chr(34) + ',')}"
                  for i in range(len(low) - 2) if low[i] in ("insert", "update") and
                  (low[i] == "update" or low[i + 1] == "into")]
        if writes:
            return "WITH " + " + ".join(writes)
    table = "?"
    for key in ("from", "into", "update"):
        if key in low:
            i = low.index(key)
            if i + 1 < len(low):
                table = low[i + 1].strip('",')
                break
    if verb == "UPDATE" and len(low) > 1:
        table = low[1].strip('"')
    return f"{verb} {table}"


def setup(url: str):
    from app import create_app
    from app.auth.services import create_token, create_user
    from app.config import Settings
    from app.core.migrate import upgrade
    from app.org.services import create_org
    from app.workflows.deploy import deploy_files
    from tests.helpers import model_files
    upgrade(url)
    redis = os.environ.get("REDIS_URL")    # as in production: jobs (new-task notifications) go to rq, not inline
    app = create_app(Settings.from_env(data_dir=tempfile.mkdtemp(prefix="ygt-prof-"), database_url=url,
                                       redis_url=redis, jobs_mode="rq" if redis else "eager",
                                       scheduler_enabled=False))
    files = {(f"bpmn/{k}" if k.endswith(".bpmn") else f"forms/{k}"): v
             for k, v in model_files("approval.bpmn", "approval")}
    with app.app_context():
        create_org("C01", "县医院", level="county", parent_code=None)
        create_org("C01T01", "镇卫生院", level="township", parent_code="C01")
        deploy_files(files, deployed_by="bench", source="folder")
        user = create_user("bench_doctor", password="secret-pass-1", roles=["township_doctor"], org_code="C01T01",
                           display_name="bench")
        token = create_token(user.id, name="bench")[1]
    return app, token


def one_instance(client, headers, c: Counters, out: dict) -> None:
    from app.core.pgexec import round_trips

    def req(kind, method, url, **kw):
        c.reset()
        trips = round_trips()
        t0 = time.perf_counter()
        resp = getattr(client, method)(url, headers=headers, **kw)
        ms = (time.perf_counter() - t0) * 1000
        out[kind]["round_trips"].append(round_trips() - trips)
        assert resp.status_code < 300, (url, resp.status_code, resp.get_data(as_text=True)[:300])
        out[kind]["ms"].append(ms)
        out[kind]["sql_ms"].append(c.sql_s * 1000)
        out[kind]["statements"].append(len(c.statements))
        out[kind]["transactions"].append(c.transactions)
        out[kind]["shapes"] = Counter(shape(s) for s in c.statements)
        return resp.get_json()
    inst = req("start", "post", "/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"})
    req("list", "get", "/api/v1/tasks", query_string={"view": "groups", "process_id": "approval", "per_page": 1,
                                                       "sort": "created"})
    a = req("complete_a", "post", f"/api/v1/tasks/{inst['open_tasks'][0]['id']}/complete",
            json={"data": {"amount": 150, "comment": "bench"}, "completion_id": str(uuid.uuid4())})
    req("complete_b", "post", f"/api/v1/tasks/{a['next_tasks'][0]['id']}/complete",
        json={"data": {"approved": True}, "completion_id": str(uuid.uuid4())})


LAYERS = (("engine (SpiffWorkflow + our wrapper)", ("SpiffWorkflow", "app/engine/")),
          ("SQL driver + PostgreSQL wait", ("psycopg",)),
          ("SQLAlchemy (ORM/Core)", ("sqlalchemy",)),
          ("HTTP (werkzeug/flask)", ("werkzeug", "flask")),
          ("auth", ("app/auth/",)),
          ("audit", ("app/audit/",)),
          ("inbox (app/tasks)", ("app/tasks/",)),
          ("workflows layer", ("app/workflows/",)),
          ("json", ("json/",)))


PHASES = (("auth: token → principal", "app/auth/web.py", "resolve_principal"),
          ("start: runner.start_instance (engine + writes)", "app/workflows/runner.py", "start_instance"),
          ("  engine: runtime.start", "app/engine/runtime.py", "start"),
          ("start: instance detail (response re-read)", "app/processes/queries.py", "instance_detail"),
          ("inbox list (query + serialization)", "app/tasks/queries.py", "list_tasks"),
          ("complete: tasks.completion.complete", "app/tasks/completion.py", "complete"),
          ("  form of the task", "app/tasks/services.py", "form_of"),
          ("  runner.complete_human_task (lock, engine, writes)", "app/workflows/runner.py", "complete_human_task"),
          ("    engine: runtime.complete_task", "app/engine/runtime.py", "complete_task"),
          ("    projections + history (_persist)", "app/workflows/runner.py", "_persist"),
          ("  serialization of task + next tasks (items)", "app/tasks/queries.py", "items"),
          ("commit (flush + COMMIT)", "sqlalchemy/orm/session.py", "commit"),
          ("outbox relay after commit", "app/jobs/outbox.py", "relay_after_commit"),
          ("response schema dump (marshmallow)", "marshmallow/schema.py", "dump"))


def phase_summary(prof: cProfile.Profile, total_s: float) -> list[tuple[str, float]]:
    """Cumulative time of the request's phases (a phase includes what it calls)."""
    stats = pstats.Stats(prof)
    out = []
    for label, path, name in PHASES:
        ct = sum(v[3] for (f, _l, fn), v in stats.stats.items()  # type: ignore[attr-defined]
                 if fn == name and f.endswith(path))
        out.append((label, ct / total_s * 100))
    return out


def layer_summary(prof: cProfile.Profile, total_s: float) -> list[tuple[str, float]]:
    """Self time per layer (where CPU is spent, not who called it)."""
    stats = pstats.Stats(prof)
    per: dict[str, float] = defaultdict(float)
    for (filename, _line, _fn), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        name = next((label for label, keys in LAYERS if any(k in filename for k in keys)), "other")
        per[name] += tt
    return sorted(((k, v / total_s * 100) for k, v in per.items()), key=lambda kv: -kv[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--statements", action="store_true", help="print the statement shapes per request kind")
    ap.add_argument("--short", action="store_true", help="tiny data, seconds: CI checks the benchmark runs and prints its figures (no timing asserts)")
    args = ap.parse_args()
    if args.short:
        args.instances = 3
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith("postgresql"):
        from tests.conftest import _create_pg_database, _drop_pg_database
        url, name = _create_pg_database(server)
    else:
        url, name = f"sqlite:///{tempfile.mkdtemp(prefix='ygt-prof-')}/prof.db", None
    try:
        run(url, args)
    finally:
        if name:
            from app.core import db
            db.engine().dispose()
            _drop_pg_database(server, name)


def run(url: str, args) -> None:
    from app.core import db
    app, token = setup(url)
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    c = Counters(db.engine())
    out = {k: {"ms": [], "sql_ms": [], "statements": [], "round_trips": [], "transactions": [],
               "shapes": Counter()} for k in KINDS}
    for _ in range(2 if args.short else 10):
        one_instance(client, headers, c, out)          # warm caches
    out = {k: {"ms": [], "sql_ms": [], "statements": [], "round_trips": [], "transactions": [],
               "shapes": Counter()} for k in KINDS}
    prof = cProfile.Profile() if args.profile else None
    t0, cpu0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    for _ in range(args.instances):
        one_instance(client, headers, c, out)
    if prof:
        prof.disable()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    load = os.getloadavg()[0]
    result = {"backend": url.split(":")[0], "instances": args.instances, "instances_per_s":
              round(args.instances / elapsed, 1), "load_average_1m": round(load, 2),
              # this process's CPU (the web app in-process, no client, no server): robust to the machine's load
              "cpu_ms_per_instance": round(1000 * cpu / args.instances, 2), "per_request": {}}
    for k in KINDS:
        v = out[k]
        result["per_request"][k] = {"statements": statistics.median(v["statements"]),
                                    # waits on PostgreSQL in a transaction (a pipeline: one; app.core.pgexec)
                                    "round_trips": statistics.median(v["round_trips"]),
                                    "transactions": statistics.median(v["transactions"]),
                                    "p50_ms": round(statistics.median(v["ms"]), 1),
                                    "sql_p50_ms": round(statistics.median(v["sql_ms"]), 1)}
        if args.statements:
            result["per_request"][k]["shapes"] = dict(v["shapes"].most_common())
    result["statements_per_instance"] = sum(result["per_request"][k]["statements"] for k in KINDS)
    result["round_trips_per_instance"] = sum(result["per_request"][k]["round_trips"] for k in KINDS)
    result["transactions_per_instance"] = sum(result["per_request"][k]["transactions"] for k in KINDS)
    result["peak_rss_mb"] = memory.self_peak_rss_mb()      # the web app ran in this process (issue 23.7)
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if prof:
        print("\nself time by layer (% of the measured loop):")
        for label, pct in layer_summary(prof, elapsed):
            print(f"  {label:<40} {pct:5.1f} %")
        print("\nphases (cumulative, % of the measured loop):")
        for label, pct in phase_summary(prof, elapsed):
            print(f"  {label:<55} {pct:5.1f} %")
        if args.statements:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()

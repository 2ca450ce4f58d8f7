"""Engine benchmark (issue 2): the two-user-task approval model through the real HTTP API, and the bare ceiling.

Model (tests/fixtures/models/approval.bpmn): start → task A (amount, comment) → gateway amount > 100 → task B
(approved) → end. Per instance: start, list my tasks, complete A, complete B (four HTTP requests).

    python bench/engine.py --base-url http://127.0.0.1:8000 --token TOKEN --instances 300 --clients 1
    python bench/engine.py --bare --instances 300
    python bench/engine.py --short                  # CI: a few bare instances (tests/integration/test_benchmarks.py)

Reports instances/s and median/p95 per request kind; with --database-url (the server's PostgreSQL database) also
the rows written per instance, table by table, and the state bytes per instance; with --rss-pids (the gunicorn
workers, an rq worker) their peak and current RSS after the run (issue 23.7); with --bare the library ceiling
in memory and with a JSON save/load at every step (and this process's peak RSS).

`bare_in_memory_per_s` is SpiffWorkflow alone: its own parser and script engine, in a child process that never
imports `app` (app/engine/patches.py changes the library's task iteration, ids and logging when imported). Before
2026-12-06 15:00 UTC it ran in this process after `app.engine` was imported, so from 2026-12-05 01:51 on it included
our patches. To calibrate a host against the issue's 2,410/s, run the issue's own checkout (4d69623) `--bare` too.
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import memory  # bench/memory.py, beside this script


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else 0.0


class LeanClient:
    """A keep-alive HTTP/1.1 JSON client on `http.client`: the load generator shares this machine's cores with the
    server under test, and `requests` spends ≈ 0.6 ms of CPU per request on adapters, cookies and hooks the benchmark
    does not use (`--client requests` keeps the old client for comparison). A server that closes the connection
    (gunicorn's sync worker does after each response) is reconnected on the next request."""

    def __init__(self, base: str, token: str) -> None:
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, payload, headers)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.conn.close()           # the server closed a kept-alive connection between requests: once more
            self.conn.request(method, path, payload, headers)
            resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {raw[:300]!r}")
        return json.loads(raw)


class RequestsClient:
    """The `requests` client the benchmark used until 2026-12-05 (heavier on the shared CPU; for comparison)."""

    def __init__(self, base: str, token: str) -> None:
        import requests
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        resp = self.session.request(method, self.base + path, json=body)
        resp.raise_for_status()
        return resp.json()


CLIENTS = {"lean": LeanClient, "requests": RequestsClient}
LIST_PATH = "/api/v1/tasks?" + urllib.parse.urlencode({"view": "groups", "process_id": "approval", "per_page": 1,
                                                        "sort": "created"})


def http_run(base: str, token: str, instances: int, clients: int, org: str, client: str = "lean") -> dict:
    timings: dict[str, list[float]] = {"start": [], "list": [], "complete_a": [], "complete_b": []}
    lock = threading.Lock()
    per_client = instances // clients

    def client_loop():
        c = CLIENTS[client](base, token)
        for _ in range(per_client):
            t0 = time.perf_counter()
            inst = c.call("POST", "/api/v1/process-instances", {"process_id": "approval", "org_code": org})
            t1 = time.perf_counter()
            c.call("GET", LIST_PATH)
            t2 = time.perf_counter()
            task_a = inst["open_tasks"][0]
            a = c.call("POST", f"/api/v1/tasks/{task_a['id']}/complete",
                       {"data": {"amount": 150, "comment": "bench"}, "completion_id": str(uuid.uuid4())})
            t3 = time.perf_counter()
            task_b = a["next_tasks"][0]
            c.call("POST", f"/api/v1/tasks/{task_b['id']}/complete",
                   {"data": {"approved": True}, "completion_id": str(uuid.uuid4())})
            t4 = time.perf_counter()
            with lock:
                timings["start"].append(t1 - t0)
                timings["list"].append(t2 - t1)
                timings["complete_a"].append(t3 - t2)
                timings["complete_b"].append(t4 - t3)
            assert inst["id"]

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    elapsed = time.perf_counter() - started
    done = per_client * clients
    return {"instances": done, "clients": clients, "client": client, "seconds": round(elapsed, 2),
            "instances_per_s": round(done / elapsed, 1),
            "requests": {k: {"median_ms": round(statistics.median(v) * 1000, 1),
                             "p95_ms": round(pct(v, 95) * 1000, 1)} for k, v in timings.items()}}


def library_alone(instances: int) -> float:
    """Seconds for `instances` runs of the model by SpiffWorkflow alone, in memory: parsed by the library's own
    parser, run with its own script engine, in a process that has not imported `app` (whose engine package patches
    the library when imported: app/engine/patches.py)."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.util.task import TaskState
    if any(name == "app" or name.startswith("app.") for name in sys.modules):
        raise SystemExit("--library-alone must run in a process without the app imported")
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "tests" / "fixtures" / "models" / "approval.bpmn"))
    spec, subs = parser.get_spec("approval"), parser.get_subprocess_specs("approval")
    t0 = time.perf_counter()
    for _ in range(instances):
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        for data in ({"amount": 150, "comment": "bench"}, {"approved": True}):
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data.update(data)
            task.run()
            wf.do_engine_steps()
        assert wf.completed
    return time.perf_counter() - t0


def bare_run(instances: int) -> dict:
    """The SpiffWorkflow ceiling for the same model: the library alone in memory (in a process of its own, see
    `library_alone`), and our engine wrapper with a JSON save/load at every step."""
    from app.engine import Context, parse_bundle
    from app.engine import runtime as rt
    models = ROOT / "tests" / "fixtures" / "models"
    files = {"bpmn/approval.bpmn": (models / "approval.bpmn").read_bytes()}
    for f in (models / "approval").glob("*.json"):
        files[f"forms/approval/{f.name}"] = f.read_bytes()
    draft = parse_bundle(files).processes[0]
    ctx = Context(spec_json=draft.spec_json, spec_key=draft.content_hash)
    sizes = []
    t0 = time.perf_counter()
    for _ in range(instances):
        snap = rt.start(ctx, {})
        snap = rt.complete_task(ctx, json.loads(json.dumps(snap.state)), snap.human_tasks[0].task_guid,
                                {"amount": 150, "comment": "bench"})
        snap = rt.complete_task(ctx, json.loads(json.dumps(snap.state)), snap.human_tasks[0].task_guid,
                                {"approved": True})
        sizes.append(len(json.dumps(snap.state)))
    with_save = time.perf_counter() - t0
    in_memory = float(subprocess.run([sys.executable, __file__, "--library-alone", str(instances)], check=True,
                                     capture_output=True, text=True).stdout)
    return {"instances": instances, "bare_in_memory_per_s": round(instances / in_memory, 1),
            "engine_with_json_save_load_per_step_per_s": round(instances / with_save, 1),
            "state_bytes_per_instance": int(statistics.median(sizes))}


ROW_TABLES = ("process_instances", "human_tasks", "process_events", "audit_entries", "task_completions",
              "notifications", "timers", "message_subscriptions", "service_calls")


def rows_written(url: str) -> dict[str, int]:
    """Rows per table now (the database is the benchmark's own: every row was written by this workload)."""
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ROW_TABLES}


def state_bytes(url: str) -> int:
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return int(conn.execute("SELECT coalesce(avg(length(state::text)), 0) FROM process_instances").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url")
    parser.add_argument("--token")
    parser.add_argument("--org", default="C01")
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--client", choices=sorted(CLIENTS), default="lean",
                        help="the load generator's HTTP client (lean: http.client; requests: the one used before)")
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--database-url", help="the server's PostgreSQL database, for per-instance write counts")
    parser.add_argument("--rss-pids", type=int, nargs="*", default=[],
                        help="processes whose peak/current RSS to report after the run (gunicorn workers, rq worker)")
    parser.add_argument("--short", action="store_true", help="tiny data, seconds: CI checks the benchmark runs and prints its figures (no timing asserts); without --base-url: --bare")
    parser.add_argument("--library-alone", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.library_alone:
        print(library_alone(args.library_alone))
        return
    if args.short:
        args.instances, args.bare = 5, args.bare or not args.base_url
    if args.bare:
        print(json.dumps({**bare_run(args.instances), "peak_rss_mb": memory.self_peak_rss_mb()}, indent=1))
        return
    before = rows_written(args.database_url) if args.database_url else None
    result = http_run(args.base_url, args.token, args.instances, args.clients, args.org, args.client)
    if before is not None:
        after = rows_written(args.database_url)
        n = result["instances"]
        result["rows_written_per_instance"] = {t: round((after[t] - before[t]) / n, 2) for t in ROW_TABLES
                                               if after[t] != before[t]}
        result["state_bytes_per_instance"] = state_bytes(args.database_url)
    if args.rss_pids:
        result["rss"] = [memory.process_rss(pid) for pid in args.rss_pids]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

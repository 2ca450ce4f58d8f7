"""Inbox benchmark (issue 3): many open tasks over many users in a realistic county tree, on PostgreSQL.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        python bench/inbox.py --tasks 1000000 --users 5000 [--samples 200] [--keep]

Builds a fresh database `ygt_bench_<hex>` on that server (dropped afterwards unless --keep), migrates it, and
generates in SQL: 1 county hospital with 6 departments, 12 townships, ~150 villages; users in every role (village
doctors in villages, township doctors and public-health doctors in townships, specialists in departments, admins
and supervisors at the county); `--tasks` open human tasks (one per waiting instance) with business fields
(resident name, village, disease, risk level, due date, priority), ~15 % already assigned, ~5 % in no lane.

Then measures, through the Flask app in-process (auth, query, serialization; no network), p50/p95 of a first page
of every view with business filters and sorts, of the header counts, of claim, and of complete (real engine steps on
`tests/fixtures/models/approval.bpmn` instances). Prints a Markdown table (append it to docs/benchmarks.md).

With `REDIS_URL` set, a request's jobs (a new task's announcement) go to that Redis's rq queue, as in production on
PostgreSQL, where a worker sends them after the response; nothing consumes them here, and the queue is emptied at
the end (use a scratch Redis database). Without it they run inside the request (`eager`, the embedded default's
in-process mode), which adds the announcement's own work to every completion.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scratch  # bench/scratch.py, beside this script

TOWNSHIPS, VILLAGES_PER_TOWNSHIP = 12, 12.5
DEPARTMENTS = ("cardiology", "endocrinology", "respiratory", "pharmacy", "oncology", "interventional")
DISEASES = ("hypertension", "diabetes", "copd", "stroke", "ckd", "cancer_screening")
RISKS = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英芳伟磊敏静丽强军洋勇艳杰娟涛明超霞平刚桂兰"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else 0.0


# -- database ----------------------------------------------------------------------------------------------

create_database, drop_database = scratch.create_database, scratch.drop_database


def script(conn, sql: str, params: dict | None = None) -> None:
    """Run several `;`-separated statements (psycopg prepares one statement at a time)."""
    from sqlalchemy import text
    for stmt in (part.strip() for part in sql.split(";\n")):
        if stmt:
            names = {k: v for k, v in (params or {}).items() if f":{k}" in stmt}
            conn.execute(text(stmt), names)


def build_tree(conn) -> None:
    from sqlalchemy import text
    orgs = [("C01", "县人民医院", "county", None, "/C01/")]
    orgs += [(f"C01D{i + 1:02d}", name, "department", "C01", f"/C01/C01D{i + 1:02d}/")
             for i, name in enumerate(DEPARTMENTS)]
    n_villages = int(TOWNSHIPS * VILLAGES_PER_TOWNSHIP)
    for t in range(TOWNSHIPS):
        code = f"C01T{t + 1:02d}"
        orgs.append((code, f"第{t + 1}镇卫生院", "township", "C01", f"/C01/{code}/"))
        for v in range(n_villages * t // TOWNSHIPS, n_villages * (t + 1) // TOWNSHIPS):
            vcode = f"{code}V{v + 1:03d}"
            orgs.append((vcode, f"第{v + 1}村卫生室", "village", code, f"/C01/{code}/{vcode}/"))
    conn.execute(text("INSERT INTO organizations (code, name, level, parent_code, path) "
                      "VALUES (:code, :name, :level, :parent, :path)"),
                 [dict(zip(("code", "name", "level", "parent", "path"), o, strict=True)) for o in orgs])


def build_users(conn, total: int) -> None:
    """Village doctors (4 per village), township doctors and public-health doctors, specialists, admins."""
    script(conn, """
        CREATE TEMP TABLE plan (role text, org_level text, share float);
        INSERT INTO plan VALUES ('village_doctor', 'village', 0.12), ('township_doctor', 'township', 0.36),
            ('township_public_health', 'township', 0.19), ('county_specialist', 'department', 0.30),
            ('county_admin', 'county', 0.02), ('supervisor', 'county', 0.01);
        WITH slots AS (
            SELECT p.role, o.code, gs AS k
            FROM plan p JOIN organizations o ON o.level = p.org_level
            CROSS JOIN LATERAL generate_series(1, greatest(1, round(:total * p.share /
                (SELECT count(*) FROM organizations o2 WHERE o2.level = p.org_level)))::int) gs)
        INSERT INTO users (username, display_name, org_code, active, failed_login_count, created_at)
        SELECT role || '_' || code || '_' || k, role || k, code, true, 0, now() FROM slots;
        INSERT INTO user_roles (user_id, role)
        SELECT id, split_part(username, '_C01', 1) FROM users;
    """, {"total": total})


def build_tasks(conn, n_tasks: int) -> None:
    """One waiting instance and one open task per row; business fields drawn deterministically from the id."""
    from sqlalchemy import text
    surnames, given = list(SURNAMES), list(GIVEN)
    script(conn, """
        CREATE TEMP TABLE bv AS
            SELECT (row_number() OVER (ORDER BY code)) - 1 AS n, code, path, parent_code FROM organizations
            WHERE level = 'village';
        CREATE TEMP TABLE cand AS
            SELECT r.role, u.org_code, (row_number() OVER (PARTITION BY r.role, u.org_code ORDER BY u.id)) - 1 AS k,
                   u.id AS user_id, u.username
            FROM users u JOIN user_roles r ON r.user_id = u.id;
        CREATE INDEX ON cand (role, org_code, k);
        CREATE TEMP TABLE candn AS SELECT role, org_code, count(*) AS n FROM cand GROUP BY role, org_code;
        CREATE INDEX ON candn (role, org_code);
    """)
    nv = conn.execute(text("SELECT count(*) FROM bv")).scalar()
    script(conn, """
        INSERT INTO process_instances (id, process_version_id, process_id, version, status, org_code, org_path,
            started_by, started_at, updated_at, state, engine_format, lock_version, decision_versions, diagram)
        SELECT g, (SELECT id FROM process_versions WHERE process_id = 'approval'), 'approval', 1,
               'waiting', v.code, v.path, 'bench', now(), now(), '{}', 'bench', 1, '{}', '{}'
        FROM generate_series(1, :n) g JOIN bv v ON v.n = (g::bigint * 7919) % :nv;
        SELECT setval(pg_get_serial_sequence('process_instances', 'id'), :n);
    """, {"n": n_tasks, "nv": nv})
    conn.execute(text("""
        WITH base AS (
            SELECT i.id, i.org_code, i.org_path, v.parent_code AS township,
                   CASE WHEN i.id % 20 < 8 THEN 'township_doctor' WHEN i.id % 20 < 15 THEN 'village_doctor'
                        WHEN i.id % 20 < 18 THEN 'township_public_health' WHEN i.id % 20 = 18
                        THEN 'county_specialist' END AS role
            FROM process_instances i JOIN bv v ON v.code = i.org_code),
        pick AS (
            SELECT b.*, CASE WHEN b.role = 'village_doctor' THEN b.org_code
                             WHEN b.role = 'county_specialist' THEN 'C01D01' ELSE b.township END AS cand_org
            FROM base b)
        INSERT INTO human_tasks (task_guid, instance_id, process_id, element_id, name, lane, role, org_code, org_path,
            assignee_id, status, form_key, data, due_at, priority, resident_id, resident_name, village_code, disease,
            risk_level, created_at, etag_version, started_by)
        SELECT md5(p.id::text)::uuid::text, p.id, 'approval', CASE WHEN p.id % 4 = 0 THEN 'task_b' ELSE 'task_a' END,
               CASE WHEN p.id % 3 = 0 THEN '高血压随访' WHEN p.id % 3 = 1 THEN '糖尿病随访' ELSE '核实筛查结果' END,
               p.role, p.role, p.org_code, p.org_path,
               CASE WHEN p.id % 100 < 15 AND p.role IS NOT NULL THEN
                   (SELECT c.user_id FROM cand c JOIN candn cn ON cn.role = c.role AND cn.org_code = c.org_code
                    WHERE c.role = p.role AND c.org_code = p.cand_org AND c.k = p.id % cn.n) END,
               'open', CASE WHEN p.id % 4 = 0 THEN 'approval/task_b' ELSE 'approval/task_a' END, '{}',
               CASE WHEN p.id % 10 = 0 THEN NULL
                    ELSE now() + interval '1 hour' * (((p.id * 37) % 1440) - 240) END,
               1 + (p.id * 13) % 5, p.id,
               (CAST(:surnames AS text[]))[1 + (p.id * 31) % cardinality(CAST(:surnames AS text[]))] ||
               (CAST(:given AS text[]))[1 + (p.id * 17) % cardinality(CAST(:given AS text[]))],
               p.org_code, (CAST(:diseases AS text[]))[1 + (p.id * 11) % 6], (CAST(:risks AS text[]))[1 + (p.id * 29) % 4],
               now() - interval '1 minute' * (p.id % 50000), 1,
               CASE WHEN p.role IS NULL THEN
                   (SELECT c.username FROM cand c WHERE c.role = 'village_doctor' AND c.org_code = p.org_code
                    AND c.k = 0) ELSE 'bench' END
        FROM pick p;
    """), {"surnames": surnames, "given": given, "diseases": list(DISEASES), "risks": list(RISKS)})


# -- measurement ---------------------------------------------------------------------------------------------

class Runner:
    def __init__(self, app, samples: int, rng: random.Random) -> None:
        self.app, self.client, self.samples, self.rng = app, app.test_client(), samples, rng
        self.tokens: dict[int, str] = {}
        self.results: list[tuple[str, float, float, float, int]] = []
        self.sql_ms = 0.0
        self.statements: list[str] = []
        self._listen()

    def _listen(self) -> None:
        """Sum the time spent in SQL per request (less sensitive to a busy CPU than the whole request)."""
        from sqlalchemy import event

        from app.core import db
        started: list[float] = []

        @event.listens_for(db.engine(), "before_cursor_execute")
        def _before(_conn, _cursor, statement, *_a):
            started.append(time.perf_counter())
            self.statements.append(" ".join(statement.split()))

        @event.listens_for(db.engine(), "after_cursor_execute")
        def _after(*_a):
            self.sql_ms += (time.perf_counter() - started.pop()) * 1000

    def token(self, user_id: int) -> str:
        if user_id not in self.tokens:
            from app.auth.services import create_token
            with self.app.app_context():
                self.tokens[user_id] = create_token(user_id, name="bench")[1]
        return self.tokens[user_id]

    def call(self, method: str, url: str, user_id: int, **kw):
        headers = {"Authorization": f"Bearer {self.token(user_id)}", **kw.pop("headers", {})}
        self.sql_ms = 0.0
        self.statements = []
        t0 = time.perf_counter()
        resp = getattr(self.client, method)(url, headers=headers, **kw)
        elapsed = (time.perf_counter() - t0) * 1000
        self.last_sql_ms = self.sql_ms
        if resp.status_code >= 500:
            raise RuntimeError(f"{url}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        return resp, elapsed

    def measure(self, label: str, users: list[int], url: str, rng: random.Random | None = None) -> None:
        """`rng`: a view added later draws its users from its own generator, so every other view keeps its users."""
        rng = rng or self.rng
        timings, sql, totals, slowest = [], [], [], (0.0, 0, 0.0)
        for _ in range(3):                                    # warm caches and the prepared plan
            self.call("get", url, rng.choice(users))
        for _ in range(self.samples):
            uid = rng.choice(users)
            resp, ms = self.call("get", url, uid)
            timings.append(ms)
            sql.append(self.last_sql_ms)
            totals.append((resp.get_json() or {}).get("total", 0))
            slowest = max(slowest, (ms, uid, self.last_sql_ms))
        self.record(label, timings, sql, int(statistics.median(totals)) if totals else 0)
        # the slowest sample and its SQL share: a tail made in the database names its user (and so its organization)
        print(f"  {'':<62} max {slowest[0]:6.1f} ms  (user {slowest[1]}, sql {slowest[2]:.1f} ms)", flush=True)

    def record(self, label: str, timings: list[float], sql: list[float], typical_total: int = 0) -> None:
        self.results.append((label, pct(timings, 50), pct(timings, 95), pct(sql, 50), typical_total))
        print(f"  {label:<62} p50 {pct(timings, 50):6.1f} ms  p95 {pct(timings, 95):6.1f} ms  "
              f"sql p50 {pct(sql, 50):6.1f} ms  total~{typical_total}", flush=True)


def users_of(conn, role: str, org: str = "", limit: int = 400) -> list[int]:
    from sqlalchemy import text
    return [r[0] for r in conn.execute(text(
        "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = :role "
        "AND u.org_code LIKE :org ORDER BY md5(u.id::text) LIMIT :limit"),
        {"role": role, "org": f"{org}%", "limit": limit})]


def run_views(r: Runner, conn) -> None:
    township, village = users_of(conn, "township_doctor"), users_of(conn, "village_doctor")
    specialist, admin = users_of(conn, "county_specialist"), users_of(conn, "county_admin")
    base = "/api/v1/tasks?per_page=25"
    r.measure("mine · township doctor · sort=due", township, f"{base}&view=mine")
    r.measure("mine · village doctor · sort=due", village, f"{base}&view=mine")
    r.measure("groups · township doctor · sort=due", township, f"{base}&view=groups")
    r.measure("groups · township doctor · sort=priority", township, f"{base}&view=groups&sort=priority")
    r.measure("groups · township doctor · sort=risk", township, f"{base}&view=groups&sort=risk")
    cursor = r.call("get", f"{base}&view=groups&sort=priority", township[0])[0].get_json().get("next_cursor")
    if cursor:                                                        # "load more": the next page by keyset
        r.measure("groups · township doctor · sort=priority · next page (cursor)", township,
                  f"{base}&view=groups&sort=priority&cursor={cursor}")
    r.measure("groups · township doctor · disease+risk_level", township,
              f"{base}&view=groups&disease=diabetes&risk_level=VERY_HIGH")
    r.measure("groups · township doctor · overdue=true", township, f"{base}&view=groups&overdue=true")
    r.measure("groups · township doctor · q=王 (resident name prefix)", township, f"{base}&view=groups&q=%E7%8E%8B")
    r.measure("groups · village doctor · sort=due", village, f"{base}&view=groups")
    for sort in ("priority", "risk"):                   # added 2026-12-05: users of their own, the others unchanged
        r.measure(f"groups · village doctor · sort={sort}", village, f"{base}&view=groups&sort={sort}",
                  random.Random(f"village-{sort}"))
    r.measure("groups · county specialist (county-wide role) · sort=due", specialist, f"{base}&view=groups")
    r.measure("org · township doctor · sort=due", township, f"{base}&view=org")
    r.measure("org · township doctor · sort=priority", township, f"{base}&view=org&sort=priority")
    r.measure("org · township doctor · sort=risk", township, f"{base}&view=org&sort=risk")
    r.measure("org · township doctor (C01T01) · village_code filter", users_of(conn, "township_doctor", "C01T01"),
              f"{base}&view=org&village_code=C01T01V001")
    r.measure("org · county admin (all tasks) · disease filter · sort=due", admin,
              f"{base}&view=org&disease=diabetes")
    r.measure("org · county admin (all tasks) · resident_id", admin, f"{base}&view=org&resident_id=4242")
    r.measure("counts · township doctor", township, "/api/v1/tasks/counts")
    r.measure("counts · village doctor", village, "/api/v1/tasks/counts")


def run_claims(r: Runner, conn) -> None:
    from sqlalchemy import text
    timings, sql = [], []
    for uid in r.rng.sample(users_of(conn, "township_doctor"), min(r.samples, 200)):
        resp, _ = r.call("get", "/api/v1/tasks?view=groups&per_page=1&sort=priority", uid)
        items = resp.get_json()["items"]
        if not items:
            continue
        resp, ms = r.call("post", f"/api/v1/tasks/{items[0]['id']}/claim", uid)
        assert resp.status_code == 200, resp.get_json()
        timings.append(ms)
        sql.append(r.last_sql_ms)
    r.record("claim (township doctor, atomic UPDATE)", timings, sql)
    conn.execute(text("SELECT 1"))


def run_completions(r: Runner, conn, n: int) -> None:
    """Start `n` approval instances at villages and complete task A through the API (a real engine step)."""
    from sqlalchemy import text

    from app.workflows import runner as wf
    rows = conn.execute(text("SELECT u.id, u.username, u.org_code FROM users u JOIN user_roles r ON r.user_id = u.id "
                             "WHERE r.role = 'township_doctor' ORDER BY u.id LIMIT :n"), {"n": n}).all()
    with r.app.app_context():
        started = [(uid, wf.start_instance("approval", actor=wf.Actor(name, uid), org_code=f"{org}V"
                                           f"{_first_village(conn, org)}").id) for uid, name, org in rows]
    timings, sql, counts, rereads = [], [], [], []
    for uid, inst_id in started:
        with r.app.app_context():
            from sqlalchemy import select

            from app.core.db import session
            from app.workflows.models import HumanTask
            task_id = session().scalar(select(HumanTask.id).where(HumanTask.instance_id == inst_id,
                                                                   HumanTask.status == "open"))
        resp, ms = r.call("post", f"/api/v1/tasks/{task_id}/complete", uid,
                          json={"data": {"amount": 150}, "completion_id": str(uuid.uuid4())})
        assert resp.status_code == 200, resp.get_json()
        timings.append(ms)
        sql.append(r.last_sql_ms)
        counts.append(len(r.statements))
        rereads.append(sum(1 for st in r.statements if st.startswith("SELECT") and "FROM human_tasks" in st
                           and "human_tasks.instance_id =" in st))
    r.record("complete (engine step, implicit claim, next task, receipt)", timings, sql)
    print(f"  complete: statements per request p50 {statistics.median(counts)}, of which reads of the instance's "
          f"open tasks p50 {statistics.median(rereads)} (issue 23.5: none since the projection is incremental)",
          flush=True)


def deploy_approval(app) -> None:
    """The two-step approval model (tests/fixtures/models): synthetic tasks point at it, completions run it."""
    from app.workflows.deploy import deploy_files
    from tests.helpers import model_files
    files = {(f"bpmn/{k}" if k.endswith(".bpmn") else f"forms/{k}"): v
             for k, v in model_files("approval.bpmn", "approval")}
    with app.app_context():
        deploy_files(files, deployed_by="bench", source="folder")


def _first_village(conn, township: str) -> str:
    from sqlalchemy import text
    code = conn.execute(text("SELECT min(code) FROM organizations WHERE parent_code = :t"), {"t": township}).scalar()
    return code.removeprefix(f"{township}V")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=5000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--completions", type=int, default=100)
    ap.add_argument("--keep", action="store_true", help="keep the generated database")
    ap.add_argument("--database", help="measure an existing generated database (kept by --keep) again")
    ap.add_argument("--short", action="store_true", help="tiny data, seconds: CI checks the benchmark runs and prints its figures (no timing asserts)")
    args = ap.parse_args()
    if args.short:
        args.tasks, args.users, args.samples, args.completions = 3000, 300, 3, 2
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgresql"):
        sys.exit("set DATABASE_URL to a PostgreSQL server (the benchmark creates and drops its own database)")
    if args.database:
        from sqlalchemy.engine import make_url
        url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=args.database)
        args.keep, name = True, args.database
        run(url.render_as_string(hide_password=False), args, generate=False)
        return
    url, name = create_database(server)
    try:
        run(url, args)
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            from app.core import db
            if db._engine is not None:
                db.engine().dispose()
            drop_database(server, name)


def run(url: str, args, generate: bool = True) -> None:
    import tempfile

    from sqlalchemy import create_engine, text

    from app import create_app
    from app.config import Settings
    from app.core.migrate import upgrade
    upgrade(url)
    t0 = time.perf_counter()
    redis = os.environ.get("REDIS_URL")
    app = create_app(Settings.from_env(data_dir=tempfile.mkdtemp(prefix="ygt-bench-"), database_url=url,
                                       redis_url=redis, jobs_mode="rq" if redis else "eager",
                                       scheduler_enabled=False))
    eng = create_engine(url)
    if generate:
        deploy_approval(app)
        with eng.begin() as conn:
            build_tree(conn)
            build_users(conn, args.users)
            build_tasks(conn, args.tasks)
    with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    with eng.connect() as conn:
        users = conn.execute(text("SELECT count(*) FROM users")).scalar()
        tasks, assigned = conn.execute(text("SELECT count(*), count(assignee_id) FROM human_tasks")).one()
    print(f"{'generated' if generate else 'reusing'} {tasks} open tasks ({assigned} assigned), {users} users "
          f"({time.perf_counter() - t0:.0f} s); jobs: {'rq, ' + redis if redis else 'eager (inside the request)'}",
          flush=True)
    r = Runner(app, args.samples, random.Random(7))
    with eng.connect() as conn:
        run_views(r, conn)
        run_claims(r, conn)
        run_completions(r, conn, args.completions)
    eng.dispose()
    if redis:
        from app.jobs.backend import rq_queue
        with app.app_context():
            rq_queue().empty()
    print(f"\n#### {tasks:,} open tasks, {users:,} users — {datetime.now(UTC):%Y-%m-%d}\n")
    print("| request (first page, 25 rows) | p50 ms | p95 ms | SQL p50 ms | typical total |\n|---|---:|---:|---:|---:|")
    for label, p50, p95, sql50, total in r.results:
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {sql50:.1f} | {total or ''} |")


if __name__ == "__main__":
    main()

"""The production CI lane: the real topology on PostgreSQL and Redis, driven through HTTP, with fault drills.

    python tests/production/lane.py            (needs PostgreSQL at DATABASE_URL and redis-server on PATH)

Topology: gunicorn (`ygt serve --workers 2`), two rq workers (`ygt worker`), two schedulers (`ygt scheduler`), a
private database created and dropped here, and a private redis-server on LANE_REDIS_PORT (the shared Redis on
6379 is never touched). Journey through HTTP: a village doctor registers a resident and records a high blood
pressure → screening flags it → the township doctor verifies and enrols → stratify grades → a county specialist
drafts a care plan, another approves, the village doctor acknowledges → the follow-up schedule exists.

Drills, while timers and a service call are in flight:
1. SIGKILL a worker in the middle of a service call; a new worker takes over after the lease.
2. `pg_terminate_backend` every connection of the app (web, workers, schedulers).
3. (when the transactional job outbox is on main) stop Redis for 10 s.
Then: every timer fired exactly once, the service call completed exactly once, every task completed once, no
notification twice, and /readyz is green again. Prints `N passed, M failed` and exits non-zero on any failure.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.processes import Proc, base_env, wait_for
from tests.test_follow_up_support import PLAN

WEB_PORT = int(os.environ.get("LANE_WEB_PORT", "5132"))
REDIS_PORT = int(os.environ.get("LANE_REDIS_PORT", "5133"))
TIMERS = 5


class Check:
    def __init__(self):
        self.passed, self.failed = 0, []

    def __call__(self, name: str, ok: bool, detail: str = "") -> bool:
        print(("  ok   " if ok else "  FAIL ") + name + (f"  ({detail})" if detail and not ok else ""), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)
        return ok


class Lane:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="ygt-lane-"))
        server = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
        self.db_name = f"ygt_lane_{uuid.uuid4().hex[:8]}"
        self.admin_url = url.set(database="postgres")
        self.db_url = url.set(database=self.db_name).render_as_string(hide_password=False)
        self.redis_url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        self.env = base_env(DATABASE_URL=self.db_url, REDIS_URL=self.redis_url, DATA_DIR=str(self.tmp / "data"),
                            YGT_QUEUE="ygt_lane", YGT_SCHEDULER_HEARTBEAT_S="1", YGT_SERVICE_LEASE_S="3",
                            YGT_OPERATOR_MODULES="tests.fixtures.operators", YGT_SCHEDULER_STALE_S="10",
                            LOG_LEVEL="WARNING", WEB_CONCURRENCY="2")
        self.procs: dict[str, Proc] = {}
        self.redis: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{WEB_PORT}"
        self.db = None

    # -- processes -------------------------------------------------------------------------------------------

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        assert wait_for(lambda: subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, check=False,
                                               text=True).stdout.strip() == "PONG", 10), "redis did not start"

    def create_database(self) -> None:
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        self.db = create_engine(self.db_url, isolation_level="AUTOCOMMIT")

    def ygt(self, *args: str) -> None:
        subprocess.run([str(Path(sys.executable).parent / "ygt"), *args], cwd=REPO, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def start(self, name: str, args: list[str]) -> Proc:
        self.procs[name] = Proc(args, self.env, self.tmp / f"{name}.log")
        return self.procs[name]

    def start_topology(self) -> None:
        self.start("web", ["serve", "--port", str(WEB_PORT), "--workers", "2"])
        for i in (1, 2):
            self.start(f"worker{i}", ["worker"])
            self.start(f"scheduler{i}", ["scheduler"])
        assert wait_for(lambda: self._ready(), 60), self.procs["web"].tail()

    def _ready(self) -> bool:
        try:
            return requests.get(f"{self.base}/readyz", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.kill()
        if self.redis is not None and self.redis.poll() is None:
            os.killpg(self.redis.pid, signal.SIGKILL)
            self.redis.wait(timeout=10)
        if self.db is not None:
            self.db.dispose()
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        admin.dispose()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{p.tail(1500)}" for name, p in self.procs.items())

    def sql(self, query: str, **params):
        with self.db.connect() as conn:
            return conn.execute(text(query), params).all()

    # -- people (an operator's set-up, in-process against the lane database) ----------------------------------

    def people(self) -> dict[str, str]:
        os.environ.update({k: v for k, v in self.env.items() if k.startswith(("DATABASE_URL", "DATA_DIR"))})
        from app import create_app
        from app.auth.services import create_token, create_user
        from app.config import Settings
        from app.org.services import create_org
        app = create_app(Settings.from_env(database_url=self.db_url, data_dir=str(self.tmp / "data"),
                                           jobs_mode="eager", scheduler_enabled=False))
        tokens = {}
        with app.app_context():
            for code, name, level, parent in (("C01", "青溪县人民医院", "county", None),
                                              ("C01D01", "心内科", "department", "C01"),
                                              ("C01T01", "石门镇卫生院", "township", "C01"),
                                              ("C01T01V01", "上塘村卫生室", "village", "C01T01")):
                create_org(code, name, level=level, parent_code=parent)
            for username, role, org in (("village", "village_doctor", "C01T01V01"),
                                        ("township", "township_doctor", "C01T01"),
                                        ("drafter", "county_specialist", "C01"),
                                        ("approver", "county_specialist", "C01"),
                                        ("admin", "county_admin", "C01")):
                user = create_user(username, password="lane-pass-1", roles=[role], org_code=org, display_name=username)
                tokens[username] = create_token(user.id, name="lane")[1]
        from app.core import db
        db.engine().dispose()
        return tokens


class Api:
    def __init__(self, base: str, token: str):
        self.base, self.session = base, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path, **kw):
        return self.session.get(self.base + path, timeout=30, **kw)

    def post(self, path, **kw):
        return self.session.post(self.base + path, timeout=30, **kw)

    def tasks(self, element_id: str) -> list[dict]:
        r = self.get("/api/v1/tasks", params={"view": "org", "per_page": 200})
        assert r.status_code == 200, r.text
        return [t for t in r.json()["items"] if t["element_id"] == element_id]

    def wait_task(self, element_id: str, timeout: float = 60) -> dict:
        found: list[dict] = []
        assert wait_for(lambda: bool(found.extend(self.tasks(element_id)) or found), timeout, 0.5), \
            f"no {element_id} task"
        return found[0]

    def complete(self, task: dict, data: dict) -> dict:
        r = self.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data,
                                                                    "completion_id": str(uuid.uuid4())})
        assert r.status_code == 200, r.text
        return r.json()


def journey_until_enrolment(lane: Lane, api: dict[str, Api], check: Check) -> int:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()   # the county's date, as the platform uses
    r = api["village"].post("/api/v1/residents", json={"id_number": "330127195603142337", "name": "王建国",
                                                       "phone": "13800001234", "org_code": "C01T01V01"})
    check("the village doctor registers a resident", r.status_code == 201, r.text[:200])
    resident = r.json()["id"]
    for code, value in (("8480-6", 168), ("8462-4", 102)):
        r = api["village"].post(f"/api/v1/residents/{resident}/observations", json={
            "code": code, "value": value, "unit": "mmHg", "source": "village_app",
            "effective_at": f"{today}T09:00:00+08:00", "id": str(uuid.uuid4())})
        check(f"an observation {code} is recorded (201, not 500)", r.status_code == 201, r.text[:200])
    verify = api["township"].wait_task("verify_case", 90)
    check("screening flags the resident for the township (rq job + process)", (verify.get("resident") or {}).get("id") == resident, str(verify)[:300])
    api["township"].complete(verify, {"verification": "confirm"})
    enrol = api["township"].wait_task("enrol_case", 30)
    api["township"].complete(enrol, {"icd10": "I10", "diagnosed_on": today, "village_code": "C01T01V01"})
    return resident


def journey_to_follow_up(lane: Lane, api: dict[str, Api], check: Check, resident: int) -> None:
    graded: list = []
    assert wait_for(lambda: bool(graded.extend(api["township"].get(f"/api/v1/residents/{resident}").json()
                                               ["summary"]["risk_levels"]) or graded), 60, 0.5), "not graded"
    risk = graded[0]["level"]
    check("stratify grades the enrolled resident", risk in ("LOW", "MEDIUM", "HIGH", "VERY_HIGH"), str(graded))
    # stratify asks for a plan at the graded level by itself; asking again through HTTP at that level is idempotent
    r = api["drafter"].post("/api/v1/care-plans/requests", json={"resident_id": resident, "disease": "htn",
                                                                "risk_level": risk})
    check("a care plan is requested (idempotent with stratify's own request)", r.status_code == 202, r.text[:200])
    drafter, draft_task = (api["township"], "draft_plan_township") if risk == "LOW" else \
        (api["drafter"], "draft_plan_county")
    drafter.complete(drafter.wait_task(draft_task), {"content": PLAN})
    api["approver"].complete(api["approver"].wait_task("approve_plan"), {"approved": True})
    api["village"].complete(api["village"].wait_task("acknowledge_plan"), {"acknowledged": True})
    timeline: dict = {}
    assert wait_for(lambda: bool(timeline.update(api["village"].get(f"/api/v1/residents/{resident}/follow-ups")
                                                 .json()) or timeline.get("schedules")), 30, 0.5), timeline
    check("the plan in force gives the resident a follow-up schedule", bool(timeline.get("schedules")))


def start_timers(api: Api, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        r = api.post("/api/v1/process-instances", json={"process_id": "short_timer"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def drill_kill_a_worker_mid_job(lane: Lane, api: Api, check: Check) -> int:
    marker = lane.tmp / "his.marker"
    r = api.post("/api/v1/process-instances", json={"process_id": "slow_service", "data": {"marker": str(marker)}})
    assert r.status_code == 201, r.text
    assert wait_for(marker.exists, 30), "no worker took the service call\n" + lane.logs()
    busy = next((name for name in ("worker1", "worker2") if _in_job(lane.procs[name])), "worker1")
    lane.procs[busy].kill(signal.SIGKILL)
    lane.start(f"{busy}b", ["worker"])
    check(f"drill 1: {busy} SIGKILLed in the middle of a service call", not lane.procs[busy].alive())
    return r.json()["id"]


def _in_job(proc: Proc) -> bool:
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False).stdout.split()
    return bool(children)


def drill_terminate_connections(lane: Lane, check: Check) -> None:
    killed = lane.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :d "
                      "AND application_name LIKE 'ygt-%'", d=lane.db_name)[0][0]
    check("drill 2: pg_terminate_backend on every app connection", killed >= 3, f"{killed} terminated")


def assertions(lane: Lane, api: dict[str, Api], check: Check, timers: list[int], service_instance: int) -> None:
    ids = ",".join(map(str, timers))
    fired: dict = {}

    def all_fired():
        fired.clear()
        fired.update(dict(lane.sql(f"SELECT instance_id, count(*) FROM process_events WHERE type = 'timer_fired' "
                                   f"AND instance_id IN ({ids}) GROUP BY instance_id")))
        return len(fired) == len(timers)
    wait_for(all_fired, 90, 1)
    check(f"every timer fired ({len(fired)}/{len(timers)})", len(fired) == len(timers), lane.logs()[-3000:])
    check("no timer fired twice", all(n == 1 for n in fired.values()), str(fired))
    done: list = []
    wait_for(lambda: bool(done.clear() or done.extend(lane.sql(
        "SELECT count(*) FROM process_events WHERE instance_id = :i AND type = 'service_completed'",
        i=service_instance)) or done[0][0]), 90, 1)
    check("the killed worker's service call completed exactly once", done and done[0][0] == 1, str(done))
    twice = lane.sql("SELECT task_guid, count(*) FROM process_events WHERE type = 'task_completed' "
                     "GROUP BY task_guid HAVING count(*) > 1")
    check("no task was completed twice", not twice, str(twice))
    doubled = lane.sql("SELECT instance_id, element_id, count(*) FROM human_tasks WHERE status = 'open' "
                       "GROUP BY instance_id, element_id HAVING count(*) > 1")
    check("no step is open twice in one instance", not doubled, str(doubled))
    done_steps = dict(lane.sql("SELECT element_id, count(*) FROM human_tasks WHERE status = 'completed' AND "
                               "element_id IN ('verify_case', 'enrol_case', 'approve_plan', 'acknowledge_plan') "
                               "GROUP BY element_id"))
    check("each journey step was completed once", done_steps == {"verify_case": 1, "enrol_case": 1,
                                                                "approve_plan": 1, "acknowledge_plan": 1},
          str(done_steps))
    for element_id, instance_id, process_id in lane.sql(
            "SELECT h.element_id, h.instance_id, i.process_id FROM human_tasks h JOIN process_instances i "
            "ON i.id = h.instance_id WHERE h.status = 'open' AND i.process_id NOT IN ('short_timer', 'slow_service')"):
        print(f"  info open afterwards: {process_id}/{element_id} (instance {instance_id})", flush=True)
    dup = lane.sql("SELECT user_id, kind, task_id, count(*) FROM notifications GROUP BY user_id, kind, task_id "
                   "HAVING count(*) > 1")
    check("no notification sent twice", not dup, str(dup))
    errors = lane.sql("SELECT id, process_id FROM process_instances WHERE status = 'error'")
    check("no instance ended in error", not errors, str(errors))
    if outbox_on_main():
        drained = wait_for(lambda: lane.sql("SELECT count(*) FROM job_outbox WHERE status = 'pending'")[0][0] == 0,
                           30, 1)
        check("the job outbox drained once Redis was back", drained,
              str(lane.sql("SELECT func, attempts, last_error FROM job_outbox WHERE status = 'pending'")))
    check("/readyz is green after the drills", wait_for(lane._ready, 30))
    health = requests.get(f"{lane.base}/healthz", timeout=5).json()["background"]
    check("two schedulers beat, one leads", health["scheduler"]["running"] == 2 and bool(health["scheduler"]["leader"]),
          str(health["scheduler"]))


def outbox_on_main() -> bool:
    """The Redis drill needs the transactional job outbox (issue 13.3: `app/jobs/models.py`, the job_outbox)."""
    return (REPO / "app" / "jobs" / "models.py").exists()


def drill_stop_redis(lane: Lane, api: dict[str, Api], check: Check, resident: int) -> list[int]:
    """Stop the lane's Redis for 10 s while users keep working: every write still answers success, and the work
    it queued runs once Redis is back."""
    os.killpg(lane.redis.pid, signal.SIGKILL)
    lane.redis.wait(timeout=10)
    down_at = time.monotonic()
    timers = start_timers(api["admin"], 3)
    r = api["village"].session.patch(f"{lane.base}/api/v1/residents/{resident}", timeout=30,
                                     json={"address": "青溪县石门镇上塘村2组"})
    check("drill 3: with Redis down, writes still answer success", r.status_code == 200, r.text[:200])
    waiting = 0
    while time.monotonic() - down_at < 10:      # the timers fall due: their firing jobs wait in the job outbox
        waiting = max(waiting, lane.sql("SELECT count(*) FROM job_outbox WHERE status = 'pending'")[0][0])
        time.sleep(0.5)
    check("drill 3: jobs wait in the job outbox while Redis is down", waiting > 0, f"{waiting} pending")
    lane.start_redis()
    check("drill 3: Redis stopped for 10 s and restarted", True)
    return timers


def main() -> int:
    check, lane = Check(), Lane()
    started = time.monotonic()
    try:
        lane.start_redis()
        lane.create_database()
        lane.ygt("migrate")
        lane.ygt("deploy")
        lane.ygt("deploy", "tests/fixtures/models/short_timer.bpmn", "tests/fixtures/models/slow_service.bpmn")
        tokens = lane.people()
        lane.start_topology()
        check("gunicorn + 2 workers + 2 schedulers are ready", True)
        api = {name: Api(lane.base, token) for name, token in tokens.items()}
        timers = start_timers(api["admin"], TIMERS)
        service_instance = drill_kill_a_worker_mid_job(lane, api["admin"], check)
        resident = journey_until_enrolment(lane, api, check)
        drill_terminate_connections(lane, check)
        timers += start_timers(api["admin"], TIMERS)
        journey_to_follow_up(lane, api, check, resident)
        if outbox_on_main():
            timers += drill_stop_redis(lane, api, check, resident)
        else:
            print("  skip drill 3 (stop Redis for 10 s): the transactional job outbox (13.3) is not on main yet",
                  flush=True)
        assertions(lane, api, check, timers, service_instance)
    except Exception:  # noqa: BLE001 (the lane reports any failure as a failed check)
        traceback.print_exc()
        check("the lane ran to the end", False, lane.logs()[-6000:])
        print(lane.logs()[-6000:])
    finally:
        lane.stop()
        shutil.rmtree(lane.tmp, ignore_errors=True)
    print(f"production lane: {time.monotonic() - started:.0f} s")
    print(f"{check.passed} passed, {len(check.failed)} failed")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())

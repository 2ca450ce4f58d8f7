"""Production job queue (issue 13.1/13.3): writes that queue background work against real Redis + rq.

Marked `redis`: they run when REDIS_URL is set (the PostgreSQL + Redis CI run) and are skipped otherwise.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import select

from app.config import Settings
from app.core import db
from app.jobs import backend, outbox, queue
from app.jobs.models import JobOutbox

pytestmark = [pytest.mark.redis, pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")]
AT = "2026-03-01T08:30:00+08:00"


DEAD_REDIS = "redis://127.0.0.1:7199/0"       # nothing listens there: Redis is "down"


def _use_redis(settings, url: str) -> None:
    queue.configure(Settings.from_env(data_dir=str(settings.data_dir), database_url=settings.database_url,
                                      redis_url=url, jobs_mode="rq", scheduler_enabled=False))


@pytest.fixture()
def rq_mode(app, settings, monkeypatch):
    """Jobs go to a private rq queue on the REDIS_URL server (nobody works it: the test reads what was queued)."""
    name = f"ygt-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(backend, "QUEUE_NAME", name)
    monkeypatch.setattr(outbox, "_paused_until", 0.0)      # no pause left over from a test with Redis down
    monkeypatch.setattr(outbox, "SETTLE_S", 0.0)           # the relay may take a row the moment it is committed
    _use_redis(settings, os.environ["REDIS_URL"])
    yield queue.rq_queue()
    _use_redis(settings, os.environ["REDIS_URL"])
    q = queue.rq_queue()
    q.empty()
    q.delete(delete_jobs=True)
    queue.configure(settings)


@pytest.fixture()
def resident(make_resident):
    return make_resident(org="C01T01V01", name="张桂兰", sex="F")


@pytest.fixture()
def doctor(client_as):
    return client_as("village_doctor", org="C01T01V01")


def _obs(**overrides) -> dict:
    return {"code": "8480-6", "value": 152, "unit": "mm[Hg]", "effective_at": AT, "source": "village_app",
            **overrides}


def test_a_new_observation_answers_201_and_its_rescreen_job_is_on_the_rq_queue(doctor, resident, rq_mode):
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs())
    assert response.status_code == 201, response.get_json()
    funcs = [job.func_name for job in rq_mode.get_jobs()]
    assert funcs == ["app.screening.jobs.screen_resident"]


def _outbox_rows(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session().scalars(select(JobOutbox).order_by(JobOutbox.id)).all()
        out = [(r.func, r.status, r.job_id) for r in rows]
        db.session().rollback()
        return out


def test_the_rescreen_job_is_relayed_at_once_after_the_commit(app, doctor, resident, rq_mode):
    """Issue 23.2: the request pushes its job straight to Redis after the commit, without a second transaction;
    the relay's sweep then only marks the row (it does not push the job again)."""
    doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs())
    rows = _outbox_rows(app)
    assert [(f, s) for f, s, _ in rows] == [("app.screening.jobs.screen_resident", "pending")]
    assert [j.id for j in rq_mode.get_jobs()] == [rows[0][2]]
    with app.app_context():
        assert outbox.relay() == 0                      # already on the queue: nothing pushed again
        assert outbox.status()["pending"] == 0
    assert [(f, s) for f, s, _ in _outbox_rows(app)] == [("app.screening.jobs.screen_resident", "relayed")]
    assert [j.id for j in rq_mode.get_jobs()] == [rows[0][2]]


def test_the_request_after_commit_writes_nothing_to_the_database(app, doctor, resident, rq_mode):
    """The push after the commit is Redis only: no statement, no transaction of its own."""
    from sqlalchemy import event
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_a):
        seen.append(statement)
    with app.app_context():
        event.listen(db.engine(), "before_cursor_execute", listen)
    try:
        doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs())
    finally:
        with app.app_context():
            event.remove(db.engine(), "before_cursor_execute", listen)
    touching = [s for s in seen if "job_outbox" in s]
    assert len(touching) == 1 and touching[0].lstrip().upper().startswith("INSERT"), touching


def test_a_row_the_request_is_pushing_right_now_is_left_to_it(app, settings, doctor, resident, rq_mode,
                                                            monkeypatch):
    """Rows younger than SETTLE_S are the requests' own to push: the relay does not race them."""
    monkeypatch.setattr(outbox, "SETTLE_S", 60.0)
    _use_redis(settings, DEAD_REDIS)
    doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs())
    _use_redis(settings, os.environ["REDIS_URL"])
    with app.app_context():
        assert outbox.relay() == 0
    assert [s for _, s, _ in _outbox_rows(app)] == ["pending"] and rq_mode.get_jobs() == []


def test_with_redis_down_a_write_answers_201_and_its_job_waits_then_is_relayed_once(app, settings, doctor,
                                                                                      resident, rq_mode):
    _use_redis(settings, DEAD_REDIS)
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs())
    assert response.status_code == 201, response.get_json()
    assert [(f, s) for f, s, _ in _outbox_rows(app)] == [("app.screening.jobs.screen_resident", "pending")]
    with app.app_context():
        assert outbox.relay() == 0                      # still down: nothing pushed, the row keeps waiting
        assert outbox.status()["pending"] == 1
    _use_redis(settings, os.environ["REDIS_URL"])       # Redis is back
    with app.app_context():
        assert outbox.relay() == 1
        assert outbox.relay() == 0                      # a second relay finds nothing left
        assert outbox.status()["pending"] == 0
    rows = _outbox_rows(app)
    assert [(f, s) for f, s, _ in rows] == [("app.screening.jobs.screen_resident", "relayed")]
    assert [j.id for j in rq_mode.get_jobs()] == [rows[0][2]]


def test_after_a_failed_relay_the_next_requests_do_not_wait_on_redis(app, settings, doctor, resident, rq_mode,
                                                                   monkeypatch):
    tries = []
    real_push = backend.push
    monkeypatch.setattr(backend, "push", lambda job: tries.append(job.job_id) or real_push(job))
    _use_redis(settings, DEAD_REDIS)
    for value in (150, 152, 154):
        assert doctor.post(f"/api/v1/residents/{resident['id']}/observations",
                           json=_obs(value=value)).status_code == 201
    assert len(tries) == 1                  # only the first request tried; the relay pushes the others' rows
    assert [s for _, s, _ in _outbox_rows(app)] == ["pending"] * 3


def test_health_reports_the_waiting_outbox(app, settings, client, doctor, resident, rq_mode):
    _use_redis(settings, DEAD_REDIS)
    doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs())
    resp = client.get("/healthz")
    body = resp.get_json()
    assert resp.status_code == 200          # writes still work: a load balancer keeps this node
    assert body["background"]["job_outbox"]["pending"] == 1
    assert body["checks"]["redis"].startswith("error") and any(p.startswith("redis") for p in body["problems"])
    assert client.get("/readyz").status_code == 503


def test_a_job_id_still_waiting_in_the_queue_is_never_queued_twice(app, rq_mode):
    with app.app_context():
        for _ in range(3):
            queue.enqueue("app.screening.jobs.screen_resident", 1, job_id="screen-1-sweep.same")
    assert len(rq_mode.get_jobs()) == 1


def test_a_push_queues_the_job_as_rq_does_sets_its_mark_and_replaces_a_finished_job(app, rq_mode):
    """Issue 23.2: the push after a commit is one round trip (job, queue and the outbox's mark); rq reads the job
    as its own, a live job of the same id is not queued twice, a finished one is asked for again."""
    from rq.job import Job as RqJob
    redis = rq_mode.connection
    mark = f"ygt:test:mark:{uuid.uuid4().hex}"
    job = backend.Job("app.screening.jobs.screen_resident", (7,), {}, "screen-7-x", 3, (2, 10, 60), mark=(mark, 60))
    with app.app_context():
        assert backend.push(job) is True
        assert backend.push(job) is False
        found = RqJob.fetch("screen-7-x", connection=redis)
        assert (found.func_name, found.args, found.origin, found.retries_left, found.timeout) == (
            "app.screening.jobs.screen_resident", (7,), rq_mode.name, 3, 600)
        assert found.get_status().value == "queued" and rq_mode.job_ids == ["screen-7-x"]
        assert redis.get(mark) == b"1" and 0 < redis.ttl(mark) <= 60
        found.set_status("finished")
        redis.delete(mark)
        assert backend.push(job) is True
        assert rq_mode.job_ids == ["screen-7-x"] and redis.get(mark) == b"1"
    redis.delete(mark)


def test_a_push_loads_its_script_when_redis_does_not_know_it(app, rq_mode, monkeypatch):
    """A restarted or flushed Redis no longer knows the push's script: the push loads it and still queues the job.
    (A script text of its own stands for the flushed one: SCRIPT FLUSH would empty the cache of a shared Redis.)"""
    with app.app_context():
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (1,), {}, "screen-1-a")) is True
        monkeypatch.setattr(backend, "_PUSH_SCRIPT", f"{backend._PUSH_SCRIPT}-- {uuid.uuid4().hex}\n")
        monkeypatch.setattr(backend, "_scripts", {})
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (2,), {}, "screen-2-a")) is True
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (2,), {}, "screen-2-a")) is False
    assert rq_mode.job_ids == ["screen-1-a", "screen-2-a"]


def _client_id(conn) -> int:
    conn.send_command("CLIENT", "ID")
    return conn.read_response()


def test_a_push_on_a_connection_redis_closed_reconnects_and_queues_the_job(app, rq_mode):
    """Redis dropped the push's connection between two pushes (a restart, `CLIENT KILL`, an idle timeout): the next
    push opens a new one instead of failing the job over to the relay."""
    own = backend._own_connection(rq_mode.connection).conn     # this thread's connection for pushes
    with app.app_context():
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (1,), {}, "screen-1-b")) is True
        me = _client_id(own)
        killer = backend.Redis.from_url(os.environ["REDIS_URL"])
        assert killer.client_kill_filter(_id=me) == 1       # this test's connection only: Redis may be shared
        killer.close()
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (2,), {}, "screen-2-b")) is True
        assert _client_id(own) != me
    assert rq_mode.job_ids == ["screen-1-b", "screen-2-b"]


def test_a_push_that_fails_between_its_command_and_the_answer_drops_its_connection(app, rq_mode,
                                                                                   monkeypatch):
    """The push's connection is its own, outside the pool's clean-connection check: an error that may leave an
    answer unread closes it, so the next push cannot read the old answer as its own."""
    own = backend._own_connection(rq_mode.connection).conn
    with app.app_context():
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (1,), {}, "screen-1-d")) is True

        def interrupted(*_a, **_k):
            raise KeyboardInterrupt
        with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
            patched.setattr(own, "read_response", interrupted)
            backend.push(backend.Job("app.screening.jobs.screen_resident", (2,), {}, "screen-2-d"))
        assert own._sock is None                            # dropped, the answer unread with it
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (3,), {}, "screen-3-d")) is True
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (2,), {}, "screen-2-d")) is False
    assert rq_mode.job_ids == ["screen-1-d", "screen-2-d", "screen-3-d"]


RAN: list[tuple] = []


def record_run(*args, **kwargs) -> None:
    """A job for the rq worker below."""
    RAN.append((args, kwargs))


def fail_run(*_args) -> None:
    raise RuntimeError("fails on purpose")


def test_an_rq_worker_runs_a_pushed_job_and_retries_a_failed_one_as_asked(app, rq_mode):
    """rq's own worker takes what the push wrote: the function with its arguments, the retry setting and backoff."""
    from rq import SimpleWorker
    from rq.job import Job as RqJob
    from rq.registry import ScheduledJobRegistry
    RAN.clear()
    redis = rq_mode.connection
    with app.app_context():
        assert backend.push(backend.Job(f"{__name__}.record_run", (7, "王建国", {"k": [1]}), {"flag": True},
                                        "run-7-a", 2, (2, 10, 60), mark=(f"ygt:test:mark:{uuid.uuid4().hex}", 30)))
        assert backend.push(backend.Job(f"{__name__}.fail_run", (1,), {}, "fail-1-a", 2, (30, 60)))
    assert SimpleWorker([rq_mode], connection=redis).work(burst=True)
    assert RAN == [((7, "王建国", {"k": [1]}), {"flag": True})]
    ran = RqJob.fetch("run-7-a", connection=redis)
    assert ran.get_status().value == "finished" and ran.result_ttl == 3600
    failed = RqJob.fetch("fail-1-a", connection=redis)
    assert failed.get_status().value == "scheduled" and failed.retries_left == 1 and failed.retry_intervals == [30, 60]
    assert "fail-1-a" in ScheduledJobRegistry(queue=rq_mode).get_job_ids()
    ScheduledJobRegistry(queue=rq_mode).remove(failed, delete_job=True)


def test_a_push_with_a_mark_for_a_live_job_sets_the_mark_and_reports_the_duplicate(app, rq_mode):
    redis = rq_mode.connection
    mark = f"ygt:test:mark:{uuid.uuid4().hex}"
    with app.app_context():
        assert backend.push(backend.Job("app.screening.jobs.screen_resident", (1,), {}, "screen-1-c")) is True
        job = backend.Job("app.screening.jobs.screen_resident", (1,), {}, "screen-1-c", mark=(mark, 30))
        assert backend.push(job) is False
    assert redis.get(mark) == b"1" and 0 < redis.ttl(mark) <= 30
    redis.delete(mark)


@pytest.mark.parametrize("job_id", ["task-new-x", None])
def test_a_pushed_jobs_hash_is_the_one_rq_writes_for_it(app, rq_mode, job_id):
    """The push builds the job's hash itself (issue 23: an rq Job per push was ≈ 20 µs of its CPU): field for field
    what rq's own job writes, but its times (one for both), for any arguments and retry settings."""
    from rq.job import JobStatus

    from app.jobs.backend import _options
    redis = rq_mode.connection
    for retries, backoff in ((2, (2, 10, 60)), (0, (5,))):
        job = backend.Job("app.notifications.jobs.notify_new_task", ("王建国", 7, {"k": [1, None]}),
                          {"flag": True, "名": "x" * 200}, job_id and f"{job_id}-{retries}", retries, backoff)
        with app.app_context():
            assert backend.push(job) is True
        pushed_id = (job_id and f"{job_id}-{retries}") or rq_mode.job_ids[-1]
        stored = redis.hgetall(f"rq:job:{pushed_id}")
        own = rq_mode.create_job(job.func, args=job.args, kwargs=job.kwargs, timeout=job.timeout_s,
                                 status=JobStatus.QUEUED, **{**_options(job), "job_id": pushed_id})
        own.enqueued_at = own.created_at
        expected = {k.encode(): v if isinstance(v, bytes) else (v if isinstance(v, str) else str(v)).encode()
                    for k, v in own.to_dict().items() if v is not None}     # the status: a str enum, "queued"
        times = {b"created_at", b"enqueued_at"}
        assert {k: v for k, v in stored.items() if k not in times} == \
            {k: v for k, v in expected.items() if k not in times}
        assert set(stored) == set(expected) and stored[b"created_at"] == stored[b"enqueued_at"]
        assert rq_mode.job_ids[-1] == pushed_id


def test_the_notification_sweep_does_not_pile_up_jobs(app, rq_mode):
    """The 30 s re-queue of due messages once queued thousands of jobs: one job per message and attempt now."""
    from connectors.notify import services
    with app.app_context():
        rows = [services.queue_message("platform", recipient=("user", 1), template_code="t", params={},
                                       idempotency_key=f"k-{i}") for i in range(3)]
        for _ in range(4):
            assert services.deliver_due() == 3
    ids = sorted(j.id for j in rq_mode.get_jobs())
    assert ids == sorted(f"notify-{r.id}-0" for r in rows)


def test_a_decision_case_run_is_an_rq_job_whose_progress_is_shared_through_redis(app, login_as, deploy_models,
                                                                                  rq_mode):
    from app.decisions import analyses
    deploy_models("approval.bpmn", "approval")
    owner = login_as("process_owner")
    body = owner.post("/api/v1/decisions/bp_grade/cases/run").json
    assert body["status"] == "queued"                       # the request did not run it
    assert [j.func_name for j in rq_mode.get_jobs()] == ["app.decisions.jobs.run_analysis"]
    with app.app_context():
        analyses.run(body["id"])                            # what the worker does (any process: state is in Redis)
    polled = owner.get(body["progress_url"]).json
    assert polled["status"] == "done" and polled["result"]["failed"] == 0


def test_with_redis_down_a_case_run_answers_503_queue_unavailable(app, settings, login_as, deploy_models, rq_mode):
    deploy_models("approval.bpmn", "approval")
    owner = login_as("process_owner")
    _use_redis(settings, DEAD_REDIS)
    resp = owner.post("/api/v1/decisions/bp_grade/cases/run")
    assert resp.status_code == 503 and resp.json["code"] == "queue_unavailable"

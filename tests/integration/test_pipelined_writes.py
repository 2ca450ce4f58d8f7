"""Deferred writes and the pipelined commit (issue 23, `app.core.pgexec.Direct.defer`): on PostgreSQL a write whose
result nobody needs before the commit is sent with the transaction's next statement, or with its COMMIT, in one
libpq pipeline — one round trip. What must not change: the order (a later read sees the write), the errors (a
deferred write that fails raises what the immediate one raises, nothing of the transaction is applied), a rollback
(nothing deferred is sent), the after-commit callbacks (only after the pipelined COMMIT succeeded), a lost
connection (invalidated, the next request works). PostgreSQL only (elsewhere a deferred write is executed now)."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from app.core import db, pgexec
from app.jobs import backend
from tests.helpers import statements_sent

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="deferred writes are PostgreSQL's")

_INSERT = "INSERT INTO pgd (k, v) VALUES (%(k)s, %(v)s)"


@pytest.fixture(autouse=True)
def _table(app):
    """A table of the test's own on one connection (an empty pool: the test's transactions share it)."""
    with app.app_context():
        db.engine().dispose()
        with db.engine().begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS pgd"))
            conn.execute(text("CREATE TABLE pgd (k int PRIMARY KEY, v text)"))
        yield
        db.remove_session()
        with db.engine().begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS pgd"))


def _defer(s, k: int, v: str = "x", done=None) -> None:
    db.defer_on_cursor(db.connection(s), _INSERT, {"k": k, "v": v}, done)


def _run(s, sql: str, values: dict):
    return db.run_on_cursor(db.connection(s), sql, values, False, lambda r: r.fetchall())


def _stored(app) -> list[tuple]:
    with app.app_context(), db.engine().connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT k, v FROM pgd ORDER BY k"))]


def _pending(s) -> int:
    return db._direct(db.connection(s)).pending


def test_deferred_writes_go_with_the_next_statement_which_sees_them(app):
    with app.app_context(), db.unit_of_work() as s:
        _run(s, "SELECT 1", {})                                 # the transaction is open
        _defer(s, 1)
        _defer(s, 2, "二")
        assert _pending(s) == 2
        before = pgexec.round_trips()
        assert _run(s, "SELECT k, v FROM pgd WHERE k > %(k)s ORDER BY k", {"k": 0}) == [(1, "x"), (2, "二")]
        assert pgexec.round_trips() - before == 1               # the two writes and the read: one pipeline
        assert _pending(s) == 0
    assert _stored(app) == [(1, "x"), (2, "二")]


def test_deferred_writes_and_the_commit_are_one_round_trip_and_the_callbacks_run_after_it(app):
    seen: list = []
    with app.app_context():
        with db.unit_of_work() as s:
            _run(s, "SELECT 1", {})
            _defer(s, 3)
            s.info.setdefault("after_commit", []).append(lambda: seen.append((pgexec.round_trips(), _stored(app))))
            before = pgexec.round_trips()
        assert seen == [(before + 1, [(3, "x")])]               # one round trip; committed when the callback ran
        with db.unit_of_work() as s:                            # the connection is idle and usable again
            assert _run(s, "SELECT count(*) FROM pgd", {}) == [(1,)]


def test_a_deferred_insert_returning_hands_its_key_over_once_written(app):
    keys: list = []
    with app.app_context(), db.unit_of_work() as s:
        _run(s, "SELECT 1", {})
        db.defer_on_cursor(db.connection(s), _INSERT + " RETURNING k", {"k": 9, "v": "r"},
                           lambda result: keys.append(result.fetchone()[0]))
        assert keys == []
    assert keys == [9]


def _failure(app, *, deferred: bool, at_commit: bool) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, app.app_context(), db.unit_of_work() as s:
        _run(s, "SELECT 1", {})
        _defer(s, 5, "first")
        if deferred:
            _defer(s, 5, "again")
        else:
            _run(s, _INSERT, {"k": 5, "v": "again"})
        if not at_commit:
            _run(s, "SELECT 1", {})
    return caught.value


@pytest.mark.parametrize("at_commit", [False, True], ids=["at the next statement", "at the commit"])
def test_a_deferred_write_that_fails_raises_what_the_immediate_one_raises_and_writes_nothing(app, at_commit):
    for _ in range(pgexec.PREPARE_THRESHOLD + 1):               # unprepared, then prepared in the pipeline
        immediate = _failure(app, deferred=False, at_commit=at_commit)
        deferred = _failure(app, deferred=True, at_commit=at_commit)
        assert type(deferred.orig) is type(immediate.orig)
        assert deferred.orig.sqlstate == immediate.orig.sqlstate == "23505"
        assert str(deferred.orig) == str(immediate.orig)
        assert deferred.orig.diag.constraint_name == immediate.orig.diag.constraint_name
        if not at_commit:                                       # raised from the statement that sent it: named
            assert deferred.statement == immediate.statement == _INSERT
            assert deferred.params == {"k": 5, "v": "again"}
        assert _stored(app) == []
        assert db.engine().pool.checkedout() == 0


def test_a_failed_pipelined_commit_runs_no_after_commit_callback(app):
    ran: list = []
    with pytest.raises(IntegrityError), app.app_context(), db.unit_of_work() as s:
        _run(s, "SELECT 1", {})
        _defer(s, 6)
        _defer(s, 6)
        s.info.setdefault("after_commit", []).append(lambda: ran.append(1))
    assert ran == [] and _stored(app) == []


def test_a_rollback_sends_nothing_deferred(app):
    with app.app_context():
        with pytest.raises(RuntimeError), db.unit_of_work() as s:
            _run(s, "SELECT 1", {})
            _defer(s, 7)
            raise RuntimeError("the use case fails")
        with db.unit_of_work() as s:                            # the same connection, nothing left over
            assert _pending(s) == 0
            assert _run(s, "SELECT count(*) FROM pgd", {}) == [(0,)]


def test_what_psycopg_runs_on_the_connection_comes_after_the_deferred_writes(app):
    with app.app_context(), db.unit_of_work() as s:
        _run(s, "SELECT 1", {})
        _defer(s, 8)
        # the session's own execution (psycopg's cursor): sent after the deferred write
        assert s.execute(text("SELECT v FROM pgd WHERE k = 8")).scalar_one() == "x"
        assert _pending(s) == 0


def test_a_lost_connection_mid_pipeline_invalidates_it_and_the_next_request_works(app, settings):
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    try:
        with app.app_context():
            with pytest.raises(OperationalError) as caught, db.unit_of_work() as s:
                pid = _run(s, "SELECT pg_backend_pid()", {})[0][0]
                _defer(s, 10)
                with admin.connect() as conn:
                    conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                    conn.execute(text("SELECT pg_sleep(0.2)"))
            assert caught.value.connection_invalidated
            db.remove_session()
            assert db.engine().pool.checkedout() == 0
            with db.unit_of_work() as s:
                assert _run(s, "SELECT pg_backend_pid()", {})[0][0] != pid
        assert _stored(app) == []
    finally:
        admin.dispose()


def test_a_statement_timeout_in_a_deferred_write_fails_the_commit_and_frees_the_connection(app):
    with app.app_context():
        with pytest.raises(OperationalError) as caught, db.unit_of_work() as s:
            _run(s, "SELECT set_config('statement_timeout', '50', true)", {})
            db.defer_on_cursor(db.connection(s), "INSERT INTO pgd (k, v) SELECT %(k)s, pg_sleep(%(s)s)::text",
                               {"k": 11, "s": 2})
        assert caught.value.orig.sqlstate == "57014"
        assert not caught.value.connection_invalidated
        db.remove_session()
        assert db.engine().pool.checkedout() == 0
        with db.unit_of_work() as s:
            assert _run(s, "SELECT count(*) FROM pgd", {}) == [(0,)]


def test_deferred_writes_are_prepared_after_a_few_uses_as_immediate_ones(app):
    with app.app_context():
        for k in range(pgexec.PREPARE_THRESHOLD + 2):
            with db.unit_of_work() as s:
                _run(s, "SELECT 1", {})
                _defer(s, 100 + k)
        with db.unit_of_work() as s:
            names = list(s.execute(text("SELECT statement FROM pg_prepared_statements WHERE name LIKE '\\_ygt\\_%'"))
                         .scalars())
            assert any("INSERT INTO pgd" in n for n in names)
    assert [k for k, _v in _stored(app)] == list(range(100, 100 + pgexec.PREPARE_THRESHOLD + 2))


# -- the engine path: round trips per request -----------------------------------------------------------------

def test_the_engine_path_sends_its_last_writes_with_the_next_statement_or_the_commit(app, login_as, deploy_models,
                                                                                    monkeypatch):
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    pushed: list = []
    monkeypatch.setattr(backend, "push", lambda job: pushed.append(job.mark[0]) or True)
    monkeypatch.setattr(backend, "_mode", "rq")       # as in production: a new task's job goes through the outbox

    def trips(method, url, **kw):
        before = pgexec.round_trips()
        with statements_sent(app) as statements:
            resp = getattr(doctor, method)(url, **kw)
        assert resp.status_code < 300, resp.get_json()
        return (pgexec.round_trips() - before, len(statements)), resp.get_json()

    for _ in range(2):      # the second instance: caches warm, as in bench/engine_profile.py
        start, inst = trips("post", "/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"})
        listed, _ = trips("get", "/api/v1/tasks", query_string={"view": "groups", "process_id": "approval",
                                                                "per_page": 1, "sort": "created"})
        complete_a, a = trips("post", f"/api/v1/tasks/{inst['open_tasks'][0]['id']}/complete", json={
            "data": {"amount": 150, "comment": "t"}, "completion_id": str(uuid.uuid4())})
        complete_b, _ = trips("post", f"/api/v1/tasks/{a['next_tasks'][0]['id']}/complete", json={
            "data": {"approved": True}, "completion_id": str(uuid.uuid4())})
    # (round trips, statements): the COMMIT is a round trip of its own only when nothing was deferred. Start:
    # version, instance INSERT, [history INSERT (its keys read when written) + outbox INSERT + new task INSERT],
    # COMMIT (before: 6, then 5 with the history INSERT a round trip of its own); list: page, [read audit + COMMIT] (before 3); complete A: task, instance (locked), [task UPDATE + instance
    # UPDATE and history], [outbox + new task], [receipt and audit + COMMIT] (before 8); B: A without the new task
    # and its job (before 6)
    assert (start, listed, complete_a, complete_b) == ((4, 5), (2, 2), (5, 7), (4, 5))
    # the outbox rows' keys, written with the next statement, reached the pushes after the commit
    with app.app_context(), db.engine().connect() as conn:
        keys = set(conn.execute(text("SELECT id FROM job_outbox")).scalars())
    assert len(pushed) == len(keys) == 4 and {int(mark.split(":")[3]) for mark in pushed} == keys    # sent_key


def test_a_completion_id_used_for_another_task_is_still_refused_with_the_task_update_deferred(login_as,
                                                                                                deploy_models):
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    first = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"}).json
    second = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"}).json
    used = str(uuid.uuid4())
    ok = doctor.post(f"/api/v1/tasks/{first['open_tasks'][0]['id']}/complete",
                     json={"data": {"amount": 1, "comment": "t"}, "completion_id": used})
    assert ok.status_code == 200
    again = doctor.post(f"/api/v1/tasks/{second['open_tasks'][0]['id']}/complete",
                        json={"data": {"amount": 1, "comment": "t"}, "completion_id": used})
    assert again.status_code == 409 and again.json["code"] == "completion_id_reused"


def test_deferred_writes_sent_before_a_statement_whose_errors_are_mapped_fail_as_themselves(app):
    with pytest.raises(IntegrityError) as caught, app.app_context(), db.unit_of_work() as s:
        _run(s, "SELECT 1", {})
        _defer(s, 12)
        _defer(s, 12, "again")
        db.send_deferred(s)         # what runner._lock does before its lock (a lock timeout is `instance_busy`)
    assert caught.value.statement == _INSERT and caught.value.params == {"k": 12, "v": "again"}
    with app.app_context(), db.unit_of_work() as s:
        db.send_deferred(s)         # nothing deferred: nothing sent
        assert _pending(s) == 0
    assert _stored(app) == []

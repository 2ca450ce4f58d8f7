"""`app.core.pgexec` (issue 23.2): the hot statements and reads executed straight on libpq inside the request's
transaction read and write what psycopg's cursor does, get prepared after a few uses, fail as the cursor fails
(SQLAlchemy's errors, the connection invalidated when the server dropped it) and leave no connection checked out —
a statement error, a killed backend, a statement timeout. PostgreSQL only (elsewhere the session executes them)."""
from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from app.core import db, pgexec

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="direct execution is PostgreSQL's")

_VALUES = {"i": 7, "big": 2 ** 40, "t": "百分号 %% et %(x)s", "none": None, "f": 1.5, "d": Decimal("1.25"),
           "at": datetime(2026, 12, 6, 1, 30, tzinfo=UTC), "b": True, "u": UUID(int=5), "j": '{"a": [1, "二"]}'}
_SELECT = ("SELECT %(i)s::int, %(big)s::bigint, %(t)s::text, %(none)s::text, %(f)s::float8, %(d)s::numeric, "
           "%(at)s::timestamptz, %(b)s::bool, %(u)s::uuid, %(j)s::jsonb, %(i)s + 1, '100%%'")


@pytest.fixture(autouse=True)
def _one_connection(app):
    """Each test starts from an empty pool, so its transactions run one after another on one connection (a temporary
    table, a prepared statement and a DEALLOCATE belong to a connection), whatever earlier tests left in the pool:
    in the whole suite's run a later transaction got another pooled connection and missed the test's temp table."""
    with app.app_context():
        db.engine().dispose()


def _run(s, sql, values, read=lambda r: r.fetchall()):
    return db.run_on_cursor(s.connection(), sql, values, False, read)


def _by_cursor(s, sql, values):
    cursor = s.connection().connection.driver_connection.cursor()
    cursor.execute(sql, values)
    return cursor.fetchall()


def _prepared(s) -> list[str]:
    return list(s.execute(text("SELECT name FROM pg_prepared_statements WHERE name LIKE '\\_ygt\\_%' ORDER BY name"))
                .scalars())


def _checked_out() -> int:
    return db.engine().pool.checkedout()


def test_values_read_and_written_are_the_cursors(app):
    with app.app_context(), db.unit_of_work() as s:
        assert pgexec.converted(_SELECT) is not None
        for _ in range(pgexec.PREPARE_THRESHOLD + 2):       # unprepared, then prepared
            rows = _run(s, _SELECT, dict(_VALUES))
            assert rows == _by_cursor(s, _SELECT, dict(_VALUES))
        assert rows[0][2] == _VALUES["t"] and rows[0][-2:] == (8, "100%")
        assert _prepared(s)
        result = db.run_on_cursor(s.connection(), "SELECT g FROM generate_series(1, 5) g", {}, False, lambda r: r)
        assert isinstance(result, pgexec.Result)
        assert [c.type_code for c in result.description] == [23]
        assert result.fetchone() == (1,) and result.fetchmany(2) == [(2,), (3,)] and result.fetchall() == [(4,), (5,)]
        assert result.fetchone() is None and result.rowcount == 5
        counted = db.run_on_cursor(s.connection(), "SELECT set_config('ygt.x', %(v)s, true)", {"v": "1"}, False,
                                   lambda r: r.rowcount)
        assert counted == 1
    assert _checked_out() == 0


def test_a_statement_the_direct_path_leaves_to_the_cursor(app):
    assert pgexec.converted("SELECT %s") is None and pgexec.converted("SELECT %(a)b") is None
    with app.app_context(), db.unit_of_work() as s:
        assert _run(s, "SELECT %s::int + 1", [1]) == [(2,)]                # positional: the cursor
        assert _run(s, "SELECT '100%'", None) == [("100%",)]              # no parameters: sent as it is
        s.connection().connection.driver_connection.commit()             # the transaction ended under SQLAlchemy
        assert _run(s, "SELECT %(a)s::int", {"a": 3}) == [(3,)]           # idle: the cursor begins


def test_a_statement_error_is_sqlalchemys_and_the_transaction_rolls_back(app):
    with app.app_context():
        with db.unit_of_work() as s:
            _run(s, "CREATE TEMP TABLE IF NOT EXISTS pgx (k int PRIMARY KEY)", None, lambda r: None)
        for _ in range(pgexec.PREPARE_THRESHOLD + 1):                     # the INSERT gets prepared
            with pytest.raises(IntegrityError) as caught, db.unit_of_work() as s:
                _run(s, "INSERT INTO pgx VALUES (%(k)s)", {"k": 1}, lambda r: r.rowcount)
                _run(s, "INSERT INTO pgx VALUES (%(k)s)", {"k": 1}, lambda r: r.rowcount)
            assert caught.value.orig.sqlstate == "23505"
            assert _checked_out() == 0
        with db.unit_of_work() as s:
            assert _run(s, "SELECT count(*) FROM pgx", {}) == [(0,)]      # each transaction rolled back whole


def test_a_killed_backend_invalidates_the_connection_and_the_next_request_works(app, settings):
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    try:
        for _ in range(2):                                                 # unprepared, then prepared
            with app.app_context():
                with pytest.raises(OperationalError) as caught, db.unit_of_work() as s:
                    for _ in range(pgexec.PREPARE_THRESHOLD):
                        _run(s, "SELECT %(a)s::int", {"a": 1})
                    pid = _run(s, "SELECT pg_backend_pid()", {})[0][0]
                    with admin.connect() as conn:
                        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                        conn.execute(text("SELECT pg_sleep(0.2)"))
                    _run(s, "SELECT %(a)s::int", {"a": 2})
                assert caught.value.connection_invalidated
                db.remove_session()
                assert _checked_out() == 0
                with db.unit_of_work() as s:
                    assert _run(s, "SELECT %(a)s::int", {"a": 3}) == [(3,)]
                    assert _run(s, "SELECT pg_backend_pid()", {})[0][0] != pid
    finally:
        admin.dispose()


def test_a_statement_timeout_fails_the_request_and_frees_the_connection(app):
    with app.app_context():
        with pytest.raises(OperationalError) as caught, db.unit_of_work() as s:
            _run(s, "SELECT set_config('statement_timeout', '50', true)", {}, lambda r: None)
            _run(s, "SELECT pg_sleep(%(s)s)", {"s": 2})
        assert caught.value.orig.sqlstate == "57014"                       # query_canceled
        assert not caught.value.connection_invalidated
        db.remove_session()
        assert _checked_out() == 0
        with db.unit_of_work() as s:
            assert _run(s, "SELECT %(a)s::int", {"a": 4}) == [(4,)]


def test_prepared_statements_the_server_forgot_are_prepared_again(app):
    with app.app_context():
        with db.unit_of_work() as s:
            for _ in range(pgexec.PREPARE_THRESHOLD + 1):
                _run(s, "SELECT %(a)s::int * 2", {"a": 1})
            assert _prepared(s)
            s.execute(text("DEALLOCATE ALL"))
        with pytest.raises(DBAPIError) as caught, db.unit_of_work() as s:
            _run(s, "SELECT %(a)s::int * 2", {"a": 1})
        assert isinstance(caught.value, ProgrammingError) and caught.value.orig.sqlstate == "26000"
        with db.unit_of_work() as s:
            for _ in range(pgexec.PREPARE_THRESHOLD + 1):
                assert _run(s, "SELECT %(a)s::int * 2", {"a": 2}) == [(4,)]
            assert _prepared(s)
        assert _checked_out() == 0


def test_what_psycopg_deallocates_after_a_rollback_is_prepared_again(app):
    """psycopg sends DEALLOCATE ALL after a rollback (its own, or a ROLLBACK TO SAVEPOINT) when it holds prepared
    statements of its own: the direct path's are gone with them and must not be executed by name."""
    with app.app_context():
        for _ in range(2):
            with db.unit_of_work() as s:
                for _ in range(pgexec.PREPARE_THRESHOLD + 1):
                    _run(s, "SELECT %(a)s::int * 3", {"a": 1})
                    s.execute(text("SELECT :a"), {"a": 1})             # psycopg prepares this one itself
                assert _prepared(s)
                savepoint = s.begin_nested()
                s.execute(text("SELECT 1"))
                savepoint.rollback()                                    # ROLLBACK TO SAVEPOINT: DEALLOCATE ALL
                assert _run(s, "SELECT %(a)s::int * 3", {"a": 2}) == [(6,)]
            with pytest.raises(ZeroDivisionError), db.unit_of_work() as s:
                _run(s, "SELECT %(a)s::int * 3", {"a": 2})
                raise ZeroDivisionError                                  # the request's rollback
            with db.unit_of_work() as s:
                assert _run(s, "SELECT %(a)s::int * 3", {"a": 3}) == [(9,)]
        assert _checked_out() == 0


def test_a_rollback_leaves_no_prepared_statement_behind_when_psycopg_held_none(app):
    """A rollback forgets the direct path's prepared names: when psycopg held none of its own (its `clear` then sends
    no DEALLOCATE ALL), the server must still drop ours, or every rollback would leave a connection's statements
    behind on the server, prepared again under new names the next time (found in review, 2026-12-06)."""
    with app.app_context():
        db.engine().dispose()                                           # a fresh connection: psycopg prepared nothing
        with pytest.raises(ZeroDivisionError), db.unit_of_work() as s:
            for _ in range(pgexec.PREPARE_THRESHOLD + 1):
                _run(s, "SELECT %(a)s::int * 5", {"a": 1})
            assert not s.connection().connection.driver_connection._prepared._names
            assert len(_prepared(s)) == 1
            raise ZeroDivisionError                                      # the request's rollback
        with db.unit_of_work() as s:
            assert _prepared(s) == []
            for _ in range(pgexec.PREPARE_THRESHOLD + 1):
                assert _run(s, "SELECT %(a)s::int * 5", {"a": 2}) == [(10,)]
            assert len(_prepared(s)) == 1
        assert _checked_out() == 0

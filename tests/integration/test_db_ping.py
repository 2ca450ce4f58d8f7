"""The pool's checkout ping: a connection the server dropped is replaced before a request uses it — by default every
checkout pings, because the server's goodbye can reach the socket a few milliseconds after the termination, and a
request in that window answered 500 (the production lane's drill 2, 2026-12-05). An operator may let a connection
used a moment ago whose socket is quiet go unpinged (`YGT_DB_PING_IDLE_S`, one round trip less per request)."""
from __future__ import annotations

import os
import time

import pytest
from psycopg import pq
from sqlalchemy import create_engine, text

from app.core import db

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="the pool ping is PostgreSQL's (SQLite has no server to drop a connection)")


def _backend_pid() -> int:
    with db.engine().connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.fixture()
def pings(app, monkeypatch):
    seen: list[int] = []
    real = db._ping

    def counting(dbapi_conn):
        seen.append(1)
        real(dbapi_conn)
    monkeypatch.setattr(db, "_ping", counting)
    db.remove_session()
    db.engine().dispose()                     # one pooled connection from here on
    return seen


def test_by_default_every_checkout_pings(pings):
    _backend_pid()
    pings.clear()
    _backend_pid()
    assert pings == [1]


def test_a_connection_the_server_dropped_is_replaced_before_its_goodbye_arrives(pings, settings, monkeypatch):
    """pg_terminate_backend returns before the backend's goodbye reaches the pooled connection's socket: a checkout
    in between found the socket quiet and used the dead connection (500 on the request's first statement)."""
    victim = _backend_pid()
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}).scalar_one()
    admin.dispose()
    monkeypatch.setattr(db, "_socket_has_news", lambda _conn: False)      # the goodbye is still on its way
    assert _backend_pid() != victim           # no error: pinged at checkout and replaced


def test_an_operator_may_skip_the_ping_for_a_connection_used_a_moment_ago(pings, monkeypatch):
    monkeypatch.setattr(db, "PING_IDLE_S", 5.0)
    first = _backend_pid()
    pings.clear()
    for _ in range(5):
        assert _backend_pid() == first        # the same pooled connection, back to back
    assert pings == []


def test_a_connection_idle_longer_than_the_ping_interval_is_pinged(pings, monkeypatch):
    _backend_pid()
    monkeypatch.setattr(db, "PING_IDLE_S", 0.0)
    pings.clear()
    _backend_pid()
    assert pings == [1]


def test_a_connection_the_server_dropped_a_moment_ago_is_replaced(pings, settings):
    victim = _backend_pid()
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}).scalar_one()
    admin.dispose()
    time.sleep(0.3)                            # the server's goodbye reaches the pooled connection's socket
    pings.clear()
    assert _backend_pid() != victim           # no error: the dead connection was noticed at checkout and replaced
    assert pings                              # noticed by pinging it (its socket had the server's goodbye)


@pytest.fixture()
def commands(monkeypatch):
    """The commands psycopg sends outside statements (BEGIN, COMMIT, ROLLBACK), in order."""
    from psycopg._connection_base import BaseConnection
    sent: list[bytes] = []
    real = BaseConnection._exec_command

    def recording(self, command, *args, **kwargs):
        sent.append(bytes(command) if isinstance(command, bytes | bytearray) else str(command).encode())
        return real(self, command, *args, **kwargs)
    monkeypatch.setattr(BaseConnection, "_exec_command", recording)
    return sent


def test_the_checkout_ping_is_the_transactions_begin(pings, commands):
    """One round trip before a request's first statement, not two: the ping opens the transaction, so psycopg sends
    no BEGIN of its own; the statement runs in that transaction and the commit ends it."""
    from sqlalchemy.orm import Session
    with Session(db.engine()) as s:
        assert s.execute(text("SELECT pg_current_xact_id_if_assigned() IS NULL")).scalar_one()
        s.execute(text("CREATE TEMPORARY TABLE ping_begin (x int) ON COMMIT DROP"))
        s.commit()
    assert pings == [1]
    assert commands == [b"COMMIT"]


def test_a_connection_checked_out_without_a_statement_is_given_back_idle(pings):
    with db.engine().connect() as conn:
        raw = conn.connection.driver_connection
    assert raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
    assert _backend_pid()                     # the pooled connection serves the next checkout


def test_a_connection_with_its_own_transaction_settings_is_pinged_without_a_transaction(pings, commands):
    with db.engine().connect().execution_options(isolation_level="SERIALIZABLE") as conn:
        assert conn.execute(text("SELECT current_setting('transaction_isolation')")).scalar_one() == "serializable"
    with db.engine().connect() as conn:      # back to the default level at check-in
        assert conn.execute(text("SELECT current_setting('transaction_isolation')")).scalar_one() == "read committed"


def test_an_engine_with_its_own_isolation_level_begins_with_it(pings):
    serializable = db.engine().execution_options(isolation_level="SERIALIZABLE")
    with serializable.connect() as conn:
        assert conn.execute(text("SELECT current_setting('transaction_isolation')")).scalar_one() == "serializable"
    with db.engine().connect() as conn:
        assert conn.execute(text("SELECT current_setting('transaction_isolation')")).scalar_one() == "read committed"


def test_the_engine_listens_for_no_connection_event(app):
    """Any connection event listened for makes SQLAlchemy dispatch every connection event of every statement and
    transaction: the isolation-level unbegin is the dialect's (issue 23.2)."""
    dispatch = db.engine().dispatch
    assert not dispatch.set_connection_execution_options and not dispatch.set_engine_execution_options

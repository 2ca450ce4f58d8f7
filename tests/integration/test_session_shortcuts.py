"""The thread's session and its transaction's connection as the engine path reads them (`app.core.db.session`,
`app.core.db.connection`, issue 23) against SQLAlchemy's own `scoped_session()` and `Session.connection()`: the same
objects, and the same errors where the session refuses. Runs on the configured backend (SQLite or PostgreSQL)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, PendingRollbackError
from sqlalchemy.orm import Session

from app.core import db
from app.workflows.models import HumanTask


@pytest.fixture()
def s(app):
    db.remove_session()
    yield db.session()
    db.remove_session()


def test_the_threads_session_is_the_scoped_sessions(s):
    assert db.session() is s is db.Session_()
    db.remove_session()
    fresh = db.session()
    assert fresh is not s and fresh is db.Session_()
    seen: dict[str, Session] = {}

    def other_thread() -> None:
        first = db.session()                    # made there, as `Session_()` makes it
        seen["first"], seen["scoped"], seen["again"] = first, db.Session_(), db.session()
        db.remove_session()
    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen["first"] is seen["scoped"] is seen["again"]
    assert seen["first"] is not fresh and db.session() is fresh


def _counting(monkeypatch) -> list[int]:
    calls: list[int] = []
    general = Session.connection

    def counted(self, *args, **kwargs):
        calls.append(1)
        return general(self, *args, **kwargs)
    monkeypatch.setattr(Session, "connection", counted)
    return calls


def test_the_transactions_connection_is_the_sessions(s, monkeypatch):
    calls = _counting(monkeypatch)
    first = db.connection(s)                    # no transaction yet: begun by the session itself
    assert calls == [1]
    assert db.connection(s) is first            # held: read from the transaction, without the session's call
    assert calls == [1]
    assert s.connection() is first
    s.execute(text("SELECT 1"))
    assert db.connection(s) is s.connection()
    with s.begin_nested():                      # a savepoint works on the same connection
        assert db.connection(s) is s.connection() is first
    assert db.connection(s) is first
    s.commit()
    calls.clear()
    after = db.connection(s)                    # a new transaction: the session's own call again
    assert calls == [1] and after is s.connection()
    s.rollback()


def test_a_transaction_block_and_an_unbegun_session_take_the_sessions_way(s, monkeypatch):
    calls = _counting(monkeypatch)
    with s.begin():
        conn = s.connection()
        calls.clear()
        assert db.connection(s) is conn
        assert calls == [1]                     # `with session.begin()`: checked by the session
    calls.clear()
    db.connection(s)
    assert calls == [1]
    s.rollback()


def test_a_failed_flush_refuses_the_connection_alike(s):
    s.connection()
    s.add(HumanTask())                          # NOT NULL columns left empty: the flush fails
    with pytest.raises(IntegrityError):
        s.flush()
    with pytest.raises(PendingRollbackError):
        s.connection()
    with pytest.raises(PendingRollbackError):
        db.connection(s)
    s.rollback()
    assert db.connection(s) is s.connection()
    s.rollback()

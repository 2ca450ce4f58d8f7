"""`app.core.hot.HotStatement` (issue 23.2): the engine path's Core writes executed straight on the DBAPI connection
on PostgreSQL write what the session's execution writes, in its transaction, seen by the statement listeners, with
SQLAlchemy's errors; on SQLite they are the session's execution. Runs on either backend (DATABASE_URL)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEntry
from app.core import db
from app.core.hot import HotStatement

_AUDIT = cast(Table, AuditEntry.__table__)
_AT = datetime(2026, 12, 5, 4, 30, tzinfo=UTC)


def _row(action: str, **over) -> dict:
    return {"at": _AT, "actor": "u", "actor_user_id": None, "action": action, "object_type": "task",
            "object_id": "7", "request_id": None, "details": {"k": [1, "二"]}, "ip": None, "user_agent": None, **over}


def _stored(s, actions) -> list[tuple]:
    # details as text: JSON null and SQL NULL differ
    return [tuple(r) for r in s.execute(text(
        "SELECT action, at, actor, actor_user_id, object_id, CAST(details AS TEXT), details IS NULL "
        "FROM audit_entries WHERE action IN :a ORDER BY id").bindparams(bindparam("a", expanding=True)),
        {"a": list(actions)})]


def test_rows_written_are_the_rows_the_session_writes(app):
    hot = HotStatement(insert(_AUDIT))
    cases = [{}, {"actor_user_id": 3, "object_id": None}, {"details": None}, {"details": {}}]
    with app.app_context(), db.unit_of_work() as s:
        for i, case in enumerate(cases):
            s.execute(insert(_AUDIT), _row(f"by_session.{i}", **case))
            assert hot.execute(s, _row(f"by_hot.{i}", **case)) == 1
        s.execute(insert(_AUDIT), [_row("many_session.a"), _row("many_session.b", details={"x": None})])
        assert hot.execute(s, [_row("many_hot.a"), _row("many_hot.b", details={"x": None})]) == 2 or \
            not db.is_postgres()     # psycopg's executemany counts every row; SQLite's session result the last
        for i in range(len(cases)):
            by_session, by_hot = _stored(s, [f"by_session.{i}"]), _stored(s, [f"by_hot.{i}"])
            assert [r[1:] for r in by_hot] == [r[1:] for r in by_session], cases[i]
        assert [r[1:] for r in _stored(s, ["many_hot.a", "many_hot.b"])] == \
            [r[1:] for r in _stored(s, ["many_session.a", "many_session.b"])]


def test_an_update_counts_the_rows_it_touched_and_writes_in_the_transaction(app):
    hot = HotStatement(update(_AUDIT).where(_AUDIT.c.id == bindparam("b_id"), _AUDIT.c.actor == bindparam("b_actor")))
    with app.app_context():
        with db.unit_of_work() as s:
            row_id = s.execute(insert(_AUDIT).returning(_AUDIT.c.id), _row("update.me")).scalar_one()
        with db.unit_of_work() as s:
            assert hot.execute(s, {"b_id": row_id, "b_actor": "other", "object_id": "x"}) == 0
            assert hot.execute(s, {"b_id": row_id, "b_actor": "u", "object_id": "8", "details": {"n": 1}}) == 1
            assert s.execute(select(_AUDIT.c.object_id).where(_AUDIT.c.id == row_id)).scalar_one() == "8"
            s.rollback()
        with db.unit_of_work() as s:
            assert s.execute(select(_AUDIT.c.object_id).where(_AUDIT.c.id == row_id)).scalar_one() == "7"


def test_listeners_see_the_statement_and_errors_are_sqlalchemys(app):
    hot = HotStatement(insert(_AUDIT))
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_a):
        seen.append(" ".join(statement.split()[:3:2]))
    with app.app_context():
        event.listen(db.engine(), "before_cursor_execute", listen)
        try:
            with db.unit_of_work() as s:
                hot.execute(s, _row("listened"))
        finally:
            event.remove(db.engine(), "before_cursor_execute", listen)
        assert "INSERT audit_entries" in seen
        with db.unit_of_work() as s:
            row_id = s.execute(select(_AUDIT.c.id).where(_AUDIT.c.action == "listened")).scalar_one()
        with pytest.raises(IntegrityError), db.unit_of_work() as s:
            hot.execute(s, _row("duplicate", id=row_id))
        with db.unit_of_work() as s:      # the session is usable again after the rollback
            assert s.execute(select(_AUDIT.c.action).where(_AUDIT.c.id == row_id)).scalar_one() == "listened"


def test_a_connections_hot_statements_share_one_cursor_until_the_connection_is_replaced(app):
    """PostgreSQL: the cursor is made once per DBAPI connection and kept across transactions; a failed statement's
    cursor is closed by SQLAlchemy's error handling and the next statement makes a new one; a replaced connection
    gets a cursor of its own."""
    if not db.is_postgres():
        pytest.skip("SQLite's hot statements are the session's execution")
    hot = HotStatement(insert(_AUDIT))
    cursors: list = []

    def listen(_conn, cursor, statement, *_a):
        if statement.startswith("INSERT"):
            cursors.append(cursor)
    with app.app_context():
        db.remove_session()
        db.engine().dispose()                     # one pooled connection from here on
        event.listen(db.engine(), "before_cursor_execute", listen)
        try:
            with db.unit_of_work() as s:
                hot.execute(s, _row("kept.a"))
                row_id = s.execute(select(_AUDIT.c.id).where(_AUDIT.c.action == "kept.a")).scalar_one()
            with db.unit_of_work() as s:
                hot.execute(s, _row("kept.a2"))
            with pytest.raises(IntegrityError), db.unit_of_work() as s:
                hot.execute(s, _row("kept.duplicate", id=row_id))
            with db.unit_of_work() as s:
                hot.execute(s, _row("kept.b"))
            s = db.session()
            s.connection().invalidate()            # the server's connection is gone: the pool makes a new one
            db.remove_session()
            with db.unit_of_work() as s:
                hot.execute(s, _row("kept.c"))
        finally:
            event.remove(db.engine(), "before_cursor_execute", listen)
        first, again, duplicate, second, after = cursors
        assert first is again is duplicate and duplicate.closed
        assert second is not first and after is not second and not after.closed
        with db.unit_of_work() as s:
            assert [r[0] for r in _stored(s, ["kept.a", "kept.a2", "kept.b", "kept.c", "kept.duplicate"])] == \
                ["kept.a", "kept.a2", "kept.b", "kept.c"]


def test_what_is_not_a_hot_statement_is_refused(app):
    from app.workflows.models import ProcessInstance
    with pytest.raises(ValueError):
        HotStatement(insert(_AUDIT).returning(_AUDIT.c.id, _AUDIT.c.at))      # one returned column: scalar()
    with pytest.raises(ValueError):
        HotStatement(update(_AUDIT).returning(_AUDIT.c.id))                   # an INSERT's new key only
    with pytest.raises(ValueError):
        HotStatement(update(ProcessInstance).where(ProcessInstance.id == 1))    # ORM-enabled: would autoflush
    if db.engine().dialect.name == "postgresql":
        defaulted = {k: v for k, v in _row("defaulted").items() if k != "details"}  # a Python default left to SA
        with app.app_context(), pytest.raises(ValueError), db.unit_of_work() as s:
            HotStatement(insert(_AUDIT)).execute(s, defaulted)


def test_an_insert_returning_its_key_gives_the_new_rows_key(app):
    """`scalar()` (the job outbox's row, issue 23.2): one row written as the session writes it, its new key back;
    a RETURNING statement is not run by `execute()`, nor a statement without one by `scalar()`. (The listeners see
    it: tests/api/test_job_queue_rq.py counts the outbox's INSERT.)"""
    hot = HotStatement(insert(_AUDIT).returning(_AUDIT.c.id))
    with app.app_context():
        with db.unit_of_work() as s:
            by_session = s.execute(insert(_AUDIT).returning(_AUDIT.c.id), _row("returning.session")).scalar_one()
            first, second = hot.scalar(s, _row("returning.hot")), hot.scalar(s, _row("returning.hot2"))
            with pytest.raises(ValueError):
                hot.execute(s, _row("returning.refused"))
            with pytest.raises(ValueError):
                HotStatement(insert(_AUDIT)).scalar(s, _row("returning.refused"))
        with db.unit_of_work() as s:
            stored = {a: i for a, i in s.execute(select(_AUDIT.c.action, _AUDIT.c.id)
                                                 .where(_AUDIT.c.action.like("returning.%")))}
            assert [r[1:] for r in _stored(s, ["returning.hot"])] == [r[1:] for r in _stored(s, ["returning.session"])]
    assert stored == {"returning.session": by_session, "returning.hot": first, "returning.hot2": second}
    assert by_session < first < second


def test_rows_of_one_execution_name_the_same_parameters(app):
    if db.engine().dialect.name != "postgresql":
        pytest.skip("SQLite executes through the session")
    with app.app_context(), pytest.raises(ValueError), db.unit_of_work() as s:
        HotStatement(insert(_AUDIT)).execute(s, [_row("a"), {**_row("b"), "extra": 1}])


@pytest.mark.parametrize("multi_row_max", [100, 1])
def test_an_inserts_rows_go_in_one_statement_in_their_order(app, monkeypatch, multi_row_max):
    """Up to MULTI_ROW_MAX rows in one multi-row VALUES statement (ids in the rows' order, as the history relies on);
    more as one executemany. Either way every row is written as the session writes it."""
    from app.core import hot
    monkeypatch.setattr(hot, "MULTI_ROW_MAX", multi_row_max)
    statements: list[tuple[str, bool]] = []

    def listen(_conn, _cursor, statement, _params, _context, executemany):
        if statement.startswith("INSERT"):
            statements.append((statement, executemany))
    rows = [_row(f"ordered.{i}", details={"i": i}, object_id=None if i % 2 else str(i)) for i in range(5)]
    with app.app_context():
        event.listen(db.engine(), "before_cursor_execute", listen)
        try:
            with db.unit_of_work() as s:
                written = HotStatement(insert(_AUDIT)).execute(s, rows)
        finally:
            event.remove(db.engine(), "before_cursor_execute", listen)
        with db.unit_of_work() as s:
            stored = s.execute(select(_AUDIT.c.action, _AUDIT.c.object_id, _AUDIT.c.details)
                               .where(_AUDIT.c.action.like("ordered.%")).order_by(_AUDIT.c.id)).all()
    assert [tuple(r) for r in stored] == [(r["action"], r["object_id"], r["details"]) for r in rows]
    assert len(statements) == (1 if db.engine().dialect.name == "postgresql" else len(statements))
    if db.engine().dialect.name == "postgresql":
        assert written == 5
        [(sql, executemany)] = statements
        assert executemany == (multi_row_max < 5) and sql.count("::JSONB") == (1 if executemany else 5)


@pytest.mark.parametrize("multi_row_max", [100, 2])
def test_an_insert_returning_keys_gives_each_rows_key_in_the_rows_order(app, monkeypatch, multi_row_max):
    """`scalars()` (a start's history, issue 23): several rows written as the session writes them, in one multi-row
    VALUES statement per MULTI_ROW_MAX rows, their new keys back in the rows' order. Only an INSERT returning its
    table's autoincrement key, built with `sort_by_parameter_order=True`, is run by it."""
    from app.core import hot as hot_module
    monkeypatch.setattr(hot_module, "MULTI_ROW_MAX", multi_row_max)
    hot = HotStatement(insert(_AUDIT).returning(_AUDIT.c.id, sort_by_parameter_order=True))
    rows = [_row(f"keys.{i}", details={"i": i} if i % 3 else None, object_id=None if i % 2 else str(i))
            for i in range(5)]
    with app.app_context():
        with db.unit_of_work() as s:
            s.execute(insert(_AUDIT), [{**r, "action": r["action"].replace("keys.", "keys_session.")} for r in rows])
            keys = hot.scalars(s, rows)
            assert hot.scalars(s, []) == []
            for refused in (HotStatement(insert(_AUDIT).returning(_AUDIT.c.id)),
                            HotStatement(insert(_AUDIT).returning(_AUDIT.c.actor, sort_by_parameter_order=True))):
                with pytest.raises(ValueError):
                    refused.scalars(s, rows)
        with db.unit_of_work() as s:
            stored = s.execute(select(_AUDIT.c.action, _AUDIT.c.id).where(_AUDIT.c.action.like("keys.%"))
                               .order_by(_AUDIT.c.id)).all()
            assert [r[1:] for r in _stored(s, [r["action"] for r in rows])] == \
                [r[1:] for r in _stored(s, [r["action"].replace("keys.", "keys_session.") for r in rows])]
    assert [tuple(r) for r in stored] == list(zip([r["action"] for r in rows], keys, strict=True))
    assert keys == sorted(keys) and len(set(keys)) == 5


@pytest.mark.parametrize("multi_row_max", [100, 2])
def test_keys_read_later_are_the_keys_read_now_handed_over_once_written(app, monkeypatch, multi_row_max):
    """`scalars_later()` (a start's history, issue 23): the rows `scalars()` writes, their keys in the rows' order
    handed to `done` once, when written: on PostgreSQL with the transaction's next statement (one round trip with
    it), elsewhere at once."""
    from app.core import hot as hot_module
    from app.core import pgexec
    monkeypatch.setattr(hot_module, "MULTI_ROW_MAX", multi_row_max)
    hot = HotStatement(insert(_AUDIT).returning(_AUDIT.c.id, sort_by_parameter_order=True))
    rows = [_row(f"later.{i}", details={"i": i} if i % 3 else None) for i in range(5)]
    handed: list[list[int]] = []
    with app.app_context():
        with db.unit_of_work() as s:
            s.execute(text("SELECT 1"))
            hot.scalars_later(s, rows, handed.append)
            if db.is_postgres():
                assert handed == []                         # held until the next round trip
                before = pgexec.round_trips()
                assert HotStatement(insert(_AUDIT)).execute(s, _row("next.statement")) == 1
                assert pgexec.round_trips() - before == 1       # the held INSERT went with it
            assert len(handed) == 1
            with pytest.raises(ValueError):
                HotStatement(insert(_AUDIT).returning(_AUDIT.c.id)).scalars_later(s, rows, handed.append)
        with db.unit_of_work() as s:
            stored = s.execute(select(_AUDIT.c.action, _AUDIT.c.id).where(_AUDIT.c.action.like("later.%"))
                               .order_by(_AUDIT.c.id)).all()
    assert [tuple(r) for r in stored] == list(zip([r["action"] for r in rows], handed[0], strict=True))


def test_a_json_value_given_as_its_text_is_written_as_the_value(app):
    """A `JSONText` (the engine's state, serialized once, issue 23) is sent as the text it is: the row stored is the
    row the value itself gives, on either backend."""
    hot, keys = HotStatement(insert(_AUDIT)), HotStatement(insert(_AUDIT).returning(_AUDIT.c.id))
    details = {"k": [1, "二", None], "nested": {"a": 1.5, "b": True}}
    with app.app_context(), db.unit_of_work() as s:
        hot.execute(s, _row("text.value", details=details))
        hot.execute(s, _row("text.text", details=db.JSONText(json.dumps(details))))
        keys.scalar(s, _row("text.scalar", details=db.JSONText(json.dumps(details))))
        hot.execute(s, [_row("text.many", details=db.JSONText(json.dumps(details)))] * 2)
        want = _stored(s, ["text.value"])[0][1:]
        for action in ("text.text", "text.scalar", "text.many"):
            assert {r[1:] for r in _stored(s, [action])} == {want}, action


def _statements_during(fn) -> list[str]:
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_a):
        seen.append(statement)
    event.listen(db.engine(), "before_cursor_execute", listen)
    try:
        fn()
    finally:
        event.remove(db.engine(), "before_cursor_execute", listen)
    return [s for s in seen if not s.startswith(("SELECT", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))]


@pytest.mark.parametrize("multi_row_max", [100, 2])
def test_an_update_then_its_rows_write_what_the_two_statements_write(app, monkeypatch, multi_row_max):
    """`update_then_insert` (a step's instance row and history, issue 23): the UPDATE's row count; the INSERT's rows,
    stored as the session stores them and with keys in the rows' order, only when the UPDATE touched its row. On
    PostgreSQL one statement (up to MULTI_ROW_MAX rows), elsewhere the two one after the other."""
    from app.core import hot as hot_module
    monkeypatch.setattr(hot_module, "MULTI_ROW_MAX", multi_row_max)
    upd = HotStatement(update(_AUDIT).where(_AUDIT.c.id == bindparam("b_id"), _AUDIT.c.actor == bindparam("b_actor")))
    ins = HotStatement(insert(_AUDIT))
    rows = [_row(f"then.{i}", details={"i": i} if i % 3 else None, object_id=None if i % 2 else str(i),
                 actor_user_id=i if i % 2 else None) for i in range(3)]
    with app.app_context():
        with db.unit_of_work() as s:
            target = s.execute(insert(_AUDIT).returning(_AUDIT.c.id), _row("then.target")).scalar_one()
            s.execute(insert(_AUDIT), [{**r, "action": r["action"].replace("then.", "then_session.")} for r in rows])
        results: list[int] = []

        def stale():
            with db.unit_of_work() as s:
                results.append(hot_module.update_then_insert(
                    s, upd, {"b_id": target, "b_actor": "other", "object_id": "stale"},
                    ins, [_row("then.stale.a"), _row("then.stale.b")]))

        def touched():
            with db.unit_of_work() as s:
                results.append(hot_module.update_then_insert(
                    s, upd, {"b_id": target, "b_actor": "u", "object_id": "8", "details": {"n": [1, "二"]}},
                    ins, rows))
        sent = _statements_during(stale) + _statements_during(touched)
        with db.unit_of_work() as s:
            assert _stored(s, ["then.stale.a", "then.stale.b"]) == []       # the UPDATE touched nothing: no rows
            assert s.execute(select(_AUDIT.c.object_id, _AUDIT.c.details)
                             .where(_AUDIT.c.id == target)).one() == ("8", {"n": [1, "二"]})
            assert [r[1:] for r in _stored(s, [r["action"] for r in rows])] == \
                [r[1:] for r in _stored(s, [r["action"].replace("then.", "then_session.") for r in rows])]
            stored = s.execute(select(_AUDIT.c.action).where(_AUDIT.c.action.like("then.%"))
                               .where(_AUDIT.c.id != target).order_by(_AUDIT.c.id)).scalars().all()
    assert results == [0, 1]
    assert stored == [r["action"] for r in rows]          # keys in the rows' order
    if db.engine().dialect.name == "postgresql":
        # one statement each; more rows than MULTI_ROW_MAX: the UPDATE, then the rows (one executemany)
        assert len(sent) == (2 if multi_row_max >= len(rows) else 3), sent
        assert sent[0].startswith("WITH u AS (UPDATE audit_entries")
    else:
        assert len(sent) == 3, sent         # SQLite: the UPDATE alone, then the UPDATE and the rows (executemany)


def test_an_update_then_insert_is_an_update_and_an_insert_without_returning(app):
    from app.core.hot import update_then_insert
    upd = HotStatement(update(_AUDIT).where(_AUDIT.c.id == bindparam("b_id")))
    with app.app_context(), db.unit_of_work() as s:
        for first, second in ((HotStatement(insert(_AUDIT)), HotStatement(insert(_AUDIT))),
                              (upd, HotStatement(insert(_AUDIT).returning(_AUDIT.c.id))), (upd, upd)):
            with pytest.raises(ValueError):
                update_then_insert(s, first, {"b_id": 1, "actor": "x"}, second, [_row("refused")])


@pytest.mark.parametrize("multi_row_max", [100, 1])
def test_inserts_together_write_what_they_write_apart(app, monkeypatch, multi_row_max):
    """`insert_together` (a completion's receipt and audit entries, issue 23): every row stored as the session stores
    it, each INSERT's keys in its rows' order; on PostgreSQL one statement (each INSERT's rows up to MULTI_ROW_MAX),
    elsewhere one each; an error in any fails the whole as it fails alone."""
    from app.core import hot as hot_module
    monkeypatch.setattr(hot_module, "MULTI_ROW_MAX", multi_row_max)
    ins = HotStatement(insert(_AUDIT))
    first = [_row("together.a", details=None)]
    second = [_row("together.b", object_id=None), _row("together.c", details={"x": None}, actor_user_id=4)]
    with app.app_context():
        with db.unit_of_work() as s:
            for r in (*first, *second):
                s.execute(insert(_AUDIT), {**r, "action": r["action"].replace("together.", "apart.")})

        def together():
            with db.unit_of_work() as s:
                hot_module.insert_together(s, [(ins, first), (ins, []), (ins, second)])
        sent = _statements_during(together)
        with db.unit_of_work() as s:
            for rows in (first, second):    # each INSERT's rows in their order (between INSERTs: undefined)
                actions = [r["action"] for r in rows]
                assert [r[1:] for r in _stored(s, actions)] == \
                    [r[1:] for r in _stored(s, [a.replace("together.", "apart.") for a in actions])]
            row_id = s.execute(select(_AUDIT.c.id).where(_AUDIT.c.action == "together.a")).scalar_one()
        with pytest.raises(IntegrityError), db.unit_of_work() as s:
            hot_module.insert_together(s, [(ins, [_row("together.dup", id=row_id)]), (ins, [_row("together.d")])])
        with db.unit_of_work() as s:
            assert _stored(s, ["together.dup", "together.d"]) == []
            hot_module.insert_together(s, [])
    if db.engine().dialect.name == "postgresql":
        assert len(sent) == (1 if multi_row_max >= 2 else 2), sent      # apart: the one row, the two (executemany)
        if multi_row_max >= 2:
            assert sent[0].startswith("WITH w0 AS (INSERT INTO audit_entries")
    else:
        assert len(sent) == 2, sent


def test_a_deferred_write_writes_what_execute_writes_by_the_commit(app):
    hot = HotStatement(insert(_AUDIT))
    returning = HotStatement(insert(_AUDIT).returning(_AUDIT.c.id))
    keys: list[int] = []
    with app.app_context():
        with db.unit_of_work() as s:
            hot.execute(s, _row("executed"))
            hot.defer(s, _row("deferred"))
            hot.defer(s, [_row("deferred.many.a"), _row("deferred.many.b")])
            returning.scalar_later(s, _row("deferred.key"), keys.append)
        with db.unit_of_work() as s:
            assert [r[1:] for r in _stored(s, ["deferred"])] == [r[1:] for r in _stored(s, ["executed"])]
            assert len(_stored(s, ["deferred.many.a", "deferred.many.b"])) == 2
            assert keys == list(s.execute(select(_AUDIT.c.id).where(_AUDIT.c.action == "deferred.key")).scalars())

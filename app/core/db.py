"""The database: one engine per process, a thread-scoped session, and a re-entrant unit of work.

Services own their transaction: `with unit_of_work() as session: ...` commits at the outermost exit and rolls back
on any exception, so a use case is applied whole or not at all.
"""
from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from psycopg import pq
from psycopg.types.json import set_json_dumps
from sqlalchemy import JSON, Column, DateTime, MetaData, Table, create_engine, event, inspect, null, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, Result
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, scoped_session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.session import SessionTransactionState
from sqlalchemy.sql.elements import Null
from sqlalchemy.types import TypeDecorator

from .jsonio import db_dumps, db_dumps_text, db_loads
from .pgexec import Direct

NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


JSONType = JSON().with_variant(JSONB(), "postgresql")
# Engine state keeps its key order (JSONB would sort keys, and the engine's delta-encoded task data is restored in
# document order), so it is stored as plain `json`; nothing ever queries inside it.
OrderedJSON = JSON()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use app.core.clock.now()")
        return value.astimezone(UTC)  # SQLite keeps the wall time and drops the offset

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


_engine: Engine | None = None
Session_ = scoped_session(sessionmaker(expire_on_commit=False))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: SQLite's stand-in for SELECT ... FOR UPDATE.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# Every checkout pings by default (0); the ping is the transaction's BEGIN (`_ping`), so it costs no round trip of its
# own. With a value above 0 an operator lets a connection back from a request less than that many seconds ago go
# unpinged when its socket is quiet (psycopg then sends the BEGIN before the first statement: no round trip saved
# since the ping became the BEGIN, only the check), accepting a race: a server that closes it (restart, pg_terminate_backend) leaves its goodbye on the socket a few milliseconds
# later, and a request checked out in between fails on its first statement (the production lane's drill 2 caught a
# 500 so, 2026-12-05; tests/integration/test_db_ping.py).
PING_IDLE_S = float(os.environ.get("YGT_DB_PING_IDLE_S", "0"))
_CHECKED_IN = "ygt_checked_in"


def _note_checkin(_dbapi_conn: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _socket_has_news(dbapi_conn: Any) -> bool:
    """An idle connection's socket is readable only when the server sent something unasked: its goodbye."""
    try:
        return bool(select.select([dbapi_conn.fileno()], [], [], 0)[0])
    except (OSError, ValueError, AttributeError):
        return True


def _ping_on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Pessimistic disconnect handling (the pool replaces a connection that fails here); with `PING_IDLE_S` above 0,
    without the round trip for a connection used a moment ago whose socket is quiet."""
    last = record.info.get(_CHECKED_IN)
    if last is not None and time.monotonic() - last < PING_IDLE_S and not _socket_has_news(dbapi_conn):
        return
    _ping(dbapi_conn)


def _ping(dbapi_conn: Any) -> None:
    """One round trip on an idle connection, which also opens its transaction: `BEGIN` sent as psycopg would send it
    before the first statement (it then sends none: the connection is already in a transaction), so a request's
    check and its BEGIN are one round trip, not two. A connection with a transaction setting of its own (autocommit,
    an isolation level, read-only, deferrable) gets libpq's empty query instead (no transaction; the server answers
    EmptyQueryResponse) and psycopg's own BEGIN later. A connection in any other state, or a failed round trip, is
    unusable. A connection checked out and given back without a statement is rolled back by the pool's reset."""
    try:
        pgconn = dbapi_conn.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            raise DisconnectionError(f"connection not idle at checkout ({pgconn.transaction_status!r})")
        begins = not (dbapi_conn.autocommit or dbapi_conn.isolation_level is not None
                      or dbapi_conn.read_only is not None or dbapi_conn.deferrable is not None)
        result = pgconn.exec_(b"BEGIN" if begins else b"")
        expected = pq.ExecStatus.COMMAND_OK if begins else pq.ExecStatus.EMPTY_QUERY
        if result.status != expected:
            raise DisconnectionError(f"ping failed ({result.status!r}): {pgconn.get_error_message()}")
    except DisconnectionError:
        raise
    except Exception as exc:  # any failure means the connection is unusable; the pool reconnects
        raise DisconnectionError(str(exc)) from exc


# the execution options that set a transaction's characteristics, which psycopg refuses to change in a transaction
_CHARACTERISTICS = ("isolation_level", "postgresql_readonly", "postgresql_deferrable")


def _unbegin_for_characteristics(conn: Any, opts: Mapping[str, Any]) -> None:
    """A connection given an isolation level (or read-only, deferrable) after its checkout: SQLAlchemy allows it
    only outside a transaction of its own, so a transaction open on the DBAPI connection is the checkout's empty
    BEGIN (`_ping`): rolled back, so that psycopg may apply the setting and begin with it."""
    if any(k in opts for k in _CHARACTERISTICS) and not conn.in_transaction():
        raw = conn.connection.driver_connection
        if raw is not None and raw.pgconn.transaction_status == pq.TransactionStatus.INTRANS:
            raw.rollback()


def _unbegin_on_engine_connect(conn: Any) -> None:
    _unbegin_for_characteristics(conn, conn.get_execution_options())


def _option_engine_unbegins(option_engine: Any, opts: Mapping[str, Any]) -> None:
    """An engine made with an isolation level (`Engine.execution_options`): its connections roll the checkout's
    BEGIN back before the dialect applies the level (this listener is registered on the option engine before the
    dialect's own)."""
    if any(k in opts for k in _CHARACTERISTICS):
        event.listen(option_engine, "engine_connect", _unbegin_on_engine_connect)


def _unbegin_before_the_dialect(dialect: Dialect) -> None:
    """The engine's dialect rolls the checkout's BEGIN back before it applies a connection's (or an option engine's)
    transaction characteristics: what `set_connection_execution_options` and `set_engine_execution_options`
    listeners would do just before it, without an engine listener: any connection event listened for makes SQLAlchemy
    dispatch every connection event of every statement and transaction (engine_connect, begin, commit,
    before/after_execute, before/after_cursor_execute: ≈ 50 empty dispatches per engine-path instance, issue 23.2)."""
    set_connection, set_engine = dialect.set_connection_execution_options, dialect.set_engine_execution_options

    def set_connection_execution_options(connection: Connection, opts: Mapping[str, Any]) -> None:
        _unbegin_for_characteristics(connection, opts)
        set_connection(connection, opts)

    def set_engine_execution_options(option_engine: Engine, opts: Mapping[str, Any]) -> None:
        _option_engine_unbegins(option_engine, opts)
        set_engine(option_engine, opts)

    setattr(dialect, "set_connection_execution_options", set_connection_execution_options)  # noqa: B010
    setattr(dialect, "set_engine_execution_options", set_engine_execution_options)  # noqa: B010


def _json_dumps_for_encoding(dbapi_conn: Any, _record: Any) -> None:
    """psycopg sends a JSON value's text as bytes as they are (its JSON dumper encodes a str as UTF-8 whatever the
    connection's encoding) and `db_dumps` writes non-ASCII characters as UTF-8, where `json.dumps` wrote ASCII
    escapes: a connection whose client encoding is not UTF-8 (a database not in UTF8) dumps JSON with `json.dumps`,
    as before."""
    if dbapi_conn.info.encoding != "utf-8":
        set_json_dumps(json.dumps, dbapi_conn)


def statement_timeout_ms() -> int:
    """The longest a statement of this process may run on PostgreSQL (`YGT_DB_STATEMENT_TIMEOUT_S`, set for the web
    processes by `app.serving.web_process_environment`); 0: no limit (jobs, the scheduler, the CLI)."""
    raw = os.environ.get("YGT_DB_STATEMENT_TIMEOUT_S", "").strip()
    try:
        seconds = float(raw) if raw else 0.0
    except ValueError:
        raise RuntimeError(f"YGT_DB_STATEMENT_TIMEOUT_S must be a number of seconds, not {raw!r}") from None
    return max(0, int(seconds * 1000))


def init_engine(url: str, **kwargs: Any) -> Engine:
    """Create (or replace) the process-wide engine."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15},
                            json_serializer=db_dumps_text, json_deserializer=db_loads, **kwargs)
        event.listen(eng, "connect", _sqlite_pragmas)
        event.listen(eng, "begin", _sqlite_begin)
    else:
        # the checkout ping replaces connections the server dropped (restart, pg_terminate_backend); keepalives
        # notice a silent network loss; application_name lets an operator see (and target) each process's
        # connections
        connect_args: dict[str, Any] = {
            "application_name": os.environ.get("YGT_APP_NAME", "ygt")[:60], "connect_timeout": 10,
            "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
        timeout_ms = statement_timeout_ms()
        if timeout_ms:
            connect_args["options"] = f"-c statement_timeout={timeout_ms}"
        # JSON values written and read through orjson where it writes and reads them as the standard library does
        # (`app.core.jsonio.db_dumps`/`db_loads`); SQLAlchemy's psycopg dialect sets them on the engine's own
        # adapters map (`set_json_dumps`/`set_json_loads`), which every connection of the engine and its direct
        # execution (`app.core.pgexec`) use. psycopg sends a JSON value's bytes as they are: UTF-8, the client
        # encoding of a connection to a UTF8 database (any other: `_json_dumps_for_encoding`)
        eng = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=3600, connect_args=connect_args,
                            json_serializer=db_dumps, json_deserializer=db_loads, **kwargs)
        event.listen(eng, "connect", _json_dumps_for_encoding)
        event.listen(eng, "checkin", _note_checkin)
        event.listen(eng, "checkout", _ping_on_checkout)
        _unbegin_before_the_dialect(eng.dialect)
    _engine = eng
    Session_.remove()
    Session_.configure(bind=eng)
    return eng


def _forget_pool_in_child() -> None:
    if _engine is not None:
        _engine.dispose(close=False)


# a forked child (rq's work horse) must never share the parent's pooled connections
os.register_at_fork(after_in_child=_forget_pool_in_child)


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database not initialised; call init_engine()")
    return _engine


def session() -> Session:
    """The current thread's session: read from the scoped registry's thread-local as `ThreadLocalRegistry.__call__`
    reads it (SQLAlchemy 2.0, pinned <2.1), without `scoped_session.__call__` and the registry's call in between (the
    engine path asks for it a few dozen times per instance, issue 23); the first call of a thread makes it through
    `Session_()`."""
    try:
        s = _THREAD_SESSION.value
    except AttributeError:
        return Session_()
    if s.bind is not _engine:   # kept from a request before `init_engine` gave the app another engine
        Session_.remove()
        return Session_()
    return cast(Session, s)


# the thread-local the registry keeps each thread's session in (`Session_` is made without a scopefunc)
_THREAD_SESSION = cast(Any, Session_.registry).registry


_ACTIVE = SessionTransactionState.ACTIVE


def connection(s: Session) -> Connection:
    """`s.connection()`: the connection of the session's transaction, begun (and checked out) if it has none yet.

    Once the transaction holds its connection (every hot statement after a step's first one), it is read from the
    transaction's connections as `SessionTransaction._connection_for_bind` reads it (SQLAlchemy 2.0, pinned <2.1),
    without `Session.connection`'s bind lookup and the state-change bookkeeping around each call (issue 23). Any other
    case (no transaction or no connection yet, a transaction not active, a `with session.begin()` block, a session
    whose bind is not its engine alone) goes through `s.connection()` itself, with its checks and errors."""
    trans = s._transaction
    if trans is not None and trans._state is _ACTIVE and s._trans_context_manager is None and \
            type(s).get_bind is Session.get_bind:
        bind = s.bind
        if bind is not None:
            found = trans._connections.get(bind)
            if found is not None:
                return found[0]
    return s.connection()


_depth: dict[int, int] = {}


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Commit at the outermost exit, roll back on error. Nested uses join the outer transaction.

    Callbacks registered in `session.info["after_commit"]` run after the outermost commit (jobs enqueue there).
    """
    s = session()
    key = id(s)
    _depth[key] = _depth.get(key, 0) + 1
    callbacks = []
    try:
        yield s
        if _depth[key] == 1:
            s.commit()
            callbacks = s.info.pop("after_commit", [])
    except BaseException:
        if _depth[key] == 1:
            s.info.pop("after_commit", None)
            s.rollback()
        raise
    finally:
        _depth[key] -= 1
        if _depth[key] == 0:
            del _depth[key]
    for callback in callbacks:
        callback()


# A commit waits for its WAL to reach the disk (synchronous_commit): 3-4 ms on this project's 2-core machines, the
# largest single wait of a read request, whose only writes are bookkeeping (its read-audit entry, a token's last use).
# For those the wait buys only that a database crash in the next few hundred ms cannot lose them (PostgreSQL never
# applies an asynchronous commit partially nor out of order). Only a transaction that wrote nothing before is relaxed
# (the xid is assigned at a transaction's first write), so a view's own change is never committed asynchronously.
RELAXED_COMMIT_SQL = ("SELECT set_config('synchronous_commit', CASE WHEN pg_current_xact_id_if_assigned() IS NULL "
                      "THEN 'off' ELSE current_setting('synchronous_commit') END, true)")


def relax_commit(s: Session) -> None:
    """Let this transaction commit without waiting for the WAL flush if it has written nothing yet (PostgreSQL; call
    before the bookkeeping write; elsewhere nothing)."""
    conn = connection(s)
    if conn.dialect.name == "postgresql":
        # on the hot statements' cursor: cursor events and SQLAlchemy's errors as `exec_driver_sql`, without its
        # execution context and result (issue 23.2)
        run_on_cursor(conn, RELAXED_COMMIT_SQL, None, False, _nothing)


def _nothing(_cursor: Any) -> None:
    return None


# -- statements on the DBAPI connection's cursor (the hot statements and reads, app.core.hot, hot_reads) ---------

def run_on_cursor(conn: Connection, sql: str, values: Any, many: bool, read: Callable[[Any], Any]) -> Any:
    """Execute `sql` on the connection's DBAPI connection as SQLAlchemy's execution would (cursor events around it,
    DBAPI errors raised through SQLAlchemy's handler) and return what `read(result)` takes from it: `result` is the
    statement's result read as a cursor (`rowcount`, `description`, `fetchall`, `fetchone`, `fetchmany`). On
    PostgreSQL one row's values are executed straight on libpq inside the open transaction (`app.core.pgexec`);
    anything else on the connection's kept cursor."""
    direct = _direct(conn)
    cursor = direct.cursor
    events = conn._has_events or conn.engine._has_events
    try:
        if events:
            conn.dispatch.before_cursor_execute(conn, cursor, sql, values, None, many)
        result = None
        if many:
            cursor.executemany(sql, values)
        else:
            result = direct.execute(sql, values)
            if result is None:
                cursor.execute(sql, values)
        if events:
            conn.dispatch.after_cursor_execute(conn, cursor, sql, values, None, many)
        return read(cursor if result is None else result)
    except conn.dialect.loaded_dbapi.Error as exc:
        # as SQLAlchemy's own execution: wrapped (IntegrityError, OperationalError, …), the connection invalidated
        # on a disconnect; the error of a deferred statement sent before this one names that statement
        failed, direct.failed = direct.failed, None
        if failed is not None:
            sql, values = failed
        conn._handle_dbapi_exception(exc, sql, values, cursor, None)
        raise       # not reached: the handler raises


def defer_on_cursor(conn: Connection, sql: str, values: Any, done: Callable[[Any], None] | None = None) -> None:
    """Execute `sql` (one row's values, a write) as `run_on_cursor` would, but on PostgreSQL inside the open
    transaction send it only with the connection's next round trip (`app.core.pgexec.Direct.defer`: the next
    statement, or the COMMIT); `done(result)` once it was written, with its result read as a cursor (an INSERT's
    returned key). For a write whose result and errors nobody needs before then: a failure raises from the
    statement or the commit it went with. Anything the direct path does not take is executed now."""
    direct = _direct(conn)
    if not direct.defer(sql, values, done):
        run_on_cursor(conn, sql, values, False, done or _nothing)
        return
    if conn._has_events or conn.engine._has_events:
        conn.dispatch.before_cursor_execute(conn, direct.cursor, sql, values, None, False)
        conn.dispatch.after_cursor_execute(conn, direct.cursor, sql, values, None, False)


def send_deferred(s: Session) -> None:
    """Send the writes deferred on the session's connection now, in one round trip (nothing deferred, or not
    PostgreSQL: nothing sent): before a statement whose errors the caller catches and maps (a lock timeout as
    `instance_busy`), so that a deferred write's error is never taken for that statement's."""
    conn = connection(s)
    if conn.dialect.name != "postgresql":
        return
    direct = conn.connection.info.get(_DIRECT)
    if direct is None or not direct.pending:
        return
    try:
        with direct.driver.lock:
            direct.send_deferred()
    except conn.dialect.loaded_dbapi.Error as exc:
        failed, direct.failed = direct.failed, None
        sql, values = failed if failed is not None else (None, None)
        conn._handle_dbapi_exception(exc, sql, values, direct.cursor, None)
        raise       # not reached: the handler raises


_DIRECT = "ygt_direct"


def _direct(conn: Connection) -> Direct:
    """The DBAPI connection's direct execution (with the cursor kept for statements it leaves to psycopg), made once
    per connection and kept in its pool record: a new psycopg cursor per statement built its adapters and looked each
    parameter's dumper up again. A kept one is of a live connection (the record's connection may have been replaced
    since)."""
    fairy = conn.connection
    driver = fairy.driver_connection
    info = fairy.info
    direct = info.get(_DIRECT)
    if direct is None or direct.driver is not driver or direct.cursor.closed:
        direct = info[_DIRECT] = Direct(driver)
    return cast(Direct, direct)


def remove_session(_exc: BaseException | None = None) -> None:
    """Close the thread's session and forget it: the next `session()` makes a new one."""
    Session_.remove()


def close_session(_exc: BaseException | None = None) -> None:
    """The end of an app context (a request, a job): the thread's session closed as `remove_session` closes it
    (its transaction rolled back if one is open, its connection back to the pool, its objects detached) and its
    `info` emptied, the session object kept for the thread's next app context (issue 23.2: making one per request
    and dropping it was ≈ 11 µs of a request's ≈ 66 µs session cycle). `session()` does not hand out a kept session
    of an engine `init_engine` has replaced since (which removes the calling thread's session only); a session
    closed so holds nothing a new one would not: no transaction, connection, object or `info` entry."""
    s = getattr(_THREAD_SESSION, "value", None)
    if s is None:
        return
    if s.bind is not _engine:
        Session_.remove()
        return
    s.close()
    s.info.clear()


def rowcount(result: Result[Any]) -> int:
    """The rows an INSERT/UPDATE/DELETE touched: `Session.execute` is typed as returning `Result`, which has no
    `rowcount`, though for these statements it is a `CursorResult`."""
    return cast(CursorResult[Any], result).rowcount


def is_postgres() -> bool:
    return engine().dialect.name == "postgresql"


_UTF8 = "ygt_server_utf8"


def server_is_utf8() -> bool:
    """Whether the PostgreSQL server's encoding is UTF8 (read once per engine from the connection's parameter status,
    no query), so that comparing two texts' bytes (`~<~`, the varchar_pattern_ops indexes) orders them by code
    point: a name search's index range relies on it (app.tasks.queries, `_name_prefix`)."""
    eng = engine()
    known = eng.dialect.__dict__.get(_UTF8)
    if known is None:
        with eng.connect() as conn:
            raw = cast(Any, conn.connection.dbapi_connection)       # a psycopg Connection
            known = raw.info.parameter_status("server_encoding") == "UTF8"
        setattr(eng.dialect, _UTF8, known)
    return bool(known)


# -- new rows written by a Core INSERT, then held by the session as loaded rows (hot paths, issue 23.2) ----------

def insert_params(obj: Any, columns: list[Column[Any]]) -> dict[str, Any]:
    """A new mapped object's INSERT parameters as the unit of work would send them, the object's attributes completed
    with them as after a flush: a column left unset, or set to None where None is not a value of its type (anything
    but JSON), takes its Python default (NULL without one); a JSON column set to None is JSON null, one left unset
    without a default SQL NULL. Every row gets every column, so many rows share one multi-row INSERT."""
    state = obj.__dict__
    params: dict[str, Any] = {}
    for column in columns:
        key = column.key
        value = state.get(key)
        evaluates_none = column.type.should_evaluate_none
        if key in state and (value is not None or evaluates_none):
            params[key] = value
            continue
        if column.default is None and column.server_default is not None:
            raise ValueError(f"{column}: a server default alone cannot be written by a shared INSERT; "
                             "give the column a Python default")
        arg = getattr(column.default, "arg", None)
        value = arg({}) if callable(arg) else arg
        setattr(obj, key, value)
        params[key] = null() if value is None and evaluates_none else value
    return params


def hold_as_loaded(session: Session, obj: Any) -> None:
    """Make a new object whose row a Core INSERT wrote (its primary key set) a clean persistent object of `session`,
    as if just loaded: later reads find it, and nothing writes it again."""
    make_transient_to_detached(obj)
    session.add(obj)


def hold_as_written(session: Session, obj: Any, values: dict[str, Any]) -> None:
    """A loaded object whose changed columns a Core UPDATE just wrote (`values`): its attributes hold them as committed
    and, when nothing else of it is pending, the session no longer counts it modified, so the commit's flush has
    nothing to visit (issue 23.2: a completion's task row made the unit of work run at every commit, to write
    nothing). A later change of the object is tracked and flushed as usual."""
    for key, value in values.items():
        set_committed_value(obj, key, value)
    state = inspect(obj)
    if state.modified and not state.committed_state:
        # what a flush does to the objects it wrote (SQLAlchemy 2.0, pinned <2.1): clear the modified flag and the
        # identity map's strong reference; with no committed state left, nothing else changes
        state._commit_all(state.dict, session.identity_map)


# -- many new rows with one COPY (PostgreSQL), batch starts (issue 23.3) ------------------------------------------

class JSONText(str):
    """A JSON column's value already serialized: a JSON text that decodes to exactly the value (the engine's state
    text, `app.engine.codec.dump_state_text`: orjson's compact text, or `json.dumps`'s), sent and copied as it is
    instead of serializing the value again (the hot statements, `copy_rows`)."""


def next_ids(session: Session, table: Table, n: int) -> list[int]:
    """`n` new ids of a PostgreSQL table's serial `id` column, in increasing order (what INSERT … RETURNING id would
    have taken), for rows written by `copy_rows`."""
    if n <= 0:
        return []
    # the sequence resolved once (an InitPlan), not per id: `nextval(pg_get_serial_sequence(…))` in the select list
    # ran the catalog look-up for every row (4 µs of backend CPU per id, against 0.5)
    return list(session.scalars(text("SELECT nextval((SELECT pg_get_serial_sequence(:t, 'id')::regclass)) "
                                     "FROM generate_series(1, :n)"), {"t": table.name, "n": n}))


def copy_rows(session: Session, table: Table, columns: Sequence[Column[Any]], rows: Sequence[Mapping[str, Any]]
              ) -> None:
    """Write new rows with one `COPY … FROM STDIN` in the session's transaction (PostgreSQL, psycopg 3) instead of a
    multi-row INSERT: psycopg parses a multi-row INSERT's whole text (thousands of placeholders, too long for its
    statement cache) each time, and the server plans it; COPY sends only the values. `rows` hold the INSERT
    parameters by column key (`insert_params`), each sent through its column's bind processor as the INSERT sends
    it (JSON through psycopg's Json adapter, a JSON null kept apart from SQL NULL `null()`), a `JSONText` as is."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    procs = [(c.key, c.type._cached_bind_processor(dialect)) for c in columns]
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) FROM STDIN"
    raw = connection(session).connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            values: list[Any] = []
            for key, proc in procs:
                value = row[key]
                if isinstance(value, JSONText):
                    values.append(str(value))
                elif isinstance(value, Null):
                    values.append(None)
                else:
                    values.append(proc(value) if proc is not None else value)
            copy.write_row(values)

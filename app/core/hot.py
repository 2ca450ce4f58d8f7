"""Hot statements (issue 23.2): the few Core writes every engine-path request runs (its audit entries, a completion's
receipt, task and instance rows, a step's history), executed on PostgreSQL straight on the session's DBAPI
connection, in the session's transaction, from SQL compiled once per set of parameter names.

What SQLAlchemy's statement execution adds to each of them (execution context, compiled-cache lookup and key,
result object) is most of its client cost; psycopg then prepares the statement server-side after a few executions,
as it does for SQLAlchemy's. What is kept: the values go through the statement's own bind processors (JSON,
`UTCDateTime`), `before_cursor_execute`/`after_cursor_execute` listeners see the statement (the statement guards
count it), and a DBAPI error is raised as SQLAlchemy raises it (`IntegrityError`, `OperationalError`, the connection
invalidated on a disconnect). No result rows: only the row count, or an INSERT's one returned column (`scalar`: the
new row's key, as the job outbox needs it; `scalars`: several rows' new keys in their order, as a start's history
and new tasks need them). A JSON value given as `JSONText` (serialized already, e.g. the engine's state) is sent as
that text. Any other backend (SQLite, the embedded default) executes the statement through the session as before.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any, cast

from psycopg.types.json import Json, Jsonb
from sqlalchemy import JSON, TypeDecorator
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Delete, Insert, Update

from .db import JSONText, connection, defer_on_cursor, rowcount, run_on_cursor

_Entry = tuple[str, tuple[tuple[str, str, Callable[[Any], Any] | None], ...]]


class HotStatement:
    """A Core INSERT/UPDATE/DELETE without RETURNING, built once at import, for `execute` on the hot path; or a
    single-row INSERT returning one column (its new key), for `scalar`."""

    __slots__ = ("_compiled", "_returns", "_returns_serial_key", "statement")

    def __init__(self, statement: Insert | Update | Delete) -> None:
        returning: Sequence[Any] = getattr(statement, "_returning", ())
        if returning and not (isinstance(statement, Insert) and len(returning) == 1):
            raise ValueError("a hot statement returns no rows, or an INSERT its one column (scalar); execute any "
                             "other RETURNING statement through the session")
        self._returns = bool(returning)
        key = returning[0] if len(returning) == 1 else None
        table = getattr(statement, "table", None)
        self._returns_serial_key = key is not None and key is getattr(table, "_autoincrement_column", None) and \
            bool(getattr(statement, "_sort_by_parameter_order", False))
        if statement._propagate_attrs:
            # an ORM-enabled statement (an entity or its attributes in it) would autoflush in the session: Core only,
            # which the session executes without flushing, as this does
            raise ValueError("a hot statement is a Core statement on tables and their columns")
        self.statement = statement
        self._compiled: dict[tuple[str, ...], _Entry] = {}

    def execute(self, session: Session, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        """Execute with one row's parameters (a mapping) or many rows' (a list of mappings with the same names: an
        INSERT's rows in one multi-row VALUES statement, up to MULTI_ROW_MAX; else one executemany); the number of
        rows the statement touched."""
        return self._execute(session, params, defer=False)

    def defer(self, session: Session, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        """`execute`, for a write whose row count and errors nobody needs before the transaction's next round trip:
        on PostgreSQL sent with the next statement, or with the COMMIT, in one pipeline (`app.core.db.defer_on_cursor`;
        issue 23); a failure raises there, as this statement's. Elsewhere executed now."""
        self._execute(session, params, defer=True)

    def _execute(self, session: Session, params: Mapping[str, Any] | Sequence[Mapping[str, Any]], *,
                 defer: bool) -> int:
        if self._returns:
            raise ValueError("a RETURNING hot statement is run by scalar()")
        conn = connection(session)
        if conn.dialect.name != "postgresql":
            return rowcount(session.execute(self.statement, _decoded(params)))
        many = not isinstance(params, Mapping)
        rows: Sequence[Mapping[str, Any]] = cast(Sequence[Mapping[str, Any]], params) if many else \
            [cast(Mapping[str, Any], params)]
        if not rows:
            return 0
        names = tuple(rows[0])
        if many:
            _one_shape(rows)
        sql, binds = self._entry(conn, names)
        values = [{bind: (proc(row[key]) if proc is not None else row[key]) for key, bind, proc in binds}
                  for row in rows]
        if not many:
            return _write(conn, sql, values[0], defer)
        if isinstance(self.statement, Insert) and len(rows) <= MULTI_ROW_MAX:
            # the rows in one statement's VALUES list (psycopg's executemany is a pipeline of one statement per row:
            # ≈ 9 % of a web worker's samples for a step's few history rows and a completion's two audit entries)
            return _write(conn, _multi_row(sql, len(rows)), {f"{bind}__{i}": value for i, row in enumerate(values)
                                                             for bind, value in row.items()}, defer)
        return int(_run(conn, sql, values, True))

    def scalar(self, session: Session, params: Mapping[str, Any]) -> Any:
        """Execute a single-row INSERT … RETURNING one column with one row's parameters; the value returned (no
        result processing: a key)."""
        if not self._returns:
            raise ValueError("scalar() runs an INSERT … RETURNING one column; this statement returns nothing")
        conn = connection(session)
        if conn.dialect.name != "postgresql":
            return session.execute(self.statement, _decoded(params)).scalar_one()
        names = tuple(params)
        sql, binds = self._entry(conn, names)
        return _run(conn, sql, {bind: (proc(params[key]) if proc is not None else params[key])
                                for key, bind, proc in binds}, False, fetch=True)

    def scalar_later(self, session: Session, params: Mapping[str, Any], done: Callable[[Any], None]) -> None:
        """`scalar`, the value handed to `done` once the row is written: on PostgreSQL with the transaction's next
        round trip (the next statement, or the COMMIT: `defer`), elsewhere now. For a key nobody reads before
        then (the job outbox's, read after the commit)."""
        if not self._returns:
            raise ValueError("scalar_later() runs an INSERT … RETURNING one column; this statement returns nothing")
        conn = connection(session)
        if conn.dialect.name != "postgresql":
            done(self.scalar(session, params))
            return
        sql, binds = self._entry(conn, tuple(params))
        defer_on_cursor(conn, sql, {bind: (proc(params[key]) if proc is not None else params[key])
                                    for key, bind, proc in binds}, lambda result: done(_first_column(result)))

    def scalars(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Execute an INSERT … RETURNING its table's autoincrement integer key with several rows' parameters (the same
        names; the statement built with `sort_by_parameter_order=True`): one multi-row VALUES statement per
        MULTI_ROW_MAX rows; the new keys in the rows' order. The keys are drawn from the table's sequence as the
        VALUES list is read, in its order, so sorted they are the rows' keys in order (what SQLAlchemy's own
        `sort_by_parameter_order` relies on for such a key)."""
        conn = self._serial_keys(session, rows)
        if conn is None or conn.dialect.name != "postgresql":
            return list(session.execute(self.statement, _decoded(rows)).scalars().all()) if rows else []
        keys: list[Any] = []
        for sql, values in self._parts(conn, rows):
            keys.extend(sorted(run_on_cursor(conn, sql, values, False, _first_columns)))
        return keys

    def scalars_later(self, session: Session, rows: Sequence[Mapping[str, Any]],
                      done: Callable[[list[Any]], None]) -> None:
        """`scalars`, the keys handed to `done` once the rows are written: on PostgreSQL with the transaction's next
        round trip (the next statement, or the COMMIT: `defer`), elsewhere now. For keys nobody reads before then
        (a start's history events, read by its answer after the step's next statement)."""
        conn = self._serial_keys(session, rows)
        if conn is None or conn.dialect.name != "postgresql":
            done(self.scalars(session, rows))
            return
        keys: list[Any] = []
        parts = list(self._parts(conn, rows))
        for n, (sql, values) in enumerate(parts, 1):
            defer_on_cursor(conn, sql, values, partial(_keys_read, keys, last=n == len(parts), done=done))

    def _serial_keys(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> Connection | None:
        """The session's connection for `scalars` (None without rows); refuses a statement that returns no serial
        key."""
        if not self._returns or not self._returns_serial_key:
            raise ValueError("scalars() runs an INSERT … RETURNING the table's autoincrement integer key")
        return connection(session) if rows else None

    def _parts(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The multi-row statements of `rows` (up to MULTI_ROW_MAX each) and their values."""
        names = tuple(rows[0])
        _one_shape(rows)
        sql, binds = self._entry(conn, names)
        for start in range(0, len(rows), MULTI_ROW_MAX):
            part = rows[start:start + MULTI_ROW_MAX]
            yield _multi_row(sql, len(part)), {f"{bind}__{i}": (proc(row[key]) if proc is not None else row[key])
                                               for i, row in enumerate(part) for key, bind, proc in binds}

    def _entry(self, conn: Connection, names: tuple[str, ...]) -> _Entry:
        entry = self._compiled.get(names)
        if entry is None:
            entry = self._compiled[names] = self._compile(conn, names)
        return entry

    def _compile(self, conn: Connection, names: tuple[str, ...]) -> _Entry:
        # as for an executemany: no implicit RETURNING of a new row's key (nobody reads it); the one explicit
        # RETURNING column of `scalar` is read without result processing, so it must need none
        compiled = self.statement.compile(dialect=conn.dialect, column_keys=list(names),
                                          for_executemany=not self._returns)
        returned = compiled.effective_returning or ()
        if compiled.positiontup or compiled.escaped_bind_names or compiled.literal_execute_params or \
                compiled.post_compile_params or compiled.implicit_returning or \
                len(returned) != int(self._returns) or \
                any(c.type.result_processor(conn.dialect, None) is not None for c in returned) or \
                compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("not a hot statement (positional, escaped or expanding binds, RETURNING, or a column "
                             f"default the parameters leave to SQLAlchemy): {compiled}")
        # which bind each parameter name feeds (a column key, or a bindparam's own name), as construct_params maps it
        probe = compiled.construct_params({n: i for i, n in enumerate(names)}, _check=True)
        by_position = {v: k for k, v in probe.items() if isinstance(v, int) and not isinstance(v, bool)}
        if set(by_position) != set(range(len(names))) or len(probe) != len(names):
            raise ValueError(f"parameters {names} do not map one to one on the statement's binds: {probe}")
        processors: dict[str, Any] = dict(compiled._bind_processors)
        if any(not callable(proc) for proc in processors.values()):
            raise ValueError(f"a tuple-typed bind is not supported: {compiled}")
        for bind, proc in processors.items():
            bind_type = compiled.binds[bind].type
            if isinstance(bind_type, JSON):
                processors[bind] = _json_text_as_is(proc)
            else:
                processors[bind] = decorator_direct(bind_type, conn.dialect, proc)
        binds = tuple((name, by_position[i], cast(Callable[[Any], Any] | None, processors.get(by_position[i])))
                      for i, name in enumerate(names))
        return compiled.string, binds


def update_then_insert(session: Session, update: HotStatement, params: Mapping[str, Any], insert: HotStatement,
                       rows: Sequence[Mapping[str, Any]]) -> int:
    """Execute `update` (an UPDATE of at most one row, by its key, without RETURNING) with one row's `params` and, only
    if it touched its row, `insert` (an INSERT without RETURNING) with `rows` (the same names each); the UPDATE's row
    count, 0 or 1. On PostgreSQL one statement, one round trip instead of two (issue 23: a step's instance row and
    its history):

        WITH u AS (UPDATE … RETURNING 1)
        INSERT INTO t (…) SELECT * FROM (VALUES (…), (…)) AS v WHERE EXISTS (SELECT FROM u)

    the VALUES typed by the binds' own casts, their rows read in order (the keys drawn from a sequence in the rows'
    order, as a multi-row INSERT draws them); PostgreSQL runs the UPDATE to completion whether or not the INSERT reads
    it, and the INSERT writes all its rows or none, so the INSERT's row count says whether the UPDATE touched its
    row. Elsewhere (SQLite), or with more than MULTI_ROW_MAX rows, or none: the two statements one after the other."""
    if not isinstance(update.statement, Update) or update._returns or \
            not isinstance(insert.statement, Insert) or insert._returns:
        raise ValueError("update_then_insert runs an UPDATE and an INSERT, neither with RETURNING")
    conn = connection(session)
    if conn.dialect.name != "postgresql" or not rows or len(rows) > MULTI_ROW_MAX:
        touched = update.execute(session, params)
        if touched == 1 and rows:
            insert.execute(session, rows)
        return touched
    row_names = tuple(rows[0])
    _one_shape(rows)
    update_sql, update_binds = update._entry(conn, tuple(params))
    insert_sql, insert_binds = insert._entry(conn, row_names)
    values = {f"u_{bind}": (proc(params[key]) if proc is not None else params[key])
              for key, bind, proc in update_binds}
    values.update({f"{bind}__{i}": (proc(row[key]) if proc is not None else row[key])
                   for i, row in enumerate(rows) for key, bind, proc in insert_binds})
    written = int(_run(conn, _update_then_insert(update_sql, insert_sql, len(rows)), values, False))
    if written not in (0, len(rows)):
        raise AssertionError(f"update_then_insert wrote {written} of {len(rows)} rows")   # all or none, by its SQL
    return 1 if written else 0


@lru_cache(maxsize=256)
def _update_then_insert(update_sql: str, insert_sql: str, n: int) -> str:
    """The one statement of `update_then_insert` for `n` rows: the UPDATE's binds prefixed `u_`, the rows' suffixed
    `__i` (as `_multi_row`)."""
    head, _sep, values = _multi_row(insert_sql, n).partition(" VALUES ")
    update_sql = _BIND.sub(r"%(u_\1)s", update_sql)
    return (f"WITH u AS ({update_sql} RETURNING 1) "
            f"{head} SELECT * FROM (VALUES {values}) AS v WHERE EXISTS (SELECT FROM u)")


def insert_together(session: Session, writes: Sequence[tuple[HotStatement, Sequence[Mapping[str, Any]]]], *,
                    defer: bool = False) -> None:
    """Execute INSERTs without RETURNING, each with its rows (a list of mappings with the same names), in order. On
    PostgreSQL one statement, one round trip (issue 23: a completion's receipt and its audit entries): all but the
    last as data-modifying WITH queries of the last (`WITH w0 AS (INSERT …), … INSERT …`; PostgreSQL runs each to
    completion, and an error in any fails the statement as it would have failed alone; each INSERT's keys are drawn
    in its rows' order, but which INSERT draws first is not defined: for different tables). Elsewhere (SQLite), or with
    more than MULTI_ROW_MAX rows for one of them: one statement each. `defer`: as `HotStatement.defer` (PostgreSQL:
    sent with the transaction's next round trip)."""
    writes = [(statement, rows) for statement, rows in writes if rows]
    longest = 0
    for statement, rows in writes:
        if not isinstance(statement.statement, Insert) or statement._returns:
            raise ValueError("insert_together runs INSERTs without RETURNING")
        longest = max(longest, len(rows))
    conn = connection(session) if writes else None
    if conn is None or len(writes) == 1 or conn.dialect.name != "postgresql" or longest > MULTI_ROW_MAX:
        for statement, rows in writes:
            statement._execute(session, rows[0] if len(rows) == 1 else rows, defer=defer)
        return
    shapes: list[tuple[str, int]] = []
    values: dict[str, Any] = {}
    for w, (statement, rows) in enumerate(writes):
        names = tuple(rows[0])
        _one_shape(rows)
        sql, binds = statement._entry(conn, names)
        shapes.append((sql, len(rows)))
        values.update({f"w{w}_{bind}__{i}": (proc(row[key]) if proc is not None else row[key])
                       for i, row in enumerate(rows) for key, bind, proc in binds})
    _write(conn, _together(tuple(shapes)), values, defer)


@lru_cache(maxsize=256)
def _together(shapes: tuple[tuple[str, int], ...]) -> str:
    """The one statement of `insert_together`: each INSERT's multi-row form, its binds prefixed `w<i>_`."""
    parts = [_BIND.sub(rf"%(w{w}_\1)s", _multi_row(sql, n)) for w, (sql, n) in enumerate(shapes)]
    return "WITH " + ", ".join(f"w{w} AS ({part})" for w, part in enumerate(parts[:-1])) + " " + parts[-1]


def _keys_read(keys: list[Any], result: Any, last: bool, done: Callable[[list[Any]], None]) -> None:
    """A deferred part's keys added to `keys` (sorted: the rows' order); `done(keys)` after the last part."""
    keys.extend(sorted(_first_columns(result)))
    if last:
        done(keys)


def _one_shape(rows: Sequence[Mapping[str, Any]]) -> None:
    """Refuse rows that do not all name the same parameters (one statement's binds)."""
    names = rows[0].keys()
    for row in rows:
        if row.keys() != names:
            raise ValueError("the rows of one hot statement name the same parameters")


def _decoded(params: Any) -> Any:
    """The parameters for the session's execution (not PostgreSQL): a `JSONText` as the value it is the text of."""
    if isinstance(params, Mapping):
        if not any(isinstance(v, JSONText) for v in params.values()):
            return params
        return {k: json.loads(v) if isinstance(v, JSONText) else v for k, v in params.items()}
    return [_decoded(row) for row in params]


def _json_text_as_is(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON bind's processor that sends a `JSONText` (a value serialized already, as `json.dumps` serializes it:
    the engine's state, issue 23) as the text it is, instead of serializing it again; any other value as before.
    A dict or a list (most values: history data, task data) is wrapped as `process` wraps it, without calling it
    (what it does for one is `json_serializer(value)`: psycopg's `Json` or `Jsonb`, probed once here)."""
    probed = type(process({}))
    wrapper: type[Json | Jsonb] | None = probed if probed is Json or probed is Jsonb else None

    def process_json(value: Any) -> Any:
        cls = value.__class__
        if (cls is dict or cls is list) and wrapper is not None:
            return wrapper(value)
        wrapped = process(value)
        if isinstance(value, JSONText) and isinstance(wrapped, Json | Jsonb):
            wrapped.dumps = str
        return wrapped
    return process_json


def decorator_direct(type_: Any, dialect: Dialect, process: Callable[[Any], Any], coltype: Any = None, *,
                     result: bool = False) -> Callable[[Any], Any]:
    """A `TypeDecorator` column's bind processor (or with `result`, its result processor for `coltype`) as the
    decorator's own `process_bind_param` (`process_result_value`) with the dialect bound, when its implementing type
    has no processor of its own (`UTCDateTime` on psycopg): what SQLAlchemy's processor `process` calls, one Python
    call a value instead of two; `process` as it is otherwise."""
    impl = type_.dialect_impl(dialect) if isinstance(type_, TypeDecorator) else None
    if not isinstance(impl, TypeDecorator):
        return process
    name = "process_result_value" if result else "process_bind_param"
    inner = impl.impl_instance.result_processor(dialect, coltype) if result else \
        impl.impl_instance.bind_processor(dialect)
    if inner is not None or getattr(type(impl), name) is getattr(TypeDecorator, name):
        return process
    return partial(getattr(impl, name), dialect=dialect)


MULTI_ROW_MAX = 100      # more rows go as an executemany (a statement per row count is prepared and kept)
_BIND = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=512)
def _multi_row(sql: str, n: int) -> str:
    """A one-row `INSERT … VALUES (…)` as `VALUES (…), (…), …` for `n` rows, row i's binds suffixed `__i`."""
    head, sep, group = sql.partition(" VALUES ")
    group, returning, returned = group.partition(") RETURNING ")
    group, tail = (group + ")", returning[1:] + returned) if returning else (group, "")
    if not sep or not group.startswith("(") or not group.endswith(")") or " VALUES " in group:
        raise ValueError(f"not a one-row INSERT … VALUES: {sql}")
    return head + sep + ", ".join(_BIND.sub(rf"%(\1__{i})s", group) for i in range(n)) + tail


def _run(conn: Connection, sql: str, values: Any, many: bool, *, fetch: bool = False) -> Any:
    """The row count, or with `fetch` the first column of the one row returned."""
    return run_on_cursor(conn, sql, values, many, _first_column if fetch else _rowcount)


def _write(conn: Connection, sql: str, values: dict[str, Any], defer: bool) -> int:
    """One statement's row count, executed now; deferred (`defer`): 0, nobody reads it."""
    if defer:
        defer_on_cursor(conn, sql, values)
        return 0
    return int(_run(conn, sql, values, False))


def _rowcount(cursor: Any) -> int:
    return int(cursor.rowcount)


def _first_column(cursor: Any) -> Any:
    return cursor.fetchone()[0]


def _first_columns(cursor: Any) -> list[Any]:
    return [row[0] for row in cursor.fetchall()]

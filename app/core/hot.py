"""Hot statements (issue 23.2): the few Core writes every engine-path request runs (its audit entries, a completion's
receipt, task and instance rows, a step's history), executed on PostgreSQL straight on the session's DBAPI
connection, in the session's transaction, from SQL compiled once per set of parameter names.

What SQLAlchemy's statement execution adds to each of them (execution context, compiled-cache lookup and key,
result object) is most of its client cost; psycopg then prepares the statement server-side after a few executions,
as it does for SQLAlchemy's. What is kept: the values go through the statement's own bind processors (JSON,
`UTCDateTime`), `before_cursor_execute`/`after_cursor_execute` listeners see the statement (the statement guards
count it), and a DBAPI error is raised as SQLAlchemy raises it (`IntegrityError`, `OperationalError`, the connection
invalidated on a disconnect). No result rows: only the row count, or an INSERT's one returned column (`scalar`: the
new row's key, as the job outbox needs it). Any other backend (SQLite, the embedded default)
executes the statement through the session as before.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Delete, Insert, Update

from .db import rowcount

_Entry = tuple[str, tuple[tuple[str, str, Callable[[Any], Any] | None], ...]]


class HotStatement:
    """A Core INSERT/UPDATE/DELETE without RETURNING, built once at import, for `execute` on the hot path; or a
    single-row INSERT returning one column (its new key), for `scalar`."""

    __slots__ = ("_compiled", "_returns", "statement")

    def __init__(self, statement: Insert | Update | Delete) -> None:
        returning = getattr(statement, "_returning", ())
        if returning and not (isinstance(statement, Insert) and len(returning) == 1):
            raise ValueError("a hot statement returns no rows, or an INSERT its one column (scalar); execute any "
                             "other RETURNING statement through the session")
        self._returns = bool(returning)
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
        if self._returns:
            raise ValueError("a RETURNING hot statement is run by scalar()")
        conn = session.connection()
        if conn.dialect.name != "postgresql":
            return rowcount(session.execute(self.statement, params))
        many = not isinstance(params, Mapping)
        rows: Sequence[Mapping[str, Any]] = cast(Sequence[Mapping[str, Any]], params) if many else \
            [cast(Mapping[str, Any], params)]
        if not rows:
            return 0
        names = tuple(rows[0])
        if many and any(row.keys() != rows[0].keys() for row in rows):
            raise ValueError("the rows of one hot statement name the same parameters")
        entry = self._compiled.get(names)
        if entry is None:
            entry = self._compiled[names] = self._compile(conn, names)
        sql, binds = entry
        values = [{bind: (proc(row[key]) if proc is not None else row[key]) for key, bind, proc in binds}
                  for row in rows]
        if not many:
            return int(_run(conn, sql, values[0], False))
        if isinstance(self.statement, Insert) and len(rows) <= MULTI_ROW_MAX:
            # the rows in one statement's VALUES list (psycopg's executemany is a pipeline of one statement per row:
            # ≈ 9 % of a web worker's samples for a step's few history rows and a completion's two audit entries)
            return int(_run(conn, _multi_row(sql, len(rows)), {f"{bind}__{i}": value for i, row in enumerate(values)
                                                                  for bind, value in row.items()}, False))
        return int(_run(conn, sql, values, True))

    def scalar(self, session: Session, params: Mapping[str, Any]) -> Any:
        """Execute a single-row INSERT … RETURNING one column with one row's parameters; the value returned (no
        result processing: a key)."""
        if not self._returns:
            raise ValueError("scalar() runs an INSERT … RETURNING one column; this statement returns nothing")
        conn = session.connection()
        if conn.dialect.name != "postgresql":
            return session.execute(self.statement, params).scalar_one()
        names = tuple(params)
        entry = self._compiled.get(names)
        if entry is None:
            entry = self._compiled[names] = self._compile(conn, names)
        sql, binds = entry
        return _run(conn, sql, {bind: (proc(params[key]) if proc is not None else params[key])
                                for key, bind, proc in binds}, False, fetch=True)

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
        processors = compiled._bind_processors
        if any(not callable(proc) for proc in processors.values()):
            raise ValueError(f"a tuple-typed bind is not supported: {compiled}")
        binds = tuple((name, by_position[i], cast(Callable[[Any], Any] | None, processors.get(by_position[i])))
                      for i, name in enumerate(names))
        return compiled.string, binds


MULTI_ROW_MAX = 100      # more rows go as an executemany (a statement per row count is prepared and kept)
_BIND = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=512)
def _multi_row(sql: str, n: int) -> str:
    """A one-row `INSERT … VALUES (…)` as `VALUES (…), (…), …` for `n` rows, row i's binds suffixed `__i`."""
    head, sep, group = sql.partition(" VALUES ")
    if not sep or not group.startswith("(") or not group.endswith(")") or " VALUES " in group:
        raise ValueError(f"not a one-row INSERT … VALUES: {sql}")
    return head + sep + ", ".join(_BIND.sub(rf"%(\1__{i})s", group) for i in range(n))


def _run(conn: Connection, sql: str, values: Any, many: bool, *, fetch: bool = False) -> Any:
    """The row count, or with `fetch` the first column of the one row returned."""
    return run_on_cursor(conn, sql, values, many, _first_column if fetch else _rowcount)


def _rowcount(cursor: Any) -> int:
    return int(cursor.rowcount)


def _first_column(cursor: Any) -> Any:
    return cursor.fetchone()[0]


def run_on_cursor(conn: Connection, sql: str, values: Any, many: bool, read: Callable[[Any], Any]) -> Any:
    """Execute `sql` on a cursor of the connection's DBAPI connection as SQLAlchemy's execution would (cursor events
    around it, DBAPI errors raised through SQLAlchemy's handler) and return what `read(cursor)` takes from it."""
    cursor = cast(Any, conn.connection.driver_connection).cursor()
    events = conn._has_events or conn.engine._has_events
    try:
        if events:
            conn.dispatch.before_cursor_execute(conn, cursor, sql, values, None, many)
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
        if events:
            conn.dispatch.after_cursor_execute(conn, cursor, sql, values, None, many)
        return read(cursor)
    except conn.dialect.loaded_dbapi.Error as exc:
        # as SQLAlchemy's own execution: wrapped (IntegrityError, OperationalError, …), the connection invalidated
        # on a disconnect
        conn._handle_dbapi_exception(exc, sql, values, cursor, None)
        raise       # not reached: the handler raises
    finally:
        cursor.close()

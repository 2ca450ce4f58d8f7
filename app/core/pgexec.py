"""Hot statements executed straight on psycopg's libpq connection (PostgreSQL, issue 23.2).

`psycopg.Cursor.execute` spends most of a small statement's client CPU in its own layers: a query object and its
placeholder conversion, the parameters reordered, the prepared-statement bookkeeping, the results set on the cursor
(≈ 10 % of a web worker's samples on the engine path for about twenty statements per instance). For the statements
`app.core.db.run_on_cursor` executes (the hot statements and reads, `app.core.hot`, `app.core.hot_reads`) this does
the same protocol steps itself, on the same connection, with what psycopg would send:

- the SQL's `%(name)s` placeholders converted to `$n` once per SQL text (any other placeholder: the cursor runs it);
- the values dumped by a psycopg `Transformer` of the connection (the same dumpers, types and formats as the cursor);
- executed unprepared (one round trip, as psycopg does) until a (SQL, parameter types) pair has been seen
  `PREPARE_THRESHOLD` times on the connection, then prepared once under a name of its own (`_ygt_<n>`, apart from
  psycopg's `_pg3_<n>`) and executed by that name; at most `PREPARED_MAX` per connection (later ones go unprepared);
- waited for through psycopg's `Connection.wait` (the GIL released, interruptible as psycopg's own);
- a failed statement raised as psycopg raises it (`psycopg.errors.error_from_result`: the same class, SQLSTATE and
  diagnostics), a lost connection as psycopg's `OperationalError` (the connection then `broken`);
- text results read through the Transformer's loaders (the same Python values as the cursor's rows).

Only inside a transaction already open on an idle, healthy connection (`INTRANS`: the checkout's BEGIN, or an
earlier statement's), without a pipeline: anything else (to BEGIN, an aborted transaction, a closed or broken
connection, autocommit) is left to the cursor, which knows what to do. The state (prepared names, the Transformer)
belongs to one DBAPI connection: it is kept in the pool record's `info` and dropped when the record's connection is
replaced. A prepared name the server no longer knows (someone's `DEALLOCATE ALL`/`DISCARD ALL`) or whose plan cannot
be reused (the table's columns changed): the statement fails as it would have, and the connection's names are
forgotten, so that the next transaction prepares again. psycopg itself deallocates every prepared statement of the
connection after a rollback (and a DROP or ALTER): ours are forgotten with its own (`_forget_with_psycopg`).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import execute as _execute_gen

PREPARE_THRESHOLD = 5       # as psycopg's default prepare_threshold
PREPARED_MAX = 200          # prepared statements kept per connection (psycopg's default keeps 100, with eviction)
_SEEN_MAX = 2000            # counts of statements not prepared yet, per connection (then counted afresh)

_INTRANS = pq.TransactionStatus.INTRANS
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR
_TEXT = pq.Format.TEXT
# the server forgot a prepared statement, or cannot reuse its plan (cached plan must not change result type)
_FORGET_PREPARED = {"26000", "0A000"}

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|%")


class Converted(NamedTuple):
    query: bytes                # the SQL with $1, $2, … (UTF-8: the connection's encoding, checked per connection)
    order: tuple[str, ...]      # the parameter name of each $n
    formats: list[PyFormat]     # what psycopg asks of the dumpers for `%(name)s`: AUTO


@lru_cache(maxsize=2048)
def converted(sql: str) -> Converted | None:
    """`sql`'s named placeholders as PostgreSQL's `$n` (a name repeated: its one `$n`), `%%` as `%`; None when the
    SQL holds any other use of `%` (positional or binary placeholders: the cursor converts those)."""
    order: dict[str, int] = {}
    unsupported = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unsupported
        name = match.group(1)
        if name is None:
            if match.group(0) == "%%":
                return "%"
            unsupported = True
            return ""
        return f"${order.setdefault(name, len(order) + 1)}"

    query = _PLACEHOLDER.sub(replace, sql)
    if unsupported:
        return None
    return Converted(query.encode(), tuple(order), [PyFormat.AUTO] * len(order))


class _Column(NamedTuple):
    """What a hot read takes from a cursor's description: the column's type OID."""

    type_code: int


class Result:
    """A statement's result read as from a cursor (`rowcount`, `description`, `fetchall`, `fetchone`, `fetchmany`),
    rows as tuples loaded by the connection's Transformer."""

    __slots__ = ("_pos", "_res", "_tx", "rowcount")

    def __init__(self, tx: Any, res: Any) -> None:
        self._tx, self._res, self._pos = tx, res, 0
        if res.status == _TUPLES_OK:
            self.rowcount = res.ntuples
            tx.set_pgresult(res)
        else:
            tuples = res.command_tuples
            self.rowcount = tuples if tuples is not None else -1

    @property
    def description(self) -> list[_Column]:
        res = self._res
        return [_Column(res.ftype(i)) for i in range(res.nfields)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.fetchmany(self._res.ntuples)

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self.fetchmany(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        if self._res.status != _TUPLES_OK:
            raise errors.ProgrammingError("the last operation didn't produce records")
        start = self._pos
        end = min(start + size, self._res.ntuples)
        self._pos = end
        if end <= start:
            return []
        self._tx.set_pgresult(self._res)        # the Transformer is the connection's: its last result may be another
        return list(self._tx.load_rows(start, end, tuple))


def _forget_with_psycopg(driver: Any, names: dict[Any, bytes]) -> None:
    """psycopg clears its prepared statements with `DEALLOCATE ALL` after a ROLLBACK (its own, or a statement's:
    `ROLLBACK TO SAVEPOINT` too), a DROP or an ALTER, when it holds any: which deallocates this connection's too.
    Its prepare manager's `clear` (psycopg 3.3, pinned) is made to forget ours as well, so that they are prepared
    again, and to send the DEALLOCATE ALL itself when only ours were prepared."""
    manager = driver._prepared
    clear = manager.clear

    def clear_both() -> bool:
        ours = bool(names)
        names.clear()
        if clear():
            return True         # psycopg sends DEALLOCATE ALL: ours go with its own
        if ours:                # it held none, so it would send nothing: ours would stay on the server, forgotten
            manager._to_flush.append(None)      # None: DEALLOCATE ALL (its maintain_gen sends it next)
        return ours
    manager.clear = clear_both


class Direct:
    """One DBAPI connection's direct execution: its Transformer, its prepared statements, the kept cursor."""

    __slots__ = ("_count", "_names", "_seen", "_tx", "cursor", "driver", "pgconn", "usable")

    def __init__(self, driver: Any) -> None:
        self.driver, self.pgconn = driver, driver.pgconn
        self.cursor = driver.cursor()
        self._tx: Any = Transformer(driver)
        # the SQL is encoded as UTF-8 once for every connection: a connection of another encoding uses the cursor
        self.usable = self._tx.encoding == "utf-8"
        self._names: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self._seen: dict[tuple[bytes, tuple[int, ...]], int] = {}
        self._count = 0         # names given: a name is never reused (a forgotten one may still be the server's)
        _forget_with_psycopg(driver, self._names)

    def ready(self) -> bool:
        """Inside an open transaction of a healthy connection, nothing else under way on it."""
        return self.usable and self.pgconn.transaction_status == _INTRANS and self.driver._pipeline is None

    def execute(self, sql: str, values: Any) -> Result | None:
        """Execute `sql` with a mapping of values; its result, or None when the cursor must execute it (not a
        statement of named placeholders, not `ready`)."""
        if values is None:      # psycopg sends such SQL as it is: no placeholders, `%%` not unescaped
            if "%" in sql:
                return None
            values = {}
        shape = converted(sql)
        if shape is None or not isinstance(values, dict) or not self.ready():
            return None
        try:
            params = [values[name] for name in shape.order]
        except KeyError:
            raise errors.ProgrammingError(
                f"query parameter missing: {', '.join(sorted(n for n in shape.order if n not in values))}") from None
        tx, pgconn, driver = self._tx, self.pgconn, self.driver
        with driver.lock:
            dumped = tx.dump_sequence(params, shape.formats)
            types = tuple(tx.types or ())
            formats = tx.formats
            key = (shape.query, types)
            name = self._names.get(key)
            if name is None:
                seen = self._seen.get(key, 0) + 1
                if seen >= PREPARE_THRESHOLD and len(self._names) < PREPARED_MAX:
                    name = f"_ygt_{self._count}".encode()
                    self._count += 1
                    pgconn.send_prepare(name, shape.query, param_types=types)
                    self._check(driver.wait(_execute_gen(pgconn)), prepared=False)
                    self._names[key] = name
                    self._seen.pop(key, None)
                else:
                    if len(self._seen) >= _SEEN_MAX:
                        self._seen.clear()
                    self._seen[key] = seen
                    pgconn.send_query_params(shape.query, dumped, param_types=types, param_formats=formats,
                                             result_format=_TEXT)
                    return Result(tx, self._check(driver.wait(_execute_gen(pgconn)), prepared=False))
            pgconn.send_query_prepared(name, dumped, param_formats=formats, result_format=_TEXT)
            return Result(tx, self._check(driver.wait(_execute_gen(pgconn)), prepared=True))

    def _check(self, results: list[Any], *, prepared: bool) -> Any:
        if len(results) != 1:
            raise errors.InternalError(f"{len(results)} results for one statement")
        res = results[0]
        status = res.status
        if status == _COMMAND_OK or status == _TUPLES_OK:
            return res
        if status == _FATAL_ERROR:
            error = errors.error_from_result(res, encoding=self._tx.encoding)
            if prepared and error.sqlstate in _FORGET_PREPARED:
                self._names.clear()
            raise error
        raise errors.InternalError(f"unexpected result status from query: {pq.ExecStatus(status).name}")

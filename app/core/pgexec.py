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

Deferred writes (issue 23): a write whose result nobody needs before the commit (`Direct.defer`: no row count read,
no error the caller catches; an INSERT's returned key handed to a callback once written) is held, dumped, on the
connection and sent with whatever goes next, in one libpq pipeline (one round trip): with the next statement of the
direct path (its result returned as before), or before anything psycopg itself runs on the connection (its `wait`,
through which every cursor, COPY, commit and rollback of psycopg 3.3 goes, is wrapped per connection), or with a
`COMMIT` at the end of the pipeline when the connection commits (its `commit` wrapped: psycopg's own commit then
finds the connection idle and sends nothing). A rollback (psycopg's, the pool's reset) drops what was not sent.
A deferred statement that fails raises as the immediate one would (psycopg's error of the first failed statement of
the pipeline; those after it and the COMMIT are skipped by the server, the transaction left failed: nothing applied);
`Direct.failed` names its SQL and values for SQLAlchemy's error. The pipeline is left on every path (on a connection
that cannot leave it, e.g. interrupted mid-way, the connection is closed: the pool replaces it).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple, cast

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import execute as _execute_gen
from psycopg.generators import fetch as _fetch_gen
from psycopg.generators import send as _send_gen

PREPARE_THRESHOLD = 5       # as psycopg's default prepare_threshold
PREPARED_MAX = 200          # prepared statements kept per connection (psycopg's default keeps 100, with eviction)
_SEEN_MAX = 2000            # counts of statements not prepared yet, per connection (then counted afresh)

_INTRANS = pq.TransactionStatus.INTRANS
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR
_PIPELINE_SYNC = pq.ExecStatus.PIPELINE_SYNC
_IDLE = pq.TransactionStatus.IDLE
_TEXT = pq.Format.TEXT
# the server forgot a prepared statement, or cannot reuse its plan (cached plan must not change result type)
_FORGET_PREPARED = {"26000", "0A000"}

_TRIPS = [0]     # waits on the server inside a transaction, every connection of the process (`round_trips`)


def round_trips() -> int:
    """The round trips this process's connections made inside a transaction so far: each statement executed alone,
    each pipeline, each wait of psycopg's on a connection in a transaction (the checkout's BEGIN, `app.core.db._ping`,
    not counted; a commit that has nothing to send neither) — for tests and bench/engine_profile.py."""
    return _TRIPS[0]


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


class _Deferred(NamedTuple):
    """A statement dumped and held until the connection's next round trip."""

    query: bytes
    key: tuple[bytes, tuple[int, ...]]
    dumped: list[Any]
    formats: list[Any]
    sql: str                                    # as given, with its values: for the error of a failed one
    values: Any
    done: Callable[[Any], None] | None          # given the statement's result (a Result) once the pipeline succeeded


class Direct:
    """One DBAPI connection's direct execution: its Transformer, its prepared statements, the kept cursor, the
    statements deferred to its next round trip."""

    __slots__ = ("_count", "_deferred", "_names", "_seen", "_tx", "_wait", "cursor", "driver", "failed", "pgconn",
                 "usable")

    def __init__(self, driver: Any) -> None:
        self.driver, self.pgconn = driver, driver.pgconn
        self.cursor = driver.cursor()
        self._tx: Any = Transformer(driver)
        # the SQL is encoded as UTF-8 once for every connection: a connection of another encoding uses the cursor
        self.usable = self._tx.encoding == "utf-8"
        self._names: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self._seen: dict[tuple[bytes, tuple[int, ...]], int] = {}
        self._count = 0         # names given: a name is never reused (a forgotten one may still be the server's)
        self._deferred: list[_Deferred] = []
        self.failed: tuple[str, Any] | None = None      # the deferred statement whose error was raised last
        _forget_with_psycopg(driver, self._names)
        self._wait = _send_deferred_first(driver, self)

    @property
    def pending(self) -> int:
        """Statements deferred and not sent yet."""
        return len(self._deferred)

    def discard(self) -> None:
        """Forget the deferred statements (the transaction is rolled back: they were never sent) and the last one
        that failed."""
        self._deferred.clear()
        self.failed = None

    def defer(self, sql: str, values: dict[str, Any], done: Callable[[Any], None] | None = None) -> bool:
        """Hold `sql` with a mapping of values until the connection's next round trip (`done(result)` once it was
        written); False when it must be executed now (as `execute` returns None: the cursor's, not `ready`)."""
        shape = converted(sql)
        if shape is None or not isinstance(values, dict) or not self.ready():
            return False
        params = self._params(shape, values)
        tx = self._tx
        with self.driver.lock:
            dumped = tx.dump_sequence(params, shape.formats)
            self._deferred.append(_Deferred(shape.query, (shape.query, tuple(tx.types or ())), list(dumped),
                                            list(tx.formats or ()), sql, values, done))
        return True

    def send_deferred(self, *, commit: bool = False) -> None:
        """Send the deferred statements now in one pipeline, with a COMMIT at its end (`commit`): the caller holds
        the connection's lock."""
        if self._deferred:
            self._pipeline([], commit=commit)

    def commit(self) -> None:
        """The deferred statements and the COMMIT in one round trip (nothing deferred: nothing sent)."""
        if self._deferred and self.ready():
            with self.driver.lock:
                self.send_deferred(commit=True)

    @staticmethod
    def _params(shape: Converted, values: dict[str, Any]) -> list[Any]:
        try:
            return [values[name] for name in shape.order]
        except KeyError:
            raise errors.ProgrammingError(
                f"query parameter missing: {', '.join(sorted(n for n in shape.order if n not in values))}") from None

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
        params = self._params(shape, values)
        tx, pgconn, driver = self._tx, self.pgconn, self.driver
        with driver.lock:
            dumped = tx.dump_sequence(params, shape.formats)
            types = tuple(tx.types or ())
            formats = tx.formats
            key = (shape.query, types)
            if self._deferred:      # the deferred statements first, this one last, in one round trip
                last = _Deferred(shape.query, key, list(dumped), list(formats or ()), sql, values, None)
                return Result(tx, self._pipeline([last], commit=False))
            _TRIPS[0] += 1
            name = self._names.get(key)
            if name is None:
                seen = self._seen.get(key, 0) + 1
                if seen >= PREPARE_THRESHOLD and len(self._names) < PREPARED_MAX:
                    name = f"_ygt_{self._count}".encode()
                    self._count += 1
                    pgconn.send_prepare(name, shape.query, param_types=types)
                    self._check(self._wait(_execute_gen(pgconn)), prepared=False)
                    self._names[key] = name
                    self._seen.pop(key, None)
                else:
                    if len(self._seen) >= _SEEN_MAX:
                        self._seen.clear()
                    self._seen[key] = seen
                    pgconn.send_query_params(shape.query, dumped, param_types=types, param_formats=formats,
                                             result_format=_TEXT)
                    return Result(tx, self._check(self._wait(_execute_gen(pgconn)), prepared=False))
            pgconn.send_query_prepared(name, dumped, param_formats=formats, result_format=_TEXT)
            return Result(tx, self._check(self._wait(_execute_gen(pgconn)), prepared=True))

    def _pipeline(self, extra: list[_Deferred], *, commit: bool) -> Any:
        """Send the deferred statements, then `extra`, then a COMMIT if asked, in one libpq pipeline ending with
        one sync; the last statement's result. The first failed statement's error is raised as `_check` raises it
        (`failed` names it), after every result was read and the pipeline left."""
        entries, self._deferred = [*self._deferred, *extra], []
        self.failed = None
        pgconn = self.pgconn
        sent: list[tuple[int, bool, Any]] = []  # per result: its entry, whether prepared, a name being prepared
        names: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        _TRIPS[0] += 1
        pgconn.enter_pipeline_mode()
        try:
            for i, entry in enumerate(entries):
                name = self._names.get(entry.key) or names.get(entry.key)
                if name is None:
                    seen = self._seen.get(entry.key, 0) + 1
                    if seen >= PREPARE_THRESHOLD and len(self._names) + len(names) < PREPARED_MAX:
                        name = names[entry.key] = f"_ygt_{self._count}".encode()
                        self._count += 1
                        self._seen.pop(entry.key, None)
                        pgconn.send_prepare(name, entry.query, param_types=entry.key[1])
                        sent.append((i, False, name))
                    else:
                        if len(self._seen) >= _SEEN_MAX:
                            self._seen.clear()
                        self._seen[entry.key] = seen
                        pgconn.send_query_params(entry.query, entry.dumped, param_types=entry.key[1],
                                                 param_formats=entry.formats, result_format=_TEXT)
                        sent.append((i, False, None))
                        continue
                pgconn.send_query_prepared(name, entry.dumped, param_formats=entry.formats, result_format=_TEXT)
                sent.append((i, True, None))
            if commit:
                pgconn.send_query_params(b"COMMIT", None, result_format=_TEXT)
                sent.append((-1, False, None))
            pgconn.pipeline_sync()
            results = self._wait(_pipeline_results(pgconn))
        finally:
            _leave_pipeline(self.driver)
        if len(results) != len(sent):
            raise errors.InternalError(f"{len(results)} results for {len(sent)} statements")
        for (i, _prepared, name), res in zip(sent, results, strict=True):
            if name is not None and res.status == _COMMAND_OK:     # on the server now, whatever fails after it
                self._names[entries[i].key] = name
        for (i, prepared, _name), res in zip(sent, results, strict=True):
            if res.status == _FATAL_ERROR:
                if i >= 0:
                    self.failed = (entries[i].sql, entries[i].values)
                self._check([res], prepared=prepared)
        last: Any = None
        for (i, prepared, name), res in zip(sent, results, strict=True):
            if i >= 0 and name is None:
                last = res = self._check([res], prepared=prepared)
                done = entries[i].done
                if done is not None:
                    done(Result(self._tx, res))
        return last

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


def _pipeline_results(pgconn: Any) -> Any:
    """A libpq pipeline's results up to its sync (the commands sent, the sync requested): psycopg's `send` flushes
    what is queued (reading what arrives meanwhile), its `fetch` waits for each result (the GIL released)."""
    yield from _send_gen(pgconn)
    results: list[Any] = []
    while True:
        res = yield from _fetch_gen(pgconn)
        if res is None:             # the end of one statement's results
            continue
        if res.status == _PIPELINE_SYNC:
            return results
        results.append(res)


def _leave_pipeline(driver: Any) -> None:
    """Leave pipeline mode, so that psycopg finds the connection as it left it; a connection that cannot (its
    results not all read: interrupted, or lost) is closed, so that nobody uses it in pipeline mode."""
    pgconn = driver.pgconn
    if pgconn.pipeline_status == pq.PipelineStatus.OFF:
        return
    try:
        pgconn.exit_pipeline_mode()
    except Exception:       # noqa: BLE001 — whatever the reason, the connection is not usable as it is
        driver.close()


def _send_deferred_first(driver: Any, direct: Direct) -> Callable[..., Any]:
    """Make every wait psycopg does on `driver` (a cursor's statement, a COPY, a pipeline, a commit, a rollback:
    psycopg 3.3 waits for each through `Connection.wait`) send the deferred statements first, its `commit` send them
    with the COMMIT in one pipeline, its `rollback` drop them; psycopg's own `wait`, which the direct path uses."""
    cls = type(driver)
    wait = cls.wait.__get__(driver)
    commit = cls.commit.__get__(driver)
    rollback = cls.rollback.__get__(driver)

    def wait_after_deferred(gen: Any, *args: Any, **kwargs: Any) -> Any:
        current = driver.__dict__.get(_DIRECT_ATTR)
        if current is not None:
            if current._deferred:
                current.send_deferred()
            if driver.pgconn.transaction_status != _IDLE:
                _TRIPS[0] += 1
        return wait(gen, *args, **kwargs)

    def commit_with_deferred() -> None:
        current = driver.__dict__.get(_DIRECT_ATTR)
        if current is not None:
            current.commit()
        commit()

    def rollback_without_deferred() -> None:
        current = driver.__dict__.get(_DIRECT_ATTR)
        if current is not None:
            current.discard()
        rollback()

    driver.__dict__[_DIRECT_ATTR] = direct
    driver.wait, driver.commit, driver.rollback = wait_after_deferred, commit_with_deferred, rollback_without_deferred
    return cast(Callable[..., Any], wait)


_DIRECT_ATTR = "_ygt_direct"

"""Hot reads (issue 23): the few SELECTs every engine-path request runs (the task a completion locks, the instance a
step locks, a start's newest version), executed on PostgreSQL straight on the session's DBAPI connection, in the
session's transaction, from SQL compiled once per set of parameter names — the reading half of `app.core.hot`.

What SQLAlchemy's execution of a SELECT adds (execution context, compiled-cache key and lookup, result metadata, and
for an entity the ORM's compile state, loading context and row processors) is most of its client cost. What is kept:
the SQL text is the one SQLAlchemy sends (values a statement renders inline, `literal_execute` and expanding binds,
rendered once from the statement's own values); parameters go through the binds' processors; each column's result
processor runs (`UTCDateTime`, JSON, enums…); cursor listeners see the statement; a DBAPI error is raised as
SQLAlchemy raises it (`OperationalError` on a lock timeout, the connection invalidated on a disconnect); an
ORM-enabled statement autoflushes first unless the session says not to (`no_autoflush`).

A SELECT whose first element is an entity (`select(HumanTask, ProcessInstance.process_version_id)`) returns its rows'
objects held by the session as the ORM loads them: clean, persistent, in the identity map, columns it did not select
expired (loaded on access), relationships lazy as usual. Whenever the ORM would do more than that, the statement is
executed through the session instead, with all of the ORM's semantics: when the identity map already holds one of
the rows' objects (the ORM then refreshes it under `populate_existing`, or keeps it, or checks its version under FOR
UPDATE: the statement is sent once more, through the session), or when anyone listens for the class's `load` or the
session's `loaded_as_persistent` events (a `Mutable` JSON type does). The session's `do_orm_execute` listeners are
not called (the application's watch bulk UPDATE and DELETE only). Any other backend (SQLite, the embedded default)
executes the statement through the session.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import MultipleResultsFound
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.base import instance_dict, instance_state
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from .db import connection, run_on_cursor
from .hot import decorator_direct

Row = tuple[Any, ...]
_Processors = tuple[tuple[int, Callable[[Any], Any]], ...]


class _Probe:
    """A stand-in parameter value: which bind it lands in tells which bind a parameter name feeds."""

    __slots__ = ()


class _Plan:
    """One set of parameter names' SQL and binds; how rows are read is learnt from the first execution's columns."""

    __slots__ = ("binds", "defaults", "processors", "sql", "types")

    def __init__(self, sql: str, binds: tuple[tuple[str, str, Callable[[Any], Any] | None], ...],
                 defaults: dict[str, Any], types: list[Any]) -> None:
        self.sql, self.binds, self.defaults, self.types = sql, binds, defaults, types
        self.processors: _Processors | None = None


class _Entity:
    """Where a leading entity's columns sit in a row: attribute keys of the first columns, primary key positions,
    column attributes the statement does not select."""

    __slots__ = ("expired", "keys", "mapper", "pk")

    def __init__(self, mapper: Mapper[Any], keys: list[str]) -> None:
        self.mapper, self.keys = mapper, keys
        self.pk = tuple(keys.index(mapper.get_property_by_column(c).key) for c in mapper.primary_key)
        self.expired = frozenset(p.key for p in mapper.column_attrs) - set(keys)


_NOT_HOT: Any = object()        # the rows' objects must be loaded by the ORM: execute through the session


def _all(cursor: Any) -> list[Row]:
    return cast(list[Row], cursor.fetchall())


def _first(cursor: Any) -> list[Row]:
    row = cursor.fetchone()
    return [row] if row is not None else []


def _up_to_two(cursor: Any) -> list[Row]:
    return cast(list[Row], cursor.fetchmany(2))


def _described(fetch: Callable[[Any], list[Row]]) -> Callable[[Any], tuple[Any, list[Row]]]:
    """`fetch` with the cursor's description, read once per plan for its result processors (psycopg builds the
    description's column objects anew at every access)."""
    return lambda cursor: (cursor.description, fetch(cursor))


class HotSelect:
    """A SELECT built once at import (or once per caller, kept by key), for `all`, `first` or `scalar_one_or_none` on
    the hot path; rows are tuples, a leading entity's objects held by the session."""

    __slots__ = ("_autoflush", "_compiled", "_entity", "_inline", "_plans", "statement")

    def __init__(self, statement: Select[Any], *, inline: frozenset[str] = frozenset()) -> None:
        """`inline`: names of parameters whose values the SQL renders inline (`literal_execute` or expanding binds
        named so: an organization's path): rendered from the call's values, as SQLAlchemy renders them at each
        execution, into a plan kept per value (up to PLANS_MAX plans)."""
        if not isinstance(statement, Select):
            raise TypeError("a hot read is a SELECT")
        self._autoflush = bool(statement._propagate_attrs) and statement._execution_options.get("autoflush", True)
        self.statement = statement
        self._inline = inline
        self._plans: dict[tuple[Any, ...], _Plan] = {}
        # the statement compiled once per dialect (a plan per inline value only renders its values: ~1 % of a
        # compile's CPU), with its result columns' types
        self._compiled: dict[int, tuple[Any, list[Any]]] = {}
        # the leading entity's layout, found at the first execution (statements are built at import, before the
        # mappers can be configured)
        self._entity: _Entity | None = None

    def all(self, session: Session, params: Mapping[str, Any]) -> list[Row]:
        """Every row (a leading entity as its object)."""
        rows = self._read(session, params, _all)
        if rows is _NOT_HOT:
            return [tuple(row) for row in session.execute(self.statement, params)]
        return cast(list[Row], rows)

    def first(self, session: Session, params: Mapping[str, Any]) -> Row | None:
        """The first row, or None."""
        rows = self._read(session, params, _first)
        if rows is _NOT_HOT:
            row = session.execute(self.statement, params).first()
            return tuple(row) if row is not None else None
        return rows[0] if rows else None

    def scalar_one_or_none(self, session: Session, params: Mapping[str, Any]) -> Any:
        """The first column of the only row, None without rows; more than one row raises MultipleResultsFound."""
        rows = self._read(session, params, _up_to_two)
        if rows is _NOT_HOT:
            return session.execute(self.statement, params).scalar_one_or_none()
        if len(rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when one or none was required")
        return rows[0][0] if rows else None

    # -- execution ------------------------------------------------------------------------------------------------

    def _read(self, session: Session, params: Mapping[str, Any], fetch: Callable[[Any], Any]) -> Any:
        if self._autoflush:
            session._autoflush()        # as the ORM's execution of the statement; a no-op under no_autoflush
        conn = connection(session)
        if conn.dialect.name != "postgresql":
            return _NOT_HOT
        names = tuple(params)
        key: tuple[Any, ...] = (id(conn.dialect), names)
        if self._inline:
            key += tuple(_hashable(params[name]) for name in names if name in self._inline)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= PLANS_MAX:
                self._plans.clear()
            plan = self._plans[key] = self._compile(conn, names, params)
        entity = self._entity
        if entity is not None and (entity.mapper.class_manager.dispatch.load or
                                   session.dispatch.loaded_as_persistent):
            return _NOT_HOT             # listeners expect the ORM's loading context
        values = dict(plan.defaults)
        for name, bind, proc in plan.binds:
            values[bind] = proc(params[name]) if proc is not None else params[name]
        processors = plan.processors
        if processors is None:
            description, rows = run_on_cursor(conn, plan.sql, values, False, _described(fetch))
            processors = plan.processors = _result_processors(conn.dialect, plan.types, description)
        else:
            rows = run_on_cursor(conn, plan.sql, values, False, fetch)
        if processors:
            rows = [_processed(row, processors) for row in rows]
        if entity is None:
            return rows
        return _held(session, entity, rows)

    def _compile(self, conn: Connection, names: tuple[str, ...], values: Mapping[str, Any]) -> _Plan:
        known = self._compiled.get(id(conn.dialect))
        if known is None:
            compiled = self.statement.compile(dialect=conn.dialect)
            if compiled.positiontup or compiled.escaped_bind_names:
                raise ValueError(f"not a hot read (positional or escaped binds): {compiled}")
            result_columns = compiled._result_columns
            mapper = _leading_mapper(self.statement)
            if mapper is not None and self._entity is None:
                self._entity = _entity_layout(mapper, result_columns)
            known = self._compiled[id(conn.dialect)] = (compiled, [rc.type for rc in result_columns])
        compiled, types = known
        probes = {name: _Probe() for name in names if name not in self._inline}
        inline = {name: values[name] for name in names if name in self._inline}
        if any(name not in compiled.binds for name in inline):
            raise ValueError(f"parameters {sorted(inline)} rendered inline must each name a bind: {sorted(compiled.binds)}")
        params = compiled.construct_params({**probes, **inline}, _check=True)
        rendered = {b.key for b in (*compiled.literal_execute_params, *compiled.post_compile_params)}
        fed = {id(value): bind for bind, value in params.items() if isinstance(value, _Probe)}
        if len(fed) != len(probes) or set(fed.values()) & rendered:
            raise ValueError(f"parameters {names} must each feed one bind the SQL does not render inline (bind "
                             f"literal_execute and expanding values in the statement): {sorted(params)}")
        sql, found = compiled.string, dict(compiled._bind_processors)
        if rendered:
            # the statement's own values, and those of the `inline` parameters, rendered into the text once
            # (organization paths, IN lists), as SQLAlchemy renders them at each execution
            expanded = compiled._process_parameters_for_postcompile(params)
            sql, params = expanded.statement, dict(expanded.parameters)
            found.update(expanded.processors)
        if any(not callable(proc) for proc in found.values()):
            raise ValueError(f"a tuple-typed bind is not supported: {compiled}")
        processors = cast(dict[str, Callable[[Any], Any]], found)
        binds = tuple((name, fed[id(probe)], processors.get(fed[id(probe)])) for name, probe in probes.items())
        defaults = {bind: (processors[bind](value) if bind in processors else value)
                    for bind, value in params.items() if not isinstance(value, _Probe)}
        return _Plan(sql, binds, defaults, types)


PLANS_MAX = 64          # plans kept per hot read: sets of parameter names, and values of its `inline` parameters


def _hashable(value: Any) -> Any:
    """An inline parameter's value as a plan's key (an expanding bind's list as a tuple)."""
    return tuple(value) if isinstance(value, list) else value


def _leading_mapper(statement: Select[Any]) -> Mapper[Any] | None:
    """The mapper of the statement's first element when it is a plain mapped class; other entities are refused."""
    described = statement.column_descriptions
    mappers = []
    for i, desc in enumerate(described):
        expr = desc["expr"]
        insp = inspect(expr, raiseerr=False)
        if not isinstance(insp, Mapper) and not getattr(insp, "is_aliased_class", False):
            continue            # a column, an attribute, a SQL expression
        if i > 0 or not isinstance(insp, Mapper) or insp.inherits is not None or insp.polymorphic_on is not None:
            raise ValueError("a hot read loads one plain mapped class, as its first element (no alias, no "
                             f"inheritance); execute this one through the session: {statement}")
        mappers.append(insp)
    if not mappers:
        return None
    eager = [r.key for r in mappers[0].relationships if r.lazy not in _LAZY]
    if statement._with_options or eager:
        raise ValueError("a hot read loads no relationship eagerly and takes no loader options (the ORM's): "
                         f"{eager or statement._with_options}")
    return mappers[0]


_LAZY = ("select", True, "noload", "raise", "raise_on_sql", "dynamic", "write_only")


def _entity_layout(mapper: Mapper[Any], result_columns: list[Any]) -> _Entity:
    """The entity's columns: the leading result columns that are the mapper's, each attribute once."""
    keys: list[str] = []
    for rc in result_columns:
        prop = next((mapper._columntoproperty[o] for o in rc.objects
                     if isinstance(o, ColumnElement) and o in mapper._columntoproperty), None)
        if prop is None or prop.key in keys:
            break
        keys.append(prop.key)
    if not all(c in mapper._columntoproperty and mapper._columntoproperty[c].key in keys for c in mapper.primary_key):
        raise ValueError(f"a hot read of {mapper.class_.__name__} selects its primary key")
    return _Entity(mapper, keys)


def _result_processors(dialect: Dialect, types: list[Any], description: Any) -> _Processors:
    if len(types) != len(description):
        raise ValueError("the cursor's columns are not the statement's")
    found = ((i, t, d.type_code, t._cached_result_processor(dialect, d.type_code))
             for i, (t, d) in enumerate(zip(types, description)))
    return tuple((i, decorator_direct(t, dialect, proc, coltype, result=True))
                 for i, t, coltype, proc in found if proc is not None)


def _processed(row: Row, processors: _Processors) -> Row:
    values = list(row)
    for i, proc in processors:
        values[i] = proc(values[i])
    return tuple(values)


def _held(session: Session, entity: _Entity, rows: list[Row]) -> Any:
    """The rows with their leading columns as objects the session holds as loaded (the same object for the same
    identity); _NOT_HOT when the identity map already holds one of them (the ORM decides what happens to it)."""
    identity_map = session.identity_map
    cls = entity.mapper._identity_class
    width = len(entity.keys)
    keys = []
    for row in rows:
        pk = tuple([row[i] for i in entity.pk])
        key = (cls, pk, None) if pk.count(None) < len(pk) else None     # (a key of NULLs only: no identity)
        if key is not None and identity_map.get(key) is not None:
            return _NOT_HOT
        keys.append(key)
    made: dict[Any, Any] = {}
    out = []
    for key, row in zip(keys, rows):
        obj = None if key is None else made.get(key)
        if obj is None and key is not None:
            obj = made[key] = _loaded(session, entity, key, row[:width])
        out.append((obj, *row[width:]))
    return out


def _loaded(session: Session, entity: _Entity, key: Any, values: Row) -> Any:
    """A new object of the entity with the row's values, clean and persistent in `session` (what the ORM's loading
    does for a row whose identity the session does not hold yet)."""
    obj = entity.mapper.class_manager.new_instance()
    state = instance_state(obj)
    instance_dict(obj).update(zip(entity.keys, values))
    state.key = key
    state.identity_token = None
    state.session_id = session.hash_key
    session.identity_map._add_unpresent(state, key)
    if entity.expired:
        state.expired_attributes.update(entity.expired)
    return obj

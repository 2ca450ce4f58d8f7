"""JSON column values through orjson (`app.core.jsonio.db_dumps`/`db_loads`, issue 23) in a real database: a table
of tricky values written and read back through a `json` and a `jsonb` column (the session's execution, and on
PostgreSQL the direct execution of `app.core.pgexec`) gives what the standard library's path gives, and the standard
library's functions run for exactly the values that need them. Runs on either backend (DATABASE_URL)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from psycopg.types.json import Json, Jsonb
from sqlalchemy import JSON, Column, Integer, MetaData, Table, bindparam, cast, create_engine, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DataError

from app.core import db, jsonio
from app.core.pgexec import Result
from tests.unit import test_db_json as unit

same = unit.same
std = unit.std          # the fixture: the standard library's functions counted

# (value, written by json.dumps, read back by json.loads from the `json` column, from the `jsonb` column)
CASES = [
    ({"名字": "张三", "地址": "北京市朝阳区"}, False, False, False),
    ({"emoji": "😀👍🏽🇨🇳", "zwj": "👨‍👩‍👧"}, False, False, False),
    ([0.1, 0.30000000000000004, 1e16, 123456.789, -0.0, 0.0, 1.0], False, False, False),
    ([1.5e300, 5e-324], False, False, True),         # jsonb writes each with 300 digits and more
    ([1e-05, 9.8e-09], False, False, False),          # orjson writes 0.00001 for 1e-05: the same float
    ({"big": 2**70, "neg": -(2**64)}, True, True, True),          # beyond 64 bits: the library's both ways
    ({"edge": [2**63 - 1, 2**64 - 1, -(2**63)]}, False, True, True),   # 19-20 digits: read by json.loads
    ({"a": {"b": [{"c": [[], {}, [{}]]}]}, "z": None, "t": True}, False, False, False),
    ({}, False, False, False), ([], False, False, False), ("文字", False, False, False), (7, False, False, False),
    (None, False, False, False),
    ({"b": 1, "a": 2, "c": {"z": 1, "y": 2}}, False, False, False),    # key order (json keeps it, jsonb sorts)
    ({"ctrl": "\x01\x1f\"\\/\n\t"}, False, False, False),
    ({"t": (1, [2, "二"])}, True, False, False),       # a tuple: json.dumps's list
]


def _table(pg: bool) -> Table:
    return Table("ygt_json_guard", MetaData(), Column("id", Integer, primary_key=True),
                 Column("j", JSON), Column("b", JSONB() if pg else JSON), prefixes=["TEMPORARY"])


@pytest.mark.parametrize(("value", "by_dumps", "loads_j", "loads_b"), CASES, ids=lambda v: repr(v)[:40])
def test_a_value_reads_back_as_through_the_standard_library(app, std, value, by_dumps, loads_j, loads_b):
    dumps, loads = std
    pg = db.is_postgres()
    table = _table(pg)
    url = db.engine().url.render_as_string(hide_password=False)
    with app.app_context(), db.unit_of_work() as s:
        conn = s.connection()
        table.create(conn)
        conn.execute(insert(table), {"id": 1, "j": value, "b": value})
        assert dumps.calls == (2 if by_dumps else 0)
        got_j, got_b = conn.execute(select(table.c.j, table.c.b)).one()
        # SQLite's "jsonb" is its JSON; it stores a bare number as a number, which json.loads refuses (TypeError:
        # SQLAlchemy then keeps the number)
        bare_number = not pg and type(value) in (int, float)
        assert loads.calls == loads_j + (loads_b if pg else loads_j) + 2 * bare_number
        table.drop(conn)
    # the standard library's path: the same value written and read by json.dumps/json.loads
    stdlib = create_engine(url)
    try:
        with stdlib.begin() as conn:
            table.create(conn)
            conn.execute(insert(table), {"id": 1, "j": value, "b": value})
            want_j, want_b = conn.execute(select(table.c.j, table.c.b)).one()
            table.drop(conn)
    finally:
        stdlib.dispose()
    assert same(got_j, want_j), (got_j, want_j)
    assert same(got_b, want_b), (got_b, want_b)


def test_the_engine_registers_them_on_its_own_adapters(app):
    """On PostgreSQL the dialect's adapters map (every connection's context) holds dumpers and loaders that call
    `db_dumps`/`db_loads`; psycopg's global defaults stay the standard library's."""
    if not db.is_postgres():
        assert db.engine().dialect._json_serializer is jsonio.db_dumps_text
        assert db.engine().dialect._json_deserializer is jsonio.db_loads
        return
    import psycopg
    from psycopg.adapt import PyFormat
    from psycopg.types.json import _JsonDumper, _JsonLoader
    with app.app_context(), db.unit_of_work() as s:
        raw = s.connection().connection.driver_connection
        for wrapper in (Json, Jsonb):
            for fmt in (PyFormat.TEXT, PyFormat.BINARY):
                assert raw.adapters.get_dumper(wrapper, fmt)._dumps is jsonio.db_dumps
        for name in ("json", "jsonb"):
            oid = raw.adapters.types[name].oid
            assert raw.adapters.get_loader(oid, psycopg.pq.Format.TEXT)._loads is jsonio.db_loads
    assert _JsonDumper._dumps is json.dumps and _JsonLoader._loads is json.loads


def test_the_direct_execution_writes_and_reads_them_as_the_cursor(app, std):
    """`app.core.pgexec` (the hot statements' execution): its Transformer is the connection's, so a value written and
    read by it goes through `db_dumps`/`db_loads` too and reads back as psycopg's defaults read it."""
    if not db.is_postgres():
        pytest.skip("PostgreSQL's direct execution")
    dumps, loads = std
    values = [case[0] for case in CASES]
    with app.app_context(), db.unit_of_work() as s:
        conn = s.connection()
        conn.exec_driver_sql("CREATE TEMPORARY TABLE ygt_json_direct (id int, j json, b jsonb) ON COMMIT DROP")
        direct = db._direct(conn)
        for i, value in enumerate(values):
            result = direct.execute("INSERT INTO ygt_json_direct VALUES (%(i)s, %(j)s, %(b)s)",
                                    {"i": i, "j": Json(value), "b": Jsonb(value)})
            assert isinstance(result, Result)           # executed directly, not left to the cursor
        assert dumps.calls == 2 * sum(case[1] for case in CASES)
        result = direct.execute("SELECT id, j, b FROM ygt_json_direct ORDER BY id", None)
        assert isinstance(result, Result)
        got = result.fetchall()
        assert loads.calls == sum(case[2] + case[3] for case in CASES)
        # psycopg's defaults: json.dumps to write, json.loads to read
        conn.exec_driver_sql("CREATE TEMPORARY TABLE ygt_json_std (id int, j json, b jsonb) ON COMMIT DROP")
        cursor = conn.connection.driver_connection.cursor()
        for i, value in enumerate(values):
            cursor.execute("INSERT INTO ygt_json_std VALUES (%s, %s, %s)",
                           (i, Json(value, dumps=json.dumps), Jsonb(value, dumps=json.dumps)))
        cursor.execute("SELECT id, j::text, b::text FROM ygt_json_std ORDER BY id")
        want = [(i, json.loads(j), json.loads(b)) for i, j, b in cursor.fetchall()]
    for g, w in zip(got, want, strict=True):
        assert same(list(g), list(w)), (g, w)


def test_nan_goes_through_the_standard_library(app, std):
    """NaN and Infinity: written by json.dumps (orjson writes null); PostgreSQL refuses them in json and jsonb
    alike, as before; SQLite stores them and json.loads reads them back."""
    dumps, loads = std
    value = [float("nan"), float("inf"), -float("inf")]
    table = _table(db.is_postgres())
    with app.app_context(), db.unit_of_work() as s:
        conn = s.connection()
        table.create(conn)
        if db.is_postgres():
            with pytest.raises(DataError):
                conn.execute(insert(table), {"id": 1, "j": value, "b": []})
            assert dumps.calls == 1
            s.rollback()
            return
        conn.execute(insert(table), {"id": 1, "j": value, "b": value})
        got_j, got_b = conn.execute(select(table.c.j, table.c.b)).one()
        table.drop(conn)
    assert (dumps.calls, loads.calls) == (2, 2)
    assert repr(got_j) == repr(got_b) == repr(value)


def test_a_datetime_is_refused_as_before(app, std):
    dumps, _loads = std
    table = _table(db.is_postgres())
    with app.app_context(), db.unit_of_work() as s:
        conn = s.connection()
        table.create(conn)
        with pytest.raises(Exception) as got:
            conn.execute(insert(table), {"id": 1, "j": {"at": datetime(2026, 12, 6, tzinfo=UTC)}, "b": {}})
        assert "not JSON serializable" in str(got.value)
        assert dumps.calls == 1
        s.rollback()


def test_the_engine_state_column_type_round_trips(app, std):
    """The engine state's column type (`OrderedJSON`: `json` on PostgreSQL, kept verbatim) through a value a state
    may hold: the same value back, in the same key order, orjson both ways."""
    from app.workflows.models import ProcessInstance
    dumps, loads = std
    state_type = ProcessInstance.__table__.c.state.type
    value = {"data": {"姓名": "李四", "血压": [120.5, 80], "z": 1, "a": 2}, "last_state_change": 1765000000.123456,
             "tasks": {"0b7c0f1e-3e4a-4c05-9e1d-0000000000e5": {"state": 64, "children": []}}}
    with app.app_context(), db.unit_of_work() as s:
        bound = bindparam("v", type_=state_type)
        # PostgreSQL: typed as the column; SQLite's CAST to "JSON" would make a number of the text
        column = cast(bound, state_type) if db.is_postgres() else bound
        got = s.execute(select(column), {"v": value}).scalar_one()
    assert same(got, json.loads(json.dumps(value)))
    assert (dumps.calls, loads.calls) == (0, 0)

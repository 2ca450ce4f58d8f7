"""JSON column values through orjson (`app.core.jsonio.db_dumps`, `db_loads`, the engine's JSON serializer and
deserializer, issue 23): read as `json.loads` reads the same text, written as a text that reads back as what
`json.dumps` writes; the standard library's functions run exactly for what orjson would read or write otherwise."""
from __future__ import annotations

import json
import math
import random
from collections import OrderedDict
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from uuid import UUID

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select, text

from app.core import db, jsonio


def same(a, b) -> bool:
    """Equal as JSON values and alike in every way json.loads could make them differ: types (int vs float, bool vs
    int), a float's exact value and sign (-0.0, NaN), and key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b) and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


class Spy:
    """Stands in for `jsonio._std_dumps`/`_std_loads`, counting the calls (the fallback ran)."""

    def __init__(self, fn) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


@pytest.fixture()
def std(monkeypatch):
    dumps, loads = Spy(json.dumps), Spy(json.loads)
    monkeypatch.setattr(jsonio, "_std_dumps", dumps)
    monkeypatch.setattr(jsonio, "_std_loads", loads)
    return dumps, loads


# plain JSON values: orjson writes and reads them (no fallback)
PLAIN = [
    {"名字": "张三", "地址": "北京市朝阳区", "note": "中文 text mixed"},
    {"emoji": "😀👍🏽🇨🇳", "zwj": "👨‍👩‍👧", "bmp": "\u2028\u2029\ufeff"},
    [0.1, 0.2, 0.30000000000000004, 1e16, 1e17, 1.5e300, 2.5e-3, 1e-3, 123456.789, 5e-324, 1.7976931348623157e308],
    [-0.0, 0.0, -1.0, 1.0, 100.0],
    [0, -1, 1, 2**53 + 1, 10**18 - 1, -(10**18) + 1],
    {"nested": {"a": [{"b": [[], {}, [{}]]}], "c": {"d": {"e": None}}}},
    {}, [], "", "plain", 0, True, False, None,
    {"b": 1, "a": 2, "c": {"z": 1, "y": 2}},              # key order kept
    {"ctrl": "\x00\x01\x1f\x7f\"\\/\n\t\r\b\f"},
    {"id": "3e-4a1b0c-0000-4e5f-8e9a-1e-05"},           # digits and exponents inside strings
    {"ints": [1, 2], "flag": True, "x": 1.25},
    [1e-05, 9.8e-09, 2.5e-8, 1e-9, 9.999e-5],          # orjson's own form (0.00001, 9.8e-9): the same floats
]

# values only the standard library writes as today's json.dumps() writes them (or refuses as it refuses)
NOT_PLAIN = [
    {"big": 2**64}, [-(2**63) - 1], [10**30],           # orjson refuses ints beyond 64 bits
    [float("nan")], [float("inf")], [-float("inf")],    # orjson writes null
    (1, 2), {"t": (1, [2])},                            # orjson writes a list
    {1: "a"}, {None: 1},                                # non-str keys
    {"s": "\ud800"},                                    # a lone surrogate
]

REFUSED = [
    {"d": date(2026, 12, 6)}, {"dt": datetime(2026, 12, 6, 5, 0, tzinfo=UTC)}, {"n": Decimal("1.5")},
    {"u": UUID(int=7)}, {"s": {1, 2}}, {"o": object()},
]


class Colour(Enum):
    RED = 1


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_values_go_through_orjson_and_read_back_as_the_stdlib_path(std, value):
    dumps, loads = std
    raw = jsonio.db_dumps(value)
    assert isinstance(raw, bytes)
    assert same(jsonio.db_loads(raw), json.loads(json.dumps(value)))
    assert same(jsonio.db_loads(jsonio.db_dumps_text(value)), json.loads(json.dumps(value)))
    assert same(jsonio.db_loads(json.dumps(value).encode()), json.loads(json.dumps(value)))
    assert (dumps.calls, loads.calls) == (0, 0)
    assert jsonio.db_dumps_text(value) == raw.decode()
    assert jsonio.compact_json(value) in (raw, None)     # the API's text, where it takes orjson's


def test_ints_of_19_digits_and_more_are_read_by_json_loads(std):
    """orjson writes the 64-bit edges as json.dumps does; it would read an integer beyond them as a float, so a text
    with 19 digits in a row is read by json.loads."""
    dumps, loads = std
    value = {"edges": [2**63 - 1, -(2**63), 2**64 - 1, 10**18]}
    raw = jsonio.db_dumps(value)
    assert dumps.calls == 0
    assert same(jsonio.db_loads(raw), json.loads(json.dumps(value)))
    assert loads.calls == 1


@pytest.mark.parametrize("value", NOT_PLAIN, ids=repr)
def test_values_orjson_writes_otherwise_are_written_by_json_dumps(std, value):
    dumps, _loads = std
    assert jsonio.db_dumps(value) == json.dumps(value).encode()
    assert dumps.calls == 1
    assert jsonio.db_dumps_text(value) == json.dumps(value)
    assert dumps.calls == 2


@pytest.mark.parametrize("value", REFUSED + [{"e": Colour.RED}], ids=repr)
def test_values_json_dumps_refuses_are_refused_as_before(std, value):
    dumps, _loads = std
    with pytest.raises(TypeError) as want:
        json.dumps(value)
    with pytest.raises(TypeError) as got:
        jsonio.db_dumps(value)
    assert str(got.value) == str(want.value)
    assert dumps.calls == 1


# texts orjson refuses, or reads otherwise (ints beyond 64 bits as floats): json.loads reads them
FALLBACK_TEXTS = [
    "NaN", "[NaN, Infinity, -Infinity]", '{"x": 1e400}', "-1e400", '"\\ud800"', '{"k": "\\udc00x"}',
    "18446744073709551616", "-9223372036854775809", "[100000000000000000000000]", '{"a": 1' + "0" * 40 + "}",
    '"1234567890123456789"',                            # a long digit string: only the slower path
    "\ufeff[1]", "[" * 1100 + "]" * 1100,
]


@pytest.mark.parametrize("text_", FALLBACK_TEXTS, ids=lambda t: t[:30])
def test_texts_orjson_reads_otherwise_are_read_by_json_loads(std, text_):
    _dumps, loads = std
    for data in (text_.encode("utf-8", "surrogatepass"), text_):
        calls = loads.calls
        try:
            want = json.loads(data)
        except (ValueError, RecursionError) as exc:      # as json.loads raises it
            with pytest.raises(type(exc)):
                jsonio.db_loads(data)
        else:
            assert same(jsonio.db_loads(data), want)
        assert loads.calls == calls + 1


def test_texts_json_loads_refuses_are_refused(std):
    for bad in ("", "[1,]", "01", "{'a': 1}", "[1] x", '"\x01"'):
        with pytest.raises(ValueError):
            json.loads(bad)
        with pytest.raises(ValueError):
            jsonio.db_loads(bad.encode())


@pytest.mark.parametrize("value", PLAIN + NOT_PLAIN, ids=repr)
def test_a_str_a_memoryview_and_a_bytearray_read_as_bytes(value):
    stdlib = json.dumps(value)
    want = json.loads(stdlib)
    for data in (stdlib, stdlib.encode(), memoryview(stdlib.encode()), bytearray(stdlib.encode())):
        assert same(jsonio.db_loads(data), want)


def test_numbers_read_alike_random(std):
    """Random number texts (as json.dumps writes floats and ints, and as other writers do: exponents, long
    mantissas, integers at the 64-bit edges): the same value and type as json.loads gives."""
    _dumps, loads = std
    rng = random.Random(23)
    texts = []
    for _ in range(3000):
        texts.append(repr(rng.uniform(-1e6, 1e6)))
        texts.append(repr(math.ldexp(rng.random(), rng.randint(-1074, 1023))))
        texts.append(f"{rng.choice(['', '-'])}{rng.randint(1, 9)}.{rng.randint(0, 10**rng.randint(1, 17))}"
                     f"{rng.choice(['e', 'E'])}{rng.choice(['', '+', '-'])}{rng.randint(0, 330)}")
        texts.append(str(rng.randint(-(2**63), 2**64 - 1)))
        texts.append(str(rng.randint(-(10**25), 10**25)))
    for t in texts:
        doc = f'{{"v": {t}, "l": [{t}]}}'
        assert same(jsonio.db_loads(doc.encode()), json.loads(doc)), t
    assert loads.calls > 0                      # the long integers, and floats beyond the range


def test_strings_and_objects_read_alike_random():
    rng = random.Random(6)
    alphabet = "aZ0 \"\\/\n\t\x00\x1f\x7f\u00e9\u4e2d\u6587\u2028\U0001f600\U00010000\ufffd"
    for _ in range(500):
        obj = {"".join(rng.choices(alphabet, k=rng.randint(0, 6))): "".join(rng.choices(alphabet, k=rng.randint(0, 20)))
               for _ in range(rng.randint(0, 5))}
        for text_ in (json.dumps(obj), json.dumps(obj, ensure_ascii=False), jsonio.db_dumps_text(obj)):
            assert same(jsonio.db_loads(text_.encode()), json.loads(text_))


def test_duplicate_keys_read_as_json_loads_reads_them():
    doc = '{"a": 1, "b": 2, "a": 3}'
    assert same(jsonio.db_loads(doc.encode()), json.loads(doc))
    assert list(jsonio.db_loads(doc.encode()).items()) == [("a", 3), ("b", 2)]


def test_dict_subclasses_and_enums_write_the_value_json_dumps_writes():
    class IntColour(int, Enum):
        ONE = 1
    for value in (OrderedDict(b=1, a=[2]), {"c": IntColour.ONE}):
        assert same(json.loads(jsonio.db_dumps(value)), json.loads(json.dumps(value)))


def test_the_sqlite_engine_reads_and_writes_json_through_them(tmp_path, std):
    dumps, loads = std
    before = db._engine
    eng = db.init_engine(f"sqlite:///{tmp_path}/j.db")
    try:
        assert eng.dialect._json_serializer is jsonio.db_dumps_text
        assert eng.dialect._json_deserializer is jsonio.db_loads
        table = Table("j", MetaData(), Column("id", Integer, primary_key=True), Column("v", JSON))
        values = PLAIN + [[1e-05], {"big": 2**70}, {"t": (1, 2)}]
        with eng.begin() as conn:
            table.create(conn)
            for i, value in enumerate(values):
                conn.execute(insert(table), {"id": i, "v": value})
            # text, not bytes (a BLOB); a bare number's text becomes a number (the column's affinity), as before
            assert "blob" not in conn.execute(text("SELECT DISTINCT typeof(v) FROM j")).scalars().all()
            got = dict(conn.execute(select(table.c.id, table.c.v)).all())
        for i, value in enumerate(values):
            assert same(got[i], json.loads(json.dumps(value))), value
        # the tuple written by json.dumps, 2**70 both ways (1e-05 by orjson); the bare 0 is read back as the number
        # SQLite made of it (json.loads raises TypeError, SQLAlchemy's SQLite JSON then keeps the number)
        assert dumps.calls == 2 and loads.calls == 2
    finally:
        eng.dispose()
        db._engine = before                             # the process's engine as it was (another test's)
        db.Session_.remove()
        if before is not None:
            db.Session_.configure(bind=before)

"""API responses are written by orjson when it writes them byte for byte as Flask's provider did (`json.dumps`,
`ensure_ascii=False`, compact separators, keys in their order), by `json.dumps` otherwise (issue 23.2)."""
from __future__ import annotations

import json
import random
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, IntEnum
from uuid import UUID

import orjson
import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from app.core import jsonio


class Level(IntEnum):
    HIGH = 3


class Colour(Enum):
    RED = "red"


class Code(str):
    pass


@dataclass
class Point:
    x: int
    when: date


def _app(debug: bool = False) -> Flask:
    app = Flask(__name__)
    app.json = jsonio.JSONProvider(app)
    app.debug = debug
    return app


def _reference(app: Flask, obj) -> bytes:
    """What the provider answered before: Flask's own `response` with our settings."""
    with app.app_context():
        return DefaultJSONProvider.response(app.json, obj).get_data()


def _answer(app: Flask, obj):
    with app.app_context():
        return app.json.response(obj)


SHAPES = [
    {"name": "张三", "text": "a \u2028 \"q\" \\ \x00 \x1f \x7f / <b>", "n": 1, "f": 2.5, "neg": -0.0, "none": None,
     "ok": True, "list": [1, [2, {"z": 1, "a": 2}], {}], "big_float": 1e16, "tiny_ok": 1e-10, "edge": 0.0001},
    [{"b": 1, "a": 2}, {"a": 1}],
    "plain string", 3, None, [],
    {"level": Level.HIGH, "code": Code("X1"), "m": {"k": Code("v")}},
]
# what orjson writes otherwise than json.dumps, or refuses, or what Flask's default hook converts: json.dumps writes it
OTHER = [
    {"small": 1e-05}, {"small": [-3.5e-07]}, {"e9": 9.87e-09}, {"nan": float("nan")}, {"inf": float("inf")},
    {"big": 2 ** 64}, {"keys": {1: "a", None: 2, False: 3}}, {"when": datetime(2026, 3, 2, 1, 0, tzinfo=UTC)},
    {"day": date(2026, 3, 2)}, {"price": Decimal("1.50")}, {"id": UUID(int=7)}, {"pair": (1, 2)},
    {"point": Point(1, date(2026, 1, 1))}, {"surrogate": "a \ud800"}, {"fine": 10.00001, "tiny": 0.00002},
    9.8e-09, -9.8e-09, [1, -2.5e-09], {"a": [{"b": 7e-09}]},
]


@pytest.mark.parametrize("obj", SHAPES + OTHER, ids=repr)
def test_a_response_is_byte_for_byte_what_flask_wrote(obj):
    app = _app()
    try:
        want = _reference(app, obj)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            _answer(app, obj).get_data()
        return
    resp = _answer(app, obj)
    assert resp.get_data() == want
    assert resp.mimetype == "application/json"
    assert resp.headers["Content-Length"] == str(len(want))


def test_plain_answers_are_written_by_orjson_and_others_by_json(monkeypatch):
    app = _app()
    calls = []
    dumps = json.dumps
    monkeypatch.setattr(json, "dumps", lambda *a, **k: calls.append(1) or dumps(*a, **k))
    for obj in SHAPES:
        _answer(app, obj)
    assert calls == []
    for obj in OTHER:
        calls.clear()
        try:
            _answer(app, obj)
        except UnicodeEncodeError:
            pass
        assert calls == [1], obj


def test_an_enum_is_refused_as_before():
    app = _app()
    with pytest.raises(TypeError), app.app_context():
        DefaultJSONProvider.response(app.json, {"c": Colour.RED})
    with pytest.raises(TypeError):
        _answer(app, {"c": Colour.RED})


def test_floats_are_written_as_json_dumps_writes_them():
    rnd = random.Random(23)
    values = [struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0] for _ in range(20000)]
    values += [rnd.random() * 10.0 ** e * rnd.choice((1, -1)) for e in range(-12, 22) for _ in range(300)]
    app = _app()
    for v in values:
        assert _answer(app, {"v": v}).get_data() == _reference(app, {"v": v}), v


def test_debug_mode_indents_as_before():
    app = _app(debug=True)
    obj = {"名": [1, {"a": 2}]}
    assert _answer(app, obj).get_data() == _reference(app, obj)
    assert b"\n  " in _answer(app, obj).get_data()


def test_orjson_is_what_is_measured():
    """The fast path exists (it is what the provider uses for plain answers)."""
    assert jsonio.compact_json({"a": "张"}) == orjson.dumps({"a": "张"})
    assert jsonio.compact_json({"a": 1e-05}) is None
    # a UUID's "…3e-4…" is no number: orjson writes the answer
    ids = ["d90ccfc0-93cb-40f0-9d6f-17353f11e0e5", "0000003e-4aaa-4000-8000-000000000000", "1e-5x", "x -1e-5"]
    assert jsonio.compact_json({"ids": ids, "n": 1e-10}) == orjson.dumps({"ids": ids, "n": 1e-10})

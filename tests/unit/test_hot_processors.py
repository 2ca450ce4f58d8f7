"""The hot statements' bind and result processors (app.core.hot): what they hand psycopg is what SQLAlchemy's own
processors hand it, with fewer Python calls (a JSON dict or list wrapped directly, a `UTCDateTime` as its own
method)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from psycopg.types.json import Json, Jsonb
from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB

from app.core.db import JSONText, UTCDateTime
from app.core.hot import _json_text_as_is, decorator_direct

PG = postgresql.psycopg.dialect()


@pytest.mark.parametrize("json_type", [JSON(), JSONB(), JSON(none_as_null=True)])
@pytest.mark.parametrize("value", [{"a": [1, "二"]}, [], {}, [None], None, JSON.NULL, "text", 3, 1.5, True,
                                   JSONText('{"s": 1}')])
def test_a_json_value_is_wrapped_as_sqlalchemys_processor_wraps_it(json_type, value):
    process = json_type.dialect_impl(PG).bind_processor(PG)
    ours, theirs = _json_text_as_is(process)(value), process(value)
    assert type(ours) is type(theirs)
    if isinstance(theirs, Json | Jsonb):
        assert ours.obj is theirs.obj
        assert ours.dumps is (str if isinstance(value, JSONText) else theirs.dumps)
    else:
        assert ours == theirs


def test_a_utc_datetime_is_processed_by_its_own_method_with_the_same_values():
    column = UTCDateTime()
    bind = column.dialect_impl(PG).bind_processor(PG)
    result = column.dialect_impl(PG).result_processor(PG, 1184)
    direct_bind = decorator_direct(column, PG, bind)
    direct_result = decorator_direct(column, PG, result, 1184, result=True)
    assert direct_bind is not bind and direct_result is not result
    for value in (datetime(2026, 12, 6, 14, 30, tzinfo=UTC), datetime(2026, 12, 6, 22, tzinfo=timezone(timedelta(hours=8))),
                  None):
        assert direct_bind(value) == bind(value) and (value is None or direct_bind(value).tzinfo == UTC)
    with pytest.raises(ValueError, match="naive"):
        direct_bind(datetime(2026, 12, 6))
    for value in (datetime(2026, 12, 6, 14, 30), datetime(2026, 12, 6, 14, 30, tzinfo=UTC), None):
        assert direct_result(value) == result(value)


@pytest.mark.parametrize("type_", [Integer(), String(), DateTime(timezone=True), JSON()])
def test_other_types_keep_sqlalchemys_processor(type_):
    process = type_.dialect_impl(PG).bind_processor(PG)
    assert decorator_direct(type_, PG, process) is process


def test_a_decorator_whose_implementing_type_processes_values_keeps_sqlalchemys_processor():
    lite = sqlite.dialect()         # SQLite's DateTime processes values itself (to text)
    process = UTCDateTime().dialect_impl(lite).bind_processor(lite)
    assert decorator_direct(UTCDateTime(), lite, process) is process

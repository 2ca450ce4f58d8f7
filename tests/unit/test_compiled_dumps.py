"""A compiled dump (app.core.dumps) answers exactly what marshmallow's dump answers: same keys in the same order, same
values of the same types, on every shape the engine path's response schemas meet (dicts, objects, missing keys,
None, values still to convert, nested and listed tasks)."""
from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields, post_dump

from app.core.dumps import compiled
from app.processes.schemas import InstanceDetailSchema
from app.tasks.schemas import CompletedTaskSchema, TaskListSchema, TaskSchema
from tests.helpers import assert_same_result

AT = datetime(2026, 12, 5, 3, 4, 5, 678901, tzinfo=UTC)


def _task(**changes):
    task = {"id": 41, "name": "审批 A", "process_id": "approval", "process_name": "审批", "instance_id": 7,
            "element_id": "task_a", "status": "open", "lane": None, "role": "township_doctor", "org_code": "C01T01",
            "org_name": "镇卫生院", "assignee": None, "due_at": None, "priority": 3, "overdue": False,
            "resident": None, "disease": None, "risk_level": None, "created_at": AT, "completed_at": None,
            "completed_by": None, "etag": 'W/"41-1"'}
    task.update(changes)
    return task


TASKS = [
    _task(),
    _task(assignee={"id": 3, "username": "doc", "display_name": "医生"}, due_at=AT + timedelta(days=2),
          overdue=True, resident={"id": 9, "name": "张三", "village_code": "V1"}, disease="t2dm",
          risk_level="high", completed_at="2026-12-05T03:04:05+00:00", completed_by="doc", status="completed"),
    # values still to convert: marshmallow's own conversions must be kept
    _task(id="41", priority=Decimal("2.7"), overdue=1, instance_id=7.0, name=123, lane=b"lane",
          created_at=datetime(2026, 12, 5, 11, 4, 5, tzinfo=timezone(timedelta(hours=8)))),
    _task(overdue=0, priority=True, assignee={"id": 3}),
    # keys missing entirely, and an extra key the schema does not know
    {"id": 5, "name": "x", "extra": "ignored"},
    {},
]



@pytest.mark.parametrize("task", TASKS)
def test_a_task_dumps_as_marshmallow_dumps_it(task):
    assert_same_result(compiled(TaskSchema()).dump(task), TaskSchema().dump(task))


@pytest.mark.parametrize("task", TASKS)
def test_a_task_object_dumps_as_marshmallow_dumps_it(task):
    obj = SimpleNamespace(**task)
    assert_same_result(compiled(TaskSchema()).dump(obj), TaskSchema().dump(obj))


@pytest.mark.parametrize("items", [[], TASKS[:1], TASKS, [TASKS[0], None]])
@pytest.mark.parametrize("cursor", [None, "abc", 12])
def test_the_task_list_dumps_as_marshmallow_dumps_it(items, cursor):
    value = {"items": items, "total": len(items), "next_cursor": cursor}   # a None item dumps as None
    assert_same_result(compiled(TaskListSchema()).dump(value), TaskListSchema().dump(value))
    assert_same_result(compiled(TaskListSchema()).dump({"items": None}), TaskListSchema().dump({"items": None}))


@pytest.mark.parametrize("next_tasks", [[], TASKS[:2], None])
@pytest.mark.parametrize("task", TASKS[:3])
def test_a_completed_task_dumps_as_marshmallow_dumps_it(task, next_tasks):
    value = {**task, "next_tasks": next_tasks}
    assert_same_result(compiled(CompletedTaskSchema()).dump(value), CompletedTaskSchema().dump(value))
    value.pop("next_tasks")
    assert_same_result(compiled(CompletedTaskSchema()).dump(value), CompletedTaskSchema().dump(value))


INSTANCES = [
    {"id": 7, "process_id": "approval", "version": 1, "status": "waiting", "business_key": None, "resident_id": None,
     "resident_name": None, "org_code": "C01T01", "started_by": "doc", "started_at": AT, "updated_at": AT,
     "ended_at": None, "error": None, "next_timer_at": None, "open_tasks": TASKS[:1],
     "history": [{"id": 1, "at": AT, "type": "started", "element_id": None, "actor": "doc", "data": {}},
                 {"id": 2, "at": AT, "type": "task_opened", "element_id": "task_a", "actor": "engine",
                  "data": {"amount": 150, "nested": {"a": [1, 2]}}}],
     "diagram": {"completed": ["start"], "active": ["task_a"], "error": []}, "decision_versions": {},
     "result": None, "timers": [], "waiting_messages": [],
     "called": [{"element_id": "call", "process_id": "child", "version": None, "process_name": None}]},
    {"id": 8, "process_id": "approval", "version": "2", "status": "error", "started_at": AT,
     "updated_at": AT, "error": {"code": "x"}, "result": {"ok": True},
     "timers": [{"at": "2026"}], "waiting_messages": [{"name": "m"}], "open_tasks": [], "history": [],
     "ended_at": AT, "next_timer_at": AT, "resident_id": 12, "resident_name": "李四"},
    {"id": 9},
]


@pytest.mark.parametrize("instance", INSTANCES)
def test_an_instance_detail_dumps_as_marshmallow_dumps_it(instance):
    assert_same_result(compiled(InstanceDetailSchema()).dump(instance), InstanceDetailSchema().dump(instance))
    obj = SimpleNamespace(**instance)
    assert_same_result(compiled(InstanceDetailSchema()).dump(obj), InstanceDetailSchema().dump(obj))


def test_many_dumps_as_marshmallow_dumps_it():
    assert_same_result(compiled(TaskSchema(many=True)).dump(TASKS[:3]), TaskSchema(many=True).dump(TASKS[:3]))
    assert_same_result(compiled(TaskSchema()).dump(TASKS[:3], many=True), TaskSchema().dump(TASKS[:3], many=True))
    assert_same_result(compiled(TaskSchema()).dump(OrderedDict(TASKS[1])), TaskSchema().dump(OrderedDict(TASKS[1])))


def test_dump_defaults_data_keys_attributes_and_ordered_output_are_kept():
    class Odd(Schema):
        class Meta:
            ordered = True

        a = fields.Int(dump_default=5)
        b = fields.Str(data_key="B", attribute="bee")
        c = fields.List(fields.Dict(), dump_default=list)
        d = fields.Float()

    for value in ({}, {"a": None, "bee": 3, "c": [{"x": 1}], "d": 2}, {"a": "7", "b": "not read", "d": None}):
        assert_same_result(compiled(Odd()).dump(value), Odd().dump(value))
    assert type(compiled(Odd()).dump({})) is OrderedDict


def test_a_schema_with_dump_hooks_keeps_marshmallows_dump():
    class Hooked(Schema):
        a = fields.Int()

        @post_dump
        def _add(self, data, **_kw):
            return {**data, "hooked": True}

    schema = Hooked()
    assert compiled(schema).dump({"a": 1}) == {"a": 1, "hooked": True}
    assert "dump" not in vars(schema)


def test_the_schema_stays_the_same_class_for_the_openapi_document():
    schema = compiled(TaskListSchema())
    assert type(schema) is TaskListSchema
    assert schema.fields.keys() == TaskListSchema().fields.keys()

"""Rows written by a Core INSERT on the hot paths (`app.core.db.insert_params`) hold exactly what the ORM's unit of
work would have written for the same new object: the engine path and the batch starts rely on it (issue 23.2/23.3).
`app.workflows.rows.NewRowParams` (a step's new task rows and instance) gives the same parameters and values."""
from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, String, Table, create_engine, insert, select, text
from sqlalchemy.orm import DeclarativeBase, Session, configure_mappers

from app.core import clock
from app.core.db import insert_params
from app.workflows.models import HumanTask, ProcessInstance
from app.workflows.rows import NewRowParams


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "insert_values_probe"
    id = Column(Integer, primary_key=True)
    plain = Column(String(20), nullable=True)                         # no default
    with_default = Column(Integer, nullable=True, default=3)          # Python default
    with_callable = Column(JSON, nullable=True, default=dict)         # JSON, callable default
    both = Column(String(20), nullable=True, default="x", server_default=text("'x'"))
    doc = Column(JSON, nullable=True)                                 # JSON, no default: unset is SQL NULL


_COLUMNS = [c for c in _Row.__table__.columns if not c.primary_key]
_UNSET = object()
_CHOICES = {"plain": (_UNSET, None, "v"), "with_default": (_UNSET, None, 7), "with_callable": (_UNSET, None, {"a": 1}),
            "both": (_UNSET, None, "y"), "doc": (_UNSET, None, [1])}


def _new(choice: dict[str, Any]) -> _Row:
    row = _Row()
    for key, value in choice.items():
        if value is not _UNSET:
            setattr(row, key, value)
    return row


def _stored(engine, row_id: int) -> tuple:
    with engine.connect() as conn:     # the JSON columns as text, so JSON null and SQL NULL differ
        return conn.execute(text("SELECT plain, with_default, with_callable, both, doc, doc IS NULL, "
                                 "with_callable IS NULL FROM insert_values_probe WHERE id = :i"), {"i": row_id}).one()


@pytest.fixture()
def engine():
    eng = create_engine("sqlite://")
    _Base.metadata.create_all(eng)
    return eng


def test_every_combination_of_unset_none_and_a_value_is_stored_as_the_unit_of_work_stores_it(engine):
    keys = list(_CHOICES)
    for values in itertools.product(*(_CHOICES[k] for k in keys)):
        choice = dict(zip(keys, values, strict=True))
        with Session(engine) as s:
            by_orm = _new(choice)
            s.add(by_orm)
            s.commit()
            orm_id = by_orm.id
            by_core = _new(choice)
            core_id = s.execute(insert(_Row.__table__).returning(_Row.__table__.c.id),
                                insert_params(by_core, _COLUMNS)).scalar_one()
            s.commit()
            assert _stored(engine, core_id) == _stored(engine, orm_id), choice
            # the object holds what was written, as after a flush
            loaded = s.execute(select(_Row).where(_Row.id == core_id)).scalar_one()
            for key in keys:
                assert getattr(by_core, key) == getattr(loaded, key), (choice, key)


def test_many_rows_share_one_statement_whatever_each_one_left_unset(engine):
    rows = [_new({"plain": "a"}), _new({"with_default": None, "doc": None}), _new({"both": "z", "doc": {"k": 2}})]
    with Session(engine) as s:
        s.execute(insert(_Row.__table__), [insert_params(r, _COLUMNS) for r in rows])
        stored = s.execute(select(_Row.plain, _Row.with_default, _Row.both, _Row.doc).order_by(_Row.id)).all()
    assert [tuple(r) for r in stored] == [("a", 3, "x", None), (None, 3, "x", None), (None, 3, "z", {"k": 2})]


def test_a_row_written_by_a_core_update_is_not_flushed_again_but_a_later_change_is(engine):
    """`hold_as_written`: after a Core UPDATE of what changed on a loaded row, the commit's flush has nothing of it
    to visit (issue 23.2); what changes afterwards, or was changed and not written, is flushed as usual."""
    from sqlalchemy import event, update

    from app.core.db import hold_as_written
    with Session(engine) as s:
        s.add_all([_Row(plain="a", with_default=1), _Row(plain="b", with_default=1)])
        s.commit()
        first, second = s.execute(select(_Row).order_by(_Row.id)).scalars().all()
        flushed: list[set[str]] = []
        event.listen(s, "before_flush", lambda sess, _ctx, _i: flushed.append({r.plain for r in sess.dirty}))
        with s.no_autoflush:                             # as a step writes its rows
            first.plain, first.with_default = "a2", 2
            s.execute(update(_Row.__table__).where(_Row.id == first.id), {"plain": "a2", "with_default": 2})
            hold_as_written(s, first, {"plain": "a2", "with_default": 2})
            second.plain, second.with_default = "b2", 2
            s.execute(update(_Row.__table__).where(_Row.id == second.id), {"plain": "b2"})
            hold_as_written(s, second, {"plain": "b2"})  # with_default changed and not written: still pending
        assert first not in s.dirty and second in s.dirty
        s.commit()
        assert flushed == [{"b2"}]
        first.doc = [1]                                  # a later change is tracked and written
        ids = first.id, second.id
        s.commit()
    assert _stored(engine, ids[0])[:2] == ("a2", 2) and _stored(engine, ids[0])[4] == "[1]"
    assert _stored(engine, ids[1])[:2] == ("b2", 2)


# -- NewRowParams: the same without attribute events ----------------------------------------------------------

def _held(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if not k.startswith("_sa_")}


def test_every_combination_of_unset_none_and_a_value_gives_insert_params_parameters_and_values():
    fast = NewRowParams(_COLUMNS)
    keys = list(_CHOICES)
    for values in itertools.product(*(_CHOICES[k] for k in keys)):
        choice = dict(zip(keys, values, strict=True))
        by_orm, by_plan = _new(choice), _new(choice)
        assert fast(by_plan) == insert_params(by_orm, _COLUMNS), choice     # null() is one object: JSON vs SQL NULL
        assert _held(by_plan) == _held(by_orm), choice


def test_a_callable_default_is_called_per_row():
    fast = NewRowParams(_COLUMNS)
    first, second = _new({}), _new({})
    assert fast(first)["with_callable"] == {} and fast(second)["with_callable"] == {}
    assert first.with_callable is not second.with_callable


@pytest.mark.parametrize("model", [HumanTask, ProcessInstance])
def test_the_task_and_instance_rows_a_step_inserts(model):
    configure_mappers()
    table = model.__table__
    assert isinstance(table, Table)
    columns = [c for c in table.columns if not c.primary_key and c.computed is None]
    fast = NewRowParams(columns)
    now = clock.now()
    given = {"task_guid": "g-1", "instance_id": 1, "process_id": "p", "element_id": "e", "name": "n", "lane": None,
             "status": "open", "created_at": now, "data": {"a": 1}, "due_at": None} if model is HumanTask else \
        {"process_version_id": 1, "process_id": "p", "version": 1, "started_at": now, "business_key": None,
         "state": {"s": 1}, "error": None, "result": None, "decision_versions": {}, "status": "waiting"}
    new = model.__mapper__.class_manager.new_instance
    by_orm, by_plan = new(), new()
    vars(by_orm).update(given)
    vars(by_plan).update(given)
    assert fast(by_plan) == insert_params(by_orm, columns)
    assert _held(by_plan) == _held(by_orm)


def test_a_server_default_alone_is_refused_as_insert_params_refuses_it():
    class _ServerOnly(_Base):
        __tablename__ = "new_row_params_server_only"
        id = Column(Integer, primary_key=True)
        only = Column(String(20), server_default=text("'s'"))

    columns = [c for c in _ServerOnly.__table__.columns if not c.primary_key]
    with pytest.raises(ValueError, match="server default"):
        NewRowParams(columns)
    with pytest.raises(ValueError, match="server default"):
        insert_params(_ServerOnly(), columns)

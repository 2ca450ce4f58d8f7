"""`app.core.hot_reads.HotSelect` (issue 23): the engine path's SELECTs executed straight on the DBAPI connection on
PostgreSQL read what the session's execution reads (the same SQL, the same values after result processing) and hold
an entity's objects as the ORM loads them; where the ORM would do more (an object the session already holds, load
listeners) and on SQLite the session executes the statement. Runs on either backend (DATABASE_URL)."""
from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, create_engine, event, inspect, select, text, update
from sqlalchemy.exc import DataError, MultipleResultsFound, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, defer, deferred, relationship

from app.core import db
from app.core.hot_reads import HotSelect
from app.tasks.queries import prefix
from app.workflows.models import HumanTask, ProcessInstance, ProcessVersion
from tests.helpers import statements_sent

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="the DBAPI path is PostgreSQL's")
_AT = datetime(2026, 12, 5, 4, 30, 15, 123456, tzinfo=UTC)
_TASKS, _INSTANCES = cast(Table, HumanTask.__table__), cast(Table, ProcessInstance.__table__)


def _seed(s: Session, *, tasks: int = 1, versions: int = 1) -> tuple[int, list[int]]:
    """A deployed version (or several of one process), an instance and its open tasks, committed; (instance id, task
    ids)."""
    pvs = [ProcessVersion(process_id="hot", version=n, name="热读", file_name="hot.bpmn", content_hash=f"h{n}",
                          bpmn_xml="<x/>", spec_json={"b": 1, "a": [1, "二"]}, forms={}, meta={"k": None},
                          deployed_at=_AT, deployed_by="t") for n in range(1, versions + 1)]
    s.add_all(pvs)
    s.flush()
    inst = ProcessInstance(process_version_id=pvs[0].id, process_id="hot", version=1, status="waiting",
                           business_key=None, resident_id=7, resident_name="张三", org_code="C01T01",
                           org_path="/C01/C01T01/", started_by="doc", started_at=_AT, updated_at=_AT, ended_at=None,
                           state={"z": 1, "a": {"y": [None, True, 1.5]}}, engine_format="f", decision_versions={},
                           diagram={}, error=None, next_timer_at=None, waiting_messages=["m"], result=None)
    s.add(inst)
    s.flush()
    made = [HumanTask(task_guid=f"g{i}", instance_id=inst.id, process_id="hot", element_id="a", name=f"任务{i}",
                      role="township_doctor", org_code="C01T01", org_path="/C01/C01T01/", status="open",
                      data={"amount": 150, "注": "x"}, draft=None, due_at=_AT, created_at=_AT, risk_level="HIGH",
                      instructions="读我") for i in range(tasks)]
    s.add_all(made)
    s.commit()
    ids = inst.id, [t.id for t in made]
    db.remove_session()
    return ids


def _columns(obj) -> dict[str, Any]:
    return {a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs}


_TASK_WITH_VERSION = HotSelect(select(HumanTask, ProcessInstance.process_version_id)
                               .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                               .where(HumanTask.id == bindparam("task_id")).execution_options(populate_existing=True))


# -- plain rows -----------------------------------------------------------------------------------------------------

def test_rows_are_the_rows_the_session_reads(app):
    """Every column type of the instance and task rows (aware UTC datetimes, JSON and JSONB, a computed column,
    NULLs) comes back as the session's execution returns it."""
    with app.app_context():
        inst_id, [task_id] = _seed(db.session())
        for stmt, params in ((select(_INSTANCES).where(_INSTANCES.c.id == bindparam("i")), {"i": inst_id}),
                             (select(_TASKS).where(_TASKS.c.id == bindparam("i")), {"i": task_id}),
                             (select(HumanTask.due_at, HumanTask.data, HumanTask.risk_rank, HumanTask.draft)
                              .where(HumanTask.instance_id == bindparam("i")), {"i": inst_id})):
            with db.unit_of_work() as s:
                hot = HotSelect(stmt).all(s, params)
                assert hot == [tuple(r) for r in s.execute(stmt, params)] and len(hot) == 1
        with db.unit_of_work() as s:
            [row] = HotSelect(select(_INSTANCES).where(_INSTANCES.c.id == bindparam("i"))).all(s, {"i": inst_id})
            assert row[_INSTANCES.c.keys().index("started_at")] == _AT
            assert row[_INSTANCES.c.keys().index("started_at")].tzinfo is not None
            assert row[_INSTANCES.c.keys().index("state")] == {"z": 1, "a": {"y": [None, True, 1.5]}}


def test_the_sql_sent_is_the_sql_the_session_sends(app):
    """Values the statement renders inline (a prefix's literal_execute pattern, an expanding IN list bound in the
    statement) are rendered from the statement's own values, as SQLAlchemy renders them at each execution; an entity
    with a column of a joined table and a row lock, as the ORM renders it."""
    stmt = (select(HumanTask.id, HumanTask.due_at).where(
        prefix(HumanTask.org_path, "/C01/", "org_prefix"),
        HumanTask.status.in_(bindparam("statuses", ["open", "claimed"], expanding=True)),
        HumanTask.id >= bindparam("min_id"), HumanTask.due_at <= bindparam("before")).order_by(HumanTask.id))
    locked = _TASK_WITH_VERSION.statement.where(prefix(HumanTask.org_path, "/C01/", "org_prefix"))
    if ON_POSTGRES:
        locked = locked.with_for_update(of=HumanTask)
    with app.app_context():
        _inst_id, task_ids = _seed(db.session(), tasks=2)
        for statement, params, rows in ((stmt, {"min_id": 0, "before": _AT}, 2), (locked, {"task_id": task_ids[1]}, 1)):
            with db.unit_of_work() as s:
                s.connection()          # SQLite's BEGIN IMMEDIATE before either
                with statements_sent() as by_session:
                    expected = [tuple(_columns(v) if isinstance(v, HumanTask) else v for v in r)
                                for r in s.execute(statement, params)]
            db.remove_session()         # the hot read loads the task anew
            with db.unit_of_work() as s:
                s.connection()
                with statements_sent() as by_hot:
                    got = [tuple(_columns(v) if isinstance(v, HumanTask) else v for v in r)
                           for r in HotSelect(statement).all(s, params)]
            assert got == expected and len(got) == rows
            assert by_hot == by_session and len(by_hot) == 1


def test_scalar_one_or_none_reads_one_value_or_refuses_many(app):
    stmt = select(HumanTask.name).where(HumanTask.instance_id == bindparam("i")).order_by(HumanTask.id)
    with app.app_context():
        inst_id, _ids = _seed(db.session(), tasks=2)
        with db.unit_of_work() as s:
            hot = HotSelect(stmt)
            assert hot.scalar_one_or_none(s, {"i": -1}) is None
            assert hot.first(s, {"i": inst_id}) == ("任务0",)
            assert hot.first(s, {"i": -1}) is None
            with pytest.raises(MultipleResultsFound):
                hot.scalar_one_or_none(s, {"i": inst_id})


# -- objects ----------------------------------------------------------------------------------------------------------

def test_an_entity_is_held_as_the_orm_loads_it(app):
    """Clean, persistent, in the identity map (a later get sends nothing), every column as the ORM loads it."""
    with app.app_context():
        inst_id, [task_id] = _seed(db.session())
        with db.unit_of_work() as s:
            by_orm = _columns(s.execute(_TASK_WITH_VERSION.statement, {"task_id": task_id}).scalar_one())
        db.remove_session()
        with db.unit_of_work() as s:
            task, version_id = _TASK_WITH_VERSION.first(s, {"task_id": task_id})
            state = inspect(task)
            assert state.persistent and not state.modified and task not in s.dirty and not s.new
            with statements_sent() as later:
                assert s.get(HumanTask, task_id) is task
            assert later == []
            assert _columns(task) == by_orm and task.due_at.tzinfo is not None
            assert version_id == s.get(ProcessInstance, inst_id).process_version_id
            assert _TASK_WITH_VERSION.first(s, {"task_id": -1}) is None


def test_a_change_after_a_hot_read_is_written_at_the_commit(app):
    with app.app_context():
        _inst_id, [task_id] = _seed(db.session())
        with db.unit_of_work() as s:
            task, _v = _TASK_WITH_VERSION.first(s, {"task_id": task_id})
            task.draft = {"comment": "半成品"}
            task.data = {**task.data, "amount": 200}
            assert inspect(task).modified and task in s.dirty
        db.remove_session()
        with db.unit_of_work() as s:
            again = s.get(HumanTask, task_id)
            assert again.draft == {"comment": "半成品"} and again.data == {"amount": 200, "注": "x"}


def test_rows_of_one_identity_are_one_object(app):
    stmt = (select(HumanTask, ProcessVersion.version).join(ProcessVersion, ProcessVersion.process_id ==
                                                            HumanTask.process_id)
            .where(HumanTask.id == bindparam("task_id")).order_by(ProcessVersion.version))
    with app.app_context():
        _inst_id, [task_id] = _seed(db.session(), versions=2)
        with db.unit_of_work() as s:
            (first, one), (second, two) = HotSelect(stmt).all(s, {"task_id": task_id})
            assert first is second and (one, two) == (1, 2)


class _Mapped(DeclarativeBase):
    """Classes of this module only, mapped to the workflow tables: a deferred column, a lazy relationship."""


class _Instance(_Mapped):
    __table__ = _INSTANCES


class _Task(_Mapped):
    __table__ = _TASKS
    instructions: Mapped[str | None] = deferred(_TASKS.c.instructions)
    instance: Mapped[_Instance] = relationship(lazy="select", viewonly=True)


class _EagerTask(_Mapped):
    __table__ = _TASKS
    instance: Mapped[_Instance] = relationship(lazy="selectin", viewonly=True)


def test_unselected_columns_and_relationships_load_on_access(app):
    with app.app_context():
        inst_id, [task_id] = _seed(db.session())
        with db.unit_of_work() as s:
            task = HotSelect(select(_Task).where(_Task.id == bindparam("i"))).scalar_one_or_none(s, {"i": task_id})
            assert "instructions" not in task.__dict__ and "instance" not in task.__dict__
            assert task.instructions == "读我"
            assert task.instance.id == inst_id and task.instance.resident_name == "张三"
            assert not inspect(task).modified


def test_what_the_orm_loads_beyond_columns_is_refused(app):
    """Eager relationships, loader options, a second entity: only the ORM loads those."""
    with app.app_context(), db.unit_of_work() as s:
        for stmt in (select(_EagerTask), select(HumanTask).options(defer(HumanTask.data)),
                     select(HumanTask, ProcessInstance).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)):
            if db.is_postgres():
                with pytest.raises(ValueError):
                    HotSelect(stmt).all(s, {})
            else:       # the session executes it
                assert HotSelect(stmt).all(s, {}) == []


@pytest.mark.parametrize("populate_existing", [True, False])
def test_an_object_the_session_holds_is_left_to_the_orm(app, populate_existing):
    """The session already holds the task, with a change not yet written, and its row changed meanwhile: the hot read
    answers as the ORM does (populate_existing: the row's values, the pending change dropped; else: the object as the
    session holds it)."""
    stmt = select(HumanTask).where(HumanTask.id == bindparam("task_id"))
    if populate_existing:
        stmt = stmt.execution_options(populate_existing=True)
    outcomes = []
    with app.app_context():
        _inst_id, [task_id] = _seed(db.session())
        for read in (lambda s: s.execute(stmt, {"task_id": task_id}).scalar_one(),
                     lambda s: HotSelect(stmt).scalar_one_or_none(s, {"task_id": task_id})):
            with db.unit_of_work() as s:
                held = s.get(HumanTask, task_id)
                held.priority = 1
                s.execute(update(_TASKS).where(_TASKS.c.id == task_id).values(name="改名"))
                with s.no_autoflush:
                    got = read(s)
                assert got is held
                outcomes.append((_columns(got), inspect(got).modified))
                s.rollback()
            db.remove_session()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0]["name"] == ("改名" if populate_existing else "任务0")


def test_load_listeners_get_the_orm_load(app):
    loaded = []

    def on_load(target, _context):
        loaded.append(target.id)
    with app.app_context():
        _inst_id, [task_id] = _seed(db.session())
        event.listen(_Task, "load", on_load)
        try:
            with db.unit_of_work() as s:
                HotSelect(select(_Task).where(_Task.id == bindparam("i"))).first(s, {"i": task_id})
        finally:
            event.remove(_Task, "load", on_load)
    assert loaded == [task_id]


def test_an_orm_read_flushes_first_unless_the_session_says_not_to(app):
    orm = HotSelect(select(ProcessVersion.id).where(ProcessVersion.process_id == bindparam("p")))
    core = HotSelect(select(cast(Table, ProcessVersion.__table__).c.id).where(
        cast(Table, ProcessVersion.__table__).c.process_id == bindparam("p")))
    with app.app_context(), db.unit_of_work() as s:
        s.add(ProcessVersion(process_id="new", version=1, name="n", file_name="n.bpmn", content_hash="h", bpmn_xml="",
                             spec_json={}, forms={}, meta={}, deployed_at=_AT, deployed_by="t"))
        with s.no_autoflush:
            assert orm.all(s, {"p": "new"}) == [] and s.new
        assert core.all(s, {"p": "new"}) == [] and s.new        # a Core statement: the session does not flush
        assert len(orm.all(s, {"p": "new"})) == 1 and not s.new
        s.rollback()


# -- how it runs ------------------------------------------------------------------------------------------------------

def test_listeners_see_the_read_and_only_sqlite_runs_it_through_the_session(app):
    orm_executions: list[Any] = []

    def executed(state) -> None:
        orm_executions.append(state)
    with app.app_context():
        _inst_id, [task_id] = _seed(db.session())
        event.listen(Session, "do_orm_execute", executed)
        try:
            with db.unit_of_work() as s, statements_sent() as seen:
                _TASK_WITH_VERSION.first(s, {"task_id": task_id})
        finally:
            event.remove(Session, "do_orm_execute", executed)
    assert [" ".join(q.split()[:2]) for q in seen if q.startswith("SELECT")] == ["SELECT human_tasks.id,"]
    assert len(orm_executions) == (0 if ON_POSTGRES else 1)


@postgres_only
def test_parameters_must_feed_binds_sent_as_parameters(app):
    """A value the SQL renders inline is the statement's own, never a parameter of the call; a name no bind takes is a
    mistake."""
    with app.app_context(), db.unit_of_work() as s:
        with pytest.raises(ValueError):
            HotSelect(select(HumanTask.id).where(prefix(HumanTask.org_path, "/C01/", "p"))).all(s, {"p": "/C02/%"})
        with pytest.raises(ValueError):
            HotSelect(select(HumanTask.id).where(HumanTask.id == bindparam("i"))).all(s, {"i": 1, "j": 2})


def test_parameters_named_inline_are_rendered_from_the_calls_values_as_the_session_renders_them(app):
    """`inline` names: the SQL renders the call's value (a literal_execute prefix, an expanding list), the text the
    session sends for that value, each value its own plan; any other parameter is bound."""
    stmt = (select(HumanTask.id).where(prefix(HumanTask.org_path, "/-/", "org_prefix"),
                                       HumanTask.name.in_(bindparam("names", ["-"], expanding=True)),
                                       HumanTask.id >= bindparam("min_id")).order_by(HumanTask.id))
    hot = HotSelect(stmt, inline=frozenset(("org_prefix", "names")))
    with app.app_context():
        _inst_id, task_ids = _seed(db.session(), tasks=3)
        for values, rows in (({"org_prefix": "/C01/%", "names": ["任务0", "任务2"]}, task_ids[::2]),
                             ({"org_prefix": "/C02/%", "names": ["任务0"]}, []),
                             ({"org_prefix": "/C01/C01T01/%", "names": ["任务1"]}, task_ids[1:2]),
                             ({"org_prefix": "/C01/%", "names": ["任务0", "任务2"]}, task_ids[::2])):
            params = {**values, "min_id": 0}
            with db.unit_of_work() as s:
                s.connection()
                with statements_sent() as by_session:
                    expected = [tuple(r) for r in s.execute(stmt, params)]
                with statements_sent() as by_hot:
                    got = hot.all(s, params)
            assert got == expected == [(i,) for i in rows]
            assert by_hot == by_session and values["org_prefix"] in by_hot[0].replace("%%", "%")


@postgres_only
def test_errors_are_sqlalchemys_and_a_lock_timeout_an_operational_error(app):
    with app.app_context():
        inst_id, _ids = _seed(db.session())
        with db.unit_of_work() as s, pytest.raises(DataError):
            HotSelect(select(text("1 / 0")).where(bindparam("x") == 1)).all(s, {"x": 1})
        locking = HotSelect(select(ProcessInstance).where(
            ProcessInstance.id == bindparam("i"), text("set_config('lock_timeout', '50ms', true) IS NOT NULL"))
            .with_for_update())
        holder = create_engine(db.engine().url)
        try:
            with holder.connect() as other:
                other.execute(select(_INSTANCES.c.id).where(_INSTANCES.c.id == inst_id).with_for_update())
                with pytest.raises(OperationalError), db.unit_of_work() as s:
                    locking.scalar_one_or_none(s, {"i": inst_id})
                other.rollback()
        finally:
            holder.dispose()
        db.remove_session()
        with db.unit_of_work() as s:
            assert locking.scalar_one_or_none(s, {"i": inst_id}).id == inst_id


@postgres_only
def test_a_dropped_connection_is_invalidated_and_the_next_transaction_reconnects(app):
    with app.app_context():
        _inst_id, [task_id] = _seed(db.session())
        with pytest.raises(OperationalError) as raised, db.unit_of_work() as s:
            pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
            with db.engine().connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            _TASK_WITH_VERSION.first(s, {"task_id": task_id})
        assert raised.value.connection_invalidated
        db.remove_session()
        with db.unit_of_work() as s:
            assert _TASK_WITH_VERSION.first(s, {"task_id": task_id})[0].id == task_id

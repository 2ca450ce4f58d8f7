"""Batch starts (issue 23.3): instances started as one set operation are the rows a single start writes, a chunk
re-run starts nothing twice, a bad item fails alone and is reported, and a batch-started task completes through the
API like any other."""
from __future__ import annotations

import contextlib
from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.core import clock, db, jsonio
from tests.test_follow_up_support import (
    complete,
    deploy_care_models,
    htn_visit,
    local_today,
    make_resident,
    one_task,
    plan_in_force,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
    tick,
)

VOLATILE = ("visit_id", "schedule_id", "business_key", "resident_id")


def _due_visits(app, residents: list[int], *, risk="HIGH", disease="htn") -> list[int]:
    """One due schedule per resident and its visit row (the set-based generation), no instance yet."""
    from app.follow_up import scheduling
    with app.app_context(), db.unit_of_work() as s:
        due = (clock.today() - timedelta(days=1)).isoformat()
        for rid in residents:
            s.execute(text("INSERT INTO follow_up_schedules (resident_id, disease, risk_level, org_code, org_path, "
                           "interval_days, next_due_on, consecutive_uncontrolled, cycle_no, status, updated_at) "
                           "VALUES (:r, :d, :risk, 'C01T01V01', '/C01/C01T01/C01T01V01/', 90, :due, 0, 0, "
                           "'active', :now)"), {"r": rid, "d": disease, "risk": risk, "due": due, "now": clock.now()})
    with app.app_context():
        scheduling.generate_due_cycles()
        return scheduling.pending_visit_ids()


def _norm(value):
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _picture(s, instance_id: int) -> dict:
    """What an instance looks like to every reader, without its ids."""
    from app.workflows.models import HumanTask, ProcessEvent, ProcessInstance, Timer
    inst = s.get(ProcessInstance, instance_id)
    tasks = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
    events = s.scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id)
                       .order_by(ProcessEvent.id)).all()
    timers = s.scalars(select(Timer).where(Timer.instance_id == instance_id)).all()
    return {
        "instance": {k: getattr(inst, k) for k in ("process_id", "version", "status", "resident_name", "org_code",
                                                   "org_path", "started_by", "engine_format", "decision_versions",
                                                   "diagram", "next_timer_at", "waiting_messages", "error")},
        "tasks": [{k: _norm(getattr(t, k)) for k in (
            "element_id", "name", "lane", "role", "status", "priority", "due_at", "org_code", "org_path",
            "resident_name", "village_code", "disease", "risk_level", "form_key", "started_by", "instructions",
            "assignee_id", "data", "process_version_id")} for t in tasks],
        "events": [(e.type, e.element_id, e.actor, _norm(e.data)) for e in events],
        "timers": [(t.element_id, t.fire_at) for t in timers],
        "state_tasks": sorted(t["task_spec"] for t in inst.state["tasks"].values()) if "tasks" in inst.state else None,
    }



@contextlib.contextmanager
def _watching(on_persistent, on_statement):
    """Listen to objects becoming persistent and to each SQL statement for the block."""
    sa_event.listen(Session, "pending_to_persistent", on_persistent)
    sa_event.listen(db.engine(), "before_cursor_execute", on_statement)
    try:
        yield
    finally:
        sa_event.remove(Session, "pending_to_persistent", on_persistent)
        sa_event.remove(db.engine(), "before_cursor_execute", on_statement)

def test_batch_started_instances_are_the_rows_a_single_start_writes(app, county, login_as):
    from app.follow_up import scheduling
    from app.follow_up.models import FollowUpVisit
    from app.notifications.models import Notification
    from app.workflows import batch
    from app.workflows.models import BatchStart
    deploy_care_models(app)
    village = login_as("village_doctor", org="C01T01V01")
    residents = [make_resident(app, seed=i) for i in range(6)]     # same name, village and birth date
    visits = _due_visits(app, residents)
    single, batched = visits[:3], visits[3:]
    with app.app_context():
        for v in single:
            scheduling.start_cycle(v)
        batch_id = batch.create_batch("follow_up", "follow_up", [
            batch.StartItem(ref=str(v), business_key=f"follow_up:{v}") for v in batched], chunk_size=2)
    with app.app_context():
        s = db.session()
        row = s.get(BatchStart, batch_id)
        assert (row.status, row.total, row.started, row.skipped, row.failed) == ("done", 3, 3, 0, 0)
        by_visit = {v.id: v for v in s.scalars(select(FollowUpVisit))}
        assert all(by_visit[v].status == "started" and by_visit[v].instance_id for v in visits)
        pictures = [_picture(s, by_visit[v].instance_id) for v in visits]
        announced = [(n.kind, n.title, n.body) for n in s.scalars(select(Notification).where(
            Notification.user_id == village.user.id).order_by(Notification.task_id))]
    assert len(announced) == 6 and len(set(announced)) == 1     # each new task announced once, the same way
    assert pictures[0]["tasks"] and pictures[0]["events"]
    assert pictures[0]["tasks"][0]["element_id"] == "record_htn_visit_high_risk"
    for p in pictures[1:]:
        assert p == pictures[0]


def test_rerunning_a_chunk_or_a_single_start_starts_nothing_twice(app, county):
    from app.follow_up import scheduling
    from app.workflows import batch
    from app.workflows.models import BatchStart, BatchStartItem, ProcessInstance
    deploy_care_models(app)
    residents = [make_resident(app, seed=i) for i in range(4)]
    visits = _due_visits(app, residents)
    with app.app_context():
        scheduling.start_cycle(visits[0])              # started singly before the batch reaches it
        batch_id = batch.create_batch("follow_up", "follow_up", [
            batch.StartItem(ref=str(v), business_key=f"follow_up:{v}") for v in visits], run=False)
        first = batch.run_chunk(batch_id, 1, 4)
        again = batch.run_chunk(batch_id, 1, 4)        # a chunk job delivered twice
        assert batch.resume(batch_id) == 0             # nothing pending
        assert scheduling.start_cycle(visits[1]) is None
    assert (len(first.started), len(first.skipped), len(first.failed)) == (3, 1, 0)
    assert (again.started, again.skipped, again.failed) == ({}, {}, {})
    with app.app_context():
        s = db.session()
        assert len(s.scalars(select(ProcessInstance.id)).all()) == 4
        row = s.get(BatchStart, batch_id)
        assert (row.status, row.started, row.skipped) == ("done", 3, 1)
        statuses = sorted(s.scalars(select(BatchStartItem.status).where(BatchStartItem.batch_id == batch_id)))
        assert statuses == ["skipped", "started", "started", "started"]

    # a generic batch with its own data: the business key already started is skipped, not started again
    with app.app_context():
        again_id = batch.create_batch("manual", "follow_up", [
            batch.StartItem(ref="x", business_key=f"follow_up:{visits[2]}", data={"disease": "htn"})])
        assert batch.progress(again_id)["skipped"] == 1


def test_a_bad_item_fails_alone_and_is_reported(app, county, login_as):
    from app.workflows import batch
    from app.workflows.models import ProcessInstance
    deploy_care_models(app)
    resident = make_resident(app)
    good = {"resident_id": resident, "disease": "htn", "risk_level": "HIGH", "high_risk": True, "cycle_no": 1,
            "due_on": "2026-01-10", "due_at": "2026-01-10T15:59:59+00:00", "plan": {}, "last": {}, "device": {},
            "age": 70, "prev_uncontrolled": False, "visit_id": 1}
    script_error = {**good, "plan": "not a plan"}        # prepare_cycle calls plan.get(): an incident, as singly
    data = {"1": good, "2": script_error, "3": good, "4": {**good, "blob": object()}}   # 4: the engine start raises

    def prepare(s, items):          # a capability's source: data computed when the chunk runs, or a reason
        return {i.ref: "居民档案不存在" if i.ref == "5" else
                batch.StartItem(ref=i.ref, business_key=i.business_key, data=data[i.ref], resident_id=resident)
                for i in items}
    batch.register_source("test_cohort", prepare=prepare)
    admin = login_as("county_admin", org="C01")
    try:
        with app.app_context():
            batch_id = batch.create_batch("test_cohort", "follow_up", [
                batch.StartItem(ref=r, business_key=f"cohort:{r}") for r in ("1", "2", "3", "4", "5")],
                chunk_size=10)
    finally:
        batch._sources.pop("test_cohort")
    told = [n for n in admin.get("/api/v1/notifications").json["items"] if n["kind"] == "batch_failures"]
    assert len(told) == 1 and "未能启动" in told[0]["title"]
    assert "follow_up" not in told[0]["title"] + told[0]["body"] and "/api/" not in told[0]["body"]   # words, no codes
    resp = admin.get(f"/api/v1/batches/{batch_id}")
    assert resp.status_code == 200, resp.json
    p = resp.json
    assert (p["status"], p["total"], p["started"], p["failed"], p["pending"]) == ("done_with_failures", 5, 2, 3, 0)
    failures = {f["ref"]: f for f in p["failures"]}
    assert "prepare_cycle" in failures["2"]["error"] and failures["2"]["instance_id"]
    assert failures["4"]["error"] and failures["4"]["instance_id"] is None
    assert failures["5"]["error"] == "居民档案不存在"
    assert admin.get("/api/v1/batches").json["items"][0]["id"] == batch_id
    assert login_as("village_doctor", org="C01T01V01").get(f"/api/v1/batches/{batch_id}").status_code == 403
    with app.app_context():
        rows = dict(db.session().execute(select(ProcessInstance.business_key, ProcessInstance.status)).all())
    assert rows == {"cohort:1": "waiting", "cohort:2": "error", "cohort:3": "waiting"}


def test_the_scheduler_starts_due_cycles_as_a_batch_and_its_task_completes_through_the_api(app, login_as, resident):
    from app.follow_up.models import FollowUpVisit
    from app.workflows.models import BatchStart
    done = plan_in_force(app, login_as, resident)
    tick(app, 24)                                        # 30-day plan: generated 7 days ahead
    with app.app_context():
        s = db.session()
        row = s.scalars(select(BatchStart)).one()
        assert (row.kind, row.status, row.total, row.started) == ("follow_up", "done", 1, 1)
    village = done["village"]
    task = one_task(village, "record_htn_visit_high_risk")
    assert village.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    complete(village, task, htn_visit(local_today(app), 128, 82))
    with app.app_context():
        visit = db.session().scalars(select(FollowUpVisit)).one()
        assert (visit.status, visit.classification) == ("done", "控制满意")


def test_the_page_reads_failed_items_by_the_residents_names_in_words(app, county, login_as):
    """批量启动: the batch says its process and source in words, each failed item names its resident (a follow-up
    cycle's item is its visit) with the reason in words; only the watchers read names, in their scope."""
    from app.follow_up.models import FollowUpVisit
    from app.residents.models import Resident
    from app.workflows import batch
    deploy_care_models(app)
    residents = [make_resident(app, seed=i) for i in range(3)]
    visits = _due_visits(app, residents)
    with app.app_context(), db.unit_of_work() as s:   # the second visit's resident: a name to find on the page
        rid = s.get(FollowUpVisit, visits[1]).resident_id
        s.get(Resident, rid).name = "王秀英"
    real = batch._sources["follow_up"].prepare

    def prepare(s, items):      # the second visit cannot start: its data raise in the engine
        out = dict(real(s, items))
        found = out.get(str(visits[1]))
        if isinstance(found, batch.StartItem):
            found.data = {**(found.data or {}), "blob": object()}
        return out
    batch._sources["follow_up"].prepare = prepare
    admin = login_as("county_admin", org="C01")
    try:
        with app.app_context():
            batch_id = batch.create_batch("follow_up", "follow_up", [
                batch.StartItem(ref=str(v), business_key=f"follow_up:{v}") for v in visits], chunk_size=10)
    finally:
        batch._sources["follow_up"].prepare = real
    head = admin.get(f"/api/v1/batches/{batch_id}").json
    assert (head["source_name"], head["resumable"], head["failed"], head["pending"]) == ("随访周期", False, 1, 0)
    assert head["process_name"] and head["process_name"] != "follow_up"
    assert admin.get("/api/v1/batches").json["items"][0]["source_name"] == "随访周期"
    resp = admin.get(f"/api/v1/batches/{batch_id}/failures")
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert (body["failed"], body["more"], len(body["items"])) == (1, 0, 1)
    item = body["items"][0]
    assert (item["resident_name"], item["resident_id"], item["in_scope"]) == ("王秀英", rid, True)
    assert item["reason"].startswith("未能启动") and "Error" not in item["reason"]
    assert "TypeError" in item["detail"] or "Error" in item["detail"]
    told = [n for n in admin.get("/api/v1/notifications").json["items"] if n["kind"] == "batch_failures"]
    assert told[0]["link"] == f"/batches/{batch_id}" and "批量启动" in told[0]["body"]
    assert "系统管理员" not in told[0]["body"]

    # the watchers are county-wide; a reader scoped to another township counts the failure without the name
    from app.auth.principal import Principal
    from app.processes import batches
    with app.app_context():
        other = batches.failures(Principal(user_id=0, username="t2", roles=frozenset({"township_doctor"}),
                                           org_code="C01T02", org_path="/C01/C01T02/"), batch_id)["items"][0]
    assert (other["resident_name"], other["resident_id"], other["in_scope"]) == (None, None, False)
    assert login_as("supervisor", org="C01").get(f"/api/v1/batches/{batch_id}/failures").json["items"][0][
        "resident_name"] == "王秀英"
    # the modelers count batches but read no names; the doctors neither
    assert login_as("process_owner", org="C01").get(f"/api/v1/batches/{batch_id}/failures").status_code == 403
    assert login_as("village_doctor", org="C01T01V01").get(f"/api/v1/batches/{batch_id}/failures").status_code == 403
    assert admin.get("/api/v1/batches/999999/failures").status_code == 404


def test_reasons_in_words():
    from app.processes.batches import NOT_STARTED, STARTED_IN_ERROR, reason_in_words
    assert reason_in_words("居民档案不存在", started=False) == "居民档案不存在"
    assert reason_in_words("TypeError: Object of type object is not JSON serializable", started=False) == NOT_STARTED
    assert reason_in_words("ValueError: 数据错误", started=False) == NOT_STARTED
    assert reason_in_words(None, started=False) == NOT_STARTED
    assert reason_in_words("instance 3 error at x: boom", started=True) == STARTED_IN_ERROR


def test_a_chunk_asks_the_script_pool_once_and_a_failing_or_runaway_script_fails_its_item_alone(app, county,
                                                                                             login_as, monkeypatch):
    """With process isolation (the production default) a chunk's script tasks go to the pool in one request, not
    one per instance; a script that raises or runs past its time limit fails that item with its reason (the
    instance stops at an incident, as a single start's would) and the others of the chunk start."""
    import io

    from app.engine import isolation
    from app.workflows import batch
    from app.workflows.limits import limits
    from app.workflows.models import ProcessInstance
    from tests.bpmn_builder import chain, definitions, process, script, user
    monkeypatch.setattr(limits, "script_isolation", "process")
    monkeypatch.setattr(limits, "script_timeout_s", 1.0)
    code = ("y = 1\nif mode == 'slow':\n    x = 10**20000\n    for i in range(16):\n        x = x * x\n"
            "if mode == 'bad':\n    y = 1 // 0")
    xml = definitions(process("scripted_batch", chain(script("prepare", code), user("visit"))))
    owner = login_as("process_owner")
    resp = owner.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(xml), "scripted_batch.bpmn")]},
                      content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    asked = {"many": 0, "one": 0}
    real_many, real_run = isolation.ScriptPool.run_many, isolation.ScriptPool.run

    def run_many(self, requests):
        asked["many"] += 1
        return real_many(self, requests)

    def run(self, *args, **kwargs):
        asked["one"] += 1
        return real_run(self, *args, **kwargs)
    monkeypatch.setattr(isolation.ScriptPool, "run_many", run_many)
    monkeypatch.setattr(isolation.ScriptPool, "run", run)
    modes = {"1": "ok", "2": "bad", "3": "ok", "4": "slow", "5": "ok", "6": "ok"}
    with app.app_context():
        batch_id = batch.create_batch("manual", "scripted_batch", [
            batch.StartItem(ref=r, business_key=f"sb:{r}", data={"mode": m}, org_code="C01")
            for r, m in modes.items()], chunk_size=10)
        p = batch.progress(batch_id)
        rows = dict(db.session().execute(select(ProcessInstance.business_key, ProcessInstance.status)).all())
    assert asked == {"many": 1, "one": 0}
    assert (p["status"], p["total"], p["started"], p["failed"], p["pending"]) == ("done_with_failures", 6, 4, 2, 0)
    failures = {f["ref"]: f["error"] for f in p["failures"]}
    assert set(failures) == {"2", "4"}
    assert "ZeroDivisionError" in failures["2"] or "division" in failures["2"]
    assert "prepare" in failures["4"] and ("1 s" in failures["4"] or "stopped" in failures["4"])
    assert rows == {"sb:1": "waiting", "sb:2": "error", "sb:3": "waiting", "sb:4": "error", "sb:5": "waiting",
                    "sb:6": "waiting"}


def test_a_chunk_writes_its_history_as_plain_rows_in_one_insert(app, county, monkeypatch):
    """The history events of a chunk skip the ORM's unit of work (no ProcessEvent object is flushed) and are
    the same rows, in the same order, as a single start's (the row-for-row test above compares their content):
    one COPY on PostgreSQL, one multi-row INSERT elsewhere."""

    from app.workflows import batch, runner
    from app.workflows.models import ProcessEvent, ProcessInstance
    deploy_care_models(app)
    residents = [make_resident(app, seed=i) for i in range(3)]
    visits = _due_visits(app, residents)
    flushed: list = []
    statements: list[str] = []

    def seen(session, obj):
        if isinstance(obj, ProcessEvent):
            flushed.append(obj)

    def sql(conn, cursor, statement, *args):
        if "INSERT INTO process_events" in statement:
            statements.append(statement)
    copied = runner.copy_rows

    def copy(session, table, columns, rows):
        statements.append(f"COPY {table.name}")
        copied(session, table, columns, rows)
    monkeypatch.setattr(runner, "copy_rows", copy)
    with _watching(seen, sql), app.app_context():
        batch_id = batch.create_batch("follow_up", "follow_up", [
            batch.StartItem(ref=str(v), business_key=f"follow_up:{v}") for v in visits], chunk_size=10)
    with app.app_context():
        postgres = db.is_postgres()
        assert batch.progress(batch_id)["started"] == 3
        s = db.session()
        ids = list(s.scalars(select(ProcessInstance.id).order_by(ProcessInstance.id)))
        types = [list(s.scalars(select(ProcessEvent.type).where(ProcessEvent.instance_id == i)
                                .order_by(ProcessEvent.id))) for i in ids]
    assert flushed == [] and len(statements) == 1
    assert statements[0].startswith("COPY process_events" if postgres else "INSERT INTO process_events")
    assert len(ids) == 3 and types[0][0] == "instance_started" and len(types[0]) > 1
    assert types == [types[0]] * 3


def test_a_chunk_reads_each_organisation_once_not_once_per_task(app, county):
    """The task enrichers look up the task's organisation (the care-plan routing asks its level); with `find_org`
    (the session's identity map holds rows weakly) every task read its organisation again: one SELECT per start.
    The routing reads the per-worker `org_facts` now, as the runner does. The chunk's instances are in one village."""
    from sqlalchemy import event as sa_event

    from app.workflows import batch
    from app.workflows.models import HumanTask
    deploy_care_models(app)
    residents = [make_resident(app, seed=i) for i in range(5)]
    visits = _due_visits(app, residents)
    reads: list[str] = []
    sent: list[str] = []

    def sql(conn, cursor, statement, *args):
        sent.append(statement)
        if "FROM organizations" in statement:
            reads.append(statement)
    sa_event.listen(db.engine(), "before_cursor_execute", sql)
    try:
        with app.app_context():
            batch_id = batch.create_batch("follow_up", "follow_up", [
                batch.StartItem(ref=str(v), business_key=f"follow_up:{v}") for v in visits], chunk_size=10)
    finally:
        sa_event.remove(db.engine(), "before_cursor_execute", sql)
    with app.app_context():
        assert batch.progress(batch_id)["started"] == 5
        roles = list(db.session().scalars(select(HumanTask.role).order_by(HumanTask.id)))
    assert roles == ["village_doctor"] * 5          # the enricher still ran (a village: no re-routing)
    # fewer than one per start (7 before: one per task and 2 more; the new tasks' announcements read the cached
    # tree too since 2026-12-05 evening, so none may be left)
    assert sent and len(reads) < 5, reads


def test_a_chunk_writes_its_instances_tasks_and_timers_in_one_insert_each_as_single_starts_would(app, county,
                                                                                                  deploy_models,
                                                                                                  monkeypatch):
    """Instances, open tasks and timers of a chunk skip the ORM's unit of work (nothing of theirs is flushed): one
    COPY per table on PostgreSQL (one multi-row INSERT elsewhere), with the columns a single start writes (defaults
    included, JSON null kept apart from SQL NULL), each state stored on PostgreSQL as the text the engine wrote it to
    (orjson's, issue 23.2), not serialized again."""
    import json

    import orjson

    from app.workflows import batch, runner
    from app.workflows.models import HumanTask, ProcessInstance, Timer
    deploy_care_models(app)
    deploy_models("ninety_day_review.bpmn", with_dmn=False)
    residents = [make_resident(app, seed=i) for i in range(3)]
    visits = _due_visits(app, residents)
    flushed: list = []
    inserts: dict[str, int] = {}

    def seen(session, obj):
        if isinstance(obj, (ProcessInstance, HumanTask, Timer)):
            flushed.append(obj)

    def sql(conn, cursor, statement, *args):
        for table in ("process_instances", "human_tasks", "timers"):
            if f"INSERT INTO {table} " in statement:
                inserts[table] = inserts.get(table, 0) + 1
    copied = batch.copy_rows

    def copy(session, table, columns, rows):
        inserts[f"COPY {table.name}"] = inserts.get(f"COPY {table.name}", 0) + 1
        copied(session, table, columns, rows)
    monkeypatch.setattr(batch, "copy_rows", copy)
    with _watching(seen, sql), app.app_context():
        follow_up = batch.create_batch("follow_up", "follow_up", [
            batch.StartItem(ref=str(v), business_key=f"follow_up:{v}") for v in visits], chunk_size=10)
        timed = batch.create_batch("manual", "ninety_day_review", [
            batch.StartItem(ref=f"r{n}", business_key=f"review:{n}", data={"n": n}) for n in range(3)],
            chunk_size=10)
    with app.app_context():
        postgres = db.is_postgres()
    assert flushed == []
    # SQLite cannot return the ids of a multi-row INSERT in order: one statement per instance there (as the ORM did)
    assert inserts == ({"COPY process_instances": 2, "COPY human_tasks": 1, "COPY timers": 1} if postgres else
                       {"process_instances": 6, "human_tasks": 1, "timers": 1})
    with app.app_context():
        assert batch.progress(follow_up)["started"] == 3 and batch.progress(timed)["started"] == 3
        single = runner.start_instance("ninety_day_review", data={"n": 9}, business_key="review:9",
                                       actor=runner.Actor("system"))
    columns = ("process_id", "version", "status", "resident_id", "resident_name", "org_code", "org_path",
               "engine_format", "lock_version", "decision_versions", "diagram", "error", "suspended_status",
               "waiting_messages", "result", "ended_at", "parent_instance_id")     # next_timer_at: now + 90 days
    with app.app_context():
        s = db.session()
        # how each column is stored, JSON null and SQL NULL told apart
        raw = {r[0]: r[1:] for r in s.execute(text(
            "SELECT business_key, error IS NULL, result IS NULL, CAST(error AS TEXT), CAST(result AS TEXT) "
            "FROM process_instances WHERE process_id = 'ninety_day_review'"))}
        rows = {i.business_key: i for i in s.scalars(select(ProcessInstance).where(
            ProcessInstance.process_id == "ninety_day_review"))}
        timers = {t.instance_id: (t.element_id, t.fire_at == i.next_timer_at) for t in s.scalars(select(Timer))
                  for i in [s.get(ProcessInstance, t.instance_id)]}
        pictures = {k: ({c: getattr(i, c) for c in columns}, raw[k], timers[i.id]) for k, i in rows.items()}
        stored = list(s.scalars(text("SELECT CAST(state AS TEXT) FROM process_instances")))
        # PostgreSQL: the engine's text as it is; SQLite: SQLAlchemy's JSON type serializes the value itself, with the
        # engine's serializer (`app.core.jsonio.db_dumps_text`)
        form = (lambda value: orjson.dumps(value).decode()) if postgres else jsonio.db_dumps_text
        assert len(stored) == 7 and all(saved == form(json.loads(saved)) for saved in stored)
        assert single.id in timers
        assert s.scalar(select(func.count()).select_from(HumanTask)) == 3
    assert [pictures[f"review:{n}"] for n in range(3)] == [pictures["review:9"]] * 3


def test_a_worker_warms_the_latest_versions_before_it_forks_its_jobs_and_a_failed_warm_up_is_no_error(app, county,
                                                                                                       monkeypatch):
    """`ygt worker` builds each latest version's setup (its decisions' registry, every DMN parsed) and spec objects
    before rq forks its job processes, which inherit them: a chunk's setup then builds nothing. The caches are keyed
    by immutable content, so a later deployment is looked up and built as before; a warm-up that fails is logged."""
    from app.engine import runtime
    from app.workflows import batch, decisions, deploy, runner
    deploy_care_models(app)
    with app.app_context():
        runtime._SPEC_CACHE.clear()
        decisions._registry_for.cache_clear()
        assert batch.warm_caches() >= 1
        built = decisions._registry_for.cache_info().misses
        setup = runner.start_setup(db.session(), "follow_up")
        assert setup.context.spec_key in runtime._SPEC_CACHE
        assert decisions._registry_for.cache_info().misses == built and built >= 1

        def down(_session):
            raise RuntimeError("database unreachable")
        monkeypatch.setattr(deploy, "latest_process_versions", down)
        assert batch.warm_caches() == 0

"""Persistence under real conditions: restarts, concurrent completions, competing schedulers."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from app.core import db
from app.core.errors import Conflict
from app.workflows import runner
from app.workflows.models import HumanTask, ProcessEvent, ProcessInstance, Timer
from tests.helpers import REPO

postgres_only = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                   reason="needs PostgreSQL (DATABASE_URL)")


def _open_task(app, instance_id):
    with app.app_context():
        return db.session().execute(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.status == "open")).scalar_one()


def test_state_survives_a_process_restart(app, settings, deploy_models):
    deploy_models("approval.bpmn", "approval")
    with app.app_context():
        inst = runner.start_instance("approval", actor=runner.Actor("tester"), org_code=None)
    script = (
        "import sys; from app import create_app; from app.config import Settings; "
        "from app.core import db; from sqlalchemy import select; "
        "from app.workflows import runner; from app.workflows.models import HumanTask; "
        f"app = create_app(Settings.from_env(data_dir={str(settings.data_dir)!r}, "
        f"database_url={settings.database_url!r}, jobs_mode='eager', scheduler_enabled=False)); "
        "ctx = app.app_context(); ctx.push(); "
        f"t = db.session().execute(select(HumanTask).where(HumanTask.instance_id == {inst.id}, "
        "HumanTask.status == 'open')).scalar_one(); "
        "runner.complete_human_task(t, {'amount': 500}, runner.Actor('other-process')); print('ok')")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False,
                         env={**os.environ, "TZ": "UTC"})
    assert out.returncode == 0, out.stderr
    task = _open_task(app, inst.id)
    assert task.element_id == "task_b"


def test_two_concurrent_completions_of_one_task_one_wins_the_other_gets_409(app, deploy_models):
    deploy_models("approval.bpmn", "approval")
    with app.app_context():
        inst = runner.start_instance("approval", actor=runner.Actor("tester"))
    task = _open_task(app, inst.id)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def complete(name):
        with app.app_context():
            barrier.wait()
            try:
                runner.complete_human_task(task, {"amount": 500}, runner.Actor(name))
                results.append("ok")
            except Conflict as exc:
                results.append(exc.code)
            finally:
                db.remove_session()
    threads = [threading.Thread(target=complete, args=(f"user{i}",)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) in (["ok", "task_already_completed"], ["ok", "version_conflict"])
    with app.app_context():
        completions = db.session().execute(select(func.count()).select_from(ProcessEvent).where(
            ProcessEvent.instance_id == inst.id, ProcessEvent.type == "task_completed")).scalar_one()
    assert completions == 1


def _due_timers(app, n):
    with app.app_context():
        ids = [runner.start_instance("short_timer", actor=runner.Actor("tester")).id for _ in range(n)]
        due = max(db.session().execute(select(Timer.fire_at)).scalars())
    time.sleep(max(0.0, due.timestamp() - time.time()) + 0.1)
    return ids


def test_a_due_timer_fires_and_the_instance_moves_on(app, deploy_models):
    from app import schedules
    deploy_models("short_timer.bpmn", with_dmn=False)
    [inst_id] = _due_timers(app, 1)
    with app.app_context():
        schedules.run_once()
        assert _open_task(app, inst_id).element_id == "after_timer"
        assert db.session().execute(select(func.count()).select_from(Timer)).scalar_one() == 0


@postgres_only
def test_two_schedulers_fire_each_due_timer_once(app, deploy_models):
    from app.workflows import jobs
    deploy_models("short_timer.bpmn", with_dmn=False)
    ids = _due_timers(app, 20)
    barrier = threading.Barrier(2)

    def sweep():
        with app.app_context():
            barrier.wait()
            jobs.enqueue_due_timers()
            db.remove_session()
    threads = [threading.Thread(target=sweep) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    with app.app_context():
        fired = dict(db.session().execute(select(ProcessEvent.instance_id, func.count()).where(
            ProcessEvent.type == "timer_fired").group_by(ProcessEvent.instance_id)).all())
        statuses = set(db.session().execute(select(ProcessInstance.status).where(
            ProcessInstance.id.in_(ids))).scalars())
    assert fired == {i: 1 for i in ids}
    assert statuses == {"waiting"}


@postgres_only
def test_only_one_scheduler_leads(app):
    from app.schedules import Leadership
    with app.app_context():
        first, second = Leadership(), Leadership()
        assert first.acquire() and not second.acquire()
        first.release()
        assert second.acquire()
        second.release()


def test_timers_follow_the_platform_clock(app, deploy_models):
    from datetime import timedelta

    from app import schedules
    from app.core import clock
    deploy_models("short_timer.bpmn", with_dmn=False)
    with app.app_context():
        inst = runner.start_instance("short_timer", actor=runner.Actor("tester"))
        clock.advance(timedelta(seconds=5))        # no sleeping: the fake clock moves past the 1 s timer
        schedules.run_once()
        assert _open_task(app, inst.id).element_id == "after_timer"


@postgres_only
def test_an_interactive_step_waits_briefly_for_a_locked_instance_then_answers_busy(app, deploy_models):
    """A step on an instance another transaction holds locked gives up after the interactive lock timeout (409
    instance_busy) instead of hanging; a worker's step (not interactive) sets no timeout; the timeout holds for the
    rest of the interactive transaction, as SET LOCAL does."""
    from sqlalchemy import text

    deploy_models("approval.bpmn", "approval")
    with app.app_context():
        inst = runner.start_instance("approval", actor=runner.Actor("tester"), org_code=None)
        with db.unit_of_work() as s:
            runner.suspend_instance(inst.id, runner.Actor("tester"))
            assert s.execute(text("SHOW lock_timeout")).scalar() == runner.INTERACTIVE_LOCK_TIMEOUT
        with db.unit_of_work() as s:
            runner.resume_instance(inst.id, runner.Actor("tester"))
        db.remove_session()
        with db.engine().connect() as holder:
            holder.execute(select(ProcessInstance.id).where(ProcessInstance.id == inst.id).with_for_update())
            with pytest.raises(runner.InstanceBusy):
                runner.suspend_instance(inst.id, runner.Actor("tester"))
            db.remove_session()
            holder.rollback()
        with db.unit_of_work() as s:
            runner.advance_instance(inst.id)             # a worker's step: no lock timeout of its own
            assert s.execute(text("SHOW lock_timeout")).scalar() != runner.INTERACTIVE_LOCK_TIMEOUT

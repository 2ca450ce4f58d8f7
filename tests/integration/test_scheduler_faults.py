"""Schedulers survive database faults and each other's death, and health tells a monitor when none is working.

Two real `ygt scheduler` processes (jobs run in their own thread, so no Redis is needed) on the test database.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, func, select, text

from app.workflows import health, runner
from app.workflows.models import HumanTask
from tests.processes import Proc, base_env, wait_for

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


@pytest.fixture()
def schedulers(app, settings, deploy_models, tmp_path):
    deploy_models("short_timer.bpmn", with_dmn=False)
    env = base_env(DATABASE_URL=settings.database_url, DATA_DIR=str(settings.data_dir), YGT_JOBS="thread",
                   YGT_SCHEDULER_HEARTBEAT_S="1")
    procs = [Proc(["scheduler"], env, tmp_path / f"scheduler{i}.log") for i in (1, 2)]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()


def _start_timers(app, n=3) -> list[int]:
    with app.app_context():
        return [runner.start_instance("short_timer", actor=runner.Actor("tester")).id for _ in range(n)]


def _fired(app, ids) -> int:
    with app.app_context():
        from app.core import db
        n = db.session().execute(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id.in_(ids), HumanTask.element_id == "after_timer")).scalar_one()
        db.session().rollback()
        return n


def _leader(client) -> str | None:
    return client.get("/healthz").get_json()["background"]["scheduler"]["leader"]


def _pid_of(holder: str) -> int:
    return int(holder.rsplit(":", 1)[1])


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_terminate_backend needs PostgreSQL")
def test_timers_keep_firing_after_the_database_drops_every_scheduler_connection(app, client, schedulers,
                                                                                  settings):
    assert wait_for(lambda: _leader(client) is not None, 20), schedulers[0].tail()
    first = _start_timers(app)
    assert wait_for(lambda: _fired(app, first) == 3, 30)
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND application_name = 'ygt-scheduler'")
                              ).scalar_one()
    admin.dispose()
    assert killed >= 2
    after = _start_timers(app)
    assert wait_for(lambda: _fired(app, after) == 3, 40), schedulers[0].tail() + schedulers[1].tail()
    assert all(p.alive() for p in schedulers)
    assert _leader(client) is not None


def test_a_killed_leader_is_replaced_within_seconds(app, client, schedulers):
    assert wait_for(lambda: _leader(client) is not None, 20), schedulers[0].tail()
    leader = _leader(client)
    victim = next(p for p in schedulers if p.pid == _pid_of(leader))
    victim.kill()
    assert wait_for(lambda: _leader(client) not in (None, leader), 15), \
        [p.tail() for p in schedulers]
    ids = _start_timers(app)
    assert wait_for(lambda: _fired(app, ids) == 3, 30)


def test_health_shows_a_dead_scheduler_and_readyz_fails(app, client, schedulers, monkeypatch):
    assert wait_for(lambda: _leader(client) is not None, 20), schedulers[0].tail()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    for p in schedulers:
        p.kill()
    monkeypatch.setattr(health, "STALE_S", 2.0)
    assert wait_for(lambda: client.get("/readyz").status_code == 503, 10)
    # a standby's last beat may outlive the leader's by a second ("no_leader"); then nobody beats at all
    assert wait_for(lambda: client.get("/healthz").get_json()["background"]["scheduler"]["state"] == "stale", 10)
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"                       # the web tier itself is alive: load balancers keep it
    assert body["background"]["scheduler"]["state"] == "stale"
    assert "scheduler: stale" in client.get("/readyz").get_json()["problems"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "ygt_scheduler_leaders 0.0" in metrics

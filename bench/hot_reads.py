"""CPU per call of the engine path's three hot reads (issue 23): the session's execution of each statement against
`app.core.hot_reads.HotSelect`, in one process on PostgreSQL, alternated in blocks (old new new old, three times);
each call in its own transaction and session, as a request makes it (psycopg's BEGIN included).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python bench/hot_reads.py [--calls 300]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_profile import setup  # bench/engine_profile.py, beside this script


def cases(token: str, instance_id: int, task_id: int) -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    """(old, new) per read: the statement through the session, the same statement as a hot read."""
    from sqlalchemy import bindparam, select

    from app.auth.services import principal_for_token
    from app.core.hot_reads import HotSelect
    from app.tasks import queries
    from app.workflows import runner, versions
    from app.workflows.models import HumanTask, ProcessInstance
    p = principal_for_token(token)
    assert p is not None
    task = (select(HumanTask, ProcessInstance.process_version_id)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.id == bindparam("task_id"), queries.visible(p))
            .execution_options(populate_existing=True).with_for_update(of=HumanTask))
    hot_task = HotSelect(task)
    lock, hot_lock = runner._LOCK_INSTANCE_BRIEFLY, runner._HOT_LOCK_INSTANCE_BRIEFLY
    latest, hot_latest = versions._LATEST_ID, versions._HOT_LATEST_ID
    by_task, by_instance, by_process = {"task_id": task_id}, {"instance_id": instance_id}, {"process_id": "approval"}
    return {
        "task_to_complete": (lambda s: s.execute(task, by_task).first(), lambda s: hot_task.first(s, by_task)),
        "runner._lock": (lambda s: s.execute(lock, by_instance).scalar_one_or_none(),
                         lambda s: hot_lock.scalar_one_or_none(s, by_instance)),
        "latest_version_id": (lambda s: s.execute(latest, by_process).scalar_one_or_none(),
                              lambda s: hot_latest.scalar_one_or_none(s, by_process)),
    }


def block(read: Callable[[Any], Any], calls: int) -> float:
    """Mean CPU µs of `read` over `calls` calls, each in a fresh session and transaction."""
    from app.core import db
    spent = 0.0
    for _ in range(calls):
        s = db.session()
        s.connection()
        t0 = time.process_time()
        found = read(s)
        spent += time.process_time() - t0
        assert found is not None
        del found
        s.rollback()
        db.remove_session()
    return spent / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    server = os.environ["DATABASE_URL"]
    from tests.conftest import _create_pg_database, _drop_pg_database
    url, name = _create_pg_database(server)
    try:
        app, token = setup(url)
        client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
        inst = client.post("/api/v1/process-instances", headers=headers,
                           json={"process_id": "approval", "org_code": "C01T01"}).get_json()
        with app.app_context():
            for read, (old, new) in cases(token, inst["id"], inst["open_tasks"][0]["id"]).items():
                block(old, 50), block(new, 50)         # warm: compiled caches, psycopg's prepared statements
                spent: dict[str, list[float]] = {"old": [], "new": []}
                for which in ("old", "new", "new", "old") * 3:
                    spent[which].append(block(old if which == "old" else new, args.calls))
                print(json.dumps({"read": read, **{f"{k}_us": [round(x, 1) for x in v] for k, v in spent.items()},
                                  **{f"{k}_median_us": round(statistics.median(v), 1) for k, v in spent.items()},
                                  "load_average_1m": round(os.getloadavg()[0], 2)}))
    finally:
        from app.core import db
        db.engine().dispose()
        _drop_pg_database(server, name)


if __name__ == "__main__":
    main()

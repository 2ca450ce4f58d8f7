"""Check every incremental inbox projection against a full re-projection of the same step (issue 23.5).

`full_projection_oracle` (the fixture `oracle_fixture`: import that, `# noqa: F401`, where a test takes it) wraps the inbox writer: after
each step's projection it reads the instance's open task rows, re-projects the same views the old way (every open
task re-read and re-filled) inside a savepoint, reads them again, rolls the savepoint back and records any
difference. One deliberate difference is allowed: a task whose due date is relative (`dueIn`) keeps the due date it
got when it appeared, where a full re-projection moved it to "now + dueIn" at every later step of its instance.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

SKIP = {"id", "etag_version"}        # a full re-projection never changes these of an open row either


def _open_rows(session, instance_id: int) -> dict[str, dict]:
    from app.workflows.models import HumanTask
    cols = [c.key for c in HumanTask.__mapper__.column_attrs if c.key not in SKIP]
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                   HumanTask.status == "open"))
    return {r.task_guid: {c: getattr(r, c) for c in cols} for r in rows}


class Oracle:
    def __init__(self):
        self.steps = 0
        self.incremental = 0
        self.differences: list[dict] = []

    def check(self, session, inst, views, now, got_closed) -> None:
        from app.tasks import projection
        self.steps += 1
        if got_closed is None:
            return
        self.incremental += 1
        session.flush()
        got = _open_rows(session, inst.id)
        last = session.info.get(projection._LAST_STEP)
        savepoint = session.begin_nested()
        try:
            projection._project_all(session, inst, views, now, new=False)
            session.flush()
            want = _open_rows(session, inst.id)
        finally:
            savepoint.rollback()
            session.info[projection._LAST_STEP] = last
        relative = {v.task_guid for v in views if v.properties.get("dueIn") and not v.properties.get("dueAt")}
        for guid in set(got) | set(want):
            a, b = got.get(guid), want.get(guid)
            if a is not None and b is not None and guid in relative:
                a, b = {**a, "due_at": None}, {**b, "due_at": None}
            if a != b:
                diff = {k: (a.get(k), b.get(k)) for k in (a or b) if (a or {}).get(k) != (b or {}).get(k)} \
                    if a and b else {"incremental": a, "full": b}
                self.differences.append({"process_id": inst.process_id, "instance_id": inst.id, "task": guid,
                                         "diff": diff})


@pytest.fixture(name="full_projection_oracle")
def oracle_fixture(app):
    from app.workflows import hooks
    oracle = Oracle()
    plain = hooks._inbox["project"]

    def checked(session, inst, views, now, *, new, closed=None):
        plain(session, inst, views, now, new=new, closed=closed)
        oracle.check(session, inst, views, now, closed if not new else None)

    hooks._inbox["project"] = checked
    try:
        yield oracle
    finally:
        hooks._inbox["project"] = plain

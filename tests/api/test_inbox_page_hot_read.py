"""Issue 23.2: on PostgreSQL a list's page statement is read as a hot read (`app.core.hot_reads`, straight on the DBAPI
connection, no ORM execution), the organization values the statement renders inline (its path, prefix, township key)
rendered per organization from the caller's values. Every page is the page the session's execution reads: the same
items, totals and cursors, for callers of different organizations sharing one statement, in every view, sort and
filter, by page and by cursor, a name search's too (its prefix bound, 2026-12-06). SQLite reads through the session.
Runs on either backend (DATABASE_URL)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from app.core import clock, db
from app.tasks import queries
from app.workflows.models import HumanTask

QUERIES = ("view=groups", "view=groups&sort=created&per_page=2", "view=groups&sort=priority&per_page=3",
           "view=groups&sort=risk", "view=groups&disease=diabetes", "view=groups&priority=2&per_page=1",
           "view=org&sort=due&per_page=4", "view=org&sort=created&page=2&per_page=2", "view=mine",
           "view=groups&q=居民0", "view=groups&page=9")
CALLERS = (("township_doctor", "C01T01"), ("township_doctor", "C01T02"), ("village_doctor", "C01T01V01"),
           ("county_admin", "C01"))


@pytest.fixture()
def spread(app, login_as, deploy_models):
    """Tasks in two townships and two villages, some of them the village doctors', with sort keys that tie."""
    deploy_models("approval.bpmn", "approval")
    admin = login_as("county_admin")
    due = clock.now() + timedelta(days=2)
    for i, org in enumerate(("C01T01V01", "C01T01V02", "C01T02V01", "C01T01", "C01T02") * 3):
        resp = admin.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": org, "data": {}})
        assert resp.status_code == 201, resp.json
        with app.app_context(), db.unit_of_work() as s:
            s.execute(update(HumanTask).where(HumanTask.instance_id == resp.json["id"]).values(
                resident_name=f"居民{i:02d}", priority=1 + i % 3, risk_level=("HIGH", "LOW", None)[i % 3],
                disease=("diabetes", "copd")[i % 2], due_at=None if i % 4 == 0 else due + timedelta(hours=i // 3),
                role="village_doctor" if i % 5 == 0 else HumanTask.role))


def _pages(api, query: str) -> list[tuple[list[dict], int]]:
    """Every page of `query` by cursor from its first: its items and total."""
    out, cursor = [], None
    for _ in range(40):
        resp = api.get(f"/api/v1/tasks?{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert resp.status_code == 200, resp.json
        out.append((resp.json["items"], resp.json["total"]))
        cursor = resp.json["next_cursor"]
        if cursor is None or "page=" in query:
            return out
    raise AssertionError("the cursor does not move on")


def test_every_page_is_the_page_the_session_reads(app, login_as, spread, monkeypatch):
    callers = [login_as(role, org=org) for role, org in CALLERS]
    orm_reads: list[str] = []

    def executed(state) -> None:
        if state.is_select and "human_tasks.role" in str(state.statement):
            orm_reads.append(str(state.statement))
    event.listen(Session, "do_orm_execute", executed)
    try:
        hot = {(i, q): _pages(api, q) for q in QUERIES for i, api in enumerate(callers)}
        pages_read = len([st for st in orm_reads if "ORDER BY" in st])     # a page's statement, not a count's
        orm_reads.clear()
        # the same lists read through the session (as before), the statements built anew
        monkeypatch.setattr(queries, "_page_of", lambda built, params: list(db.session().execute(built.page, params)))
        queries._STATEMENTS.clear()
        assert {(i, q): _pages(api, q) for q in QUERIES for i, api in enumerate(callers)} == hot
    finally:
        event.remove(Session, "do_orm_execute", executed)
    listed = sum(len(items) for pages in hot.values() for items, _total in pages)
    assert listed > 40 and all(pages[0][1] > 0 for (i, q), pages in hot.items() if q == "view=groups" and i < 3)
    # on PostgreSQL no page went through the ORM's execution (a name search's neither)
    assert pages_read == 0 if db.is_postgres() else pages_read == len([st for st in orm_reads if "ORDER BY" in st])


def test_one_statement_reads_each_organization_with_its_own_values(app, login_as, spread, monkeypatch):
    """Two township doctors share one list statement; each page statement sent names the caller's township (the plan
    kept for the first township is not the one the second reads, nor the first's when it comes back)."""
    from tests.helpers import statements_sent
    monkeypatch.setattr(queries, "_STATEMENTS", {})
    doctors = [(org, login_as("township_doctor", org=org)) for org in ("C01T01", "C01T02", "C01T01")]
    for org, doctor in doctors:
        with statements_sent(app) as seen:
            first = doctor.get("/api/v1/tasks?view=groups&sort=created&per_page=2").json
            again = doctor.get("/api/v1/tasks?view=groups&sort=created&per_page=2").json
        assert first == again and first["total"] > 0
        assert all(t["org_code"].startswith(org) for t in first["items"])
        [*pages] = [st for st in seen if "human_tasks.role = " in st]
        other = "C01T02" if org == "C01T01" else "C01T01"
        assert len(pages) == 2 and all(f"'/C01/{org}/%" in st and other not in st for st in pages)
    assert len([k for k in queries._STATEMENTS if k[0] == "list"]) == 1

"""An inbox request's round trips that are not its query (issue 23.5, 2026-12-05): the token lookup's transaction
goes on into the view on PostgreSQL (one connection, one checkout ping), the organizations a page names come from
one read of the tree, and a read's bookkeeping writes (its audit entry, the token's last use) commit without waiting
for the WAL flush when the transaction wrote nothing else. Counts and settings, not times."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from app.audit.models import AuditEntry
from app.core import db
from tests.helpers import statements_sent


def _is_postgres(app) -> bool:
    with app.app_context():
        return db.is_postgres()


@pytest.fixture()
def uncached(monkeypatch):
    """Every bearer token and organization looked up again, as for a caller this worker has not seen lately."""
    from app.auth import services as auth_services
    from app.org import queries as org_queries
    auth_services.forget_principals()
    org_queries.forget_orgs()
    monkeypatch.setattr(auth_services, "TOKEN_CACHE_S", 0.0)


def test_an_uncached_callers_list_uses_one_connection_on_postgresql(app, login_as, uncached):
    if not _is_postgres(app):
        pytest.skip("SQLite ends the lookup's transaction (BEGIN IMMEDIATE holds its write lock)")
    doctor = login_as("township_doctor", org="C01T01")
    assert doctor.get("/api/v1/tasks?view=groups").status_code == 200     # the token's first use is touched
    checkouts = []
    with app.app_context():
        engine = db.engine()

    def seen(*_a):
        checkouts.append(1)
    event.listen(engine, "checkout", seen)
    try:
        listed = doctor.get("/api/v1/tasks?view=groups&sort=priority")
    finally:
        event.remove(engine, "checkout", seen)
    assert listed.status_code == 200
    assert len(checkouts) == 1          # was 2: the lookup's COMMIT returned the connection, the view took it again


def test_the_organizations_of_a_page_are_one_read_of_the_tree(app, county, uncached):
    from app.org.queries import org_facts
    with app.app_context():
        codes = ["C01", "C01T01", "C01T02"]
        with statements_sent() as seen:
            facts = [org_facts(code) for code in codes]
        assert [f.code for f in facts] == codes and all(f.name for f in facts)
        assert len([s for s in seen if "organizations" in s]) == 1
        with statements_sent() as again:
            assert org_facts("NO-SUCH-ORG") is None     # the tree was just read: only that code is looked up
        assert len([s for s in again if "organizations" in s]) == 1


def test_an_unflushed_change_of_an_organization_is_read_as_changed(app, county, uncached):
    from app.org.models import Organization
    from app.org.queries import org_facts
    with app.app_context():
        s = db.session()
        with s.no_autoflush:
            s.get(Organization, "C01T01").name = "改名中卫生院"
            assert org_facts("C01T01").name == "改名中卫生院"
        s.rollback()
        assert org_facts("C01T01").name != "改名中卫生院"


def _synchronous_commit(s) -> str:
    return s.execute(text("SELECT current_setting('synchronous_commit')")).scalar_one()


def test_a_transaction_that_wrote_nothing_commits_without_waiting_for_the_flush(app):
    if not _is_postgres(app):
        pytest.skip("PostgreSQL's synchronous_commit")
    from app.audit.services import entry, record_all
    from app.core.db import relax_commit, unit_of_work
    with app.app_context():
        with unit_of_work() as s:
            relax_commit(s)
            assert _synchronous_commit(s) == "off"
            record_all([entry("test.read", object_type="test")])
        assert _synchronous_commit(db.session()) == "on"        # SET LOCAL: that transaction only
        db.session().rollback()
        with unit_of_work() as s:                               # a change first: its commit waits as before
            record_all([entry("test.change", object_type="test")])
            relax_commit(s)
            assert _synchronous_commit(s) == "on"
        assert db.session().scalar(select(AuditEntry.id).where(AuditEntry.action == "test.read")) is not None


def test_a_list_is_audited_as_before(app, login_as):
    doctor = login_as("township_doctor", org="C01T01")
    assert doctor.get("/api/v1/tasks?view=groups&sort=risk").status_code == 200
    with app.app_context():
        row = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "phi.read")
                                   .order_by(AuditEntry.id.desc()).limit(1)).one()
        assert row.actor == doctor.user.username and row.object_type == "task_list"
        assert row.details["params"] == ["sort", "view"]


def test_a_reads_entry_relaxes_its_commit_in_its_own_insert(app):
    """A read's one audit entry (`record_all(..., relaxed=True)`, as app.audit.reads writes it): on PostgreSQL the
    relaxing and the INSERT are one statement (was two round trips, issue 23.2), with relax_commit's decision: off
    when the transaction wrote nothing before, as it was when it wrote something; the row as `entry` made it."""
    if not _is_postgres(app):
        pytest.skip("PostgreSQL's synchronous_commit")
    from app.audit.services import entry, record_all
    from app.core.db import unit_of_work
    with app.app_context():
        db.session().rollback()
        with unit_of_work() as s:                               # outer: the entry's commit waits for this block
            with statements_sent() as seen:
                record_all([entry("test.relaxed_read", object_type="test_list", object_id=7,
                                  details={"path": "/x", "params": ["a"], "count": 3})], relaxed=True)
            assert len(seen) == 1 and "set_config" in seen[0] and "INSERT INTO audit_entries" in seen[0]
            assert _synchronous_commit(s) == "off"
        assert _synchronous_commit(db.session()) == "on"        # that transaction only
        db.session().rollback()
        with unit_of_work() as s:                               # a change first: its commit waits as before
            record_all([entry("test.change_first", object_type="test")])
            record_all([entry("test.relaxed_after_change", object_type="test")], relaxed=True)
            assert _synchronous_commit(s) == "on"
        row = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "test.relaxed_read")).one()
        assert (row.actor, row.actor_user_id, row.object_type, row.object_id, row.ip, row.user_agent) == \
            ("system", None, "test_list", "7", None, None)
        assert row.details == {"path": "/x", "params": ["a"], "count": 3} and row.at is not None
        assert db.session().scalar(select(AuditEntry.id).where(
            AuditEntry.action == "test.relaxed_after_change")) is not None
        db.session().rollback()


def test_a_lists_audit_is_one_statement_on_postgresql(app, login_as):
    if not _is_postgres(app):
        pytest.skip("the relaxing is PostgreSQL's")
    doctor = login_as("township_doctor", org="C01T01")
    assert doctor.get("/api/v1/tasks?view=groups").status_code == 200          # token and caches warm
    with statements_sent(app) as seen:
        listed = doctor.get("/api/v1/tasks?view=groups&per_page=1", headers={"User-Agent": "ygt-test/1"})
    assert listed.status_code == 200
    assert not [s for s in seen if "set_config" in s and "INSERT" not in s]
    assert len([s for s in seen if "audit_entries" in s]) == 1
    with app.app_context():
        row = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "phi.read")
                                   .order_by(AuditEntry.id.desc()).limit(1)).one()
        assert (row.actor, row.actor_user_id, row.object_type, row.object_id) == \
            (doctor.user.username, doctor.user.id, "task_list", None)
        assert row.details == {"path": "/api/v1/tasks", "params": ["per_page", "view"],
                               "count": len(listed.get_json()["items"])}
        assert row.user_agent == "ygt-test/1" and row.request_id == listed.headers["X-Request-Id"]
        db.session().rollback()

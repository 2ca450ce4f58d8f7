"""The thread's session between app contexts (requests, jobs): closed at the end of each and kept for the next
(`app.core.db.close_session`, issue 23.2), holding nothing of the one before; never one bound to an engine that
`init_engine` replaced since. Runs on the configured backend (SQLite or PostgreSQL)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import inspect, select, text

from app.core import db
from app.org.models import Organization


def test_the_next_app_context_gets_the_session_closed_and_empty(app, county):
    with app.app_context():
        s = db.session()
        org = s.scalars(select(Organization).where(Organization.code == county["township"])).one()
        s.info["a request's own"] = True
        db.connection(s).execute(text("SELECT 1"))
        assert s.in_transaction()
    with app.app_context():
        again = db.session()
        assert again is s                           # the object is kept (a new one per request before)
        assert again.info == {}
        assert not again.in_transaction() and again.get_transaction() is None
        assert org not in again and inspect(org).detached
        assert list(again.identity_map.values()) == []
        assert again.scalars(select(Organization.code).where(Organization.code == county["township"])).one() \
            == county["township"]


def test_an_open_transaction_is_rolled_back_at_the_end_of_the_context(app, county):
    with app.app_context():
        s = db.session()
        s.execute(text("UPDATE organizations SET name = 'changed' WHERE code = :c"), {"c": county["village"]})
    with app.app_context():
        name = db.session().scalars(select(Organization.name).where(Organization.code == county["village"])).one()
    assert name == county["names"][county["village"]]


def test_a_session_kept_from_before_a_new_engine_is_not_handed_out(app, settings):
    thread = ThreadPoolExecutor(max_workers=1)      # one thread, reused: as a server thread serves requests

    def in_a_context():
        with app.app_context():
            s = db.session()
            s.execute(text("SELECT 1"))
            return s, s.bind
    try:
        first, first_bind = thread.submit(in_a_context).result()
        assert first_bind is db.engine()
        before = db.engine()
        db.init_engine(settings.database_url)       # another thread's call replaces the engine
        try:
            second, second_bind = thread.submit(in_a_context).result()
            assert second is not first and second_bind is db.engine() is not before
        finally:
            before.dispose()
    finally:
        thread.shutdown()

"""Shared fixtures. One fresh database per test run (SQLite file, or a PostgreSQL database created on the server
named by DATABASE_URL and dropped at the end); every table emptied after each test.

Backends: with DATABASE_URL unset the run is the embedded default (SQLite, jobs eager in-process). With
DATABASE_URL (PostgreSQL) and REDIS_URL set, tests run against those servers; tests marked `redis` start real rq
worker subprocesses.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import Settings
from app.core import clock, db
from app.core.migrate import upgrade
from app.models import load_all

SERVER_URL = os.environ.get("DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")


def _create_pg_database(server_url: str) -> tuple[str, str]:
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ygt_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_pg_database(server_url: str, name: str) -> None:
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if SERVER_URL and SERVER_URL.startswith("postgresql"):
        url, name = _create_pg_database(SERVER_URL)
        upgrade(url)
        yield url
        db.engine().dispose()
        _drop_pg_database(SERVER_URL, name)
    else:
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("data")
    return Settings.from_env(data_dir=str(data_dir), database_url=database_url, redis_url=REDIS_URL,
                             jobs_mode="eager", scheduler_enabled=False)


@pytest.fixture(scope="session")
def app(settings):
    application = create_app(settings)
    application.config["TESTING"] = True
    return application


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after a test that used the database (cheap: a handful of DELETEs)."""
    yield
    if "app" not in request.fixturenames and "settings" not in request.fixturenames:
        return
    clock.reset()
    db.remove_session()
    metadata = load_all().metadata
    with db.engine().begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture()
def session(app):
    with app.app_context():
        yield db.session()

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
from app.auth import expensive
from app.config import Settings
from app.core import clock, db
from app.core.migrate import upgrade
from app.models import load_all
from app.workflows import runner
from tests.helpers import REPO, ApiClient, model_files

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
def _snapshot_oracle(monkeypatch):
    """With YGT_SNAPSHOT_ORACLE=1, every engine step's snapshot is checked against the pre-issue-23 one (slow: each
    step is saved, loaded and snapshotted twice; for checking an engine refactor over whole test folders)."""
    if os.environ.get("YGT_SNAPSHOT_ORACLE") == "1":
        from tests import snapshot_oracle
        snapshot_oracle.install(monkeypatch)
    yield


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after a test that used the database (cheap: a handful of DELETEs)."""
    yield
    if "app" not in request.fixturenames and "settings" not in request.fixturenames:
        return
    clock.reset()
    expensive.reset()
    runner.clear_caches()
    db.remove_session()
    metadata = load_all().metadata
    with db.engine().begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture()
def session(app):
    with app.app_context():
        yield db.session()


# -- people fixtures shared by API and integration tests ------------------------------------------------------

COUNTY, TOWNSHIP, VILLAGE, OTHER_TOWNSHIP, OTHER_VILLAGE = "C01", "C01T01", "C01T01V01", "C01T02", "C01T02V01"
TREE = (("C01", "青溪县人民医院", "county", None), ("C01D01", "心内科", "department", "C01"),
        ("C01T01", "石门镇卫生院", "township", "C01"), ("C01T01V01", "上塘村卫生室", "village", "C01T01"),
        ("C01T01V02", "下湾村卫生室", "village", "C01T01"), ("C01T02", "桃源镇卫生院", "township", "C01"),
        ("C01T02V01", "东坞村卫生室", "village", "C01T02"))


@pytest.fixture()
def county(app):
    """A small county: hospital C01 (cardiology C01D01), township C01T01 with villages C01T01V01/V02, township
    C01T02 with village C01T02V01."""
    from app.org.services import create_org
    with app.app_context():
        for code, name, level, parent in TREE:
            create_org(code, name, level=level, parent_code=parent)
    return {"county": COUNTY, "township": TOWNSHIP, "village": VILLAGE, "other_township": OTHER_TOWNSHIP,
            "other_village": OTHER_VILLAGE, "names": {code: name for code, name, _l, _p in TREE}}


@pytest.fixture()
def login_as(app, client, county):
    """`login_as("village_doctor", org="C01T01V01")` → an ApiClient for a new user with that role."""
    from app.auth.services import create_token, create_user
    counter = {"n": 0}

    def make(*roles: str, org: str | None = None, username: str | None = None) -> ApiClient:
        counter["n"] += 1
        name = username or f"{roles[0]}_{counter['n']}"
        with app.app_context():
            user = create_user(name, password="secret-pass-1", roles=list(roles), org_code=org or COUNTY,
                               display_name=name)
            _, token = create_token(user.id, name="test")
        return ApiClient(client, token, user)
    return make


@pytest.fixture()
def deploy_models(app):
    """Deploy fixture models (and the repository's DMN pack) straight through the deploy service."""
    from app.workflows.deploy import collect_folder_files, deploy_files

    def deploy(*names: str, with_dmn: bool = True):
        files = dict(model_files(*names))
        files = {(f"bpmn/{k}" if k.endswith(".bpmn") else f"forms/{k}"): v for k, v in files.items()}
        if with_dmn:
            files.update(collect_folder_files(REPO, [REPO / "dmn"]))
        with app.app_context():
            return deploy_files(files, deployed_by="test", source="folder").to_dict()
    return deploy

"""Fixtures of the people tests: a small organization tree, user and resident factories, signed-in clients.

The tree (codes are what the tests name):

    C01 county ─┬─ C01D01 department (cardiology)
                ├─ C01T01 township ─┬─ C01T01V01 village
                │                   └─ C01T01V02 village
                └─ C01T02 township ─── C01T02V01 village
"""
from __future__ import annotations

import functools
import itertools
import random
from datetime import date

import pytest

from app.auth import services as auth_services
from app.auth import throttle
from app.auth.passwords import hash_password
from app.auth.principal import SYSTEM
from app.residents import idcard
from app.residents import services as resident_services

PASSWORD = "correct-horse-1"
# where each role works by default in the tests
HOME_ORG = {"county_specialist": "C01D01", "county_admin": "C01", "township_doctor": "C01T01",
            "township_public_health": "C01T01", "village_doctor": "C01T01V01", "pharmacist": "C01",
            "supervisor": "C01", "process_owner": "C01", "trainer": "C01", "patient": "C01T01V01",
            "integration": "C01", "education_head": "C01", "researcher": "C01"}


@pytest.fixture(autouse=True)
def _forget_unknown_login_failures():
    throttle._unknown.clear()
    yield
    throttle._unknown.clear()


@pytest.fixture()
def org_tree(county):
    """The shared county tree (tests/conftest.py) as {code: name}."""
    return county["names"]


@functools.lru_cache(maxsize=4)
def _hash_of(password: str) -> str:
    return hash_password(password)      # argon2 is slow on purpose: hash each test password once per run


@pytest.fixture()
def make_user(app, org_tree):
    counter = itertools.count(1)

    def factory(role: str = "village_doctor", *, org: str | None = None, username: str | None = None,
                password: str = PASSWORD, resident_id: int | None = None, roles: tuple[str, ...] = ()):
        with app.app_context():
            return auth_services.create_user(username or f"{role}_{next(counter)}", password=password,
                                             roles=list(roles or (role,)), org_code=org or HOME_ORG[role],
                                             resident_id=resident_id, password_hash=_hash_of(password))
    return factory


@pytest.fixture()
def make_resident(app, org_tree):
    rng = random.Random(11)

    def factory(*, org: str = "C01T01V01", name: str = "王建国", sex: str = "M", born: date = date(1956, 3, 14),
                phone: str | None = "13800001234", **extra) -> dict:
        id_number = idcard.generate(rng, area_code="330127", birth_date=born, sex=sex)
        with app.app_context():
            resident = resident_services.register_resident(
                {"id_number": id_number, "name": name, "phone": phone, "address": "青溪县石门镇上塘村1组2号",
                 "org_code": org, **extra}, principal=SYSTEM)
            return {"id": resident.id, "id_number": id_number, "name": name, "org_code": org}
    return factory


@pytest.fixture()
def new_id_number():
    rng = random.Random(5)

    def factory(*, born: date = date(1962, 8, 1), sex: str = "F") -> str:
        return idcard.generate(rng, area_code="330127", birth_date=born, sex=sex)
    return factory


@pytest.fixture()
def client_as(app, make_user):
    """A test client signed in with a bearer token: `client_as("village_doctor", org="C01T01V02")`."""
    def factory(role: str = "village_doctor", **kwargs):
        user = kwargs.pop("user", None) or make_user(role, **kwargs)
        with app.app_context():
            _token, raw = auth_services.create_token(user.id, name="tests")
        test_client = app.test_client()
        test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        test_client.user = user
        return test_client
    return factory


@pytest.fixture()
def login(client):
    """Sign `client` in with a password; returns the CSRF token the UI would read from the ygt_csrf cookie."""
    def factory(username: str, password: str = PASSWORD) -> str:
        response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return client.get_cookie("ygt_csrf").value
    return factory


@pytest.fixture()
def password() -> str:
    """The password every factory-made user has."""
    return PASSWORD

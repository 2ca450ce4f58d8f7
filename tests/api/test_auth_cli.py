"""`ygt create-user`, `ygt create-client` and `ygt create-org`."""
from __future__ import annotations

import base64
import json

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli_people import register


@pytest.fixture()
def ygt(app):
    @click.group()
    def cli():
        pass
    register(cli)

    def run(*args: str):
        with app.app_context():
            return CliRunner().invoke(cli, list(args))
    return run


def test_create_user_puts_the_user_in_the_root_organization_by_default(ygt, org_tree):
    result = ygt("create-user", "admin2", "--password", "s3cret-pass", "--role", "county_admin")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["org_code"] == "C01"


def test_create_user_accepts_several_roles_and_an_org(ygt, org_tree):
    result = ygt("create-user", "dr_ma", "--password", "s3cret-pass", "--role", "township_doctor",
                 "--role", "township_public_health", "--org", "C01T01")
    assert json.loads(result.output) | {"id": 0} == {"id": 0, "username": "dr_ma", "org_code": "C01T01",
                                                     "roles": ["township_doctor", "township_public_health"]}


def test_create_user_then_login_works(ygt, client, org_tree):
    ygt("create-user", "dr_niu", "--password", "s3cret-pass", "--role", "village_doctor", "--org", "C01T01V01")
    response = client.post("/api/v1/auth/login", json={"username": "dr_niu", "password": "s3cret-pass"})
    assert response.status_code == 200


def test_create_user_rejects_an_unknown_role(ygt, org_tree):
    result = ygt("create-user", "x", "--password", "s3cret-pass", "--role", "doctor")
    assert result.exit_code != 0 and "invalid_role" in result.output


def test_create_user_without_any_organization_explains_what_to_do(ygt, app):
    result = ygt("create-user", "x", "--password", "s3cret-pass", "--role", "county_admin")
    assert result.exit_code != 0 and "seed-demo" in result.output


def test_create_client_prints_a_client_id_and_a_whsec_secret(ygt, org_tree):
    result = ygt("create-client", "县 HIS")
    out = json.loads(result.output)
    assert set(out) == {"client_id", "secret"}
    assert out["secret"].startswith("whsec_") and len(base64.b64decode(out["secret"][6:])) == 24


def test_a_clients_secret_is_stored_encrypted_and_can_be_recovered_for_verification(app, ygt, org_tree):
    from app.auth import services
    from app.auth.models import IntegrationClient
    from app.core.db import session
    out = json.loads(ygt("create-client", "LIS").output)
    with app.app_context():
        stored = session().scalars(select(IntegrationClient)).one()
        assert out["secret"] not in stored.secret_encrypted
        client, secret = services.client_secret(out["client_id"])
        assert secret == out["secret"] and client.name == "LIS"


def test_a_client_is_a_user_with_the_integration_role(app, ygt, org_tree):
    from app.auth.services import find_user
    out = json.loads(ygt("create-client", "PACS").output)
    with app.app_context():
        assert find_user(out["client_id"]).role_codes == ["integration"]


def test_create_org_builds_the_tree_from_the_root(ygt, app):
    assert ygt("create-org", "X01", "某县人民医院", "--level", "county").exit_code == 0
    result = ygt("create-org", "X01T01", "某镇卫生院", "--level", "township", "--parent", "X01")
    assert json.loads(result.output) == {"code": "X01T01", "path": "/X01/X01T01/"}

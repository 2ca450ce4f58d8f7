"""`/modeler` is for process owners (and the county admin, who deploys too): a village doctor reached the page by
typing its address (issue 14.13). The API refused their deploys already; now the page does too."""
from __future__ import annotations

import pytest


def _login(client, make_user, password, role):
    user = make_user(role)
    assert client.post("/api/v1/auth/login", json={"username": user.username, "password": password}).status_code == 200


@pytest.mark.parametrize("path", ["/modeler", "/modeler?decision=bp_grade"])
def test_a_village_doctor_is_refused_the_modeler_page(client, make_user, password, path):
    _login(client, make_user, password, "village_doctor")
    resp = client.get(path)
    assert resp.status_code == 403
    assert "无权".encode() in resp.data


@pytest.mark.parametrize("role", ["process_owner", "county_admin"])
def test_process_owners_open_the_modeler(client, make_user, password, role):
    _login(client, make_user, password, role)
    assert client.get("/modeler").status_code == 200


def test_signing_in_comes_first(client):
    resp = client.get("/modeler?process=screening")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=") and "modeler" in resp.headers["Location"]

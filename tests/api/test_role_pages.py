"""Issue 22.5: pages a role cannot use are absent from its menu (ui/src/lib/roles.ts menuFor, Vitest) and refused by
the server: the page itself (app/web.py ROLE_PAGES answers 403) and the API behind it."""
from __future__ import annotations

import pytest

from app.web import ROLE_PAGES


def _login(client, make_user, password, role):
    user = make_user(role)
    assert client.post("/api/v1/auth/login", json={"username": user.username, "password": password}).status_code == 200


# pages a role's menu does not offer, opened by typing the address
REFUSED_PAGES = [
    ("village_doctor", "/quality"), ("village_doctor", "/screening"), ("village_doctor", "/integrations"),
    ("village_doctor", "/instances/3"), ("village_doctor", "/dashboards"), ("village_doctor", "/referrals/dashboard"),
    ("patient", "/follow-ups"), ("patient", "/referrals"), ("patient", "/dashboards"), ("patient", "/quality"),
    ("pharmacist", "/follow-ups"), ("pharmacist", "/dashboards"),
    ("trainer", "/referrals"), ("trainer", "/follow-ups"), ("trainer", "/instances"), ("trainer", "/residents"),
    ("process_owner", "/residents/5"),
    ("township_doctor", "/integrations"), ("process_owner", "/quality"),
    ("village_doctor", "/liaison/rota"), ("village_doctor", "/liaison/plans"), ("county_admin", "/liaison/week"),
    ("village_doctor", "/batches"), ("process_owner", "/batches/3"), ("township_public_health", "/batches"),
]


@pytest.mark.parametrize("role, path", REFUSED_PAGES)
def test_a_page_outside_the_role_is_refused(client, make_user, password, role, path):
    _login(client, make_user, password, role)
    resp = client.get(path)
    assert resp.status_code == 403
    assert "无权访问".encode() in resp.data and b"href=/" in resp.data


@pytest.mark.parametrize("role, path", [
    ("village_doctor", "/follow-ups"), ("village_doctor", "/referrals/12"), ("village_doctor", "/inbox"),
    ("supervisor", "/dashboards"), ("supervisor", "/quality"), ("supervisor", "/instances"),
    ("township_public_health", "/screening"), ("county_specialist", "/referrals/dashboard"),
    ("process_owner", "/instances"), ("process_owner", "/dashboards"), ("patient", "/residents/7"),
    ("pharmacist", "/residents"), ("county_admin", "/liaison/rota"), ("village_doctor", "/liaison/week"),
    ("township_doctor", "/liaison/plans"), ("pharmacist", "/anticoag"), ("village_doctor", "/anticoag/1"),
    ("county_admin", "/batches"), ("supervisor", "/batches/3"),
])
def test_the_role_opens_its_own_pages(client, make_user, password, role, path):
    _login(client, make_user, password, role)
    assert client.get(path).status_code == 200


def test_every_role_page_asks_for_a_sign_in_first(client):
    for prefix in ROLE_PAGES:
        resp = client.get(prefix)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")


# the API behind those pages refuses the same roles (the page's 403 is not the only wall)
REFUSED_APIS = [
    ("village_doctor", "/api/v1/integrations/deliveries"), ("village_doctor", "/api/v1/screening/stats"),
    ("village_doctor", "/api/v1/training/plans"),
    ("patient", "/api/v1/follow-ups/overdue"), ("patient", "/api/v1/quality/overview"),
    ("patient", "/api/v1/screening/cases"), ("patient", "/api/v1/integrations/deliveries"),
    ("pharmacist", "/api/v1/follow-ups/overdue"), ("village_doctor", "/api/v1/anticoag/ttr-distribution"),
    ("process_owner", "/api/v1/batches/1/failures"), ("village_doctor", "/api/v1/batches"),
    ("trainer", "/api/v1/residents"), ("trainer", "/api/v1/follow-ups/overdue"), ("trainer", "/api/v1/referrals"),
]


@pytest.mark.parametrize("role, path", REFUSED_APIS)
def test_the_api_behind_a_refused_page_refuses_the_role(client, make_user, password, role, path):
    _login(client, make_user, password, role)
    resp = client.get(path)
    assert resp.status_code == 403, resp.get_json()
    assert resp.get_json()["code"] == "forbidden"


def test_a_village_doctor_still_reads_the_overdue_worklist(client, make_user, password):
    _login(client, make_user, password, "village_doctor")
    assert client.get("/api/v1/follow-ups/overdue").status_code == 200


# the staff menu (ui/src/lib/roles.ts menuFor) is checked against this table by ui/src/lib/rolePages.test.ts
UI_TABLE = "ui/src/test/role_pages.json"


def role_pages_table() -> str:
    import json

    from app.mobile.services import MOBILE_ROLES
    table = {"pages": {prefix: list(roles) for prefix, roles in ROLE_PAGES.items()},
             "offline_app": {"path": "/m/", "roles": list(MOBILE_ROLES)}}
    return json.dumps(table, ensure_ascii=False, indent=1)


def test_the_menus_copy_of_the_page_gate_is_current():
    from pathlib import Path
    current = (Path(__file__).resolve().parents[2] / UI_TABLE).read_text()
    assert current == role_pages_table(), (
        f"{UI_TABLE} is stale: regenerate with `.venv/bin/python tests/api/test_role_pages.py > {UI_TABLE}`")


def test_the_offline_app_is_open_to_the_doctors_and_refused_to_others(client, make_user, password):
    _login(client, make_user, password, "pharmacist")
    assert client.get("/api/mobile/v1/pull").status_code == 403
    _login(client, make_user, password, "village_doctor")
    assert client.get("/api/mobile/v1/pull", headers={"X-Device-Id": "vd-phone-1"}).status_code == 200
    assert client.get("/m/").status_code not in (302, 403)  # the app shell is not gated: it signs in on its own


if __name__ == "__main__":
    print(role_pages_table(), end="")


def _spa_paths() -> list[str]:
    """Every page path of the single-page app (ui/src/App.tsx `<Route path=…>`), parameters filled with 1."""
    import re
    from pathlib import Path
    source = (Path(__file__).resolve().parents[2] / "ui/src/App.tsx").read_text()
    paths = {p for p in re.findall(r'path="([^"]+)"', source) if p != "*"}
    return sorted("/" + re.sub(r":\w+", "1", p).lstrip("/") for p in paths)


@pytest.mark.parametrize("path", _spa_paths())
def test_every_page_of_the_app_is_served_when_opened_or_reloaded(client, make_user, password, path):
    """A page reached through the menu must also open from a link, a bookmark or a reload: the server knows every
    route of the app (app/web.py UI_ROUTES). /appraisal and /reports answered 404 on reload."""
    _login(client, make_user, password, "county_admin")
    assert client.get(path).status_code in (200, 403), path

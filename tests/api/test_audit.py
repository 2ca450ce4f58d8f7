"""Every read of a resident's record and every change leaves an audit entry that supervisors can query."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock


@pytest.fixture()
def supervisor(client_as):
    return client_as("supervisor")


def _entries(supervisor, **filters) -> list[dict]:
    return supervisor.get("/api/v1/audit", query_string=filters).get_json()["items"]


def test_reading_a_record_is_audited_with_who_and_from_where(client_as, supervisor, make_resident):
    resident = make_resident()
    doctor = client_as("village_doctor")
    doctor.get(f"/api/v1/residents/{resident['id']}", headers={"User-Agent": "ward-tablet/1.0"})
    [entry] = _entries(supervisor, action="resident.read", object_id=str(resident["id"]))
    assert entry["actor"] == doctor.user.username and entry["actor_user_id"] == doctor.user.id
    assert entry["object_type"] == "resident" and entry["ip"] == "127.0.0.1"
    assert entry["user_agent"] == "ward-tablet/1.0"


def test_registering_a_resident_is_audited(client_as, supervisor, new_id_number):
    doctor = client_as("village_doctor")
    created = doctor.post("/api/v1/residents", json={"id_number": new_id_number(), "name": "周芳"}).get_json()
    [entry] = _entries(supervisor, action="resident.create")
    assert entry["object_id"] == str(created["id"]) and entry["actor"] == doctor.user.username


def test_changing_a_resident_is_audited_with_the_changed_fields(client_as, supervisor, make_resident):
    resident = make_resident()
    client_as("village_doctor").patch(f"/api/v1/residents/{resident['id']}", json={"phone": "13700000000"})
    [entry] = _entries(supervisor, action="resident.update")
    assert entry["details"] == {"fields": ["phone"]}


def test_a_search_is_audited_without_the_search_text(client_as, supervisor, make_resident):
    resident = make_resident()
    client_as("village_doctor").get("/api/v1/residents", query_string={"q": resident["id_number"]})
    [entry] = _entries(supervisor, action="resident.search")
    assert entry["details"]["q_kind"] == "id_number" and resident["id_number"] not in str(entry)


def test_a_refused_read_out_of_scope_leaves_no_read_entry(client_as, supervisor, make_resident):
    resident = make_resident(org="C01T02V01")
    client_as("village_doctor", org="C01T01V01").get(f"/api/v1/residents/{resident['id']}")
    assert _entries(supervisor, action="resident.read") == []


def test_logins_and_failed_logins_are_audited(client, make_user, supervisor, password):
    make_user(username="dr_he")
    client.post("/api/v1/auth/login", json={"username": "dr_he", "password": "wrong-password"})
    client.post("/api/v1/auth/login", json={"username": "dr_he", "password": password})
    assert [e["action"] for e in _entries(supervisor, object_type="user", actor="dr_he")] == ["user.login"]
    [failed] = _entries(supervisor, action="user.login_failed")
    assert failed["actor"] == "anonymous" and failed["details"] == {"username": "dr_he"}


def test_revoking_a_token_is_audited(client_as, supervisor):
    machine = client_as("integration")
    token_id = machine.get("/api/v1/auth/tokens").get_json()[0]["id"]
    machine.delete(f"/api/v1/auth/tokens/{token_id}")
    [entry] = _entries(supervisor, action="token.revoke")
    assert entry["object_id"] == str(token_id) and entry["actor"] == machine.user.username


def test_record_outside_a_request_is_attributed_to_the_system(app):
    from app.audit.services import record
    from app.core.db import unit_of_work
    with app.app_context(), unit_of_work():
        entry = record("definition.deploy", object_type="deployment", object_id=7, details={"files": 2})
    assert (entry.actor, entry.ip, entry.object_id) == ("system", None, "7")


def test_the_audit_log_filters_by_time_range(client_as, supervisor, make_resident):
    resident = make_resident()
    doctor = client_as("village_doctor")
    doctor.get(f"/api/v1/residents/{resident['id']}")
    cut = clock.now() + timedelta(hours=1)
    clock.advance(timedelta(hours=2))
    doctor.get(f"/api/v1/residents/{resident['id']}")
    later = _entries(supervisor, action="resident.read", since=cut.isoformat())
    earlier = _entries(supervisor, action="resident.read", until=cut.isoformat())
    assert len(later) == 1 and len(earlier) == 1 and later[0]["at"] > earlier[0]["at"]


def test_the_audit_log_is_newest_first_with_a_total(client_as, supervisor, make_resident):
    resident = make_resident()
    doctor = client_as("village_doctor")
    for _ in range(3):
        doctor.get(f"/api/v1/residents/{resident['id']}")
    body = supervisor.get("/api/v1/audit", query_string={"action": "resident.read", "per_page": 2}).get_json()
    assert body["total"] == 3 and len(body["items"]) == 2
    assert body["items"][0]["id"] > body["items"][1]["id"]

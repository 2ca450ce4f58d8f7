"""The permission matrix: every role × the resident, organization and audit endpoints × in- and out-of-scope
objects. Out of scope answers 404 (existence does not leak); a role without access to a kind of data gets 403.

Residents used below: `v1` in 上塘村 C01T01V01, `v2` in 下湾村 C01T01V02 (same township), `t2` in 东坞村
C01T02V01 (another township). The patient is resident `v1`.
"""
from __future__ import annotations

import pytest

from app.auth.principal import ROLES

ALL = frozenset({"v1", "v2", "t2"})
COUNTY_ORGS = frozenset({"C01", "C01D01", "C01T01", "C01T01V01", "C01T01V02", "C01T02", "C01T02V01"})
# which residents each role (working at its HOME_ORG in conftest) sees; None: no access to residents (403)
RESIDENTS_SEEN = {"village_doctor": {"v1"}, "township_doctor": {"v1", "v2"},
                  "township_public_health": {"v1", "v2"},
                  "county_specialist": ALL, "county_admin": ALL, "pharmacist": ALL, "supervisor": ALL,
                  "integration": ALL, "patient": {"v1"}, "trainer": None, "process_owner": None,
                  "education_head": None, "researcher": None}
RESIDENT_WRITERS = {"village_doctor", "township_doctor", "township_public_health", "county_specialist",
                    "county_admin", "integration"}
ORGS_SEEN = {"village_doctor": {"C01T01V01"}, "township_doctor": {"C01T01", "C01T01V01", "C01T01V02"},
             "township_public_health": {"C01T01", "C01T01V01", "C01T01V02"}, "patient": set()}
AUDIT_READERS = {"supervisor", "county_admin"}
CASES = [(role, key) for role in ROLES for key in sorted(ALL)]


def test_the_matrix_covers_every_role():
    assert set(RESIDENTS_SEEN) == set(ROLES)


@pytest.fixture()
def world(make_resident, make_user, client_as):
    residents = {"v1": make_resident(org="C01T01V01", name="王建国"),
                 "v2": make_resident(org="C01T01V02", name="李秀英", sex="F"),
                 "t2": make_resident(org="C01T02V01", name="张伟")}

    def client_for(role: str):
        if role == "patient":
            return client_as(user=make_user("patient", org="C01T01V01", resident_id=residents["v1"]["id"]))
        return client_as(role)
    return residents, client_for


def _expected_read(role: str, key: str) -> int:
    seen = RESIDENTS_SEEN[role]
    return 403 if seen is None else 200 if key in seen else 404


@pytest.mark.parametrize("role,key", CASES)
def test_each_role_reads_a_resident_record_only_in_scope(world, role, key):
    residents, client_for = world
    response = client_for(role).get(f"/api/v1/residents/{residents[key]['id']}")
    assert response.status_code == _expected_read(role, key)
    if response.status_code == 404:
        assert response.get_json()["code"] == "not_found"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_exactly_the_residents_in_its_scope(world, role):
    residents, client_for = world
    response = client_for(role).get("/api/v1/residents")
    if RESIDENTS_SEEN[role] is None:
        assert response.status_code == 403
        return
    ids = {item["id"] for item in response.get_json()["items"]}
    assert ids == {residents[k]["id"] for k in RESIDENTS_SEEN[role]}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_finds_an_out_of_scope_resident_by_id_number_as_nothing(world, role):
    residents, client_for = world
    response = client_for(role).get("/api/v1/residents", query_string={"q": residents["t2"]["id_number"]})
    if RESIDENTS_SEEN[role] is None:
        assert response.status_code == 403
    else:
        assert response.get_json()["total"] == (1 if "t2" in RESIDENTS_SEEN[role] else 0)


@pytest.mark.parametrize("role,key", CASES)
def test_each_role_changes_a_resident_only_if_it_writes_and_only_in_scope(world, role, key):
    residents, client_for = world
    response = client_for(role).patch(f"/api/v1/residents/{residents[key]['id']}", json={"address": "新地址"})
    expected = 403 if role not in RESIDENT_WRITERS else 200 if key in RESIDENTS_SEEN[role] else 404
    assert response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_each_role_registers_residents_only_if_it_writes_and_only_into_its_scope(world, role, new_id_number):
    _residents, client_for = world
    client = client_for(role)
    statuses = {village: client.post("/api/v1/residents", json={
        "id_number": new_id_number(), "name": "新居民", "org_code": village}).status_code
        for village in ("C01T01V01", "C01T02V01")}
    if role not in RESIDENT_WRITERS:
        assert statuses == {"C01T01V01": 403, "C01T02V01": 403}
    else:
        in_scope = RESIDENTS_SEEN[role]
        assert statuses == {"C01T01V01": 201, "C01T02V01": 201 if "t2" in in_scope else 422}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_organizations_of_its_scope(world, role):
    _residents, client_for = world
    codes = {org["code"] for org in client_for(role).get("/api/v1/organizations").get_json()}
    assert codes == ORGS_SEEN.get(role, COUNTY_ORGS)


@pytest.mark.parametrize("role", ROLES)
def test_only_supervisors_and_county_admins_read_the_audit_log(world, role):
    _residents, client_for = world
    response = client_for(role).get("/api/v1/audit")
    assert response.status_code == (200 if role in AUDIT_READERS else 403)


@pytest.mark.parametrize("path", ["/api/v1/residents", "/api/v1/residents/1", "/api/v1/organizations",
                                  "/api/v1/audit", "/api/v1/auth/me", "/api/v1/auth/tokens", "/api/v1/users"])
def test_every_endpoint_refuses_anonymous_callers(client, org_tree, path):
    response = client.get(path)
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


@pytest.mark.parametrize("reader,other", [("C01T01V01", "C01T01V02"), ("C01T01V02", "C01T01V01"),
                                          ("C01T01V01", "C01T02V01"), ("C01T02V01", "C01T01V01")])
def test_no_village_doctor_reads_another_villages_resident(client_as, make_resident, reader, other):
    resident = make_resident(org=other)
    doctor = client_as("village_doctor", org=reader)
    assert doctor.get(f"/api/v1/residents/{resident['id']}").status_code == 404


def test_a_township_doctor_does_not_read_residents_of_another_township(client_as, make_resident):
    resident = make_resident(org="C01T02V01")
    doctor = client_as("township_doctor", org="C01T01")
    assert doctor.get(f"/api/v1/residents/{resident['id']}").status_code == 404


def test_a_patient_reads_their_own_record(client_as, make_user, make_resident):
    own = make_resident(org="C01T01V01")
    patient = client_as(user=make_user("patient", org="C01T01V01", resident_id=own["id"]))
    assert patient.get(f"/api/v1/residents/{own['id']}").get_json()["id_number"] == own["id_number"]


def test_a_patient_does_not_read_a_neighbour_in_the_same_village(client_as, make_user, make_resident):
    own, neighbour = make_resident(org="C01T01V01"), make_resident(org="C01T01V01", name="王秀兰", sex="F")
    patient = client_as(user=make_user("patient", org="C01T01V01", resident_id=own["id"]))
    assert patient.get(f"/api/v1/residents/{neighbour['id']}").status_code == 404

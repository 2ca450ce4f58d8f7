"""The resident registry: registration with GB 11643 checks, masked search, the full record in scope."""
from __future__ import annotations

from datetime import date

import pytest


@pytest.fixture()
def doctor(client_as):
    """A village doctor of 上塘村 (C01T01V01)."""
    return client_as("village_doctor", org="C01T01V01")


def _body(id_number: str, **overrides) -> dict:
    return {"id_number": id_number, "name": "李秀英", "sex": "F", "birth_date": "1962-08-01",
            "phone": "13912345678", "address": "青溪县石门镇上塘村3组8号", "org_code": "C01T01V01",
            **overrides}


def test_registering_a_resident_answers_201_with_the_record(doctor, new_id_number):
    id_number = new_id_number(born=date(1962, 8, 1), sex="F")
    response = doctor.post("/api/v1/residents", json=_body(id_number))
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"] > 0 and body["name"] == "李秀英" and body["id_number"] == id_number
    assert body["org_code"] == "C01T01V01" and body["birth_date"] == "1962-08-01"


def test_a_bad_check_character_is_422_invalid_id_number(doctor, new_id_number):
    good = new_id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = doctor.post("/api/v1/residents", json=_body(bad))
    assert response.status_code == 422
    assert response.get_json()["code"] == "invalid_id_number"
    assert response.get_json()["details"]["reason"] == "checksum"


def test_an_id_number_of_the_wrong_length_is_422_invalid_id_number(doctor):
    response = doctor.post("/api/v1/residents", json=_body("33012719620801"))
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_id_number"


def test_registering_the_same_id_number_twice_is_409_duplicate_resident(doctor, new_id_number):
    id_number = new_id_number()
    first = doctor.post("/api/v1/residents", json=_body(id_number))
    second = doctor.post("/api/v1/residents", json=_body(id_number.lower(), name="李秀英"))
    assert second.status_code == 409
    assert second.get_json()["code"] == "duplicate_resident"
    assert second.get_json()["details"]["resident_id"] == first.get_json()["id"]


def test_a_duplicate_outside_the_callers_scope_does_not_reveal_the_record_id(client_as, make_resident):
    other = make_resident(org="C01T02V01")
    doctor = client_as("village_doctor", org="C01T01V01")
    body = {"id_number": other["id_number"], "name": "王建国", "org_code": "C01T01V01"}
    response = doctor.post("/api/v1/residents", json=body)
    assert response.status_code == 409
    assert "resident_id" not in response.get_json()["details"]


def test_birth_date_and_sex_default_to_those_in_the_id_number(doctor, new_id_number):
    id_number = new_id_number(born=date(1975, 2, 28), sex="M")
    body = {"id_number": id_number, "name": "赵军", "org_code": "C01T01V01"}
    record = doctor.post("/api/v1/residents", json=body).get_json()
    assert (record["birth_date"], record["sex"]) == ("1975-02-28", "M")


def test_a_birth_date_contradicting_the_id_number_is_rejected(doctor, new_id_number):
    id_number = new_id_number(born=date(1962, 8, 1))
    response = doctor.post("/api/v1/residents", json=_body(id_number, birth_date="1962-08-02"))
    assert response.status_code == 422 and response.get_json()["code"] == "birth_date_mismatch"


def test_a_resident_cannot_be_registered_to_a_village_outside_the_callers_scope(doctor, new_id_number):
    response = doctor.post("/api/v1/residents", json=_body(new_id_number(), org_code="C01T02V01"))
    assert response.status_code == 422
    assert response.get_json()["code"] == "invalid_org_code"


def test_a_resident_is_managed_by_a_village_or_township_not_the_county(client_as, new_id_number):
    admin = client_as("county_admin")
    response = admin.post("/api/v1/residents", json=_body(new_id_number(), org_code="C01"))
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_org_code"


def test_the_managing_org_defaults_to_the_callers_own(doctor, new_id_number):
    body = _body(new_id_number())
    del body["org_code"]
    assert doctor.post("/api/v1/residents", json=body).get_json()["org_code"] == "C01T01V01"


def test_a_missing_name_is_a_validation_error(doctor, new_id_number):
    body = _body(new_id_number())
    del body["name"]
    response = doctor.post("/api/v1/residents", json=body)
    assert response.status_code == 422 and response.get_json()["code"] == "validation_error"


def test_lists_show_id_numbers_masked_to_the_first_and_last_character(doctor, make_resident):
    resident = make_resident(org="C01T01V01")
    item = doctor.get("/api/v1/residents").get_json()["items"][0]
    assert item["id_number"] == resident["id_number"][:1] + "*" * 16 + resident["id_number"][-1:]


def _candidates(row: dict, area_code: str) -> list[str]:
    """Every valid ID number consistent with one list row (mask, birth date, sex) and a known county area code."""
    from app.residents import idcard
    born = row["birth_date"].replace("-", "")
    out = []
    for sequence in range(1 if row["sex"] == "M" else 0, 1000, 2):
        first17 = f"{area_code}{born}{sequence:03d}"
        number = first17 + idcard.check_char(first17)
        shown = row["id_number"]
        if all(m == "*" or m == c for m, c in zip(shown, number)):
            out.append(number)
    return out


def test_a_masked_id_number_cannot_be_rebuilt_from_the_list_page(doctor, make_resident):
    """An attacker who knows the county's area code sees name, sex, birth date and mask: 30 residents, none
    rebuilt (the old area+last-four mask gave exactly one candidate for each)."""
    for n in range(30):
        make_resident(org="C01T01V01", name=f"居民{n}", sex="MF"[n % 2])
    rows = doctor.get("/api/v1/residents?per_page=50").get_json()["items"]
    assert len(rows) == 30
    fewest = min(len(_candidates(row, "330127")) for row in rows)
    assert fewest >= 20


def test_lists_show_phone_numbers_masked(doctor, make_resident):
    make_resident(org="C01T01V01", phone="13800001234")
    assert doctor.get("/api/v1/residents").get_json()["items"][0]["phone"] == "138****1234"


def test_search_by_name_prefix(doctor, make_resident):
    make_resident(name="王建国")
    make_resident(name="王秀兰", sex="F")
    make_resident(name="李建国")
    body = doctor.get("/api/v1/residents", query_string={"q": "王"}).get_json()
    assert body["total"] == 2 and {i["name"] for i in body["items"]} == {"王建国", "王秀兰"}


def test_search_by_exact_id_number_finds_one_resident(doctor, make_resident):
    wanted = make_resident(name="王建国")
    make_resident(name="王建华")
    body = doctor.get("/api/v1/residents", query_string={"q": wanted["id_number"]}).get_json()
    assert body["total"] == 1 and body["items"][0]["id"] == wanted["id"]


def test_search_pages_with_page_and_per_page(doctor, make_resident):
    ids = [make_resident(name=f"张{n}")["id"] for n in "一二三四五"]
    body = doctor.get("/api/v1/residents", query_string={"page": 2, "per_page": 2}).get_json()
    assert body["total"] == 5 and [i["id"] for i in body["items"]] == ids[2:4]


def test_the_record_shows_the_full_id_number_and_phone(doctor, make_resident):
    resident = make_resident(org="C01T01V01", phone="13800001234")
    record = doctor.get(f"/api/v1/residents/{resident['id']}").get_json()
    assert record["id_number"] == resident["id_number"] and record["phone"] == "13800001234"


def test_a_resident_outside_the_callers_scope_is_404(doctor, make_resident):
    resident = make_resident(org="C01T02V01")
    response = doctor.get(f"/api/v1/residents/{resident['id']}")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_a_resident_that_does_not_exist_is_the_same_404(doctor, org_tree):
    assert doctor.get("/api/v1/residents/999999").get_json()["code"] == "not_found"


def test_id_numbers_are_stored_encrypted_with_a_keyed_hash(app, make_resident):
    from app.core.db import session
    from app.residents.models import Resident
    resident = make_resident()
    with app.app_context():
        row = session().get(Resident, resident["id"])
        assert resident["id_number"] not in row.id_number_encrypted
        assert len(row.id_number_hash) == 64 and resident["id_number"] not in row.id_number_hash


def test_patching_a_resident_changes_contact_details(doctor, make_resident):
    resident = make_resident()
    response = doctor.patch(f"/api/v1/residents/{resident['id']}", json={"phone": "13600000000",
                                                                         "address": "上塘村5组1号"})
    assert response.status_code == 200
    assert response.get_json()["phone"] == "13600000000" and response.get_json()["address"] == "上塘村5组1号"


def test_moving_a_resident_to_another_village_takes_them_out_of_the_old_doctors_scope(client_as,
                                                                                       make_resident):
    resident = make_resident(org="C01T01V01")
    township = client_as("township_doctor", org="C01T01")
    village = client_as("village_doctor", org="C01T01V01")
    moved = township.patch(f"/api/v1/residents/{resident['id']}", json={"org_code": "C01T01V02"})
    assert moved.status_code == 200
    assert village.get(f"/api/v1/residents/{resident['id']}").status_code == 404


def test_a_blank_name_is_rejected(doctor, new_id_number):
    response = doctor.post("/api/v1/residents", json=_body(new_id_number(), name="   "))
    assert response.status_code == 422


def test_a_nul_character_in_a_field_is_a_validation_error_not_a_server_error(doctor, new_id_number):
    response = doctor.post("/api/v1/residents", json=_body(new_id_number(), address="上塘村\x00"))
    assert response.status_code == 422 and response.get_json()["code"] == "validation_error"


def test_an_id_too_large_for_the_database_is_simply_not_found(doctor, org_tree):
    assert doctor.get(f"/api/v1/residents/{2**70}").status_code == 404

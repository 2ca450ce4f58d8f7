"""The staff directory (`GET /api/v1/users`) and `candidate_users` for task assignment."""
from __future__ import annotations

from app.auth.queries import candidate_users


def _usernames(client, **query) -> list[str]:
    return [u["username"] for u in client.get("/api/v1/users", query_string=query).get_json()]


def test_a_township_doctor_lists_staff_of_the_township_and_its_villages(client_as, make_user):
    make_user("village_doctor", org="C01T01V02", username="vd_xiawan")
    make_user("village_doctor", org="C01T02V01", username="vd_dongwu")
    lead = client_as("township_doctor", org="C01T01")
    names = _usernames(lead)
    assert "vd_xiawan" in names and "vd_dongwu" not in names


def test_the_directory_filters_by_role(client_as, make_user):
    make_user("village_doctor", org="C01T01V02", username="vd_xiawan")
    make_user("township_public_health", org="C01T01", username="ph_shimen")
    assert _usernames(client_as("county_admin"), role="township_public_health") == ["ph_shimen"]


def test_patients_and_machine_clients_are_never_listed(client_as, make_user, make_resident):
    make_user("patient", org="C01T01V01", username="pt_wang", resident_id=make_resident()["id"])
    make_user("integration", username="his")
    names = _usernames(client_as("county_admin"))
    assert "pt_wang" not in names and "his" not in names


def test_a_patient_may_not_browse_the_directory(client_as, make_user, make_resident):
    patient = client_as(user=make_user("patient", resident_id=make_resident()["id"]))
    assert patient.get("/api/v1/users").status_code == 403


def test_candidates_for_a_village_task_are_that_villages_doctors(app, make_user):
    make_user("village_doctor", org="C01T01V01", username="vd_shangtang")
    make_user("village_doctor", org="C01T01V02", username="vd_xiawan")
    with app.app_context():
        assert [u.username for u in candidate_users("village_doctor", "C01T01V01")] == ["vd_shangtang"]


def test_township_doctors_are_candidates_for_tasks_of_their_villages(app, make_user):
    make_user("township_doctor", org="C01T01", username="td_shimen")
    make_user("township_doctor", org="C01T02", username="td_taoyuan")
    with app.app_context():
        assert [u.username for u in candidate_users("township_doctor", "C01T01V02")] == ["td_shimen"]


def test_county_wide_roles_are_candidates_everywhere(app, make_user):
    make_user("county_specialist", org="C01D01", username="sp_cardio")
    with app.app_context():
        assert [u.username for u in candidate_users("county_specialist", "C01T02V01")] == ["sp_cardio"]


def test_the_directory_filters_by_several_roles_and_names_the_organisation(client_as, make_user):
    make_user("village_doctor", org="C01T01V02", username="vd_xiawan")
    make_user("township_doctor", org="C01T01", username="td_shimen")
    make_user("pharmacist", org="C01T01", username="ph_shimen")
    admin = client_as("county_admin")
    assert _usernames(admin, role=["village_doctor", "township_doctor"]) == ["td_shimen", "vd_xiawan"]
    rows = admin.get("/api/v1/users", query_string={"q": "td_"}).get_json()
    assert rows[0]["org_name"] and rows[0]["org_name"] != rows[0]["org_code"]

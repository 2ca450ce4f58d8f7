"""Issue 18 R6a: a county administrator grants or withdraws a doctor's 处方权 (`PUT /api/v1/users/{id}/
prescribing-privilege`, audited); the next prescription that doctor signs is judged with it through the webhook."""
from __future__ import annotations

from app.auth.queries import users_by_username
from tests.api import test_pharmacy_prereview as prereview
from tests.api.test_pharmacy_prereview import RIVA_20, prescription, send
from tests.pharmacy_support import make_prescriber, rx

world = prereview.world      # the pre-review's fixture: HIS client, prescriber 李医生, pharmacists, a resident


def _user_id(app, username: str) -> int:
    with app.app_context():
        return users_by_username([username])[username].id


def _put(api, user_id: int, **body):
    return api.put(f"/api/v1/users/{user_id}/prescribing-privilege", json=body)


def test_withdrawing_blocks_the_doctors_next_prescription_and_granting_restores_it(app, client, world, login_as):
    w = world
    admin = login_as("county_admin", org="C01", username="admin_lin")
    doctor = _user_id(app, make_prescriber(app, "钱医生", "C01T01V01", username="dr_qian"))

    resp = _put(admin, doctor, granted=False, reason="执业证书过期")
    assert resp.status_code == 200, resp.json
    assert resp.json["prescribing_privilege"] is False
    assert resp.json["last_change"]["by"] == "admin_lin" and resp.json["last_change"]["reason"] == "执业证书过期"
    sent = send(client, w, rx(w["id_number"], "RX-P1", RIVA_20, clinical={"crcl_ml_min": 80},
                              prescriber="钱医生", prescriber_code="dr_qian"), "d-p1")
    assert sent.status_code == 200, sent.json
    got = prescription(w["pharmacist"], sent.json["prescription_id"])
    assert [f["code"] for f in got["findings"]] == ["legality_no_privilege"] and got["status"] == "reviewing"

    resp = _put(admin, doctor, granted=True)
    assert resp.status_code == 200 and resp.json["prescribing_privilege"] is True
    sent = send(client, w, rx(w["id_number"], "RX-P2", RIVA_20, clinical={"crcl_ml_min": 80},
                              prescriber="钱医生", prescriber_code="dr_qian"), "d-p2")
    got = prescription(w["pharmacist"], sent.json["prescription_id"])
    assert got["findings"] == [] and got["status"] == "passed"

    audit = admin.get("/api/v1/audit", query_string={"action": "user.prescribing_privilege",
                                                     "object_id": str(doctor)}).json["items"]
    assert [(e["actor"], e["details"]["granted"], e["details"]["reason"]) for e in audit] == [
        ("admin_lin", True, None), ("admin_lin", False, "执业证书过期")]
    listed = admin.get("/api/v1/users", query_string={"q": "dr_qian"}).json
    assert [(u["username"], u["prescribing_privilege"]) for u in listed] == [("dr_qian", True)]


def test_bad_grants_are_refused_with_a_stable_code_and_nothing_changes(app, client, county, login_as):
    admin = login_as("county_admin", org="C01")
    doctor = login_as("village_doctor", org="C01T01V01")
    nurse = login_as("township_public_health", org="C01T01")
    lead = login_as("township_doctor", org="C01T01")

    missing = _put(admin, doctor.user.id, granted=False)
    assert missing.status_code == 422 and missing.json["code"] == "reason_required"
    blank = _put(admin, doctor.user.id, granted=False, reason="  ")
    assert blank.status_code == 422 and blank.json["code"] == "reason_required"
    wrong_role = _put(admin, nurse.user.id, granted=True)
    assert wrong_role.status_code == 422 and wrong_role.json["code"] == "not_prescribing_role"
    assert _put(admin, 999999, granted=True).status_code == 404
    forbidden = _put(lead, doctor.user.id, granted=False, reason="越权")
    assert forbidden.status_code == 403
    assert _put(admin, doctor.user.id, reason="x").status_code == 422          # granted is required
    listed = admin.get("/api/v1/users", query_string={"q": doctor.user.username}).json
    assert listed[0]["prescribing_privilege"] is True
    assert admin.get("/api/v1/audit", query_string={"action": "user.prescribing_privilege"}).json["items"] == []

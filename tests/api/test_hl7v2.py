"""HL7 v2 inbound over HTTP and MLLP: ADT and ORU into the record, ACK AA/AE/AR with ERR locations, and a corpus
of broken messages that each get the right error and store nothing."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth.principal import SYSTEM
from app.core import ratelimit
from app.core.db import session
from connectors.hl7v2 import mllp

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "hl7"
URL = "/api/v1/connectors/hl7v2"
CT = {"Content-Type": "x-application/hl7-v2+er7"}
WANG = "330127195603142337"           # 王建国, registered in the village C01T01V01
LI = "330127196208013783"             # 李秀英, not registered: ADT A01 creates her


def fixture(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def ack_segments(text: str) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for seg in filter(None, text.split("\r")):
        fields = seg.split("|")
        out.setdefault(fields[0], []).append(fields)
    return out


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=50, burst=500).reset()


@pytest.fixture()
def wang(app, org_tree):
    from app.residents import services
    with app.app_context():
        return services.register_resident({"id_number": WANG, "name": "王建国", "phone": "13800001234",
                                           "org_code": "C01T01V01"}, principal=SYSTEM).id


@pytest.fixture()
def lis(app, org_tree):
    """An integration client (the county hospital LIS) signed in with its bearer token."""
    from app.auth.services import create_client, create_token
    with app.app_context():
        client, secret = create_client("县医院 LIS")
        _, raw = create_token(client.user_id, name="lis")
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    test_client.client_id, test_client.secret = client.client_id, secret
    return test_client


def post(lis, body: bytes):
    response = lis.post(URL, data=body, headers=CT)
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("x-application/hl7-v2+er7")
    return ack_segments(response.get_data(as_text=True))


def count(app, model_name: str) -> int:
    from app.residents import models, record_models
    model = getattr(record_models, model_name, None) or getattr(models, model_name)
    with app.app_context():
        return session().scalar(select(func.count()).select_from(model))


def observations(app) -> list:
    from app.residents.record_models import Observation
    with app.app_context():
        return list(session().scalars(select(Observation).order_by(Observation.id)))


# -- ORU ---------------------------------------------------------------------------------------------------------

def test_an_oru_is_acknowledged_aa_and_its_final_results_recorded(app, lis, wang):
    ack = post(lis, fixture("oru_r01_hba1c.hl7"))
    assert ack["MSA"][0][1:3] == ["AA", "LIS0001"]
    assert "ERR" not in ack
    rows = {(o.code, o.value_num, o.unit, o.abnormal_flag) for o in observations(app)}
    assert rows == {("4548-4", 7.2, "%", "H"), ("1558-6", 7.8, "mmol/L", "H")}   # preliminary creatinine skipped
    assert all(o.resident_id == wang and o.source == "hl7:LIS" for o in observations(app))


def test_the_ack_echoes_the_senders_application_and_the_trigger_event(lis, wang):
    msh = post(lis, fixture("oru_r01_hba1c.hl7"))["MSH"][0]
    assert msh[2:6] == ["YGT", "YGT", "LIS", "C01"]
    assert msh[8] == "ACK^R01^ACK"


def test_crlf_line_endings_are_normalised(app, lis, wang):
    ack = post(lis, fixture("oru_r01_crlf.hl7"))
    assert ack["MSA"][0][1] == "AA"
    assert [(o.code, o.value_num) for o in observations(app)] == [("6301-6", 2.4)]


def test_a_message_resent_with_the_same_control_id_gets_the_first_ack_and_is_applied_once(app, lis, wang):
    first = post(lis, fixture("oru_r01_hba1c.hl7"))
    again = post(lis, fixture("oru_r01_hba1c.hl7"))
    assert again["MSA"] == first["MSA"] and again["MSH"][0][9] == first["MSH"][0][9]
    assert len(observations(app)) == 2


def test_results_resent_under_a_new_control_id_are_not_duplicated(app, lis, wang):
    post(lis, fixture("oru_r01_hba1c.hl7"))
    resent = fixture("oru_r01_hba1c.hl7").replace(b"|LIS0001|", b"|LIS0001R|")
    assert post(lis, resent)["MSA"][0][1] == "AA"
    assert len(observations(app)) == 2        # same order number + code: the record dedupes


BROKEN = [
    # file, MSA-1, ERR-2 location, ERR-3 code
    ("broken_wrong_segment_order.hl7", "AE", "OBX^1", "100"),
    ("broken_bad_date.hl7", "AE", "OBX^2^14", "102"),
    ("broken_unknown_code.hl7", "AE", "OBX^2^3", "103"),
    ("broken_truncated.hl7", "AE", "OBR^1", "101"),
    ("broken_unknown_unit.hl7", "AE", "OBX^2^6", "103"),
    ("broken_non_numeric_value.hl7", "AE", "OBX^1^5", "102"),
    ("broken_bad_birth_date.hl7", "AE", "PID^1^7", "102"),
    ("broken_unsupported_type.hl7", "AR", "MSH^1^9^1^1", "200"),
    ("broken_no_msh.hl7", "AR", "MSH^1", "100"),
    ("broken_adt_bad_icd10.hl7", "AE", "DG1^1^3", "103"),
    ("broken_adt_pv1_before_pid.hl7", "AE", "PID^1", "100"),
]


@pytest.mark.parametrize(("name", "ack_code", "location", "code"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_message_is_answered_with_its_error_and_stores_nothing(app, lis, wang, name, ack_code, location,
                                                                       code):
    residents_before = count(app, "Resident")
    ack = post(lis, fixture(name))
    assert ack["MSA"][0][1] == ack_code
    err = ack["ERR"][0]
    assert (err[2], err[3].split("^")[0], err[4]) == (location, code, "E")
    assert err[8]                                            # a message a person can read
    assert observations(app) == [] and count(app, "Encounter") == 0
    assert count(app, "Resident") == residents_before


def test_a_broken_message_is_stored_as_a_rejected_delivery(app, lis, wang):
    from app.integrations.models import InboundEvent
    post(lis, fixture("broken_unknown_code.hl7"))
    with app.app_context():
        event = session().scalars(select(InboundEvent)).one()
        assert (event.channel, event.delivery_key, event.status) == ("hl7v2", "BAD0003", "rejected")
        assert "XYZ-99" in event.last_error


# -- ADT ---------------------------------------------------------------------------------------------------------

def test_an_adt_a01_registers_the_patient_and_records_the_admission(app, lis, org_tree):
    from app.residents.models import Resident
    from app.residents.record_models import Encounter
    ack = post(lis, fixture("adt_a01_admit.hl7"))
    assert ack["MSA"][0][1] == "AA"
    with app.app_context():
        resident = session().scalars(select(Resident)).one()
        assert (resident.name, resident.sex, resident.birth_date, resident.org_code) == (
            "李秀英", "F", date(1962, 8, 1), "C01T01V02")             # managing org from PD1-3
        encounter = session().scalars(select(Encounter)).one()
        assert (encounter.kind, encounter.org_code, encounter.diagnoses) == ("inpatient", "C01", ["I10", "E11.9"])
        assert encounter.started_at.isoformat() == "2026-03-01T01:30:00+00:00"


def test_an_adt_a08_for_the_same_visit_does_not_add_a_second_encounter(app, lis, org_tree):
    post(lis, fixture("adt_a01_admit.hl7"))
    assert post(lis, fixture("adt_a08_update.hl7"))["MSA"][0][1] == "AA"
    assert count(app, "Encounter") == 1 and count(app, "Resident") == 1


# -- transports and authentication ---------------------------------------------------------------------------------

def test_a_signed_request_is_accepted_like_a_webhook(app, lis, wang):
    import time

    from app.webhooks.signature import sign
    body = fixture("oru_r01_crlf.hl7")
    ts = int(time.time())
    response = app.test_client().post(URL, data=body, headers={
        **CT, "X-Client-Id": lis.client_id, "webhook-id": "hl7-1", "webhook-timestamp": str(ts),
        "webhook-signature": sign(lis.secret, "hl7-1", ts, body.decode())})
    assert ack_segments(response.get_data(as_text=True))["MSA"][0][1] == "AA"


def test_an_unauthenticated_message_is_refused(client, wang):
    response = client.post(URL, data=fixture("oru_r01_hba1c.hl7"), headers=CT)
    assert response.status_code == 401


def test_a_staff_token_may_not_post_hl7(app, client_as, wang):
    response = client_as("village_doctor").post(URL, data=fixture("oru_r01_hba1c.hl7"), headers=CT)
    assert response.status_code == 403


def test_mllp_round_trip_over_a_real_socket(app, wang):
    server = mllp.serve(app, "127.0.0.1", 0)
    try:
        host, port = server.server_address
        ack = ack_segments(mllp.send(host, port, fixture("oru_r01_hba1c.hl7")))
        assert ack["MSA"][0][1:3] == ["AA", "LIS0001"]
        broken = ack_segments(mllp.send(host, port, fixture("broken_unknown_code.hl7")))
        assert broken["MSA"][0][1] == "AE" and broken["ERR"][0][2] == "OBX^2^3"
    finally:
        server.shutdown()
        server.server_close()
    assert len(observations(app)) == 2


def test_mllp_takes_several_framed_messages_on_one_connection(app, wang):
    import socket
    server = mllp.serve(app, "127.0.0.1", 0)
    try:
        with socket.create_connection(server.server_address, timeout=10) as sock:
            sock.sendall(mllp.frame(fixture("oru_r01_hba1c.hl7")) + mllp.frame(fixture("oru_r01_crlf.hl7")))
            data = b""
            while data.count(mllp.END) < 2:
                data += sock.recv(65536)
        acks = [ack_segments(chunk.lstrip(mllp.START).decode()) for chunk in data.split(mllp.END)[:2]]
        assert [a["MSA"][0][2] for a in acks] == ["LIS0001", "LIS0002"]
    finally:
        server.shutdown()
        server.server_close()


# -- end to end: a lab result starts screening in the right township --------------------------------------------------

def test_an_oru_with_hba1c_for_an_unenrolled_resident_starts_screening_in_the_township_inbox(app, lis, wang,
                                                                                           client_as):
    from app.workflows.deploy import collect_folder_files, deploy_files
    from tests.api.test_screening import MODELS, tasks
    from tests.helpers import REPO
    paths = [REPO / p for p in MODELS] + [REPO / "dmn"] + [
        REPO / "forms" / p for p in ("screening", "stratify", "cancer_screening", "merge_review")]
    with app.app_context():
        deploy_files(collect_folder_files(REPO, paths), deployed_by="test", source="folder")
    assert post(lis, fixture("oru_r01_hba1c.hl7"))["MSA"][0][1] == "AA"     # HbA1c 7.2 %, FPG 7.8 mmol/L
    shimen = tasks(client_as("township_doctor", org="C01T01"))
    assert [(t["element_id"], t["resident"]["name"], t["disease"]) for t in shimen] == [
        ("verify_case", "王建国", "t2dm")]
    assert tasks(client_as("township_doctor", org="C01T02")) == []


def test_a_results_performing_organisation_obx_23_is_kept_for_the_network_record(app, lis, wang):
    """Issue 17.5: OBX-23 (XON-10, organisation identifier) is the result's source organisation (全网记录, 互认)."""
    body = fixture("oru_r01_hba1c.hl7").replace(b"|F|||20260301080000+0800\n", b"|F|||20260301080000+0800|||||||||^^^^^^^^^C01\n", 1)
    assert body != fixture("oru_r01_hba1c.hl7")
    assert post(lis, body)["MSA"][0][1] == "AA"
    assert {(o.code, o.org_code) for o in observations(app)} == {("4548-4", "C01"), ("1558-6", None)}

"""Referrals reported by the HIS over HL7 v2 (REF^I12) and FHIR (ServiceRequest, category referral) become reported
referrals exactly as the `referral_reported` webhook makes them (issue 20.6): one row per (source, source id), a
changed repeat refused (reported_referral_conflict), bad messages refused whole with their code and location."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.core.db import session
from app.referral.models import ReportedReferral
from tests.api import test_fhir, test_hl7v2
from tests.api.test_fhir import FHIR_JSON
from tests.api.test_hl7v2 import CT, URL, WANG, ack_segments


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    test_hl7v2._fresh_rate_limits.__wrapped__(app)


@pytest.fixture()
def wang(app, org_tree):
    return test_hl7v2.wang.__wrapped__(app, org_tree)


@pytest.fixture()
def lis(app, org_tree):
    return test_hl7v2.lis.__wrapped__(app, org_tree)


@pytest.fixture()
def fhir_his(app, client_as, org_tree):
    return test_fhir.his.__wrapped__(app, client_as, org_tree)


def ref_i12(*, control="REF0001", referral="ZZ20260606001", on="20260606", rp="C01T01V01", rt="C01D01",
            pid_id=WANG, category="O", dg1="I10^高血压^I10", extra="") -> bytes:
    segments = [
        f"MSH|^~\\&|HIS|C01D01|YGT|YGT|20260606101500||REF^I12^REF_I12|{control}|P|2.4|||||CHN|UNICODE UTF-8",
        f"RF1|A|R|MED||{category}|{referral}|{on}",
        f"PRD|RP|张^医生||^^^{rp}" if rp else "PRD|RP|张^医生",
        f"PRD|RT|李^医生||^^^{rt}" if rt else "PRD|RT|李^医生||||||||省人民医院",
        f"PID|1||{pid_id}^^^CHN^NNCHN||王^建国||19560314|M",
        f"DG1|1||{dg1}" if dg1 else "",
        extra]
    return "\r".join(s for s in segments if s).encode()


def rows(app) -> list[ReportedReferral]:
    with app.app_context():
        return list(session().scalars(select(ReportedReferral).order_by(ReportedReferral.id)))


def post_hl7(lis, body: bytes) -> dict:
    response = lis.post(URL, data=body, headers=CT)
    assert response.status_code == 200, response.data
    return ack_segments(response.get_data(as_text=True))


# -- HL7 v2 REF^I12 ----------------------------------------------------------------------------------------------

def test_a_ref_i12_becomes_a_reported_referral_once(app, lis, wang):
    ack = post_hl7(lis, ref_i12())
    assert ack["MSA"][0][1] == "AA", ack
    (row,) = rows(app)
    assert (row.source, row.source_id, row.direction, row.kind, row.resident_id, row.from_org_code, row.to_org_code,
            row.referred_on.isoformat(), row.diagnosis_code, row.diagnosis) == (
        "his", "ZZ20260606001", "up", "referral", wang, "C01T01V01", "C01D01", "2026-06-06", "I10", "高血压")
    assert "id_number" not in row.payload
    # the same message again (same control id) and the same referral under a new control id: one row
    assert post_hl7(lis, ref_i12())["MSA"][0][1] == "AA"
    assert post_hl7(lis, ref_i12(control="REF0002"))["MSA"][0][1] == "AA"
    assert len(rows(app)) == 1


def test_a_down_referral_and_an_inpatient_transfer_out_of_the_county(app, lis, wang):
    assert post_hl7(lis, ref_i12(referral="D1", rp="C01D01", rt="C01T01V01"))["MSA"][0][1] == "AA"
    assert post_hl7(lis, ref_i12(control="REF0009", referral="T1", rp="C01D01", rt="", category="I"))["MSA"][0][1] \
        == "AA"
    down, out = rows(app)
    assert (down.direction, down.kind) == ("down", "referral")
    assert (out.direction, out.kind, out.to_org_code, out.to_hospital) == ("up", "transfer", None, "省人民医院")


def test_a_changed_repeat_of_a_reported_referral_is_refused_as_a_conflict(app, lis, wang):
    post_hl7(lis, ref_i12())
    ack = post_hl7(lis, ref_i12(control="REF0003", on="20260607"))
    assert ack["MSA"][0][1] == "AE"
    assert ack["ERR"][0][2] == "RF1^1^6" and ack["ERR"][0][3].startswith("205^")
    assert "[reported_referral_conflict]" in ack["ERR"][0][8]
    assert [r.referred_on.isoformat() for r in rows(app)] == ["2026-06-06"]


BAD = [
    # message changes, ERR-2 location, stable code (in ERR-8) or None for a pure HL7 problem
    ({"pid_id": "110101199003070000"}, "PID^1^3", "unknown_resident"),
    ({"rp": "NOPE"}, "PRD^1^4", "unknown_org"),
    ({"on": "20990101"}, "RF1^1^7", "date_in_future"),
    ({"on": "2026-06-06"}, "RF1^1^7", None),
    ({"referral": ""}, "RF1^1^6", None),
    ({"dg1": "hypertension^高血压^I10"}, "DG1^1^3", "schema_error"),
    ({"rp": "C01T01V01", "rt": "C01T01V02"}, "PRD^2^4", None),          # two villages: neither up nor down
]


@pytest.mark.parametrize(("change", "location", "code"), BAD, ids=[str(b[0]) for b in BAD])
def test_a_bad_ref_i12_is_refused_whole_with_its_location(app, lis, wang, change, location, code):
    ack = post_hl7(lis, ref_i12(**change))
    assert ack["MSA"][0][1] == "AE", ack
    assert ack["ERR"][0][2] == location, ack["ERR"]
    if code:
        assert f"[{code}]" in ack["ERR"][0][8]
    assert rows(app) == []


def test_a_ref_i12_without_its_rf1_is_a_segment_error(app, lis, wang):
    body = b"\r".join(s for s in ref_i12().split(b"\r") if not s.startswith(b"RF1"))
    ack = post_hl7(lis, body)
    assert (ack["MSA"][0][1], ack["ERR"][0][2], ack["ERR"][0][3].split("^")[0]) == ("AE", "RF1^1", "101")
    assert rows(app) == []


# -- FHIR ServiceRequest -------------------------------------------------------------------------------------------

def service_request(*, bundle_id="B-1", identifier="SR-1", authored="2026-06-06", requester="C01T01V01",
                    performer: dict | None = None, subject: dict | None = None, category="3457005",
                    reason="I10") -> dict:
    sr = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
          "identifier": [{"system": "urn:his:referral", "value": identifier}],
          "category": [{"coding": [{"system": "http://snomed.info/sct", "code": category, "display": "转诊"}]}],
          "subject": subject or {"identifier": {"system": "urn:oid:2.16.156.10011.1.3", "value": WANG}},
          "authoredOn": authored, "requester": {"reference": f"Organization/{requester}"},
          "performer": [performer or {"reference": "Organization/C01D01"}],
          "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": reason,
                                      "display": "原发性高血压"}]}]}
    if not identifier:
        del sr["identifier"]
    return {"resourceType": "Bundle", "id": bundle_id, "type": "transaction",
            "entry": [{"fullUrl": "urn:uuid:7f0c9a51-0000-4000-8000-000000000001", "resource": sr,
                       "request": {"method": "POST", "url": "ServiceRequest"}}]}


def post_fhir(client, body: dict):
    return client.post("/fhir", data=json.dumps(body, ensure_ascii=False), content_type=FHIR_JSON)


def test_a_referral_service_request_becomes_a_reported_referral_once(app, fhir_his, wang):
    first = post_fhir(fhir_his, service_request())
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["entry"][0]["response"]["status"] == "201 Created"
    (row,) = rows(app)
    assert (row.source, row.source_id, row.direction, row.resident_id, row.from_org_code, row.to_org_code,
            row.referred_on.isoformat(), row.diagnosis_code, row.diagnosis) == (
        "his", "SR-1", "up", wang, "C01T01V01", "C01D01", "2026-06-06", "I10", "原发性高血压")
    again = post_fhir(fhir_his, service_request(bundle_id="B-2"))          # a new bundle, the same referral
    assert again.status_code == 200 and again.get_json()["entry"][0]["response"]["status"] == "200 OK"
    assert len(rows(app)) == 1


def test_a_service_request_to_a_hospital_outside_the_county_by_name(app, fhir_his, wang):
    body = service_request(performer={"display": "省人民医院"}, requester="C01D01")
    assert post_fhir(fhir_his, body).status_code == 200
    (row,) = rows(app)
    assert (row.direction, row.to_org_code, row.to_hospital) == ("up", None, "省人民医院")


def test_a_changed_service_request_is_refused_409(app, fhir_his, wang):
    post_fhir(fhir_his, service_request())
    changed = post_fhir(fhir_his, service_request(bundle_id="B-3", authored="2026-06-07"))
    assert changed.status_code == 409, changed.get_json()
    issue = changed.get_json()["issue"][0]
    assert issue["code"] == "conflict" and "[reported_referral_conflict]" in issue["diagnostics"]
    assert [r.referred_on.isoformat() for r in rows(app)] == ["2026-06-06"]


FHIR_BAD = [
    ({"subject": {"identifier": {"system": "urn:oid:2.16.156.10011.1.3", "value": "110101199003070000"}}},
     "unknown_resident", "subject"),
    ({"requester": "NOPE"}, "unknown_org", "requester"),
    ({"authored": "2099-01-01"}, "date_in_future", "authoredOn"),
    ({"identifier": ""}, "required", "identifier"),
    ({"category": "306206005"}, "not-supported", "category"),
    ({"reason": "hypertension"}, "schema_error", "reasonCode"),
]


@pytest.mark.parametrize(("change", "code", "where"), FHIR_BAD, ids=[b[1] + "-" + b[2] for b in FHIR_BAD])
def test_a_bad_service_request_is_refused_whole(app, fhir_his, wang, change, code, where):
    response = post_fhir(fhir_his, service_request(**change))
    assert response.status_code == 422, response.get_json()
    issue = response.get_json()["issue"][0]
    assert code == issue["code"] or f"[{code}]" in issue["diagnostics"], issue
    assert issue["expression"] == [f"Bundle.entry[0].resource.{where}"], issue
    assert rows(app) == []


def test_a_service_request_in_a_bundle_with_a_bad_observation_stores_nothing(app, fhir_his, wang):
    body = service_request()
    body["entry"].append({"fullUrl": "urn:uuid:7f0c9a51-0000-4000-8000-000000000002", "request": {
        "method": "POST", "url": "Observation"}, "resource": {
        "resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org",
                                                                              "code": "4548-4"}]},
        "subject": {"reference": f"Patient/{wang}"}, "effectiveDateTime": "2026-06-06T09:00:00+08:00"}})
    response = post_fhir(fhir_his, body)
    assert response.status_code == 422, response.get_json()
    assert rows(app) == []
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(ReportedReferral)) == 0


# -- HL7 v2 ADT^A03: a discharge to another organisation is a reported transfer --------------------------------------

def adt_a03(*, control="DIS0001", visit="V20260601001", facility="C01T01", disposition="2", destination="C01",
            discharged="20260605093000+0800", dg1="I10^原发性高血压^I10", pid_id=WANG) -> bytes:
    pv1 = ["PV1", "1", "I", f"心内科^301^2^{facility}"] + [""] * 15 + [visit] + [""] * 16 + [disposition, destination] \
        + [""] * 6 + ["20260601093000+0800", discharged]
    segments = [
        f"MSH|^~\\&|HIS|{facility}|YGT|YGT|20260605100000+0800||ADT^A03^ADT_A03|{control}|P|2.5.1",
        "EVN|A03|20260605100000+0800",
        f"PID|1||{pid_id}^^^CHN^NNCHN||王^建国||19560314|M",
        "|".join(pv1),
        f"DG1|1||{dg1}||20260601|A" if dg1 else ""]
    return "\r".join(s for s in segments if s).encode()


def encounters(app) -> list:
    from app.residents.record_models import Encounter
    with app.app_context():
        return list(session().scalars(select(Encounter).order_by(Encounter.id)))


def test_an_adt_a03_to_the_county_hospital_records_the_encounter_and_a_reported_transfer_once(app, lis, wang):
    ack = post_hl7(lis, adt_a03())
    assert ack["MSA"][0][1] == "AA", ack
    assert "reported transfer" in ack["MSA"][0][3]
    (row,) = rows(app)
    assert (row.source, row.source_id, row.kind, row.direction, row.resident_id, row.from_org_code, row.to_org_code,
            row.to_hospital, row.referred_on.isoformat(), row.diagnosis_code) == (
        "his", "visit:V20260601001", "transfer", "up", wang, "C01T01", "C01", None, "2026-06-05", "I10")
    (encounter,) = encounters(app)
    assert (encounter.kind, encounter.org_code, encounter.diagnoses) == ("inpatient", "C01T01", ["I10"])
    # resent under a new control id: still one encounter and one transfer
    assert post_hl7(lis, adt_a03(control="DIS0002"))["MSA"][0][1] == "AA"
    assert len(rows(app)) == 1 and len(encounters(app)) == 1


def test_an_adt_a03_down_to_a_village_and_out_of_the_county_by_name(app, lis, wang):
    assert post_hl7(lis, adt_a03(facility="C01D01", destination="C01T01V01"))["MSA"][0][1] == "AA"
    ack = post_hl7(lis, adt_a03(control="DIS0003", visit="V2", disposition="02", destination="省人民医院"))
    assert ack["MSA"][0][1] == "AA", ack
    down, out = rows(app)
    assert (down.direction, down.to_org_code, down.from_org_code) == ("down", "C01T01V01", "C01D01")
    assert (out.direction, out.to_org_code, out.to_hospital) == ("up", None, "省人民医院")


@pytest.mark.parametrize("disposition", ["1", "01", "5", "20"])
def test_an_adt_a03_home_or_death_records_the_encounter_and_no_transfer(app, lis, wang, disposition):
    ack = post_hl7(lis, adt_a03(disposition=disposition))
    assert ack["MSA"][0][1] == "AA", ack
    assert rows(app) == [] and len(encounters(app)) == 1


def test_an_adt_a03_without_disposition_or_destination_is_a_plain_discharge(app, lis, wang):
    assert post_hl7(lis, adt_a03(disposition="", destination=""))["MSA"][0][1] == "AA"
    assert rows(app) == [] and len(encounters(app)) == 1


def test_a_changed_repeat_of_an_adt_transfer_is_a_conflict_and_stores_nothing_new(app, lis, wang):
    post_hl7(lis, adt_a03())
    ack = post_hl7(lis, adt_a03(control="DIS0004", discharged="20260606093000+0800"))
    assert ack["MSA"][0][1] == "AE"
    assert ack["ERR"][0][2] == "PV1^1^19" and ack["ERR"][0][3].startswith("205^")
    assert "[reported_referral_conflict]" in ack["ERR"][0][8]
    assert [r.referred_on.isoformat() for r in rows(app)] == ["2026-06-05"]


ADT_BAD = [
    ({"destination": "NOPE"}, "PV1^1^37", "unknown_org"),
    ({"facility": "NOPE"}, "PV1^1^3", "unknown_org"),
    ({"discharged": "20990101093000+0800"}, "PV1^1^45", "date_in_future"),
    ({"discharged": "2026-06-05"}, "PV1^1^45", None),
    ({"destination": ""}, "PV1^1^37", None),
    ({"destination": "C01T02"}, "PV1^1^37", None),                  # township to township: neither up nor down
    ({"visit": "V" * 60}, "PV1^1^19", "schema_error"),
]


@pytest.mark.parametrize(("change", "location", "code"), ADT_BAD, ids=[str(b[0]) for b in ADT_BAD])
def test_a_bad_adt_transfer_refuses_the_whole_message(app, lis, wang, change, location, code):
    ack = post_hl7(lis, adt_a03(**change))
    assert ack["MSA"][0][1] == "AE", ack
    assert ack["ERR"][0][2] == location, ack["ERR"]
    if code:
        assert f"[{code}]" in ack["ERR"][0][8]
    assert rows(app) == [] and encounters(app) == []              # the encounter is not half-applied either


def test_an_adt_a03_whose_patient_goes_to_identity_review_stores_no_transfer(app, lis, org_tree):
    body = adt_a03(facility="C01D01", destination="C01T01V01").replace(     # not registered, no managing org
        f"{WANG}^^^CHN^NNCHN||王^建国||19560314|M".encode(), "330127196208013783^^^CHN^NNCHN||李^秀英||19620801|F".encode())
    ack = post_hl7(lis, body)
    assert ack["MSA"][0][1] == "AE" and ack["ERR"][0][3].startswith("204^"), ack
    assert rows(app) == [] and encounters(app) == []


# -- FHIR Encounter discharged to another organisation ---------------------------------------------------------------

def discharge(*, bundle_id="E-1", visit="V20260601001", provider="C01T01", disposition="other-hcf",
              destination: dict | None = None, end="2026-06-05T09:30:00+08:00", reason="I10") -> dict:
    enc = {"resourceType": "Encounter", "status": "finished",
           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
           "subject": {"reference": "Patient/0"}, "serviceProvider": {"reference": f"Organization/{provider}"},
           "period": {"start": "2026-06-01T09:30:00+08:00", "end": end},
           "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": reason,
                                       "display": "原发性高血压"}]}],
           "hospitalization": {"dischargeDisposition": {"coding": [{
               "system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": disposition}]},
               "destination": destination or {"reference": "Organization/C01"}}}
    if visit:
        enc["identifier"] = [{"system": "urn:his:visit", "value": visit}]
    if not end:
        del enc["period"]["end"]
    return {"resourceType": "Bundle", "id": bundle_id, "type": "transaction",
            "entry": [{"fullUrl": "urn:uuid:7f0c9a51-0000-4000-8000-0000000000e1", "resource": enc,
                       "request": {"method": "POST", "url": "Encounter"}}]}


def post_encounter(client, wang: int, body: dict):
    enc = body["entry"][0]["resource"]
    enc["subject"]["reference"] = f"Patient/{wang}"
    return post_fhir(client, body)


def test_an_encounter_discharged_to_the_county_hospital_is_a_reported_transfer_once(app, fhir_his, wang):
    response = post_encounter(fhir_his, wang, discharge())
    assert response.status_code == 200, response.get_json()
    (row,) = rows(app)
    assert (row.source, row.source_id, row.kind, row.direction, row.resident_id, row.from_org_code, row.to_org_code,
            row.referred_on.isoformat(), row.diagnosis_code) == (
        "his", "visit:V20260601001", "transfer", "up", wang, "C01T01", "C01", "2026-06-05", "I10")
    assert len(encounters(app)) == 1
    assert post_encounter(fhir_his, wang, discharge(bundle_id="E-2")).status_code == 200
    assert len(rows(app)) == 1


def test_the_same_discharge_over_hl7_and_fhir_is_one_reported_transfer(app, lis, fhir_his, wang):
    assert post_hl7(lis, adt_a03())["MSA"][0][1] == "AA"
    assert post_encounter(fhir_his, wang, discharge()).status_code == 200
    assert len(rows(app)) == 1


def test_an_encounter_discharged_home_or_out_of_the_county(app, fhir_his, wang):
    assert post_encounter(fhir_his, wang, discharge(disposition="home")).status_code == 200
    assert rows(app) == [] and len(encounters(app)) == 1
    body = discharge(bundle_id="E-3", visit="V9", provider="C01D01", destination={"display": "省人民医院"})
    assert post_encounter(fhir_his, wang, body).status_code == 200
    (row,) = rows(app)
    assert (row.direction, row.to_org_code, row.to_hospital) == ("up", None, "省人民医院")


def test_a_changed_encounter_transfer_is_refused_409(app, fhir_his, wang):
    post_encounter(fhir_his, wang, discharge())
    changed = post_encounter(fhir_his, wang, discharge(bundle_id="E-4", end="2026-06-06T09:30:00+08:00"))
    assert changed.status_code == 409, changed.get_json()
    assert "[reported_referral_conflict]" in changed.get_json()["issue"][0]["diagnostics"]
    assert [r.referred_on.isoformat() for r in rows(app)] == ["2026-06-05"]


ENC_BAD = [
    ({"destination": {"reference": "Organization/NOPE"}}, "unknown_org", "hospitalization.destination"),
    ({"provider": "NOPE"}, "unknown_org", "serviceProvider"),
    ({"end": "2099-01-01T09:30:00+08:00"}, "date_in_future", "period.end"),
    ({"end": ""}, "required", "period.end"),
    ({"visit": ""}, "required", "identifier"),
    ({"destination": {"reference": "Organization/C01T02"}}, "business-rule", "hospitalization.destination"),
]


@pytest.mark.parametrize(("change", "code", "where"), ENC_BAD, ids=[b[1] + "-" + b[2] for b in ENC_BAD])
def test_a_bad_encounter_transfer_refuses_the_whole_bundle(app, fhir_his, wang, change, code, where):
    response = post_encounter(fhir_his, wang, discharge(**change))
    assert response.status_code == 422, response.get_json()
    issue = response.get_json()["issue"][0]
    assert code == issue["code"] or f"[{code}]" in issue["diagnostics"], issue
    assert issue["expression"] == [f"Bundle.entry[0].resource.{where}"], issue
    assert rows(app) == [] and encounters(app) == []

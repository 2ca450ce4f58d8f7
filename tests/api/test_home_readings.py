"""A resident's own home readings (issue 12.9): the patient records them, the record shows them labelled 患者自测, and
no clinical reader (key values, stratify inputs, screening features, lab checks) ever takes one for a clinic value."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.auth.services import create_token
from app.core import clock
from app.residents import record_queries, records
from tests.helpers import ApiClient


@pytest.fixture()
def home(app, make_resident, make_user, client_as):
    resident = make_resident()
    with app.app_context():
        records.record_observation(resident["id"], code="8480-6", value=158, unit="mmHg", source="village",
                                   effective_at=clock.now() - timedelta(days=20), rescreen=False)
        records.record_observation(resident["id"], code="8462-4", value=96, unit="mmHg", source="village",
                                   effective_at=clock.now() - timedelta(days=20), rescreen=False)
        user = make_user("patient", org=resident["org_code"], resident_id=resident["id"])
        _, token = create_token(user.id, name="portal")
    return {"resident": resident, "patient": ApiClient(app.test_client(), token, user),
            "doctor": client_as("village_doctor", org=resident["org_code"])}


def reading(**values):
    return {"measured_at": (clock.now() - timedelta(hours=1)).isoformat(), **values}


def test_a_patient_records_a_home_reading_that_the_record_labels_and_no_clinical_reader_uses(app, home):
    rid = home["resident"]["id"]
    answer = home["patient"].post(f"/api/v1/residents/{rid}/home-readings",
                                  json=reading(id="7c1e5b1a-home-1", sbp=118, dbp=74, pulse=70))
    assert answer.status_code == 201, answer.json
    assert {(o["code"], o["value"], o["source"], o["source_label"]) for o in answer.json["items"]} == {
        ("8480-6", 118, "patient", "患者自测"), ("8462-4", 74, "patient", "患者自测"), ("8867-4", 70, "patient", "患者自测")}
    again = home["patient"].post(f"/api/v1/residents/{rid}/home-readings",
                                 json=reading(id="7c1e5b1a-home-1", sbp=118, dbp=74, pulse=70))
    assert again.status_code == 200 and len(again.json["items"]) == 3            # a re-send adds nothing

    summary = home["doctor"].get(f"/api/v1/residents/{rid}").json["summary"]
    assert summary["key_values"]["8480-6"]["latest"]["value"] == 158              # the clinic value still leads
    assert [(r["code"], r["value"], r["source_label"]) for r in summary["home_readings"]
            if r["code"] == "8480-6"] == [("8480-6", 118, "患者自测")]
    with app.app_context():
        assert record_queries.latest_values(rid, ("8480-6", "8462-4"))["8480-6"][0] == 158
        from app.screening.features import gather
        assert gather(0, 0, as_of=clock.today(), ids=[rid])[rid].values["8480-6"] == 158
        from app.screening.stratify import untreated_bp
        assert untreated_bp(rid)["sbp"]["value"] == 158
    # the record's observations say which values the resident measured (the UI keeps those out of the trends)
    trend = home["doctor"].get(f"/api/v1/residents/{rid}/observations?code=8480-6").json["items"]
    assert sorted((o["value"], o["home"]) for o in trend) == [(118, True), (158, False)]


def test_a_high_home_reading_never_becomes_the_untreated_bp_that_grades(app, home):
    rid = home["resident"]["id"]
    assert home["patient"].post(f"/api/v1/residents/{rid}/home-readings",
                                json=reading(sbp=182, dbp=112)).status_code == 201
    with app.app_context():
        from app.screening.stratify import untreated_bp
        bp = untreated_bp(rid)
    assert (bp["sbp"]["value"], bp["dbp"]["value"], bp["sbp"]["source"]) == (158, 96, "village")


def test_glucose_at_home_is_fasting_or_random(home):
    rid = home["resident"]["id"]
    fasting = home["patient"].post(f"/api/v1/residents/{rid}/home-readings",
                                   json=reading(glucose=6.1, glucose_kind="fasting"))
    assert fasting.status_code == 201 and fasting.json["items"][0]["code"] == "1558-6"
    random_ = home["patient"].post(f"/api/v1/residents/{rid}/home-readings",
                                   json=reading(glucose=9.4, glucose_kind="random"))
    assert random_.status_code == 201 and random_.json["items"][0]["code"] == "2339-0"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "sbp"),                                                          # nothing measured
    ({"sbp": 118}, "dbp"),                                                # half a pair
    ({"sbp": 70, "dbp": 90}, "dbp"),                                      # diastolic above systolic
    ({"sbp": 400, "dbp": 90}, "sbp"),                                     # implausible
    ({"glucose": 6.1}, "glucose_kind"),                                   # which glucose
    ({"glucose": 90, "glucose_kind": "fasting"}, "glucose"),              # mg/dL typed into mmol/L
])
def test_an_impossible_home_reading_is_refused_and_nothing_is_stored(app, home, body, field):
    rid = home["resident"]["id"]
    answer = home["patient"].post(f"/api/v1/residents/{rid}/home-readings", json=reading(**body))
    assert answer.status_code == 422 and answer.json["code"] == "validation_error", answer.json
    assert field in str(answer.json)
    with app.app_context():
        assert [o for o in record_queries.observations(rid, limit=50) if o["source"] == "patient"] == []


def test_a_reading_in_the_future_is_refused(home):
    rid = home["resident"]["id"]
    later = (clock.now() + timedelta(hours=2)).isoformat()
    answer = home["patient"].post(f"/api/v1/residents/{rid}/home-readings",
                                  json={"measured_at": later, "sbp": 120, "dbp": 80})
    assert answer.status_code == 422 and "measured_at" in str(answer.json)


def test_a_patient_records_only_for_themselves_and_staff_record_on_their_behalf(app, home, make_resident):
    other = make_resident()
    assert home["patient"].post(f"/api/v1/residents/{other['id']}/home-readings",
                                json=reading(sbp=120, dbp=80)).status_code == 404
    by_doctor = home["doctor"].post(f"/api/v1/residents/{home['resident']['id']}/home-readings",
                                    json=reading(sbp=132, dbp=84))
    assert by_doctor.status_code == 201 and by_doctor.json["items"][0]["source"] == "patient"


def test_the_record_names_the_managing_organization_for_a_patient(home):
    record = home["patient"].get(f"/api/v1/residents/{home['resident']['id']}").json
    assert record["org_code"] == "C01T01V01" and record["org_name"] and record["org_name"] != "C01T01V01"

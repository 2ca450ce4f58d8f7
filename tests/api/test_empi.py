"""Master person index: exact matches by ID number or demographics, new residents created, and a near duplicate
becomes a merge-review task for the township's public-health staff (never a silent merge)."""
from __future__ import annotations

from datetime import UTC, date

import pytest

from app.residents.matching import match_or_create
from tests.helpers import REPO


@pytest.fixture()
def review_model(app, org_tree):
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, [REPO / "bpmn" / "merge_review.bpmn", REPO / "forms" / "merge_review"]),
                     deployed_by="test", source="folder")


def test_a_known_id_number_matches_its_resident(app, make_resident, review_model):
    known = make_resident(name="王建国", born=date(1956, 3, 14))
    with app.app_context():
        result = match_or_create(id_number=known["id_number"], name="王建国", sex="M", birth_date=date(1956, 3, 14),
                                 org_code="C01T01V01", source="his")
    assert (result.resident_id, result.outcome, result.review_instance_id) == (known["id"], "matched", None)


def test_demographics_match_without_an_id_number(app, make_resident, review_model):
    known = make_resident(name="王建国", born=date(1956, 3, 14), org="C01T01V01")
    with app.app_context():
        result = match_or_create(id_number=None, name="王建国", sex="M", birth_date=date(1956, 3, 14),
                                 org_code="C01T01V01", source="public_health")
    assert (result.resident_id, result.outcome) == (known["id"], "matched")


def test_a_new_id_number_creates_a_resident(app, new_id_number, review_model):
    number = new_id_number(born=date(1980, 4, 4), sex="F")
    with app.app_context():
        result = match_or_create(id_number=number, name="周敏", sex="F", birth_date=date(1980, 4, 4),
                                 org_code="C01T01V02", source="his")
    assert result.outcome == "created" and result.resident_id is not None


def test_a_near_duplicate_starts_a_merge_review_task(app, make_resident, new_id_number, client_as, review_model):
    known = make_resident(name="王建国", born=date(1956, 3, 14), org="C01T01V01")
    other_number = new_id_number(born=date(1956, 3, 14), sex="M")
    with app.app_context():
        result = match_or_create(id_number=other_number, name="王建围", sex="M", birth_date=date(1956, 3, 14),
                                 org_code="C01T01V01", phone=None, source="his")
    assert result.outcome == "review" and result.review_instance_id is not None
    assert result.resident_id not in (None, known["id"])            # created, not merged
    staff = client_as("township_public_health", org="C01T01")
    items = staff.get("/api/v1/tasks?view=groups").get_json()["items"]
    assert [t["element_id"] for t in items] == ["review_match"]
    done = staff.post(f"/api/v1/tasks/{items[0]['id']}/complete",
                      json={"data": {"decision": "different_person"}})
    assert done.status_code == 200, done.get_json()


def test_the_same_name_in_another_village_without_an_id_number_is_reviewed(app, make_resident, review_model):
    make_resident(name="王建国", born=date(1956, 3, 14), org="C01T02V01")
    with app.app_context():
        result = match_or_create(id_number=None, name="王建国", sex="M", birth_date=date(1956, 3, 14),
                                 org_code="C01T01V01", source="public_health")
    assert (result.resident_id, result.outcome) == (None, "review") and result.review_instance_id


def test_same_person_moves_the_duplicate_records_onto_the_kept_resident(app, make_resident, new_id_number,
                                                                        client_as, review_model):
    from datetime import datetime

    from app.residents import records
    known = make_resident(name="王建国", born=date(1956, 3, 14), org="C01T01V01")
    with app.app_context():
        result = match_or_create(id_number=new_id_number(born=date(1956, 3, 14), sex="M"), name="王建国", sex="M",
                                 birth_date=date(1956, 3, 14), org_code="C01T01V01", source="his")
        records.record_observation(result.resident_id, code="8480-6", value=150, unit="mmHg", source="his",
                                   effective_at=datetime(2026, 3, 1, tzinfo=UTC), rescreen=False)
    staff = client_as("township_public_health", org="C01T01")
    task = staff.get("/api/v1/tasks?view=groups").get_json()["items"][0]
    done = staff.post(f"/api/v1/tasks/{task['id']}/complete",
                      json={"data": {"decision": "same_person", "keep_resident_id": known["id"]}})
    assert done.status_code == 200, done.get_json()
    doctor = client_as("township_doctor", org="C01T01")
    moved = doctor.get(f"/api/v1/residents/{known['id']}/observations").get_json()
    assert [o["value"] for o in moved["items"]] == [150]

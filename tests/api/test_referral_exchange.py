"""Out-of-county exchange with the public-health platform (issue 16, M19), against a local fake REST server: an
outside hospital's discharge summary creates or matches the resident and starts the down-referral receipt at the
managing organisation (once); an unknown identity starts a merge review instead of a duplicate; an approved
out-of-county referral is sent once with its 医保备案号."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core.db import session
from tests.api.test_connectors import WANG, _paged, _server
from tests.referral_support import catalogue, complete, deploy_referral_models, one, referral

SUMMARY = {"id": "PHR-1", "id_number": WANG, "name": "王建国", "sex": "M", "birth_date": "1956-03-14",
           "org_code": "C01T01V01", "hospital": "省人民医院", "disease": "htn", "discharge_on": "2026-03-01",
           "discharge_diagnosis": "高血压3级 脑出血恢复期", "long_term_plan": "氨氯地平5mg qd",
           "follow_up_requirements": "每2周测血压"}


def _referrals(app):
    from app.referral.models import Referral
    with app.app_context():
        return list(session().scalars(select(Referral).order_by(Referral.id)))


def test_an_outside_discharge_summary_starts_the_receipt_at_the_managing_village_once(app, monkeypatch, county,
                                                                                     login_as):
    from connectors.public_health import referrals as exchange
    deploy_referral_models(app)
    village = login_as("village_doctor", org="C01T01V01")
    server = _server(monkeypatch, "public_health", {"/referrals": _paged([SUMMARY])})
    try:
        with app.app_context():
            assert exchange.pull() == 1
            assert exchange.pull() == 0                                   # the cursor moved on
    finally:
        server.close()
    [row] = _referrals(app)
    assert (row.direction, row.source, row.external_hospital, row.to_org_code) == \
        ("down", "public_health", "省人民医院", "C01T01V01")
    task = one(village, "receive_down_referral")                          # no county 下转单 step: the summary is it
    assert "省人民医院" in referral(village, row.id)["reason"]
    complete(village, task, {"accepted": True})
    shown = referral(village, row.id)
    assert shown["status"] == "received" and shown["follow_up_due_on"] and shown["form"]["long_term_plan"]
    assert shown["to_org_name"]                                            # the village, by name


def test_an_unknown_identity_is_reviewed_not_duplicated(app, monkeypatch, county):
    from app.integrations.models import SyncCursor
    from app.residents.models import Resident
    from connectors.public_health import referrals as exchange
    deploy_referral_models(app)
    nobody = {**SUMMARY, "id": "PHR-2", "id_number": None, "name": "李无名", "birth_date": "1960-01-01"}
    server = _server(monkeypatch, "public_health", {"/referrals": _paged([nobody])})
    try:
        with app.app_context():
            before = session().scalar(select(func.count()).select_from(Resident))
            assert exchange.pull() == 0
            assert session().scalar(select(func.count()).select_from(Resident)) == before
            assert "PHR-2" in session().get(SyncCursor, "public_health.referrals").last_error
    finally:
        server.close()
    assert _referrals(app) == []


def test_a_summary_held_for_identity_review_continues_once_the_review_resolves(app, monkeypatch, county, login_as):
    """Nothing lost: a summary naming someone we cannot tell apart waits on the merge review (the review task is kept,
    not rolled back with the summary); when the reviewer says 同一人 the same summary starts the down-referral receipt
    at the kept resident's managing village, once."""
    from app.workflows.deploy import collect_folder_files, deploy_files
    from connectors.public_health import referrals as exchange
    from tests.helpers import REPO
    from tests.referral_support import make_resident
    deploy_referral_models(app)
    with app.app_context():
        deploy_files(collect_folder_files(REPO, [REPO / "bpmn" / "merge_review.bpmn", REPO / "forms" / "merge_review"]),
                     deployed_by="test", source="folder")
    wang = make_resident(app)                                   # 王建国, 1956-03-14, managed by 上塘村 C01T01V01
    village = login_as("village_doctor", org="C01T01V01")
    reviewer = login_as("township_public_health", org="C01T01")
    unsure = {**SUMMARY, "id": "PHR-3", "id_number": None, "org_code": "C01T01V02"}   # no ID, another village
    server = _server(monkeypatch, "public_health", {"/referrals": _paged([unsure])})
    try:
        with app.app_context():
            exchange.pull()
            exchange.pull()
    finally:
        server.close()
    assert _referrals(app) == []                                  # not guessed onto anybody yet
    review = one(reviewer, "review_match")
    with app.app_context():
        from app.workflows.models import HumanTask
        held = session().get(HumanTask, review["id"]).data["pending"]
    assert held["summary"]["hospital"] == "省人民医院" and "id_number" not in held["summary"]
    complete(reviewer, review, {"decision": "same_person", "keep_resident_id": wang})
    [row] = _referrals(app)
    assert (row.direction, row.resident_id, row.to_org_code, row.external_hospital) == \
        ("down", wang, "C01T01V01", "省人民医院")
    task = one(village, "receive_down_referral")
    complete(village, task, {"accepted": True})
    assert referral(village, row.id)["status"] == "received"


def test_an_approved_out_of_county_referral_is_sent_once_with_its_filing_number(app, monkeypatch, county,
                                                                               login_as):
    from connectors.public_health import referrals as exchange
    from tests.referral_support import make_resident
    deploy_referral_models(app)
    catalogue(app, ("C01D01", "cardiology"), (None, "stroke", "市第一人民医院"))
    resident = make_resident(app)
    village = login_as("village_doctor", org="C01T01V01")
    supervisor = login_as("supervisor", org="C01")
    r = village.post("/api/v1/referrals", json={"resident_id": resident, "reason": "疑似动脉瘤", "capability": "stroke"}).json
    complete(village, one(village, "fill_referral_form"), {"reason": "疑似动脉瘤", "consent": True})
    server = _server(monkeypatch, "public_health", {"/referrals": (201, {"id": "OUT-1"})})
    try:
        with app.app_context():
            assert exchange.push() == 0                                   # not approved yet: nothing goes out
        complete(supervisor, one(supervisor, "approve_out_of_county"),
                 {"approved": True, "hospital": "市第一人民医院", "filing_no": "YB-1", "opinion": "同意"})
        with app.app_context():
            assert exchange.push() == 1
            assert exchange.push() == 0
        [sent] = server.requests
        assert sent["json"]["referral_no"] == r["referral_no"] and sent["json"]["insurance_filing_no"] == "YB-1"
        assert len(sent["json"]["id_number"]) == 18 and sent["json"]["hospital"] == "市第一人民医院"
    finally:
        server.close()

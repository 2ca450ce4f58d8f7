"""Pull/push adapters against a local fake REST server: public health (visits, exams, follow-ups pushed once),
insurance (DRG settlements, referral flags) and PACS/EMR links shown on the record."""
from __future__ import annotations

from datetime import UTC

from sqlalchemy import func, select

from app.core.db import session
from tests.api.test_notify import FakeServer

WANG = "330127195603142337"


def _server(monkeypatch, system: str, routes: dict) -> FakeServer:
    server = FakeServer()
    server.routes = routes
    monkeypatch.setenv(f"YGT_{system.upper()}_URL", server.url)
    monkeypatch.setenv(f"YGT_{system.upper()}_TOKEN", "secret-token")
    return server


def _paged(items):
    """Answer page 1 with the items and a cursor, then an empty page (what a `since` cursor returns next)."""
    def answer(handler):
        return (200, {"items": [], "next_cursor": None}) if "since=c1" in handler.path else \
            (200, {"items": items, "next_cursor": "c1"})
    return answer


VISIT = {"id": "PH-1", "id_number": WANG, "name": "王建国", "sex": "M", "birth_date": "1956-03-14",
         "org_code": "C01T01V01", "visit_at": "2026-03-01T09:00:00+08:00", "kind": "follow_up",
         "diagnoses": ["I10"], "results": [{"code": "8480-6", "value": 148, "unit": "mmHg"},
                                           {"code": "8462-4", "value": 92, "unit": "mmHg"}]}
EXAM = {"id": "EX-1", "id_number": WANG, "name": "王建国", "sex": "M", "birth_date": "1956-03-14",
        "org_code": "C01T01V01", "exam_on": "2026-02-10", "results": [{"code": "1558-6", "value": 6.4,
                                                                      "unit": "mmol/L"}]}


def _count(app, model) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(model))


def test_public_health_visits_and_exams_are_pulled_into_the_record_once(app, monkeypatch, org_tree):
    from app.residents.record_models import Encounter, Observation
    from connectors.public_health import sync
    server = _server(monkeypatch, "public_health", {"/visits": _paged([VISIT]), "/physical-exams": _paged([EXAM])})
    try:
        with app.app_context():
            assert sync.pull("public_health") == 2
            assert sync.pull("public_health") == 0                    # the cursor moved on
        assert _count(app, Encounter) == 2 and _count(app, Observation) == 3
        assert server.requests[0]["headers"]["Authorization"] == "Bearer secret-token"
        assert any("since=c1" in r["path"] for r in server.requests)
    finally:
        server.close()


def test_a_bad_record_is_skipped_and_noted_on_the_cursor(app, monkeypatch, org_tree):
    from app.integrations.models import SyncCursor
    from connectors.public_health import sync
    bad = {**VISIT, "id": "PH-2", "results": [{"code": "99999-9", "value": 1, "unit": "x"}]}
    server = _server(monkeypatch, "public_health", {"/visits": _paged([bad, VISIT]),
                                                     "/physical-exams": _paged([])})
    try:
        with app.app_context():
            assert sync.pull("public_health") == 1
            assert "PH-2" in session().get(SyncCursor, "public_health.visits").last_error
    finally:
        server.close()


def test_our_follow_up_visits_are_pushed_once(app, monkeypatch, make_resident):
    from datetime import datetime

    from app.residents.records import record_encounter
    from connectors.public_health import sync
    resident = make_resident()
    with app.app_context():
        record_encounter(resident["id"], kind="follow_up", started_at=datetime(2026, 3, 1, 1, tzinfo=UTC),
                         org_code="C01T01V01", source="village", diagnoses=["I10"])
    server = _server(monkeypatch, "public_health", {"/follow-ups": (201, {"id": "R-77"})})
    try:
        with app.app_context():
            assert sync.push_follow_ups("public_health") == 1
            assert sync.push_follow_ups("public_health") == 0
        [push] = server.requests
        assert push["json"]["id_number"] == resident["id_number"] and push["json"]["diagnoses"] == ["I10"]
    finally:
        server.close()


def test_a_pushed_visit_carries_the_values_of_its_local_day(app, monkeypatch, make_resident):
    """A visit at 07:30 Beijing time is 23:30 UTC the day before: its "same day" values are those of the county's
    calendar day, not of the UTC date (a reading from the previous evening must not go out with it)."""
    from datetime import datetime

    from app.residents.records import record_encounter, record_observation
    from connectors.public_health import sync
    resident = make_resident()
    with app.app_context():
        record_observation(resident["id"], code="8480-6", value=171, unit="mmHg",
                           effective_at=datetime(2026, 2, 28, 12, 0, tzinfo=UTC), source="village", rescreen=False)   # 20:00 local, Feb 28
        record_observation(resident["id"], code="8480-6", value=138, unit="mmHg",
                           effective_at=datetime(2026, 2, 28, 23, 20, tzinfo=UTC), source="village", rescreen=False)  # 07:20 local, Mar 1
        record_encounter(resident["id"], kind="follow_up", started_at=datetime(2026, 2, 28, 23, 30, tzinfo=UTC),
                         org_code="C01T01V01", source="village", diagnoses=["I10"])
    server = _server(monkeypatch, "public_health", {"/follow-ups": (201, {"id": "R-78"})})
    try:
        with app.app_context():
            assert sync.push_follow_ups("public_health") == 1
        [push] = server.requests
        assert [r["value"] for r in push["json"]["results"]] == [138]
    finally:
        server.close()


def test_an_unconfigured_system_does_nothing(app, monkeypatch):
    from connectors.insurance import sync as insurance
    from connectors.public_health import sync as public_health
    monkeypatch.delenv("YGT_PUBLIC_HEALTH_URL", raising=False)
    monkeypatch.delenv("YGT_INSURANCE_URL", raising=False)
    with app.app_context():
        assert public_health.pull("public_health") == 0 and insurance.pull() == 0


def test_drg_settlements_and_referral_flags_are_imported(app, monkeypatch, make_resident, client_as):
    from app.residents.record_models import ReferralFlag
    from connectors.insurance import sync
    resident = make_resident()
    settlement = {"case_no": "ZY2026030001", "id_number": resident["id_number"], "org_code": "C01",
                  "admitted_on": "2026-02-20", "discharged_on": "2026-02-27", "drg_code": "FR43",
                  "drg_name": "高血压，伴一般并发症", "relative_weight": 0.8123, "total_cost": 8650.40,
                  "fund_paid": 6120.00, "settled_on": "2026-03-01"}
    server = _server(monkeypatch, "insurance", {
        "/drg-settlements": _paged([settlement, {**settlement, "fund_paid": 6300.00}]),
        "/referral-flags": _paged([{"id": "F1", "id_number": resident["id_number"], "flagged": True,
                                    "reason": "上转后下转康复"}])})
    try:
        with app.app_context():
            assert sync.pull() == 3
        assert _count(app, ReferralFlag) == 1
        items = client_as("county_admin").get(
            f"/api/v1/integrations/residents/{resident['id']}/drg-settlements").get_json()["items"]
        assert [(i["case_no"], i["drg_code"], i["fund_paid"]) for i in items] == [("ZY2026030001", "FR43", 6300.0)]
    finally:
        server.close()


def test_pacs_studies_and_emr_documents_are_linked_to_the_record(app, monkeypatch, make_resident, client_as):
    from connectors.pacs import sync
    resident = make_resident()
    study = {"study_uid": "1.2.156.112605.14038005.20260301.1", "id_number": resident["id_number"],
             "modality": "CT", "description": "胸部 CT 平扫", "performed_at": "2026-03-01T10:00:00+08:00",
             "viewer_url": "https://pacs.example/viewer?study=1.2.156.112605.14038005.20260301.1",
             "report_text": "双肺未见明显异常。"}
    pacs = _server(monkeypatch, "pacs", {"/studies": _paged([study, study])})
    emr = _server(monkeypatch, "emr", {"/documents": _paged([{
        "id": "DOC-9", "id_number": resident["id_number"], "title": "出院小结", "created_at": "2026-02-27",
        "url": "https://emr.example/doc/9", "text": "高血压3级，好转出院。"}])})
    try:
        with app.app_context():
            assert sync.pull() == 3
        doctor = client_as("village_doctor", org="C01T01V01")
        links = doctor.get(f"/api/v1/integrations/residents/{resident['id']}/links").get_json()["items"]
        assert [(x["kind"], x["modality"], x["report_text"]) for x in links] == [
            ("imaging_study", "CT", "双肺未见明显异常。"), ("document", None, "高血压3级，好转出院。")]
        other = client_as("village_doctor", org="C01T02V01")
        assert other.get(f"/api/v1/integrations/residents/{resident['id']}/links").status_code == 404
    finally:
        pacs.close()
        emr.close()

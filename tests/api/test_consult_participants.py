"""Remote consult participants beyond the happy path: the invited experts read the patient's network record
(全网记录) only while the consult is open; the lead expert declines and the 医务科 reassigns experts; each MDT member
has their own opinion task; the response-time figures; the satisfaction SMS."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import clock
from tests.test_consult_support import (
    CONSENT,
    agreement,
    complete,
    consult,
    deploy_consult_models,
    expert,
    make_resident,
    request_body,
    signature_png,
    step,
)


@pytest.fixture()
def world(app, county, login_as):
    deploy_consult_models(app)
    agreement(app)
    w = {"resident": make_resident(app), "village": login_as("village_doctor", org="C01T01V01"),
         "township": login_as("township_doctor", org="C01T01"), "supervisor": login_as("supervisor", org="C01"),
         "chief": login_as("county_specialist", org="C01D01"), "assoc": login_as("county_specialist", org="C01D01"),
         "attending": login_as("county_specialist", org="C01D01")}
    expert(app, w["chief"].user.id, "chief")
    expert(app, w["assoc"].user.id, "associate_chief")
    expert(app, w["attending"].user.id, "attending")
    # a township hospital invited by its neighbour: its doctors are outside the resident's scope
    agreement(app, "C01T01", "C01T02", no="YL-2026-002")
    w["gp"] = login_as("township_doctor", org="C01T02")
    w["gp2"] = login_as("township_doctor", org="C01T02")
    expert(app, w["gp"].user.id, "associate_chief", org="C01T02", specialty="general_medicine")
    expert(app, w["gp2"].user.id, "attending", org="C01T02", specialty="general_medicine")
    return w


def _invited(w, **extra) -> dict:
    resp = w["village"].post("/api/v1/consults", json=request_body(w["resident"], **extra))
    assert resp.status_code == 201, resp.json
    c = resp.json
    assert w["village"].post(f"/api/v1/consults/{c['id']}/consent",
                             json={**CONSENT, "signature": signature_png()}).status_code == 200
    complete(w["township"], step(w["township"], "review_request"), {"decision": "approve"})
    assert w["supervisor"].post(f"/api/v1/consults/{c['id']}/accept").status_code == 200
    return c


def _schedule(w, c, lead, members=()) -> None:
    data = {"lead_expert": lead.user.id, "slot": clock.local(clock.now() + timedelta(minutes=5)).isoformat()}
    if members:
        data["members"] = [m.user.id for m in members]
    complete(w["supervisor"], step(w["supervisor"], "assign_experts"), data)


def _record(api, resident_id):
    return api.get(f"/api/v1/recognition/residents/{resident_id}/network-record")


REPORT = {"assessment": "稳定型心绞痛", "diagnosis": "冠心病 稳定型心绞痛", "sign": True}


def test_assigned_experts_read_the_network_record_only_while_the_consult_is_open(app, world):
    from app.audit.models import AuditEntry
    from app.core.db import session
    w = world
    assert _record(w["gp"], w["resident"]).status_code == 404             # no consult yet
    c = _invited(w, invited_org_code="C01T02", specialty="general_medicine")
    assert _record(w["gp"], w["resident"]).status_code == 404             # accepted, no expert assigned yet
    _schedule(w, c, w["gp"])
    resp = _record(w["gp"], w["resident"])
    assert resp.status_code == 200, resp.json
    assert resp.json["access"]["kind"] == "consult" and c["consult_no"] in resp.json["access"]["label"]
    assert resp.json["access"]["ref"] == c["id"]
    assert _record(w["gp2"], w["resident"]).status_code == 404            # same hospital, not assigned
    d = consult(w["gp"], c["id"])
    assert d["network_record"] is True
    assert consult(w["gp2"], c["id"])["network_record"] is False
    now = clock.now()
    complete(w["gp"], step(w["gp"], "write_report"),
             {**REPORT, "started_at": now.isoformat(), "ended_at": (now + timedelta(minutes=20)).isoformat()})
    assert consult(w["village"], c["id"])["status"] == "reported"
    assert _record(w["gp"], w["resident"]).status_code == 404             # the consult itself is over
    assert consult(w["gp"], c["id"])["network_record"] is False
    with app.app_context():
        reads = session().scalars(select(AuditEntry).where(AuditEntry.action == "phi.read",
                                                           AuditEntry.object_type == "network_record")).all()
        assert [r.actor for r in reads] == [w["gp"].user.username]

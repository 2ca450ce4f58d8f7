"""How many items an audited list read returned (`details.count` of its `phi.read` entry): counted from what
flask-smorest dumped for this very view (issue 23.2: not by parsing the JSON body again), from the body otherwise."""
from __future__ import annotations

import pytest
from flask import jsonify
from flask_smorest.utils import get_appcontext
from sqlalchemy import select

from app.audit import reads
from app.audit.models import AuditEntry
from app.auth.principal import Principal, set_principal
from app.core import db


def _last_count(app) -> int | None:
    with app.app_context():
        details = db.session().scalars(select(AuditEntry.details).where(AuditEntry.action == "phi.read")
                                       .order_by(AuditEntry.id.desc()).limit(1)).one()
        db.session().rollback()
        return details.get("count")


def test_a_pages_count_is_its_items(app, login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    for _ in range(3):
        assert doctor.post("/api/v1/process-instances", json={"process_id": "approval",
                                                                "org_code": "C01T01"}).status_code == 201
    for per_page, count in ((2, 2), (25, 3)):
        listed = doctor.get(f"/api/v1/tasks?view=groups&per_page={per_page}")
        assert len(listed.get_json()["items"]) == count
        assert _last_count(app) == count
    assert doctor.get("/api/v1/tasks?view=groups&process_id=nothing").get_json()["items"] == []
    assert _last_count(app) == 0


@pytest.mark.parametrize(("body", "count"), [({"items": [1, 2]}, 2), ({"entry": [1]}, 1), ({"id": 1}, None),
                                             ([1, 2, 3], None)])
def test_a_view_that_builds_its_response_is_counted_from_its_body(app, monkeypatch, body, count):
    """Not from a dump an earlier view of the request left behind."""
    written = []
    monkeypatch.setattr(reads, "record_all", lambda entries, **_kw: written.extend(entries))

    @reads.phi_read("test_list")
    def view():
        return jsonify(body)
    with app.test_request_context("/api/v1/test?x=1"):
        set_principal(Principal(user_id=1, username="u", roles=frozenset({"township_doctor"}), org_code="C01T01"))
        get_appcontext()["result_dump"] = {"items": [1, 2, 3, 4, 5]}
        assert view().status_code == 200
    assert written[0]["details"].get("count") == count
    assert written[0]["details"]["params"] == ["x"] and written[0]["object_type"] == "test_list"

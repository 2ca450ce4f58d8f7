"""UNIQUE overlap/gap findings block a deploy; an ANY/FIRST table's findings may be overridden explicitly, with a
reason that is stored with the deployment and in its audit entry (issue 14.3)."""
from __future__ import annotations

import io

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.db import session
from tests.helpers import REPO

FIXTURES = REPO / "tests" / "unit" / "dmn_fixtures"


def _clinical(xml: bytes, decision_id: str) -> bytes:
    """The gate applies to clinical decisions (issue 14.8): these fixtures declare a guideline provenance."""
    tag = f'<decision id="{decision_id}" name="{decision_id}">'.encode()
    return xml.replace(tag, tag + b'<extensionElements><ygt:provenance xmlns:ygt="https://yigongti.dev/dmn/1.0" '
                                  b'table="T99" source="test guideline"/></extensionElements>')


ANY_CONFLICT = _clinical((FIXTURES / "any_conflicting_outputs.dmn").read_bytes(), "any_conflicting_outputs")
UNIQUE_GAP = _clinical((FIXTURES / "broken_gap_number.dmn").read_bytes(), "broken_gap_number")


def _upload(api, name, content, url="/api/v1/process-definitions", **form):
    return api.post(url, data={"file": [(io.BytesIO(content), name)], **form}, content_type="multipart/form-data")


def test_an_any_table_with_findings_deploys_only_with_an_audited_override(app, login_as):
    owner = login_as("process_owner")
    refused = _upload(owner, "any_conflicting_outputs.dmn", ANY_CONFLICT)
    assert refused.status_code == 422
    no_reason = _upload(owner, "any_conflicting_outputs.dmn", ANY_CONFLICT, override_findings="any_conflicting_outputs")
    assert (no_reason.status_code, no_reason.json["details"]["problem"]) == (422, "override_reason_required")
    checked = _upload(owner, "any_conflicting_outputs.dmn", ANY_CONFLICT, url="/api/v1/process-definitions/validate",
                      override_findings="any_conflicting_outputs", override_reason="县医院确认两条规则结论一致后再合并")
    assert checked.status_code == 200 and checked.json["overrides"][0]["decision_id"] == "any_conflicting_outputs"
    resp = _upload(owner, "any_conflicting_outputs.dmn", ANY_CONFLICT, override_findings="any_conflicting_outputs",
                   override_reason="县医院确认两条规则结论一致后再合并")
    assert resp.status_code == 201, resp.json
    [override] = resp.json["overrides"]
    assert (override["decision_id"], override["hit_policy"], override["reason"], override["by"]) == (
        "any_conflicting_outputs", "ANY", "县医院确认两条规则结论一致后再合并", owner.user.username)
    assert override["findings"] and override["findings"][0]["message"]
    with app.app_context():
        entry = session().execute(select(AuditEntry).where(AuditEntry.action == "definition.deploy")
                                  .order_by(AuditEntry.id.desc())).scalars().first()
        assert entry.details["overrides"][0]["reason"] == "县医院确认两条规则结论一致后再合并"


def test_a_unique_tables_findings_are_never_overridden(login_as):
    owner = login_as("process_owner")
    resp = _upload(owner, "broken_gap_number.dmn", UNIQUE_GAP, override_findings="broken_gap_number",
                   override_reason="试一下能否豁免")
    assert resp.status_code == 422
    assert "UNIQUE" in resp.json["message"]
    assert owner.get("/api/v1/decisions/broken_gap_number").status_code == 404

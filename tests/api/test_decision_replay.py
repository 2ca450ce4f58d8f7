"""Issue 14.14: see the effect before deploying — a DMN draft replayed over the last real evaluations of the
deployed decision (grading records its inputs), as a job: how many results would change, from what to what (Chinese
labels), de-identified examples; the summary is kept with the deployment's audit entry."""
from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core import clock
from app.residents import records
from app.residents.management import enrol
from tests.api.test_screening import deployed, population, run_batch  # noqa: F401  (fixtures)
from tests.helpers import REPO

HTN = (REPO / "dmn" / "htn_cv_risk.dmn").read_bytes()
# C1/G1 (grade-1 hypertension with 1–2 risk factors): 中危 → 高危 in the draft
C1_G1_HIGH = re.sub(rb'(id="htn_cv_risk_r7_o2"><text>)"MODERATE"', rb'\1"HIGH"', HTN)
COSMETIC = HTN.replace("→ 中危</text>".encode(), "→ 中危（说明修订）</text>".encode(), 1)


def _draft(xml: bytes, name: str = "htn_cv_risk.dmn", **form) -> dict:
    return {"data": {"file": (io.BytesIO(xml), name), **form}, "content_type": "multipart/form-data"}


def _grade(app, make_resident, name: str, sbp: int, dbp: int, n: int) -> None:
    """A man of 70 (age > 55: one risk factor, C1) graded by the stratify process at `sbp/dbp`."""
    resident = make_resident(org="C01T01V01", name=name, sex="M", born=date(1956, 3, 14))
    with app.app_context():
        at = clock.now() - timedelta(days=30)
        for code, value in (("8480-6", sbp), ("8462-4", dbp)):
            records.record_observation(resident["id"], code=code, value=value, unit="mmHg", effective_at=at,
                                       source="his", rescreen=False)
        enrol(resident["id"], disease="htn", icd10="I10", diagnosed_on=clock.today() - timedelta(days=30),
              managing_doctor_user_id=None, village_code="C01T01V01", screening_case_id=None, source="test",
              actor="test")
        from app.screening.stratify import start_grading
        assert start_grading(resident["id"], "htn", reason="enrolled", force=True) is not None


@pytest.fixture()
def evaluated(app, make_resident, deployed):  # noqa: F811
    """Three real gradings: two at grade 1 (C1/G1 → 中危), one at grade 2 (C1/G2 → 高危)."""
    _grade(app, make_resident, "陈立新", 150, 92, 1)
    _grade(app, make_resident, "王秀英", 155, 95, 2)
    _grade(app, make_resident, "李国强", 170, 100, 3)


def _run(api, body: dict) -> dict:
    assert body["status"] in ("queued", "running", "done"), body
    polled = api.get(body["progress_url"]).get_json()
    assert polled["status"] == "done", polled
    return polled


def test_a_changed_draft_replayed_over_real_gradings_counts_what_would_move(client_as, evaluated):
    owner = client_as("process_owner")
    resp = owner.post("/api/v1/decisions/htn_cv_risk/replay", **_draft(C1_G1_HIGH, limit="1000"))
    assert resp.status_code == 202, resp.get_json()
    result = _run(owner, resp.get_json())["result"]
    assert (result["replayed"], result["changed"], result["unchanged"]) == (3, 2, 1)
    assert result["matrix"] == [{"output": "risk_resolved", "from": "MODERATE", "to": "HIGH",
                                 "from_label": "中危", "to_label": "高危", "count": 2}]
    assert result["errors"] == {"from": 0, "to": 0} and result["deployed_version"] >= 1
    assert len(result["examples"]) == 2
    example = result["examples"][0]
    assert example["from"]["risk_resolved"] == "MODERATE" and example["to"]["risk_resolved"] == "HIGH"
    assert 140 <= example["inputs"]["sbp"] < 160
    assert example["changes"] == [{"output": "risk_resolved", "from_label": "中危", "to_label": "高危"}]
    text = json.dumps(result, ensure_ascii=False)
    assert not any(n in text for n in ("陈立新", "王秀英", "李国强", "resident_id", "id_number"))


def test_limit_takes_the_latest_evaluations_only(client_as, evaluated):
    owner = client_as("process_owner")
    body = owner.post("/api/v1/decisions/htn_cv_risk/replay", **_draft(C1_G1_HIGH, limit="1")).get_json()
    result = _run(owner, body)["result"]
    assert (result["replayed"], result["changed"]) == (1, 0)          # the newest: 170/100, 高危 either way


def test_only_process_owners_may_replay(client_as, evaluated):
    for role in ("village_doctor", "county_admin", "county_specialist"):
        resp = client_as(role).post("/api/v1/decisions/htn_cv_risk/replay", **_draft(C1_G1_HIGH))
        assert resp.status_code == 403, role


def test_a_draft_of_another_decision_is_refused(client_as, evaluated):
    bp_grade = (REPO / "dmn" / "bp_grade.dmn").read_bytes()
    resp = client_as("process_owner").post("/api/v1/decisions/htn_cv_risk/replay", **_draft(bp_grade))
    assert resp.status_code == 422 and resp.get_json()["code"] == "decision_mismatch"
    assert resp.get_json()["details"]["draft_decision_id"] == "bp_grade"
    bad = client_as("process_owner").post("/api/v1/decisions/htn_cv_risk/replay", **_draft(HTN, limit="0"))
    assert bad.status_code == 422 and bad.get_json()["code"] == "validation_error"


def test_the_replay_summary_is_kept_with_the_deployment_audit_entry(app, client_as, evaluated):
    owner = client_as("process_owner")
    body = owner.post("/api/v1/decisions/htn_cv_risk/replay", **_draft(COSMETIC)).get_json()
    assert _run(owner, body)["result"]["changed"] == 0
    resp = owner.post("/api/v1/process-definitions",
                      **_draft(COSMETIC, name="dmn/htn_cv_risk.dmn", replay_analysis_id=body["id"]))
    assert resp.status_code == 201, resp.get_json()
    from app.audit.models import AuditEntry
    from app.core.db import session
    with app.app_context():
        entry = session().scalars(select(AuditEntry).where(AuditEntry.action == "definition.deploy")
                                  .order_by(AuditEntry.id.desc())).first()
        replay = entry.details["replay"]
    assert replay["analysis_id"] == body["id"] and replay["draft_deployed"] is True
    assert (replay["replayed"], replay["changed"], replay["matrix"]) == (3, 0, [])
    other = client_as("process_owner")        # someone else's replay id is not found, and nothing deploys
    resp = other.post("/api/v1/process-definitions",
                      **_draft(COSMETIC, name="dmn/htn_cv_risk.dmn", replay_analysis_id=body["id"]))
    assert resp.status_code == 404


SCREEN = (REPO / "dmn" / "htn_screening.dmn").read_bytes()


def test_screening_evaluations_are_kept_and_replayed_too(app, client_as, population):  # noqa: F811
    """The population batch evaluates htn_screening outside any process: a sample of its inputs is kept, so a draft
    sending SBP ≥ 140 to 每年测血压 instead of 非同日复查 shows the one resident it would move."""
    from app.decisions import history
    with app.app_context():
        history.forget("htn_screening")
    run_batch(client_as)
    draft = re.sub(rb'(id="htn_screening_r1_o1"><text>)"RECHECK_NON_SAME_DAY"', rb'\1"ANNUAL_BP"', SCREEN)
    owner = client_as("process_owner")
    body = owner.post("/api/v1/decisions/htn_screening/replay", **_draft(draft, name="htn_screening.dmn")).get_json()
    result = _run(owner, body)["result"]
    assert (result["replayed"], result["changed"]) == (4, 1)
    assert result["matrix"] == [{"output": "action", "from": "RECHECK_NON_SAME_DAY", "to": "ANNUAL_BP",
                                 "from_label": "非同日复查血压", "to_label": "每年测血压", "count": 1}]
    assert result["examples"][0]["inputs"]["sbp"] == 162
    assert not any(n in json.dumps(result, ensure_ascii=False) for n in ("王建国", "李秀英", "赵小明", "陈芳"))

"""Every read of personal health data is audited, and roles that treat no patients read none.

The test walks the published OpenAPI document: every GET operation is personal data unless `NOT_PERSONAL` names
it (with the reason), so a new endpoint is checked by default. Each one is called for a resident with a care plan
in force, open tasks, observations and an integration delivery; a 2xx read must append an audit entry, and the
operation must say `x-phi: true`. Then a `trainer` and a `process_owner` call each one and see nothing personal.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from tests.contract_support import deploy_contract_models
from tests.intervention_support import stored_case
from tests.pharmacy_support import allow_auto_pass, deploy_pharmacy_models, make_prescriber
from tests.pharmacy_support import rx as rx_payload
from tests.referral_support import catalogue, deploy_referral_models
from tests.test_consult_support import stored_consult
from tests.test_follow_up_support import deploy_care_models, make_resident, plan_in_force

NOT_PERSONAL = {
    "/api/v1/audit": "the audit log itself (supervisors and county administrators)",
    "/api/v1/auth/me": "the caller's own account",
    "/api/v1/auth/tokens": "the caller's own tokens",
    "/api/v1/decisions": "decision tables", "/api/v1/decisions/{decision_id}": "decision tables",
    "/api/v1/decisions/{decision_id}/xml": "decision tables",
    "/api/v1/decisions/analyses/{analysis_id}": "a decision case run (synthetic cases) the caller asked for",
    "/api/v1/education/items": "the education library",
    "/api/v1/integrations/clients": "client names and delivery counts",
    "/api/v1/notifications": "the caller's own notifications (titles)",
    "/api/v1/organizations": "the organization tree",
    "/api/v1/process-definitions": "models", "/api/v1/process-definitions/{process_id}": "models",
    "/api/v1/process-definitions/{process_id}/stats": "counts per element",
    "/api/v1/process-definitions/{process_id}/versions/{version}/forms": "models",
    "/api/v1/process-definitions/{process_id}/versions/{version}/xml": "models",
    "/api/v1/process-instances/stats": "counts",
    "/api/v1/batches": "batch start progress counts", "/api/v1/batches/{batch_id}": "batch start progress counts "
    "and failure reasons (item references and business keys, no personal fields)",
    "/api/v1/referral-stats": "indicator counts", "/api/v1/referral-capabilities": "the capability catalogue", "/api/v1/screening/runs": "batch progress counts",
    "/api/v1/screening/runs/{run_id}": "batch progress counts", "/api/v1/screening/stats": "counts",
    "/api/v1/tasks/counts": "counts", "/api/v1/tasks/filters": "the caller's saved filters",
    "/api/v1/users": "staff directory (no health data)", "/api/v1/webhooks/messages": "the message catalog",
    "/api/v1/vocabulary": "codes and their labels", "/api/v1/vocabulary/drugs": "the drug catalogue",
    "/api/v1/clock": "the platform clock (test control)",
    "/fhir/metadata": "the CapabilityStatement",
    "/api/v1/quality/indicators": "the indicator library",
    "/api/v1/quality/overview": "indicator counts", "/api/v1/quality/overview.xlsx": "indicator counts",
    "/api/v1/quality/indicators/{indicator_id}/breakdown": "indicator counts per group",
    "/api/v1/quality/indicators/{indicator_id}/trend": "indicator counts per month",
    "/api/v1/quality/alerts": "threshold alerts (counts, not the names behind them)",
    "/api/v1/quality/cohorts": "counts per quarterly cohort",
    "/api/v1/quality/indicators/{indicator_id}/scores": "indicator values and scores per institution",
    "/api/v1/quality/findings": "indicator counts per organisation and responsible doctor (no patient names)",
    "/api/v1/quality/aggregates": "when the stored indicator figures were last refreshed (no counts, no names)",
    "/api/v1/quality/breakdowns": "counts and sums per group (the rows behind a group are the audited members list)",
    "/api/v1/quality/referral-summary": "referral counts per month and organisation (the unmatched lists are audited)",
    "/api/v1/quality/breakdowns.xlsx": "counts and sums per group as a workbook (no names)",
    "/api/v1/contract-packages": "the service-package catalogue",
    "/api/mobile/v1/devices": "registered phones of staff (no health data)",
    "/api/v1/contract-packages/{code}/versions": "the service-package catalogue",
    "/api/v1/recognition/items": "the orderable lab items and imaging modalities (codes and names)",
    "/api/v1/consult-agreements": "agreements between organisations", "/api/v1/consults/options": "code lists",
    "/api/v1/consult-experts": "the expert registry (staff, titles, open-consult counts)",
    "/api/v1/recognition/accreditations": "which organisation passed quality control for which item",
    "/api/v1/liaison/options": "townships, the expert registry and the indicator library",
    "/api/v1/liaison/duties": "the expert rota (staff, townships, slot counts)",
    "/api/v1/liaison/week": "a township's expert rota and slot counts",
    "/api/v1/liaison/plans": "specialty-building plans of townships (no resident data)",
    "/api/v1/liaison/plans/{plan_id}": "a specialty-building plan of a township (no resident data)",
    "/api/v1/supply/stores": "stores (organisation units)", "/api/v1/supply/stores/{code}/stock": "stock counts",
    "/api/v1/supply/alerts": "stock alerts (items, lots, counts)", "/api/v1/supply/recalls": "product recalls",
    "/api/v1/supply/shortages": "the drug-shortage register", "/api/v1/supply/indicators": "stock counts",
    "/api/v1/supply/replenishments": "replenishment requests (items, counts)",
    "/api/v1/prescriptions/options": "the prescription search form's choices: drugs, states, prescribers (staff)",
    "/api/v1/prescriptions/auto-pass": "the auto-pass switch per drug class at an organisation (configuration)",
    "/api/v1/anticoag/ttr-distribution": "TTR counts per band, histogram bin and township",
    "/api/v1/research/options": "the research criteria builder's catalogue (codes and labels)",
    "/api/v1/research/projects": "research projects: criteria, variables, cohort sizes (no rows; the de-identified "
                                 "extract is only a POST download, audited as research.download)",
    "/api/v1/research/projects/{project_id}": "a research project: criteria, review, k-anonymity and download log",
    "/api/v1/research/committee": "the county's data/ethics committee (staff names, chair, vote deadline)",
    "/api/v1/appraisal/schemes": "appraisal schemes (indicators and weights)",
    "/api/v1/appraisal/schemes/{kind}": "an appraisal scheme (indicators and weights)",
    "/api/v1/appraisal/schemes/{kind}/versions/{number}": "an appraisal scheme version",
    "/api/v1/appraisal/periods": "the appraisal periods computed",
    "/api/v1/appraisal/exports": "the caller's report jobs (titles and status)",
    "/api/v1/appraisal/exports/{job_id}": "one report job's status (the file is the audited download)",
    "/api/v1/report-builder/options": "the report builder's measures and dimensions",
    "/api/v1/report-builder/reports": "saved report definitions (no rows)",
    "/api/v1/report-builder/reports/{report_id}": "a saved report definition (no rows)",
    "/api/v1/report-builder/reports/{report_id}/deliveries": "delivered report files (names and months)",
    "/api/v1/report-builder/deliveries/{delivery_id}/download": "a delivered report: counts and rates per group",
    "/api/v1/intervention-centre/monthly-reports": "the centre's monthly reports: months, delivery state, counts",
    "/api/v1/report-builder/jobs": "the caller's report jobs (titles and status)",
    "/api/v1/report-builder/jobs/{report_job_id}": "one report job's status",
    "/api/v1/report-builder/jobs/{report_job_id}/download": "a report built in the background: counts and rates per "
                                                            "group (the rows behind a cell are the audited drilldown)",
}
# whole areas about staff, not residents
NOT_PERSONAL_PREFIXES = {"/api/v1/training/": "staff training: plans, sessions, materials, exams, credits",
                         "/api/portal/v1/": "the residents' own API: staff tokens do not reach it; every portal read "
                                            "is audited as portal.read (tests/api/test_portal.py)"}
NO_PHI_ROLES = ("trainer", "process_owner", "researcher")


def _personal_endpoint(path: str) -> bool:
    return path not in NOT_PERSONAL and not path.startswith(tuple(NOT_PERSONAL_PREFIXES))


@pytest.fixture()
def world(app, login_as, monkeypatch):
    monkeypatch.setenv("YGT_LIVE_STREAM_SECONDS", "0.1")     # the live room's event stream ends at once
    deploy_care_models(app)
    resident_id = make_resident(app)
    done = plan_in_force(app, login_as, resident_id)
    admin = login_as("county_admin", "county_specialist", "supervisor")     # every reader endpoint lets it in
    obs = admin.post(f"/api/v1/residents/{resident_id}/observations", json={
        "code": "8480-6", "value": 150, "unit": "mm[Hg]", "effective_at": datetime.now(UTC).isoformat(),
        "source": "test"})
    assert obs.status_code == 201, obs.json
    with app.app_context():
        from app.integrations import store
        event, _ = store.claim(client_id="lis", channel="webhook", delivery_key="d-1", message="lab_result",
                               body='{"id_number": "x"}')
        delivery_id = event.id
        from app.core import db
        from app.workflows.models import HumanTask, ProcessInstance
        s = db.session()
        task_id = s.execute(select(HumanTask.id).where(HumanTask.resident_id == resident_id)).scalars().first()
        instance_id = s.execute(select(ProcessInstance.id).where(
            ProcessInstance.resident_id == resident_id)).scalars().first()
        s.rollback()
    deploy_referral_models(app)
    catalogue(app, ("C01D01", "cardiology"))
    referral = login_as("village_doctor", org="C01T01V01").post("/api/v1/referrals", json={
        "resident_id": resident_id, "disease": "htn", "reason": "血压控制不满意"})
    assert referral.status_code == 201, referral.json
    plan = done["plan"]
    deploy_pharmacy_models(app)
    make_prescriber(app, "李医生", "C01T01V01")
    allow_auto_pass(app, "C01", "rivaroxaban")      # released: its anticoagulant episode starts
    with app.app_context():
        from app.pharmacy import services as pharmacy
        rx, _ = pharmacy.receive(resident_id=resident_id, source_key="his:RX-1", payload=rx_payload(
            "", "RX-1", [{"drug": "rivaroxaban", "dose_mg": 20, "frequency": "qd"}], clinical={"crcl_ml_min": 80}))
        prescription_id = rx.id
        from app.anticoag.models import AnticoagEpisode
        episode_id = db.session().scalars(select(AnticoagEpisode.id)).first()
        from app.live import services as live
        live.open_room("consult", 1, [admin.user.id], "实时会诊")
    deploy_contract_models(app)
    with app.app_context():
        from app.contracting import services as contracting
        contract_id = contracting.request_contract(resident_id, "HTN_PLUS").id
    ran = admin.post("/api/v1/appraisal/runs", json={"period": datetime.now(UTC).strftime("%Y-%m")})
    assert ran.status_code == 200, ran.json                  # appraisal results name the teams' doctors
    job = admin.post("/api/v1/appraisal/exports", json={"period": datetime.now(UTC).strftime("%Y-%m")})
    assert job.status_code == 202, job.json
    consult_id = stored_consult(app, resident_id, admin.user.id)
    case_id = stored_case(app, resident_id, admin.user.id)
    with app.app_context():                                  # a batch start (批量启动: its failed items by name)
        from app.workflows import batch
        batch_id = batch.create_batch("manual", "follow_up", [batch.StartItem(
            ref="1", business_key="cohort:1", resident_id=resident_id)], run=False)
    with app.app_context():                                  # the scheduler's monthly report of the centre
        from app.intervention import monthly
        from app.org.queries import find_org
        monthly.deliver("C01D01", find_org("C01D01").path, "2026-11")
        from app.intervention.models import MonthlyReport
        monthly_report_id = db.session().scalars(select(MonthlyReport.id)).one()
    values = {"batch_id": batch_id, "monthly_report_id": monthly_report_id, "fmt": "pdf", "consult_id": consult_id, "case_id": case_id, "contract_id": contract_id, "room_kind": "consult", "room_ref": 1, "prescription_id": prescription_id, "episode_id": episode_id, "referral_id": referral.json["id"], "kind": "referral_form", "resident_id": resident_id, "patient_id": resident_id, "care_plan_id": plan["id"], "number": 1,
              "a": 1, "b": 1, "task_id": task_id, "instance_id": instance_id, "delivery_id": delivery_id,
              "indicator_id": "htn_bp_control_rate", "job_id": job.json["id"], "figure_id": "residents_by_org"}
    query = {"resident_id": resident_id, "patient": f"Patient/{resident_id}", "_id": resident_id,
             "quarter": "2025Q4", "outcome": "missed_visit", "month": "2026-12",
             "gtin": "06901234567892", "key": "C01T01"}
    return {"admin": admin, "values": values, "query": query}


def _operations(client):
    spec = client.get("/api/openapi.json").get_json()
    for path, ops in sorted(spec["paths"].items()):
        if "get" in ops:
            yield path, ops["get"]


def _call(api, path, op, world):
    url = re.sub(r"{(\w+)}", lambda m: str(world["values"][m.group(1)]), path)
    params = {p["name"]: world["query"][p["name"]] for p in op.get("parameters", [])
              if p.get("in") == "query" and p["name"] in world["query"]}
    if path.startswith("/fhir/") and path != "/fhir/metadata" and "{" not in path and path != "/fhir/Patient":
        params = {"patient": world["query"]["patient"]}
    if path == "/fhir/Patient":
        params = {"_id": world["query"]["_id"]}
    # X-Device-Id: the mobile API names the calling installation (other endpoints ignore it)
    return api.get(url, query_string=params, headers={"Accept-Encoding": "identity", "X-Device-Id": "walker-phone-1"})


def _audit_count(app) -> int:
    with app.app_context():
        from app.core import db
        n = db.session().execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        db.session().rollback()
        return n


def test_every_read_of_personal_data_writes_an_audit_entry(app, client, world):
    silent, unreachable, undocumented = [], [], []
    for path, op in _operations(client):
        if not _personal_endpoint(path):
            continue
        if not op.get("x-phi"):
            undocumented.append(path)
        before = _audit_count(app)
        resp = _call(world["admin"], path, op, world)
        if resp.status_code != 200:
            unreachable.append(f"{path}: {resp.status_code} {resp.get_data(as_text=True)[:120]}")
        elif _audit_count(app) == before:
            silent.append(path)
    assert not unreachable, unreachable
    assert not silent, f"personal data read without an audit entry: {silent}"
    assert not undocumented, f"personal-data endpoints not marked x-phi: {undocumented}"


def test_the_audit_entry_names_what_was_read_but_not_the_query_values(app, client, world):
    resident_id = world["values"]["resident_id"]
    world["admin"].get(f"/api/v1/residents/{resident_id}/observations?code=8480-6")
    with app.app_context():
        from app.core import db
        entry = db.session().execute(select(AuditEntry).where(AuditEntry.action == "phi.read").order_by(
            AuditEntry.id.desc())).scalars().first()
        assert entry.object_type == "observation" and entry.object_id == f"resident_id={resident_id}"
        assert entry.details["params"] == ["code"] and "8480-6" not in str(entry.details)
        assert entry.details["count"] == 1
        db.session().rollback()


def test_a_refused_read_writes_no_audit_entry(app, login_as, world):
    resident_id = world["values"]["resident_id"]
    outsider = login_as("township_doctor", org="C01T02")
    before = _audit_count(app)
    assert outsider.get(f"/api/v1/residents/{resident_id}/observations").status_code == 404
    assert _audit_count(app) == before


def _personal(body) -> bool:
    if isinstance(body, dict):
        if "items" in body:
            return bool(body["items"])
        if "entry" in body:
            return bool(body["entry"])
        if body.get("resourceType") == "OperationOutcome" or "code" in body and "message" in body:
            return False
    return body not in (None, [], {})


@pytest.mark.parametrize("role", NO_PHI_ROLES)
def test_roles_that_treat_no_patients_read_no_personal_data(app, client, login_as, world, role):
    api = login_as(role)
    leaked = []
    for path, op in _operations(client):
        if not _personal_endpoint(path):
            continue
        resp = _call(api, path, op, world)
        if resp.status_code == 200 and _personal(resp.get_json(silent=True) if resp.is_json else resp.data):
            leaked.append(path)
        elif resp.status_code not in (200, 403, 404):
            leaked.append(f"{path}: {resp.status_code}")
    assert not leaked, f"{role} reads personal data at {leaked}"

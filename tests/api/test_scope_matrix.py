"""Existence never leaks across organizations: for every staff role working below the county and every endpoint
that takes an object id, an object of another township answers exactly like an id that does not exist (404), and
the same object answers for a user of its own organization. A patient reaches only their own record."""
from __future__ import annotations

import pytest

from app.core import clock
from app.workflows import runner
from tests.helpers import ApiClient

MISSING = 987654
# (role, organization): everyone whose data scope is below the county
LOCAL_ROLES = [("village_doctor", "C01T01V01"), ("township_doctor", "C01T01"), ("township_public_health", "C01T01")]
ENDPOINTS = [
    ("get", "/api/v1/residents/{resident}"),
    ("get", "/api/v1/residents/{resident}/observations"),
    ("get", "/api/v1/residents/{resident}/follow-ups"),
    ("get", "/api/v1/residents/{resident}/education"),
    ("get", "/api/v1/integrations/residents/{resident}/links"),
    ("get", "/api/v1/recognition/residents/{resident}/network-record"),
    ("get", "/fhir/Patient/{resident}"),
    ("get", "/api/v1/process-instances/{instance}"),
    ("post", "/api/v1/process-instances/{instance}/suspend"),
    ("get", "/api/v1/tasks/{task}"),
    ("get", "/api/v1/tasks/{task}/comments"),
    ("post", "/api/v1/tasks/{task}/claim"),
    ("put", "/api/v1/tasks/{task}/draft"),
]


@pytest.fixture()
def two_townships(app, county, make_resident, deploy_models):
    """A resident, an instance and an open task in township 1 (village 1) and the same in township 2."""
    deploy_models("approval.bpmn", "approval", with_dmn=False)
    objects = {}
    for key, village, name in (("home", "C01T01V01", "王建国"), ("away", "C01T02V01", "李秀英")):
        resident = make_resident(org=village, name=name)
        with app.app_context():
            inst = runner.start_instance("approval", actor=runner.Actor("setup"), resident_id=resident["id"])
            from sqlalchemy import select

            from app.core.db import session
            from app.workflows.models import HumanTask
            task = session().execute(select(HumanTask.id).where(HumanTask.instance_id == inst.id)).scalar_one()
        objects[key] = {"resident": resident["id"], "instance": inst.id, "task": task}
    return objects


def _call(api, method, template, ids):
    url = template.format(**ids)
    kwargs = {"json": {"data": {}}} if method in ("post", "put") else {}
    return getattr(api, method)(url, **kwargs).status_code


@pytest.mark.parametrize("role,org", LOCAL_ROLES)
def test_objects_of_another_township_answer_like_missing_ones(login_as, two_townships, role, org):
    api = login_as(role, org=org)
    missing = {"resident": MISSING, "instance": MISSING, "task": MISSING}
    leaks = []
    for method, template in ENDPOINTS:
        away = _call(api, method, template, two_townships["away"])
        absent = _call(api, method, template, missing)
        if away != absent or away not in (403, 404):
            leaks.append(f"{method.upper()} {template}: other township → {away}, missing id → {absent}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("role,org", LOCAL_ROLES)
def test_the_same_objects_are_reachable_inside_the_own_organization(login_as, two_townships, role, org):
    api = login_as(role, org=org)
    home = two_townships["home"]
    assert api.get(f"/api/v1/residents/{home['resident']}").status_code == 200
    assert api.get(f"/api/v1/process-instances/{home['instance']}").status_code == 200


# batch starts are the county's (app.processes.api BATCH_WATCHERS / OPERATORS): a role below the county is refused
# whether the batch exists or not, so the answer tells nothing of it
BATCH_ENDPOINTS = [("get", "/api/v1/batches/{batch}"), ("get", "/api/v1/batches/{batch}/failures"),
                   ("post", "/api/v1/batches/{batch}/resume")]


@pytest.mark.parametrize("role,org", LOCAL_ROLES)
def test_a_batch_start_answers_a_local_role_like_a_missing_one(app, county, login_as, role, org):
    from app.workflows import batch
    with app.app_context():
        batch_id = batch.create_batch("manual", "follow_up", [batch.StartItem(ref="1", business_key="cohort:1")],
                                      run=False)
    api = login_as(role, org=org)
    leaks = []
    for method, template in BATCH_ENDPOINTS:
        here, absent = _call(api, method, template, {"batch": batch_id}), _call(api, method, template,
                                                                              {"batch": MISSING})
        if here != absent or here not in (403, 404):
            leaks.append(f"{method.upper()} {template}: batch → {here}, missing id → {absent}")
    assert api.get("/api/v1/batches").status_code == 403
    assert not leaks, "\n".join(leaks)


def test_a_patient_reads_only_their_own_record(app, login_as, two_townships, make_user):
    home, away = two_townships["home"], two_townships["away"]
    user = make_user("patient", org="C01T01V01", resident_id=home["resident"])
    from app.auth.services import create_token
    with app.app_context():
        _, token = create_token(user.id, name="t")
    patient = ApiClient(app.test_client(), token, user)
    assert patient.get(f"/api/v1/residents/{home['resident']}").status_code == 200
    assert patient.get(f"/api/v1/residents/{away['resident']}").status_code == 404
    assert patient.get(f"/api/v1/residents/{MISSING}").status_code == 404


# the staff directory behind the doctor picker (GET /api/v1/users): people of the caller's scope only, whatever filter
@pytest.mark.parametrize("role,org", LOCAL_ROLES)
def test_the_staff_directory_lists_nobody_outside_the_callers_scope(login_as, role, org):
    login_as("village_doctor", org="C01T01V01", username="vd_home")
    login_as("village_doctor", org="C01T02V01", username="vd_away")
    login_as("township_doctor", org="C01T02", username="td_away")
    api = login_as(role, org=org)
    seen = {u["username"] for u in api.get("/api/v1/users").get_json()}
    assert "vd_home" in seen and not seen & {"vd_away", "td_away"}
    # naming another township, filtering by role or by a name prefix reveals nothing of it
    for query in ({"org_code": "C01T02"}, {"org_code": "C01T02V01"}, {"role": "village_doctor"},
                  {"role": ["village_doctor", "township_doctor"]}, {"q": "vd_"}, {"q": "td_"}):
        listed = {u["username"] for u in api.get("/api/v1/users", query_string=query).get_json()}
        assert not listed & {"vd_away", "td_away"}, query
    # every row names its organisation, for the picker (no codes shown to a clinician)
    rows = api.get("/api/v1/users", query_string={"q": "vd_home"}).get_json()
    assert [(r["display_name"], r["org_name"]) for r in rows] == [("vd_home", rows[0]["org_name"])] and rows[0]["org_name"]


# research projects (issue 20.7): another researcher's project answers exactly like a missing one; a committee member
# of another county subtree (here: a township supervisor) does not see the county's projects either
RESEARCH_ENDPOINTS = [("get", "/api/v1/research/projects/{p}", None), ("put", "/api/v1/research/projects/{p}", "body"),
                      ("post", "/api/v1/research/projects/{p}/submit", None),
                      ("post", "/api/v1/research/projects/{p}/downloads", {"format": "csv"}),
                      ("post", "/api/v1/research/projects/{p}/refresh", {"format": "csv"})]


@pytest.mark.parametrize("caller", [("researcher", "C01"), ("county_specialist", "C01D01"), ("supervisor", "C01T01")])
def test_a_research_project_of_someone_else_answers_like_a_missing_one(login_as, county, caller):
    body = {"title": "队列", "criteria": {"diseases": ["htn"]}, "variables": ["sex"], "k": 5}
    owner = login_as("researcher", username="res_owner")
    project = owner.post("/api/v1/research/projects", json=body).json["id"]
    api = login_as(caller[0], org=caller[1])
    leaks = []
    for method, template, payload in RESEARCH_ENDPOINTS:
        kwargs = {"json": body if payload == "body" else payload} if payload else {}
        other = getattr(api, method)(template.format(p=project), **kwargs)
        absent = getattr(api, method)(template.format(p=MISSING), **kwargs)
        if (other.status_code, other.get_json().get("code")) != (absent.status_code, absent.get_json().get("code")) \
                or other.status_code not in (403, 404):
            leaks.append(f"{method.upper()} {template}: other's → {other.status_code}, missing → {absent.status_code}")
    assert not leaks, "\n".join(leaks)
    assert owner.get(f"/api/v1/research/projects/{project}").status_code == 200


# appraisal results (issue 20.4): a local role sees the subjects of its own subtree only, whatever the type
@pytest.mark.parametrize("role,org", LOCAL_ROLES)
def test_appraisal_results_list_nobody_outside_the_callers_subtree(login_as, role, org):
    admin = login_as("county_admin")
    period = clock.today().strftime("%Y-%m")
    assert admin.post("/api/v1/appraisal/runs", json={"period": period}).status_code == 200
    api = login_as(role, org=org)
    for kind in ("township", "village", "team"):
        resp = api.get("/api/v1/appraisal/results", query_string={"kind": kind, "period": period})
        assert resp.status_code == 200, resp.get_json()
        codes = {s["org_code"] for s in resp.get_json()["subjects"]}
        assert all(code.startswith(org) for code in codes), (kind, codes)
    assert {s["org_code"] for s in api.get(f"/api/v1/appraisal/results?kind=village&period={period}")
            .get_json()["subjects"]} <= {"C01T01V01", "C01T01V02"}
    assert api.put("/api/v1/appraisal/schemes/village", json={"items": []}).status_code == 403


# custom reports (issue 20.5): another user's unshared report answers like a missing one; a report over an
# organisation outside the caller's subtree answers 404
REPORT = {"measures": [{"kind": "indicator", "code": "htn_bp_control_rate"}], "dimensions": ["org"],
          "period": {"from": "2026-06", "to": "2026-06"}}
REPORT_ENDPOINTS = [("get", "/api/v1/report-builder/reports/{p}", None),
                    ("put", "/api/v1/report-builder/reports/{p}", {"name": "x", "definition": REPORT}),
                    ("delete", "/api/v1/report-builder/reports/{p}", None),
                    ("get", "/api/v1/report-builder/reports/{p}/deliveries", None),
                    ("get", "/api/v1/report-builder/deliveries/{p}/download", None),
                    ("get", "/api/v1/report-builder/jobs/{p}", None),
                    ("get", "/api/v1/report-builder/jobs/{p}/download", None),
                    ("get", "/api/v1/appraisal/exports/{p}", None),
                    ("get", "/api/v1/appraisal/exports/{p}/download", None)]


@pytest.mark.parametrize("caller", [("supervisor", "C01"), ("county_admin", "C01"),
                                    ("township_public_health", "C01T01")])
def test_a_custom_report_of_someone_else_answers_like_a_missing_one(login_as, county, caller):
    owner = login_as("supervisor", username="rb_owner")
    report = owner.post("/api/v1/report-builder/reports", json={"name": "月报", "definition": REPORT}).json["id"]
    job = owner.post("/api/v1/report-builder/jobs", json={"definition": REPORT}).json["id"]
    assert login_as("county_admin").post("/api/v1/appraisal/runs", json={"period": "2026-06"}).status_code == 200
    appraisal_job = owner.post("/api/v1/appraisal/exports", json={"period": "2026-06", "kind": "village"}).json["id"]
    ids = {"/api/v1/report-builder/jobs/": job, "/api/v1/appraisal/exports/": appraisal_job}
    api = login_as(caller[0], org=caller[1])
    leaks = []
    for method, template, payload in REPORT_ENDPOINTS:
        kwargs = {"json": payload} if payload else {}
        mine = next((v for k, v in ids.items() if template.startswith(k)), report)
        other = getattr(api, method)(template.format(p=mine), **kwargs)
        absent = getattr(api, method)(template.format(p=MISSING), **kwargs)
        if (other.status_code, other.get_json().get("code")) != (absent.status_code, absent.get_json().get("code")) \
                or other.status_code != 404:
            leaks.append(f"{method.upper()} {template}: other's → {other.status_code}, missing → {absent.status_code}")
    assert not leaks, "\n".join(leaks)
    assert owner.get(f"/api/v1/report-builder/reports/{report}").status_code == 200


@pytest.mark.parametrize(("role", "org", "asked", "status"), [
    ("township_public_health", "C01T01", "C01T02", 404), ("township_public_health", "C01T01", "C01", 404),
    ("township_public_health", "C01T01", "C01T01V01", 200), ("supervisor", "C01", "C01T02", 200),
    ("county_admin", "C01", "C01T02V01", 200)])
def test_a_custom_report_reads_only_the_callers_subtree(login_as, county, role, org, asked, status):
    api = login_as(role, org=org)
    resp = api.post("/api/v1/report-builder/run", json={"definition": {**REPORT, "org_code": asked}})
    assert resp.status_code == status, resp.get_json()
    drill = api.post("/api/v1/report-builder/drilldown", json={
        "definition": {**REPORT, "org_code": asked}, "measure": "indicator:htn_bp_control_rate", "part": "gap"})
    assert drill.status_code == status, drill.get_json()


# medication-error reports of refused prescriptions (issue 18.1): the county review centre's roles only (all of them
# county-wide); a local role lists none, not even its own organisation's
@pytest.mark.parametrize("role,org", LOCAL_ROLES)
def test_medication_error_reports_are_not_listed_to_local_roles(login_as, role, org):
    assert login_as(role, org=org).get("/api/v1/prescriptions/error-reports").status_code == 403
    assert login_as("pharmacist", org="C01").get("/api/v1/prescriptions/error-reports").status_code == 200


# managers' breakdowns and 转诊对账 (issue 20.6): an organisation outside the caller's subtree answers 404 on the
# counts and on the lists behind them
@pytest.mark.parametrize(("role", "org", "asked", "status"), [
    ("township_public_health", "C01T01", "C01T02", 404), ("township_public_health", "C01T01", "C01", 404),
    ("village_doctor", "C01T01V01", "C01T01V02", 404), ("township_public_health", "C01T01", "C01T01V01", 200),
    ("supervisor", "C01", "C01T02", 200)])
def test_breakdowns_and_the_referral_summary_read_only_the_callers_subtree(login_as, county, role, org, asked,
                                                                          status):
    api = login_as(role, org=org)
    q = f"period=2026-06&org_code={asked}"
    for url in (f"/api/v1/quality/breakdowns?{q}", f"/api/v1/quality/referral-summary?{q}",
                f"/api/v1/quality/referral-summary/unmatched?{q}&side=reported",
                f"/api/v1/quality/breakdowns.xlsx?{q}&section=population", f"/api/v1/quality/referral-summary.xlsx?{q}"):
        assert api.get(url).status_code == status, url
    members = api.get(f"/api/v1/quality/breakdowns/residents_by_sex/members?{q}&key=M")
    assert members.status_code == 404 if status == 404 else members.json["code"] == "invalid_key"

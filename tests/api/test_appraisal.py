"""Performance appraisal (issue 20.4) on the hand-counted county of tests/api/test_quality.py, quarter 2026Q2
(year-to-date indicators: 2026-01-01 … 2026-06-30, as for 2026-06 there).

Village figures (test_quality): 血压控制率 V01 100, V02 50, T02V01 0; 规范管理率 V01 50, V02 0, T02V01 100;
血糖控制率 V01 0 (己 7.4), V02 — (no T2DM patient), T02V01 100 (庚 6.2).

Test scheme: 血压控制率 50 interval, 规范管理率 30 max, 血糖控制率 20 target (target 55, below → 0).
  interval: P10 = 10, P90 = 90 → 100, 75, 50;  max: best 100 → 50, 0, 100;  target: 0, —, 100.
  totals: V01 (50×100 + 30×50 + 20×0) ÷ 100 = 65.0; V02 (50×75 + 30×0) ÷ 80 = 46.9 (glucose missing: its weight
  is left out); T02V01 (50×50 + 30×100 + 20×100) ÷ 100 = 75.0 → ranks T02V01 1, V01 2, V02 3.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.appraisal import jobs
from app.appraisal.models import AppraisalResult, AppraisalScheme
from app.audit.models import AuditEntry
from app.auth.models import User
from app.contracting.models import Contract
from app.core import clock, db
from app.follow_up.models import FollowUpSchedule
from app.reports import background
from app.reports.models import ExportJob
from tests.api import test_quality


@pytest.fixture()
def small_county(app, county):
    """The hand-counted county of test_quality (residents, enrolments, follow-ups)."""
    return test_quality.small_county.__wrapped__(app, county)

QUARTER = "2026Q2"
SCHEME = {"name": "村卫生室考核 (测试)", "items": [
    {"indicator_id": "htn_bp_control_rate", "weight": 50, "rule": "interval", "params": {}},
    {"indicator_id": "htn_standard_management_rate", "weight": 30, "rule": "max"},
    {"indicator_id": "t2dm_glucose_control_rate", "weight": 20, "rule": "target", "params": {"below": "zero"}}]}


def _save(api, kind="village", body=None):
    return api.put(f"/api/v1/appraisal/schemes/{kind}", json=body or SCHEME)


def _run(api, period=QUARTER, kind="village"):
    resp = api.post("/api/v1/appraisal/runs", json={"period": period, "kind": kind})
    assert resp.status_code == 200, resp.json
    return resp.json["results"][0]


def test_defaults_are_version_one_of_each_type(login_as):
    resp = login_as("supervisor").get("/api/v1/appraisal/schemes")
    assert resp.status_code == 200, resp.json
    assert {(s["kind"], s["version"]) for s in resp.json} == {("township", 1), ("village", 1), ("team", 1)}
    for scheme in resp.json:
        assert sum(i["weight"] for i in scheme["items"]) == 100


def test_village_ranking_equals_the_hand_computed_scores(login_as, small_county):
    admin = login_as("county_admin")
    saved = _save(admin)
    assert saved.status_code == 200, saved.json
    assert saved.json["version"] == 2
    got = _run(admin)
    assert got["scheme_version"] == 2
    assert [(s["key"], s["total"], s["rank"]) for s in got["subjects"]] == [
        ("C01T02V01", 75.0, 1), ("C01T01V01", 65.0, 2), ("C01T01V02", 46.9, 3)]
    by_key = {s["key"]: s for s in got["subjects"]}
    assert [(b["value"], b["score"]) for b in by_key["C01T01V02"]["breakdown"]] == [
        (50.0, 75.0), (0.0, 0.0), (None, None)]
    assert [(b["value"], b["score"], b["weighted"]) for b in by_key["C01T01V01"]["breakdown"]] == [
        (100.0, 100.0, 50.0), (50.0, 50.0, 15.0), (0.0, 0.0, 0.0)]
    stats = {i["indicator_id"]: i for i in got["indicators"]}
    assert (stats["htn_bp_control_rate"]["p10"], stats["htn_bp_control_rate"]["p90"]) == (10.0, 90.0)
    assert stats["htn_standard_management_rate"]["best"] == 100.0
    assert stats["t2dm_glucose_control_rate"]["target"] == 55


def test_township_scheme_lower_is_better_and_ties(login_as, small_county):
    admin = login_as("county_admin")
    # overdue share (lower is better): C01T01 D overdue of A, B, C, D, F → 1/5 = 20.0; C01T02 E of E, G → 50.0
    body = {"items": [{"indicator_id": "overdue_share", "weight": 60, "rule": "max"},
                      {"indicator_id": "t2dm_standard_management_rate", "weight": 40, "rule": "interval"}]}
    assert _save(admin, "township", body).status_code == 200
    got = _run(admin, kind="township")
    # max (lower): best 20 → 100 and 20 ÷ 50 × 100 = 40; T2DM 规范 100 for both (no spread) → 100, 100
    assert [(s["key"], [b["score"] for b in s["breakdown"]], s["total"], s["rank"]) for s in got["subjects"]] == [
        ("C01T01", [100.0, 100.0], 100.0, 1), ("C01T02", [40.0, 100.0], 64.0, 2)]
    body["items"] = [{"indicator_id": "t2dm_standard_management_rate", "weight": 100, "rule": "interval"}]
    assert _save(admin, "township", body).status_code == 200
    assert [(s["total"], s["rank"]) for s in _run(admin, kind="township")["subjects"]] == [(100.0, 1), (100.0, 1)]


def test_family_doctor_teams_are_named_by_their_doctor(app, login_as, small_county):
    doctor = login_as("village_doctor", org="C01T01V01", username="doc_li")
    with app.app_context(), db.unit_of_work() as s:
        s.get(User, doctor.user.id).display_name = "李医生"
        for name in ("甲", "乙"):
            s.scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == small_county[name])).one() \
                .responsible_user_id = doctor.user.id
        at = datetime(2026, 1, 5, 2, tzinfo=UTC)
        s.add(Contract(contract_no="FD-T-1", resident_id=small_county["甲"], org_code="C01T01V01",
                       org_path="/C01/C01T01/C01T01V01/", doctor_user_id=doctor.user.id, channel="staff",
                       status="active", starts_on=date(2026, 1, 5), ends_on=date(2027, 1, 4),
                       requested_by="test", created_at=at, updated_at=at))
    admin = login_as("county_admin")
    body = {"items": [{"indicator_id": "htn_bp_control_rate", "weight": 100, "rule": "target"}]}
    assert _save(admin, "team", body).status_code == 200
    got = _run(admin, kind="team")
    # 甲 135/85 ✓, 乙 145/85 (≥65) ✓ → 100.0 ≥ target 60 → 100
    assert [(s["name"], s["org_name"], s["total"], s["rank"]) for s in got["subjects"]] == [
        ("李医生团队", "上塘村卫生室", 100.0, 1)]
    assert "doc_li" not in str(got)
    with app.app_context():
        before = db.session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "appraisal_results"))
    resp = admin.get(f"/api/v1/appraisal/results?kind=team&period={QUARTER}")
    assert resp.status_code == 200, resp.json
    with app.app_context():
        after = db.session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "appraisal_results"))
    assert after == before + 1


def test_editing_makes_a_new_version_and_results_keep_theirs(app, login_as, small_county):
    admin = login_as("county_admin")
    assert _save(admin).json["version"] == 2
    assert _save(admin).json["version"] == 2                      # unchanged: no new version
    _run(admin)
    changed = {**SCHEME, "items": [{**SCHEME["items"][0], "weight": 40}, {**SCHEME["items"][1], "weight": 40},
                                   SCHEME["items"][2]]}
    resp = _save(admin, body=changed)
    assert resp.json["version"] == 3
    assert [v["version"] for v in resp.json["versions"]] == [3, 2, 1]
    old = admin.get("/api/v1/appraisal/schemes/village/versions/2")
    assert old.status_code == 200 and old.json["items"][0]["weight"] == 50
    stored = admin.get(f"/api/v1/appraisal/results?kind=village&period={QUARTER}")
    assert stored.json["scheme_version"] == 2                     # computed before the edit
    assert _run(admin)["scheme_version"] == 3
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AppraisalResult)) == 1
        assert db.session().scalar(select(func.count()).select_from(AppraisalScheme)
                                   .where(AppraisalScheme.kind == "village")) == 3


def test_running_a_period_again_is_idempotent(login_as, small_county):
    admin = login_as("supervisor")
    first, second = _run(admin), _run(admin)
    assert first["subjects"] == second["subjects"]


def test_max_type_scores_the_worst_50_and_the_reference_100(login_as, small_county):
    """§6.5 maximum-type: 规范管理率 V01 50, V02 0, T02V01 100 — worst 0 → 50; reference P90 = 90 → 100, linear
    between: 50 → 50 + 50 × 50 ÷ 90 = 77.8; with reference `best` (100): 50 → 75."""
    admin = login_as("county_admin")
    body = {"items": [{"indicator_id": "htn_standard_management_rate", "weight": 100, "rule": "max_type"}]}
    saved = _save(admin, body=body)
    assert saved.status_code == 200, saved.json
    assert saved.json["items"][0]["params"] == {"reference": "p90"}
    assert saved.json["items"][0]["rule_label"] == "最大值型 (最差值 50 分)"
    assert any(r["code"] == "max_type" and r["params"] == {"reference": ["p90", "best"]} for r in saved.json["rules"])
    got = _run(admin)
    assert [(s["key"], s["total"]) for s in got["subjects"]] == [
        ("C01T02V01", 100.0), ("C01T01V01", 77.8), ("C01T01V02", 50.0)]
    assert (got["indicators"][0]["worst"], got["indicators"][0]["reference"]) == (0.0, 90.0)
    body["items"][0]["params"] = {"reference": "best"}
    assert _save(admin, body=body).json["items"][0]["params_label"] == "达到最优值得满分"
    assert [s["total"] for s in _run(admin)["subjects"]] == [100.0, 75.0, 50.0]
    # lower is better (逾期未随访占比 C01T01 20.0, C01T02 50.0): worst 50 → 50, best 20 → 100
    township = {"items": [{"indicator_id": "overdue_share", "weight": 100, "rule": "max_type",
                           "params": {"reference": "best"}}]}
    assert _save(admin, "township", township).status_code == 200
    assert [(s["key"], s["total"]) for s in _run(admin, kind="township")["subjects"]] == [
        ("C01T01", 100.0), ("C01T02", 50.0)]


@pytest.mark.parametrize("items, code, path", [
    ([{"indicator_id": "htn_bp_control_rate", "weight": 60, "rule": "interval"}], "weights_not_100", "/items"),
    ([{"indicator_id": "nope", "weight": 100, "rule": "interval"}], "unknown_indicator", "/items/0/indicator_id"),
    ([{"indicator_id": "escalations", "weight": 100, "rule": "max"}], "indicator_not_applicable",
     "/items/0/indicator_id"),
    ([{"indicator_id": "htn_bp_control_rate", "weight": 50, "rule": "max"},
      {"indicator_id": "htn_bp_control_rate", "weight": 50, "rule": "max"}], "duplicate_indicator",
     "/items/1/indicator_id"),
    ([{"indicator_id": "htn_bp_control_rate", "weight": -5, "rule": "max"}], "invalid_weight", "/items/0/weight"),
    ([{"indicator_id": "htn_bp_control_rate", "weight": True, "rule": "max"}], "invalid_weight", "/items/0/weight"),
    ([{"indicator_id": "htn_bp_control_rate", "weight": 100, "rule": "best"}], "invalid_rule", "/items/0/rule"),
    ([{"indicator_id": "htn_bp_control_rate", "weight": 100, "rule": "target", "params": {"below": "half"}}],
     "invalid_params", "/items/0/params/below"),
    ([{"indicator_id": "htn_bp_control_rate", "weight": 100, "rule": "max", "params": {"below": "zero"}}],
     "invalid_params", "/items/0/params/below"),
    ([{"indicator_id": "contract_coverage", "weight": 100, "rule": "target"}], "no_target", "/items/0/rule"),
    ([{"indicator_id": "htn_bp_control_rate", "weight": 100, "rule": "max_type", "params": {"reference": "p50"}}],
     "invalid_params", "/items/0/params/reference"),
    ([{"indicator_id": "htn_bp_control_rate", "weight": 100, "rule": "max", "colour": "red"}], "invalid_item",
     "/items/0/colour"),
    ([], "empty_scheme", "/items"),
])
def test_a_bad_scheme_is_refused_whole_with_code_and_path(app, login_as, items, code, path):
    admin = login_as("county_admin")
    kind = "team" if code == "indicator_not_applicable" else "village"
    resp = _save(admin, kind, {"items": items})
    assert resp.status_code == 422, resp.json
    assert (resp.json["code"], resp.json["details"]["path"]) == (code, path)
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AppraisalScheme)
                                   .where(AppraisalScheme.kind == kind)) == 1


def test_only_the_county_admin_edits_and_only_county_roles_run(login_as, small_county):
    assert _save(login_as("supervisor")).status_code == 403
    assert login_as("township_public_health", org="C01T01").post(
        "/api/v1/appraisal/runs", json={"period": QUARTER}).status_code == 403
    assert login_as("county_admin").get("/api/v1/appraisal/schemes/hospital").status_code == 404


def test_a_township_sees_itself_and_its_villages_with_their_county_rank(login_as, small_county):
    admin = login_as("county_admin")
    _save(admin)
    _run(admin)
    other = login_as("township_public_health", org="C01T02").get(
        f"/api/v1/appraisal/results?kind=village&period={QUARTER}")
    assert other.status_code == 200, other.json
    assert [(s["key"], s["rank"]) for s in other.json["subjects"]] == [("C01T02V01", 1)]
    assert other.json["peer_count"] == 3
    village = login_as("village_doctor", org="C01T01V02").get(
        f"/api/v1/appraisal/results?kind=village&period={QUARTER}")
    assert [(s["key"], s["rank"]) for s in village.json["subjects"]] == [("C01T01V02", 3)]


def test_periods_are_checked(login_as, small_county):
    admin = login_as("county_admin")
    assert admin.post("/api/v1/appraisal/runs", json={"period": "2026Q5"}).status_code == 422
    future = admin.post("/api/v1/appraisal/runs", json={"period": "2099Q1"})
    assert (future.status_code, future.json["code"]) == (422, "period_in_future")
    missing = admin.get("/api/v1/appraisal/results?kind=village&period=2025")
    assert (missing.status_code, missing.json["code"]) == (404, "result_not_found")


def test_report_pdf_and_xlsx(login_as, small_county):
    admin = login_as("county_admin")
    _save(admin)
    _run(admin)
    pdf = admin.get(f"/api/v1/appraisal/results.pdf?period={QUARTER}")
    assert pdf.status_code == 200
    assert pdf.data[:4] == b"%PDF"
    book = admin.get(f"/api/v1/appraisal/results.xlsx?period={QUARTER}&kind=village")
    assert book.status_code == 200
    wb = load_workbook(BytesIO(book.data))
    ranking = wb.worksheets[0]
    assert [c.value for c in ranking[1]][:4] == ["名次", "考核对象", "所属机构", "总分"]
    assert [c.value for c in ranking[2]][:4] == [1, "东坞村卫生室", "桃源镇卫生院", 75]
    assert admin.get("/api/v1/appraisal/results.pdf?period=2025").status_code == 404


def test_the_report_of_every_type_is_built_as_a_job(app, login_as, small_county):
    admin = login_as("county_admin")
    _save(admin)
    admin.post("/api/v1/appraisal/runs", json={"period": QUARTER})
    missing = admin.post("/api/v1/appraisal/exports", json={"period": "2025"})
    assert (missing.status_code, missing.json["code"]) == (404, "result_not_found")
    started = admin.post("/api/v1/appraisal/exports", json={"period": QUARTER})
    assert started.status_code == 202, started.json
    job = admin.get(f"/api/v1/appraisal/exports/{started.json['id']}").json       # eager jobs: done already
    assert (job["status"], job["status_label"], job["percent"]) == ("done", "已完成", 100.0)
    assert job["title"] == "绩效考核报告 2026Q2 (全部类型, PDF)"
    pdf = admin.get(job["download"])
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    assert [j["id"] for j in admin.get("/api/v1/appraisal/exports").json["items"]] == [job["id"]]
    # only the requester sees the job and its file; the download is audited
    other = login_as("supervisor")
    assert other.get(f"/api/v1/appraisal/exports/{job['id']}").status_code == 404
    assert other.get(job["download"]).status_code == 404
    assert other.get("/api/v1/appraisal/exports").json["items"] == []
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.object_type == "appraisal_report")) == 1
    book = admin.post("/api/v1/appraisal/exports", json={"period": QUARTER, "kind": "village", "format": "xlsx"})
    wb = load_workbook(BytesIO(admin.get(book.json["download"]).data))
    assert [c.value for c in wb.worksheets[0][1]][:2] == ["名次", "考核对象"]


def test_a_failed_or_unfinished_job_says_so(app, login_as, small_county):
    admin = login_as("county_admin")
    admin.post("/api/v1/appraisal/runs", json={"period": QUARTER})
    with app.app_context():
        user_id = admin.user.id
        row = background.start(user_id, kind="appraisal", title="t", builder="app.appraisal.jobs.build_report",
                               params={"period": "2025"})
        assert db.session().get(ExportJob, row.id).error_code == "result_not_found"
        with db.unit_of_work() as s:
            s.add(ExportJob(owner_id=user_id, kind="appraisal", title="t", builder="x", params={}, status="queued",
                            done_steps=1, total_steps=4, created_at=datetime.now(UTC)))
        queued = db.session().scalar(select(func.max(ExportJob.id)))
    failed = admin.get(f"/api/v1/appraisal/exports/{row.id}").json
    assert (failed["status"], failed["error_code"], failed["download"]) == ("failed", "result_not_found", None)
    for _ in range(background.KEEP + 2):                     # a requester keeps the newest KEEP finished jobs
        with app.app_context():
            background.start(user_id, kind="appraisal", title="t", builder="app.appraisal.jobs.build_report",
                             params={"period": "2025"})
    with app.app_context():
        ids = db.session().scalars(select(ExportJob.id).where(ExportJob.owner_id == user_id)).all()
    assert len(ids) == background.KEEP + 1 and queued in ids    # the newest KEEP and the queued one (never deleted)
    waiting = admin.get(f"/api/v1/appraisal/exports/{queued}")
    assert (waiting.json["status_label"], waiting.json["percent"]) == ("排队中", 25.0)
    early = admin.get(f"/api/v1/appraisal/exports/{queued}/download")
    assert (early.status_code, early.json["code"]) == (409, "export_not_ready")


def test_the_scheduler_keeps_the_running_periods_current(app, login_as, small_county):
    admin = login_as("county_admin")
    admin.post("/api/v1/appraisal/runs", json={"period": QUARTER, "kind": "village"})
    with app.app_context():
        month, year = clock.today().strftime("%Y-%m"), str(clock.today().year)
        assert set(jobs.running_periods()) >= {("township", month), ("village", month), ("team", month)}
        assert jobs.recompute_current() == len(jobs.running_periods())
        assert jobs.recompute_current() == len(jobs.running_periods())           # again: same snapshots
        rows = db.session().scalars(select(AppraisalResult).where(AppraisalResult.period == month)).all()
        assert sorted(r.kind for r in rows) == ["team", "township", "village"]
        assert {r.computed_by for r in rows} == {"定时任务"}
        assert db.session().scalar(select(func.count()).select_from(AppraisalResult)
                                   .where(AppraisalResult.period == year)) == 0

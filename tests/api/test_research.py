"""Issue 20.7 research extraction through the API and the real `research_extract` model: a researcher defines a
hypertension cohort (size-only preview), submits; the committee approves, the extract is built (de-identified,
suppressed below k) and the committee sees its k before release; the researcher downloads within the limit, every
download audited. Bad criteria answer 422 with a stable code and the JSON path."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core import clock
from tests.research_support import deploy_research_models, resident
from tests.test_follow_up_support import complete, open_tasks

HTN = {"diseases": ["htn"]}
VARIABLES = ["sex", "age_band", "township", "diseases", "enrolled_on", "risk_level", "obs_last:8480-6"]


@pytest.fixture()
def world(app, county, login_as):
    deploy_research_models(app)
    people = {}
    # 6 hypertensive men aged 63 in 石门镇 (C01T01), 3 hypertensive women in C01T02 (76, 46, 66), 1 diabetic, 1 healthy
    for i in range(6):
        people[f"m{i}"] = resident(app, name=f"王建{'一二三四五六'[i]}", org="C01T01V01", born=date(1963, 1 + i, 3),
                                   sex="M", seed=100 + i, htn=True, sbp=150 + i, risk="HIGH" if i < 3 else "MODERATE")
    people["f0"] = resident(app, name="李秀英", org="C01T02V01", born=date(1950, 5, 5), sex="F", seed=200, htn=True,
                            sbp=132)
    people["f1"] = resident(app, name="赵桂兰", org="C01T02V01", born=date(1980, 5, 5), sex="F", seed=201, htn=True)
    people["f2"] = resident(app, name="钱玉珍", org="C01T02V01", born=date(1960, 5, 5), sex="F", seed=202, htn=True)
    people["d0"] = resident(app, name="孙德", org="C01T01V02", born=date(1970, 1, 1), sex="M", seed=300, t2dm=True)
    people["h0"] = resident(app, name="周平", org="C01T01V02", born=date(1990, 1, 1), sex="F", seed=301)
    return {"people": people, "researcher": login_as("researcher", username="res_a"),
            "researcher2": login_as("researcher", username="res_b"),
            "supervisor": login_as("supervisor", username="sup_a"),
            "village": login_as("village_doctor", org="C01T01V01")}


def body(**over):
    return {"title": "高血压队列血压控制研究", "purpose": "评估高血压患者的血压控制", "criteria": HTN,
            "variables": VARIABLES, "date_mode": "shift", "k": 3, "l": 1, **over}


def create(api, **over) -> dict:
    resp = api.post("/api/v1/research/projects", json=body(**over))
    assert resp.status_code == 201, resp.json
    return resp.json


def vote_task(api) -> dict:
    """The caller's open committee vote (assigned to them: one per member)."""
    tasks = open_tasks(api, "committee_vote", view="mine")
    assert len(tasks) == 1, tasks
    return tasks[0]


def run_to_release(w, project_id: int, *, release: bool = True, review: dict | None = None) -> dict:
    assert w["researcher"].post(f"/api/v1/research/projects/{project_id}/submit").status_code == 200
    complete(w["supervisor"], vote_task(w["supervisor"]), review or {"vote": "approve"})
    task = next(t for t in open_tasks(w["supervisor"], "release_review"))
    full = w["supervisor"].get(f"/api/v1/tasks/{task['id']}").json
    complete(w["supervisor"], task, {"release": release} if release else {"release": False,
                                                                         "release_comment": "k 值过低"})
    return full


def download(api, project_id: int, fmt: str = "csv"):
    return api.post(f"/api/v1/research/projects/{project_id}/downloads", json={"format": fmt})


def test_the_preview_counts_the_cohort_without_rows_and_hides_counts_under_the_minimum(world):
    api = world["researcher"]
    assert api.post("/api/v1/research/preview", json={"criteria": HTN}).json == {
        "cohort_size": 9, "below_minimum": False, "minimum": 3}
    men = {"diseases": ["htn"], "sex": ["M"], "age_min": 60, "age_max": 64, "risk_levels": ["HIGH"]}
    assert api.post("/api/v1/research/preview", json={"criteria": men}).json["cohort_size"] == 3
    sbp = {"observations": [{"code": "8480-6", "min": 153, "from": "2026-01-01", "to": "2026-12-31"}]}
    assert api.post("/api/v1/research/preview", json={"criteria": sbp}).json["cohort_size"] == 3
    icd = {"diagnoses": ["E11"]}
    assert api.post("/api/v1/research/preview", json={"criteria": icd}).json == {
        "cohort_size": None, "below_minimum": True, "minimum": 3}
    women = {"diagnoses": ["I1"], "sex": ["F"], "age_min": 70}
    assert api.post("/api/v1/research/preview", json={"criteria": women}).json["below_minimum"] is True


@pytest.mark.parametrize("criteria,code,field", [
    ({"diagnoses": ["I10", "高血压"]}, "invalid_icd10", "criteria.diagnoses[1]"),
    ({"observations": [{"code": "8480-6"}, {"code": "1234-5"}]}, "unknown_loinc", "criteria.observations[1].code"),
    ({"observations": [{"code": "8480-6", "min": 160, "max": 140}]}, "invalid_range", "criteria.observations[0].max"),
    ({"observations": [{"code": "8480-6", "from": "2026-13-01"}]}, "invalid_date", "criteria.observations[0].from"),
    ({"diseases": ["flu"]}, "unknown_disease", "criteria.diseases[0]"),
    ({"age_min": 70, "age_max": 40}, "invalid_range", "criteria.age_max"),
    ({"age_min": -1}, "invalid_age", "criteria.age_min"),
    ({"risk_levels": ["EXTREME"]}, "unknown_risk_level", "criteria.risk_levels[0]"),
    ({"blood_type": "A"}, "unknown_criterion", "criteria.blood_type"),
    ({"enrolled_from": "2026-06-01", "enrolled_to": "2026-01-01"}, "invalid_range", "criteria.enrolled_to"),
])
def test_bad_criteria_are_refused_with_a_stable_code_and_the_json_path(world, criteria, code, field):
    for resp in (world["researcher"].post("/api/v1/research/preview", json={"criteria": criteria}),
                 world["researcher"].post("/api/v1/research/projects", json=body(criteria=criteria))):
        assert resp.status_code == 422, resp.json
        assert resp.json["code"] == code and resp.json["details"]["field"] == field


@pytest.mark.parametrize("variables,code,field", [
    (["sex", "name"], "identifier_not_allowed", "variables[1]"),
    (["id_number"], "identifier_not_allowed", "variables[0]"),
    (["sex", "phone"], "identifier_not_allowed", "variables[1]"),
    (["address"], "identifier_not_allowed", "variables[0]"),
    (["sex", "obs_last:9999-9"], "unknown_variable", "variables[1]"),
    ([], "invalid_variables", "variables"),
])
def test_direct_identifiers_and_unknown_variables_are_refused_and_nothing_is_saved(world, variables, code, field):
    api = world["researcher"]
    resp = api.post("/api/v1/research/projects", json=body(variables=variables))
    assert resp.status_code == 422 and resp.json["code"] == code and resp.json["details"]["field"] == field
    assert api.get("/api/v1/research/projects").json["items"] == []


def test_k_outside_the_configured_range_is_refused(world):
    resp = world["researcher"].post("/api/v1/research/projects", json=body(k=2))
    assert resp.status_code == 422 and resp.json["code"] == "invalid_k"


def test_l_diversity_of_the_risk_level_is_shown_before_release_and_classes_below_l_are_suppressed(world):
    w = world
    project = create(w["researcher"], l=2)
    assert project["l"] == 2
    full = run_to_release(w, project["id"])
    assert "l-多样性 = 2" in full["instructions"] and "要求 l ≥ 2" in full["instructions"]
    assert "敏感属性：风险分层 (最高)" in full["instructions"] and "因 l 删除 3 行" in full["instructions"]
    ex = w["researcher"].get(f"/api/v1/research/projects/{project['id']}").json["extract"]
    # the 6 men (C01T01/55-64/M) hold 高危 ×3 and 中危 ×3: 2 distinct values. The three women have no risk level
    # recorded: each of their classes, and (*,*,F) ×3 after generalising for k, holds one value (未记录) → removed
    assert ex["sensitive_attributes"] == ["risk_level"] and ex["l_before"] == 1 and ex["l_diversity"] == 2
    assert ex["meets_l"] is True and ex["l_required"] == 2 and ex["suppressed_rows_l"] == 3
    assert ex["row_count"] == 6 and ex["suppressed_rows"] == 3 and ex["k_anonymity"] == 6
    assert sorted(c["size"] for c in ex["below_l"]) == [1, 1, 1]
    assert all(c["attribute_label"] == "风险分层 (最高)" and c["distinct"] == 1 and "性别=F" in c["label"]
               for c in ex["below_l"])
    resp = download(w["researcher"], project["id"])
    assert len(list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))) == 7


def test_l_outside_the_configured_range_is_refused(world):
    resp = world["researcher"].post("/api/v1/research/projects", json=body(l=11))
    assert resp.status_code == 422 and resp.json["code"] == "invalid_l" and resp.json["details"]["field"] == "l"
    assert world["researcher"].post("/api/v1/research/projects", json=body(l=0)).status_code == 422


def test_approved_extract_is_de_identified_suppressed_below_k_and_downloaded_a_limited_number_of_times(app, world):
    w = world
    project = create(w["researcher"])
    assert project["status"] == "draft" and project["editable"] is True
    full = run_to_release(w, project["id"])
    assert "k-匿名 = " in full["instructions"] and "要求 k ≥ 3" in full["instructions"]
    got = w["researcher"].get(f"/api/v1/research/projects/{project['id']}").json
    assert got["status"] == "released" and got["reviewed_by"] == "数据/伦理委员会" and got["released_by"] == "sup_a"
    ex = got["extract"]
    # classes over (township, age_band, sex): C01T01/55-64/M ×6; C01T02/75-84/F, C01T02/45-54/F, C01T02/65-74/F ×1
    # each → the three women lose their township, then their age band: (*,*,F) ×3 stands (6 cells shown as *)
    assert ex["cohort_size"] == 9 and ex["row_count"] == 9 and ex["k_before"] == 1 and ex["k_anonymity"] == 3
    assert ex["suppressed_rows"] == 0 and ex["suppressed_cells"] == 6 and ex["meets_k"] is True
    assert got["can_download"] is True and got["downloads_left"] == 3
    resp = download(w["researcher"], project["id"])
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["研究编号", "性别", "年龄段", "乡镇", "管理病种", "建档日期", "风险分层 (最高)", "收缩压 末次值"]
    assert len(rows) == 10
    for name in ("王建一", "李秀英", "赵桂兰", "13800001234", "上塘村"):
        assert name not in text
    assert not re.search(r"\d{17}[\dX]", text)                  # no ID number
    assert all(str(i) not in {row[0] for row in rows[1:]} for i in w["people"].values())
    assert all(row[0].startswith("R") and len(row[0]) == 17 for row in rows[1:])
    assert sorted(r[2] for r in rows[1:]).count("55-64") == 6 and [r[3] for r in rows[1:]].count("*") == 3
    assert download(w["researcher"], project["id"], "xlsx").status_code == 200
    wb = load_workbook(io.BytesIO(download(w["researcher"], project["id"], "xlsx").data))
    assert next(c.value for c in wb.active[1]) == "研究编号" and wb.active.max_row == 10
    over = download(w["researcher"], project["id"])
    assert over.status_code == 410 and over.json["code"] == "download_limit_reached"
    got = w["researcher"].get(f"/api/v1/research/projects/{project['id']}").json
    assert [d["format"] for d in got["downloads"]] == ["csv", "xlsx", "xlsx"] and got["can_download"] is False
    with app.app_context():
        from app.core.db import session
        entries = list(session().scalars(select(AuditEntry).where(AuditEntry.action == "research.download")
                                            .order_by(AuditEntry.id)))
        assert [(e.actor, e.object_id, e.details["n"]) for e in entries] == [
            ("res_a", str(project["id"]), 1), ("res_a", str(project["id"]), 2), ("res_a", str(project["id"]), 3)]
        session().rollback()


def test_pseudonyms_and_date_shifts_are_stable_within_a_project_and_differ_across_projects(world):
    w = world
    first = create(w["researcher"], variables=["enrolled_on", "sex"])
    run_to_release(w, first["id"])
    second = create(w["researcher"], variables=["enrolled_on", "sex"])
    run_to_release(w, second["id"])
    month = create(w["researcher"], variables=["enrolled_on", "sex"], date_mode="month")
    run_to_release(w, month["id"])

    def rows(pid):
        text = download(w["researcher"], pid).get_data(as_text=True).lstrip("\ufeff")
        return list(csv.reader(io.StringIO(text)))[1:]
    a, again, b, m = rows(first["id"]), rows(first["id"]), rows(second["id"]), rows(month["id"])
    assert a == again                                           # same ids and same shifted dates on every download
    assert {r[0] for r in a}.isdisjoint({r[0] for r in b})      # other project: other ids
    enrolled = clock.today()
    assert all(r[1] != enrolled.isoformat() for r in a)         # every date moved
    assert all(abs((date.fromisoformat(r[1]) - enrolled).days) <= 180 for r in a)
    assert {r[1] for r in m} == {enrolled.strftime("%Y-%m")}


def test_the_committee_asks_for_changes_then_approves_the_resubmission_and_free_text_needs_approval(world):
    w = world
    project = create(w["researcher"], variables=["sex", "visit_notes"])
    assert project["free_text_requested"] is True
    assert w["researcher"].post(f"/api/v1/research/projects/{project['id']}/submit").status_code == 200
    again = w["researcher"].post(f"/api/v1/research/projects/{project['id']}/submit")
    assert again.status_code == 409 and again.json["code"] == "already_submitted"
    locked = w["researcher"].put(f"/api/v1/research/projects/{project['id']}", json=body())
    assert locked.status_code == 409 and locked.json["code"] == "project_locked"
    task = vote_task(w["supervisor"])
    assert "需明确同意" in w["supervisor"].get(f"/api/v1/tasks/{task['id']}").json["instructions"]
    bad = w["supervisor"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"vote": "changes"}})
    assert bad.status_code == 422
    complete(w["supervisor"], task, {"vote": "changes", "opinion": "请限定年龄范围"})
    got = w["researcher"].get(f"/api/v1/research/projects/{project['id']}").json
    assert got["status"] == "changes_requested" and "请限定年龄范围" in got["review_comment"] and got["editable"]
    resp = w["researcher"].put(f"/api/v1/research/projects/{project['id']}",
                               json=body(criteria={"diseases": ["htn"], "age_min": 60}, variables=["sex", "visit_notes"]))
    assert resp.status_code == 200, resp.json
    revise = open_tasks(w["researcher"], "revise_request", view="mine") or open_tasks(w["researcher"],
                                                                                       "revise_request")
    assert revise and "请限定年龄范围" in w["researcher"].get(f"/api/v1/tasks/{revise[0]['id']}").json["instructions"]
    complete(w["researcher"], revise[0], {"action": "resubmit"})
    task = vote_task(w["supervisor"])
    assert "年龄 60–… 岁" in w["supervisor"].get(f"/api/v1/tasks/{task['id']}").json["instructions"]
    assert "第 2 轮投票" in w["supervisor"].get(f"/api/v1/tasks/{task['id']}").json["instructions"]
    complete(w["supervisor"], task, {"vote": "approve"})           # free text not approved
    got = w["researcher"].get(f"/api/v1/research/projects/{project['id']}").json
    assert got["status"] == "pending_release" and got["free_text_approved"] is False
    assert got["extract"]["columns"] == ["研究编号", "性别"] and got["cohort_size"] == 8


def test_a_rejected_request_and_an_unreleased_extract_cannot_be_downloaded(world):
    w = world
    project = create(w["researcher"])
    assert w["researcher"].post(f"/api/v1/research/projects/{project['id']}/submit").status_code == 200
    early = download(w["researcher"], project["id"])
    assert early.status_code == 409 and early.json["code"] == "extract_not_released"
    complete(w["supervisor"], vote_task(w["supervisor"]), {"vote": "reject", "opinion": "研究目的不明确"})
    got = w["researcher"].get(f"/api/v1/research/projects/{project['id']}").json
    assert got["status"] == "rejected" and got["status_label"] == "未通过"
    assert download(w["researcher"], project["id"]).json["code"] == "extract_not_released"
    refused = create(w["researcher"])
    run_to_release(w, refused["id"], release=False)
    assert w["researcher"].get(f"/api/v1/research/projects/{refused['id']}").json["status"] == "rejected"


def test_the_download_expires(world):
    w = world
    project = create(w["researcher"])
    run_to_release(w, project["id"])
    clock.advance(timedelta(days=31))
    resp = download(w["researcher"], project["id"])
    assert resp.status_code == 410 and resp.json["code"] == "extract_expired"


def test_who_sees_what(world):
    w = world
    project = create(w["researcher"])
    # a draft is the requester's alone; another researcher and the committee do not see it
    assert w["researcher2"].get(f"/api/v1/research/projects/{project['id']}").status_code == 404
    assert w["supervisor"].get(f"/api/v1/research/projects/{project['id']}").status_code == 404
    assert w["village"].get("/api/v1/research/projects").status_code == 403
    assert w["village"].post("/api/v1/research/preview", json={"criteria": HTN}).status_code == 403
    run_to_release(w, project["id"])
    listed = w["supervisor"].get("/api/v1/research/projects").json
    assert [i["id"] for i in listed["items"]] == [project["id"]] and listed["can_review"] is True
    assert w["supervisor"].post(f"/api/v1/research/projects/{project['id']}/downloads",
                                json={"format": "csv"}).status_code == 403
    stolen = download(w["researcher2"], project["id"])
    assert stolen.status_code == 404 and stolen.json["code"] == "research_project_not_found"
    # a researcher reads no resident records
    assert w["researcher"].get("/api/v1/residents").status_code == 403


def _pids_and_sbp(resp) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    col = rows[0].index("收缩压 末次值")
    return {r[0]: r[col] for r in rows[1:]}


def test_a_released_project_refreshes_its_extract_with_the_same_research_ids_within_the_limit(app, world):
    from app.residents import records
    w = world
    project = create(w["researcher"])
    run_to_release(w, project["id"])
    first = _pids_and_sbp(download(w["researcher"], project["id"]))
    with app.app_context():                       # new data after the release: 王建一 measured again today
        records.record_observation(w["people"]["m0"], code="8480-6", value=171, unit="mm[Hg]",
                                   effective_at=clock.now(), source="test", rescreen=False)
    future = w["researcher"].post(f"/api/v1/research/projects/{project['id']}/refresh",
                                  json={"until": (clock.today() + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and future.json["code"] == "invalid_until"
    resp = w["researcher"].post(f"/api/v1/research/projects/{project['id']}/refresh", json={"format": "csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert clock.today().isoformat() in resp.headers["Content-Disposition"]
    refreshed = _pids_and_sbp(resp)
    assert set(refreshed) == set(first)                                  # the same research ids (stable per project)
    changed = [pid for pid in first if first[pid] != refreshed[pid]]
    assert len(changed) == 1 and refreshed[changed[0]] == "171.0"
    # data up to a past day: readings after it are left out (the March readings, and today's)
    march = w["researcher"].post(f"/api/v1/research/projects/{project['id']}/refresh",
                                 json={"until": "2026-02-28"})
    assert march.status_code == 200 and set(_pids_and_sbp(march).values()) == {""}
    got = w["researcher"].get(f"/api/v1/research/projects/{project['id']}").json
    assert got["downloads_left"] == 0 and [d["refresh"] for d in got["downloads"]] == [False, True, True]
    assert got["downloads"][2]["data_until"] == "2026-02-28" and got["extract"]["refreshes"] == 2
    assert got["extract"]["data_until"] == "2026-02-28" and got["can_download"] is False
    over = w["researcher"].post(f"/api/v1/research/projects/{project['id']}/refresh", json={})
    assert over.status_code == 410 and over.json["code"] == "download_limit_reached"
    other = w["researcher2"].post(f"/api/v1/research/projects/{project['id']}/refresh", json={})
    assert other.status_code == 404
    with app.app_context():
        from app.core.db import session
        entries = list(session().scalars(select(AuditEntry).where(AuditEntry.action == "research.refresh")
                                            .order_by(AuditEntry.id)))
        assert [e.details["data_until"] for e in entries] == [clock.today().isoformat(), "2026-02-28"]


def test_an_expired_approval_cannot_be_refreshed(app, world):
    w = world
    project = create(w["researcher"])
    run_to_release(w, project["id"])
    clock.advance(timedelta(days=31))
    resp = w["researcher"].post(f"/api/v1/research/projects/{project['id']}/refresh", json={})
    assert resp.status_code == 410 and resp.json["code"] == "approval_expired"
    got = w["researcher"].get(f"/api/v1/research/projects/{project['id']}").json
    assert got["downloads"] == [] and got["extract"]["refreshes"] == 0

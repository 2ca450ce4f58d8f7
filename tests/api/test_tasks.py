"""The inbox through the API: who is offered which task, the three views, filters, sorts, paging, counts, detail
with its resolved form, drafts, comments and saved filters."""
from __future__ import annotations

import base64
import gzip
import json
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from app.core import clock, db
from app.residents import idcard
from app.workflows.models import HumanTask
from tests.helpers import statements_sent


@pytest.fixture()
def approval(deploy_models):
    deploy_models("approval.bpmn", "approval")


def start(api, org="C01T01V01", **data):
    resp = api.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": org, "data": data})
    assert resp.status_code == 201, resp.json
    return resp.json


def open_task_of(api, instance_id, view="groups"):
    items = api.get(f"/api/v1/tasks?view={view}&per_page=200").json["items"]
    return next(t for t in items if t["instance_id"] == instance_id)


def set_fields(app, instance_id, **values):
    """Business fields the projection would carry for real processes (resident, disease, due date, …)."""
    with app.app_context(), db.unit_of_work() as s:
        s.execute(update(HumanTask).where(HumanTask.instance_id == instance_id).values(**values))


# -- candidates and views -----------------------------------------------------------------------------------

def test_a_lane_task_is_offered_to_role_holders_whose_subtree_holds_its_org(login_as, approval):
    starter = login_as("county_admin")
    inst = start(starter)
    township = login_as("township_doctor", org="C01T01")
    groups = township.get("/api/v1/tasks?view=groups").json
    assert groups["total"] == 1
    task = groups["items"][0]
    assert (task["instance_id"], task["element_id"], task["role"], task["assignee"]) == (inst["id"], "task_a",
                                                                                       "township_doctor", None)
    assert task["etag"] and task["overdue"] is False


def test_a_task_outside_the_callers_subtree_is_not_found(login_as, approval):
    inst = start(login_as("county_admin"))
    task_id = open_task_of(login_as("township_doctor", org="C01T01"), inst["id"])["id"]
    other = login_as("township_doctor", org="C01T02")
    assert other.get("/api/v1/tasks?view=groups").json["total"] == 0
    assert other.get("/api/v1/tasks?view=org").json["total"] == 0
    assert other.get(f"/api/v1/tasks/{task_id}").status_code == 404
    assert other.post(f"/api/v1/tasks/{task_id}/claim").status_code == 404
    assert other.get(f"/api/v1/tasks/{task_id}/comments").status_code == 404


def test_other_roles_see_the_task_in_the_org_view_but_not_in_groups(login_as, approval):
    start(login_as("county_admin"))
    village = login_as("village_doctor", org="C01T01V01")
    assert village.get("/api/v1/tasks?view=groups").json["total"] == 0
    org = village.get("/api/v1/tasks?view=org").json
    assert org["total"] == 1
    detail = village.get(f"/api/v1/tasks/{org['items'][0]['id']}").json
    assert detail["can"]["claim"] is False and detail["can"]["complete"] is False
    assert village.post(f"/api/v1/tasks/{detail['id']}/claim").json["code"] == "not_a_candidate"


def test_county_wide_roles_see_every_task_of_their_role(login_as, approval):
    start(login_as("county_admin"), org="C01T02V01")
    # a county-wide user holding the lane's role by a second role is offered it everywhere
    wide = login_as("township_doctor", "county_admin", org="C01")
    assert wide.get("/api/v1/tasks?view=groups").json["total"] == 1


def test_a_task_in_no_lane_is_offered_to_the_user_who_started_the_instance(app, login_as, approval):
    starter = login_as("village_doctor", org="C01T01V01")
    inst = start(starter)
    set_fields(app, inst["id"], role=None, lane=None)
    assert open_task_of(starter, inst["id"])["role"] is None
    colleague = login_as("village_doctor", org="C01T01V01")
    assert colleague.get("/api/v1/tasks?view=groups").json["total"] == 0
    township = login_as("township_doctor", org="C01T01")
    assert township.get("/api/v1/tasks?view=groups").json["total"] == 0


def test_mine_holds_claimed_tasks_and_done_by_me_holds_completed_ones(login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    inst = start(doctor)
    task = open_task_of(doctor, inst["id"])
    assert doctor.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    mine = doctor.get("/api/v1/tasks?view=mine").json
    assert [t["id"] for t in mine["items"]] == [task["id"]]
    assert mine["items"][0]["assignee"]["username"] == doctor.user.username
    assert doctor.get("/api/v1/tasks?view=groups").json["total"] == 0
    doctor.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"amount": 5}})
    done = doctor.get("/api/v1/tasks?view=mine&status=completed").json
    assert [t["id"] for t in done["items"]] == [task["id"]] and done["items"][0]["status"] == "completed"


# -- filters, sorts, paging ---------------------------------------------------------------------------------

@pytest.fixture()
def five_tasks(app, login_as, approval):
    admin = login_as("county_admin")
    now = clock.now()
    fields = ("resident_name", "village_code", "disease", "risk_level", "priority", "due_at", "resident_id")
    rows = [("王建国", "C01T01V01", "hypertension", "HIGH", 2, now + timedelta(days=3), 11),
            ("李秀英", "C01T01V01", "diabetes", "VERY_HIGH", 1, now - timedelta(days=1), 12),
            ("王芳", "C01T01V02", "hypertension", "LOW", 3, None, 13),
            ("张伟", "C01T01V02", "copd", "MEDIUM", 5, now + timedelta(days=1), 14),
            ("赵磊", "C01T01V01", "hypertension", "很高危", 4, now + timedelta(days=7), 15)]
    specs = [dict(zip(fields, row, strict=True)) for row in rows]
    names = {}
    for spec in specs:
        inst = start(admin)
        set_fields(app, inst["id"], **spec)
        names[inst["id"]] = spec["resident_name"]
    return names


def _names(api, query):
    resp = api.get(f"/api/v1/tasks?view=groups&{query}")
    assert resp.status_code == 200, resp.json
    return [t["resident"]["name"] for t in resp.json["items"]], resp.json["total"]


def test_business_filters_narrow_the_list(login_as, five_tasks):
    doctor = login_as("township_doctor", org="C01T01")
    assert _names(doctor, "disease=hypertension")[1] == 3
    assert _names(doctor, "village_code=C01T01V02")[1] == 2
    assert _names(doctor, "risk_level=LOW")[0] == ["王芳"]
    assert _names(doctor, "resident_id=14")[0] == ["张伟"]
    assert _names(doctor, "priority=1")[0] == ["李秀英"]
    assert _names(doctor, "overdue=true")[0] == ["李秀英"]
    assert _names(doctor, "q=王")[1] == 2
    assert _names(doctor, "q=填写")[1] == 5                       # task name prefix
    assert _names(doctor, "process_id=approval&element_id=task_a")[1] == 5
    assert _names(doctor, "element_id=task_b")[1] == 0
    assert _names(doctor, "org_code=C01T01V01")[1] == 5
    due_before = (clock.now() + timedelta(days=2)).isoformat().replace("+", "%2B")
    assert sorted(_names(doctor, f"due_before={due_before}")[0]) == ["张伟", "李秀英"]


def test_sorts_order_by_due_priority_risk_and_creation(login_as, five_tasks):
    doctor = login_as("township_doctor", org="C01T01")
    assert _names(doctor, "sort=due")[0] == ["李秀英", "张伟", "王建国", "赵磊", "王芳"]      # no due date last
    assert _names(doctor, "sort=priority")[0] == ["李秀英", "王建国", "王芳", "赵磊", "张伟"]
    assert _names(doctor, "sort=risk")[0][:2] == ["李秀英", "赵磊"]                          # VERY_HIGH, 很高危
    assert _names(doctor, "sort=risk")[0][2:] == ["王建国", "张伟", "王芳"]
    assert _names(doctor, "sort=created")[0] == ["赵磊", "张伟", "王芳", "李秀英", "王建国"]


def test_paging_returns_the_total_with_each_page(login_as, five_tasks):
    doctor = login_as("township_doctor", org="C01T01")
    first, total = _names(doctor, "per_page=2&page=1")
    third, _ = _names(doctor, "per_page=2&page=3")
    assert total == 5 and len(first) == 2 and len(third) == 1
    assert doctor.get("/api/v1/tasks?per_page=201").status_code == 422


@pytest.fixture()
def spread_names(app, login_as, approval):
    """王 residents in both villages and at the township itself of C01T01, and in the other township (C01T02)."""
    admin = login_as("county_admin")
    due = clock.now() + timedelta(days=1)
    rows = [("C01T01V01", "王一", 5), ("C01T01V02", "王二", 1), ("C01T01", "王三", 3), ("C01T01V02", "李四", 2),
            ("C01T01V01", "王五", None), ("C01T02V01", "王六", 0), ("C01T01V02", "王七", -2)]
    for org, name, hours in rows:
        inst = start(admin, org=org)
        set_fields(app, inst["id"], resident_name=name, village_code=org,
                   due_at=None if hours is None else due + timedelta(hours=hours))
    return rows


def test_a_one_character_name_prefix_finds_the_subtree_across_its_organizations(login_as, spread_names):
    township = login_as("township_doctor", org="C01T01")
    names, total = _names(township, "q=王")
    assert names == ["王七", "王二", "王三", "王一", "王五"] and total == 5       # due order, none without a date last
    assert _names(township, "q=王&per_page=2") == (["王七", "王二"], 5)           # a full page: counted
    assert _names(township, "q=王二")[0] == ["王二"]
    village = login_as("township_doctor", org="C01T01V02")
    assert _names(village, "q=王") == (["王七", "王二"], 2)
    other = login_as("township_doctor", org="C01T02")
    assert _names(other, "q=王") == (["王六"], 1)
    assert _names(login_as("county_admin"), "q=王")[1] == 0          # not offered: county admins hold no lane here


def test_a_name_search_pages_by_cursor_across_organizations(login_as, spread_names):
    township = login_as("township_doctor", org="C01T01")
    whole = [t["id"] for t in township.get("/api/v1/tasks?view=groups&q=王&per_page=200").json["items"]]
    for sort in ("due", "priority", "created"):
        walked, pages = _walk(township, f"q=王&sort={sort}", 2)
        assert sorted(walked) == sorted(whole) and len(walked) == 5 and pages == 3, sort
    first = township.get("/api/v1/tasks?view=groups&q=王&per_page=2").json
    second = township.get(f"/api/v1/tasks?view=groups&q=王&per_page=2&cursor={first['next_cursor']}").json
    assert second["total"] == first["total"] == 5                    # a cursor page counts the whole result too


def test_the_total_of_a_page_that_holds_everything_is_its_length_and_a_later_page_counts(login_as, five_tasks):
    doctor = login_as("township_doctor", org="C01T01")
    assert _names(doctor, "per_page=5")[1] == 5
    assert _names(doctor, "per_page=4")[1] == 5
    assert _names(doctor, "per_page=4&page=2") == (["王芳"], 5)
    assert _names(doctor, "per_page=4&page=3") == ([], 5)


def test_overdue_counts_span_every_organization_of_the_subtree_and_no_other(app, login_as, approval):
    admin = login_as("county_admin")
    past, future = clock.now() - timedelta(hours=2), clock.now() + timedelta(hours=2)
    for org, due in (("C01T01V01", past), ("C01T01V02", past), ("C01T01", past), ("C01T01V02", future),
                     ("C01T02V01", past)):
        set_fields(app, start(admin, org=org)["id"], due_at=due)
    assert login_as("township_doctor", org="C01T01").get("/api/v1/tasks/counts").json == {
        "mine": 0, "groups": 4, "org": 4, "overdue": 3}
    assert login_as("township_doctor", org="C01T01V02").get("/api/v1/tasks/counts").json == {
        "mine": 0, "groups": 2, "org": 2, "overdue": 1}


@pytest.fixture()
def tied_tasks(app, login_as, approval):
    """Twelve tasks whose sort keys tie in groups (same due date, priority, risk), one without a due date."""
    admin = login_as("county_admin")
    due = clock.now() + timedelta(days=2)
    levels = ("HIGH", "LOW", "很高危", None)
    ids = []
    for i in range(12):
        inst = start(admin)
        set_fields(app, inst["id"], resident_name=f"居民{i:02d}", priority=1 + i % 2, risk_level=levels[i % 4],
                   due_at=None if i == 5 else due + timedelta(hours=i // 4))
        ids.append(open_task_of(admin, inst["id"], view="org")["id"])
    return ids


def _walk(api, query, per_page, cursor=None):
    """Every page by cursor (from `cursor` on): the ids in order, and the number of pages."""
    seen, pages = [], 0
    while pages < 50:
        url = f"/api/v1/tasks?view=groups&per_page={per_page}&{query}" + (f"&cursor={cursor}" if cursor else "")
        resp = api.get(url)
        assert resp.status_code == 200, resp.json
        seen += [t["id"] for t in resp.json["items"]]
        pages += 1
        cursor = resp.json["next_cursor"]
        if cursor is None:
            return seen, pages
        assert len(resp.json["items"]) == per_page
    raise AssertionError("the cursor does not move on")


@pytest.mark.parametrize("sort", ["due", "priority", "risk", "created"])
def test_cursor_pages_follow_the_sort_without_repeating_or_missing_a_row(login_as, tied_tasks, sort):
    doctor = login_as("township_doctor", org="C01T01")
    whole = [t["id"] for t in doctor.get(f"/api/v1/tasks?view=groups&per_page=200&sort={sort}").json["items"]]
    assert sorted(whole) == sorted(tied_tasks)
    for per_page in (1, 5, 12):
        walked, pages = _walk(doctor, f"sort={sort}", per_page)
        assert walked == whole, (sort, per_page)
        assert pages == -(-12 // per_page)


def test_cursor_paging_is_stable_while_tasks_come_and_go(app, login_as, tied_tasks):
    """A task that appears before the cursor, or one that goes away, shifts offset pages but not cursor pages."""
    doctor = login_as("township_doctor", org="C01T01")
    first = doctor.get("/api/v1/tasks?view=groups&per_page=4&sort=priority").json
    inst = start(login_as("county_admin"))
    set_fields(app, inst["id"], resident_name="新来的", priority=1, due_at=clock.now() - timedelta(days=9))
    claimed = doctor.post(f"/api/v1/tasks/{first['items'][0]['id']}/claim")
    assert claimed.status_code == 200
    rest, _pages = _walk(doctor, "sort=priority", 4, cursor=first["next_cursor"])
    seen = [t["id"] for t in first["items"]] + rest
    assert len(seen) == len(set(seen)) == 12 and set(seen) == set(tied_tasks)
    assert first["total"] == 12


def test_cursor_keeps_the_filters_of_the_request(login_as, tied_tasks):
    doctor = login_as("township_doctor", org="C01T01")
    walked, _ = _walk(doctor, "sort=risk&risk_level=HIGH", 1)
    assert len(walked) == 3
    names = [t["resident"]["name"] for t in doctor.get("/api/v1/tasks?view=groups&q=居民0&per_page=200").json["items"]]
    walked, _ = _walk(doctor, "q=居民0", 3)
    assert len(walked) == len(names) == 10


def test_a_cursor_that_does_not_fit_is_a_400_with_a_stable_code(login_as, tied_tasks):
    doctor = login_as("township_doctor", org="C01T01")
    good = doctor.get("/api/v1/tasks?view=groups&per_page=2&sort=priority").json["next_cursor"]
    assert good
    forged = [base64.urlsafe_b64encode(json.dumps(doc).encode()).decode() for doc in (
        {"s": "priority", "k": ["1", None, 3]}, {"s": "priority", "k": [1, "tomorrow", 3]},
        {"s": "priority", "k": [1, None]}, {"s": "priority", "k": [1, "2026-12-04T10:00:00", 3]},
        {"s": "priority", "k": [None, None, 3]}, {"k": [1, None, 3]}, [1, 2, 3],
        {"s": "priority", "k": [1, None, 2 ** 70]}, {"s": "priority", "k": [True, None, 3]})]
    for cursor in ["garbage!!", "e30", good[:-3], *forged]:
        resp = doctor.get(f"/api/v1/tasks?view=groups&per_page=2&sort=priority&cursor={cursor}")
        assert resp.status_code == 400 and resp.json["code"] == "invalid_cursor", cursor
    other_sort = doctor.get(f"/api/v1/tasks?view=groups&per_page=2&sort=due&cursor={good}")
    assert other_sort.status_code == 400 and other_sort.json["code"] == "invalid_cursor"


def test_bad_query_arguments_are_rejected(login_as):
    api = login_as("township_doctor", org="C01T01")
    for query in ("view=everyone", "sort=name", "status=lost", "priority=9", "due_before=tomorrow"):
        resp = api.get(f"/api/v1/tasks?{query}")
        assert resp.status_code == 422 and resp.json["code"] == "validation_error", query


def test_counts_per_view_and_overdue(app, login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    first, second = start(doctor), start(doctor)
    set_fields(app, first["id"], due_at=clock.now() - timedelta(hours=1))
    doctor.post(f"/api/v1/tasks/{open_task_of(doctor, second['id'])['id']}/claim")
    assert doctor.get("/api/v1/tasks/counts").json == {"mine": 1, "groups": 1, "org": 2, "overdue": 1}
    assert login_as("township_doctor", org="C01T02").get("/api/v1/tasks/counts").json == {
        "mine": 0, "groups": 0, "org": 0, "overdue": 0}


def test_header_counts_stop_at_the_header_cap(app, login_as, approval, monkeypatch):
    """Each header count reads at most HEADER_CAP + 1 rows and says so ("999+" in the header)."""
    from app.tasks import queries
    monkeypatch.setattr(queries, "HEADER_CAP", 2)
    admin = login_as("county_admin")
    for org in ("C01T01V01", "C01T01V02", "C01T01", "C01T01V01"):
        set_fields(app, start(admin, org=org)["id"], due_at=clock.now() - timedelta(hours=1))
    doctor = login_as("township_doctor", org="C01T01")
    assert doctor.get("/api/v1/tasks/counts").json == {"mine": 0, "groups": 3, "org": 3, "overdue": 3}
    assert doctor.get("/api/v1/tasks?view=groups").json["total"] == 4          # the list's total is not capped so low


def test_header_counts_and_a_list_total_are_one_statement_each(app, login_as, five_tasks):
    """Every count of the header (and of a searched list, one per branch and name part) in one round trip."""
    doctor = login_as("township_doctor", org="C01T01")
    with statements_sent(app) as seen:
        assert doctor.get("/api/v1/tasks/counts").json["groups"] == 5
        counting = [st for st in seen if "count(" in st.lower() and "human_tasks" in st]
        assert len(counting) == 1
        seen.clear()
        assert doctor.get("/api/v1/tasks?view=groups&q=王&per_page=1").json["total"] == 2
        assert len([st for st in seen if "count(" in st.lower() and "human_tasks" in st]) == 1


def test_the_groups_list_of_a_village_names_its_path_and_a_townships_reads_its_prefix(app, login_as, approval):
    """Issue 23.5: a village has no organization below it, so its groups list reads the village's path
    (`org_path = path`): on PostgreSQL the role branch is then one ordered range of (role, org_path, due_at). With the
    prefix, a village the statistics guessed busy but holding none of the role's tasks had its page read by walking
    the role's whole due-ordered index (30-600 ms at 1,000,000 tasks), and with both the estimate fell to ~1 row and
    some villages' pages were read from (org_path, due_at) and the table. The same rows either way; a township's
    list (13 organizations) keeps its prefix."""
    admin = login_as("county_admin")
    here, there = start(admin, org="C01T01V01"), start(admin, org="C01T01V02")
    for inst in (here, there):
        set_fields(app, inst["id"], role="village_doctor")
    village, township = login_as("village_doctor", org="C01T01V01"), login_as("village_doctor", org="C01T01")
    with statements_sent(app) as seen:
        listed = village.get("/api/v1/tasks?view=groups&per_page=1")
        assert [t["instance_id"] for t in listed.json["items"]] == [here["id"]] and listed.json["total"] == 1
        path = "'/C01/C01T01/C01T01V01/'"
        paged = [st for st in seen if "ORDER BY" in st and "human_tasks.role = " in st]
        # the role branch reads the path alone; the prefix is left to the integration clients' laneless branch (once
        # per copy of the branches: the page's, and its total's)
        assert paged and all(st.count(f"human_tasks.org_path = {path}") == st.count("human_tasks.role = ")
                             == st.count("org_path LIKE '/C01/C01T01/C01T01V01/") for st in paged)
        seen.clear()
        listed = township.get("/api/v1/tasks?view=groups")
        assert sorted(t["instance_id"] for t in listed.json["items"]) == sorted([here["id"], there["id"]])
        assert not any("human_tasks.org_path = " in st for st in seen)


def test_the_leaf_levels_are_those_no_organization_may_sit_under():
    from app.org.services import ALLOWED_PARENT
    from app.tasks.queries import LEAF_LEVELS
    parents = {level for allowed in ALLOWED_PARENT.values() for level in allowed}
    assert set(LEAF_LEVELS) == set(ALLOWED_PARENT) - parents


# -- detail -------------------------------------------------------------------------------------------------

def test_detail_resolves_the_form_and_carries_an_etag(login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    inst = start(doctor, amount=42, note="x")
    task = open_task_of(doctor, inst["id"])
    resp = doctor.get(f"/api/v1/tasks/{task['id']}")
    body = resp.json
    assert resp.headers["ETag"] == body["etag"]
    assert body["form"]["schema"]["required"] == ["amount"]
    assert body["form"]["ui_schema"] == {"comment": {"ui:widget": "textarea"}}
    assert body["form"]["data"] == {"amount": 42}            # task data restricted to the schema's properties
    assert [c["username"] for c in body["candidates"]] == [doctor.user.username]
    assert body["can"] == {"claim": True, "unclaim": False, "complete": True, "assign": True, "delegate": True,
                           "return": False}


def test_detail_shows_the_resident_summary_from_the_registry(app, login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    id_number = idcard.generate(random.Random(3), area_code="330127", birth_date=date(1956, 3, 14), sex="M")
    resp = doctor.post("/api/v1/residents", json={"id_number": id_number, "name": "王建国", "sex": "M",
                                                  "birth_date": "1956-03-14", "org_code": "C01T01V01"})
    assert resp.status_code == 201, resp.json
    resident = {"id": resp.json["id"], "id_number": id_number}
    inst = start(doctor)
    set_fields(app, inst["id"], resident_id=resident["id"], resident_name="王建国", village_code="C01T01V01")
    summary = doctor.get(f"/api/v1/tasks/{open_task_of(doctor, inst['id'])['id']}").json["resident_summary"]
    assert summary["name"] == "王建国" and summary["sex"] == "M" and summary["age"] >= 60
    assert summary["id_number"] != resident["id_number"] and "*" in summary["id_number"]
    assert summary["village_code"] == "C01T01V01"


def test_detail_falls_back_to_the_projection_for_residents_not_in_the_registry(app, login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    inst = start(doctor)
    set_fields(app, inst["id"], resident_id=999, resident_name="孙丽", village_code="C01T01V01")
    summary = doctor.get(f"/api/v1/tasks/{open_task_of(doctor, inst['id'])['id']}").json["resident_summary"]
    assert summary == {"id": 999, "name": "孙丽", "village_code": "C01T01V01"}


# -- drafts and comments ------------------------------------------------------------------------------------

def test_a_draft_is_saved_without_validation_and_comes_back_in_the_form(login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    task = open_task_of(doctor, start(doctor, amount=1)["id"])
    resp = doctor.put(f"/api/v1/tasks/{task['id']}/draft", json={"data": {"amount": "not yet", "comment": "待核实"}})
    assert resp.status_code == 200, resp.json
    assert doctor.get(f"/api/v1/tasks/{task['id']}/draft").json["data"] == {"amount": "not yet", "comment": "待核实"}
    detail = doctor.get(f"/api/v1/tasks/{task['id']}").json
    assert detail["form"]["data"] == {"amount": "not yet", "comment": "待核实"} == detail["draft"]
    assert detail["etag"] == task["etag"][:-1] + "." + detail["etag"].split(".")[1]   # a draft is not a change


def test_a_reopened_task_shows_the_draft_saved_since_and_is_never_cached(login_as, approval):
    # the detail's ETag leaves the draft out (a draft is not a change), so a browser that kept the page and asked
    # "If-None-Match" got 304 and the old, empty form back after saving a draft (issue 12.10's browser story)
    doctor = login_as("township_doctor", org="C01T01")
    task = open_task_of(doctor, start(doctor, amount=1)["id"])
    first = doctor.get(f"/api/v1/tasks/{task['id']}")
    assert first.headers.get("Cache-Control") == "no-store"
    doctor.put(f"/api/v1/tasks/{task['id']}/draft", json={"data": {"amount": 2}})
    etag = doctor.get(f"/api/v1/tasks/{task['id']}", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    again = doctor.get(f"/api/v1/tasks/{task['id']}", headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 200
    assert json.loads(gzip.decompress(again.data))["draft"] == {"amount": 2}
    assert doctor.get(f"/api/v1/tasks/{task['id']}/draft").headers.get("Cache-Control") == "no-store"


def test_only_the_assignee_saves_a_draft_of_an_assigned_task(login_as, approval):
    doctor, colleague = login_as("township_doctor", org="C01T01"), login_as("township_doctor", org="C01T01")
    task = open_task_of(doctor, start(doctor)["id"])
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    resp = colleague.put(f"/api/v1/tasks/{task['id']}/draft", json={"data": {"amount": 1}})
    assert resp.status_code == 409 and resp.json["code"] == "task_reassigned"
    viewer = login_as("village_doctor", org="C01T01V01")
    assert viewer.put(f"/api/v1/tasks/{task['id']}/draft", json={"data": {}}).status_code == 409


def test_comments_are_listed_in_order_with_their_authors(login_as, approval):
    doctor, village = login_as("township_doctor", org="C01T01"), login_as("village_doctor", org="C01T01V01")
    task = open_task_of(doctor, start(doctor)["id"])
    assert doctor.post(f"/api/v1/tasks/{task['id']}/comments", json={"body": "请村医先电话随访"}).status_code == 201
    assert village.post(f"/api/v1/tasks/{task['id']}/comments", json={"body": "已联系，明天到院"}).status_code == 201
    comments = doctor.get(f"/api/v1/tasks/{task['id']}/comments").json
    assert [(c["author"], c["body"]) for c in comments["items"]] == [
        (doctor.user.username, "请村医先电话随访"), (village.user.username, "已联系，明天到院")]
    assert doctor.post(f"/api/v1/tasks/{task['id']}/comments", json={"body": ""}).status_code == 422
    history = doctor.get(f"/api/v1/process-instances/{task['instance_id']}").json["history"]
    assert [e["type"] for e in history].count("task_commented") == 2


# -- saved filters ------------------------------------------------------------------------------------------

def test_saved_filters_are_kept_and_shared_with_the_org(login_as):
    owner = login_as("township_doctor", org="C01T01")
    resp = owner.post("/api/v1/tasks/filters", json={"name": "高危高血压", "view": "groups", "shared_with_org": True,
                                                    "params": {"disease": "hypertension", "sort": "risk"}})
    assert resp.status_code == 201, resp.json
    owner.post("/api/v1/tasks/filters", json={"name": "我的逾期", "view": "mine", "params": {"overdue": True}})
    teammate, outsider = login_as("village_doctor", org="C01T01"), login_as("township_doctor", org="C01T02")
    assert [f["name"] for f in teammate.get("/api/v1/tasks/filters").json["items"]] == ["高危高血压"]
    assert outsider.get("/api/v1/tasks/filters").json["total"] == 0
    assert sorted(f["name"] for f in owner.get("/api/v1/tasks/filters").json["items"]) == ["我的逾期", "高危高血压"]
    shared_id = resp.json["id"]
    assert teammate.delete(f"/api/v1/tasks/filters/{shared_id}").status_code == 404
    assert owner.delete(f"/api/v1/tasks/filters/{shared_id}").status_code == 204
    assert teammate.get("/api/v1/tasks/filters").json["total"] == 0


def test_saving_a_filter_again_by_name_replaces_it_and_bad_params_are_rejected(login_as):
    owner = login_as("township_doctor", org="C01T01")
    owner.post("/api/v1/tasks/filters", json={"name": "f", "params": {"disease": "copd"}})
    owner.post("/api/v1/tasks/filters", json={"name": "f", "params": {"disease": "diabetes"}})
    items = owner.get("/api/v1/tasks/filters").json["items"]
    assert [(f["name"], f["params"]) for f in items] == [("f", {"disease": "diabetes"})]
    for params in ({"colour": "red"}, {"priority": 9}, {"sort": "name"}):
        assert owner.post("/api/v1/tasks/filters", json={"name": "g", "params": params}).status_code == 422


@pytest.mark.parametrize("role", ["county_specialist", "township_doctor"])
def test_the_due_index_covers_every_column_a_role_branch_of_the_groups_view_reads(app, role):
    """Issue 23.5: a role's groups list and its total are read from ix_human_tasks_groups_due alone (index-only on
    PostgreSQL). A county-wide role's branch tests `org_code` (department tasks); before migration 0052 the index did
    not carry it, so counting a county specialist's 10,001 entries fetched as many heap rows."""
    from sqlalchemy.sql import visitors

    from app.auth.principal import Principal
    from app.tasks.queries import view_branches
    table = HumanTask.__table__
    [index] = [i for i in table.indexes if i.name == "ix_human_tasks_groups_due"]
    covered = {c.name for c in index.columns} | set(index.dialect_options["postgresql"]["include"])
    covered |= {"status", "assignee_id"}                   # the partial index's own predicate
    p = Principal(user_id=1, username="u", roles=frozenset({role}), org_code="C01T01", display_name="u",
                  org_path="/C01/C01T01/", resident_id=None, token_id=None)
    with app.app_context():
        branches = [b for b in view_branches(p, "groups") if "human_tasks.role = " in str(b)]
        assert branches
        for branch in branches:
            read = {c.name for c in visitors.iterate(branch) if getattr(c, "table", None) is table}
            assert read <= covered, read - covered


def test_one_statement_serves_every_user_of_a_role_with_their_own_values(app, login_as, approval, monkeypatch):
    """Issue 23.5: a list's and the header's statements are built once per shape of visibility (roles, view, kind of
    organization), for a stand-in caller, and every caller's own id, name and organization path are bound at
    execution: a township doctor of another township reuses the statement and sees only their own township. The
    kept statements hold no caller's value (a value the build failed to name would list nothing, not another
    caller's tasks)."""
    from sqlalchemy.sql import visitors
    from sqlalchemy.sql.elements import BindParameter

    from app.tasks import queries
    monkeypatch.setattr(queries, "_STATEMENTS", {})
    builds: list[str] = []
    for name in ("_list_statements", "_counts_statements"):
        real = getattr(queries, name)
        monkeypatch.setattr(queries, name, lambda *a, _real=real, _name=name, **k: builds.append(_name) or _real(*a, **k))
    admin = login_as("county_admin")
    here, there = start(admin, org="C01T01V01"), start(admin, org="C01T02V01")
    doctors = {"C01T01": login_as("township_doctor", org="C01T01"), "C01T02": login_as("township_doctor", org="C01T02")}
    expected = {"C01T01": here["id"], "C01T02": there["id"]}
    claimed = open_task_of(doctors["C01T02"], there["id"])["id"]
    assert doctors["C01T02"].post(f"/api/v1/tasks/{claimed}/claim").status_code == 200
    for org, doctor in doctors.items():
        views = {view: [t["instance_id"] for t in doctor.get(f"/api/v1/tasks?view={view}&per_page=1&page=1").json["items"]]
                 for view in ("mine", "groups", "org")}
        assert views == ({"mine": [], "groups": [here["id"]], "org": [here["id"]]} if org == "C01T01" else
                         {"mine": [there["id"]], "groups": [], "org": [there["id"]]})
        assert doctor.get("/api/v1/tasks/counts").json == {"mine": int(org == "C01T02"), "groups": int(org == "C01T01"),
                                                           "org": 1, "overdue": 0}
        assert expected[org] in views["org"]
    # open_task_of's list (200 per page), then the three views and the counts: the second doctor built none
    assert sorted(builds) == ["_counts_statements"] + ["_list_statements"] * 4
    binds = [b for built in queries._STATEMENTS.values()
             for stmt in ((built.page,) if hasattr(built, "page") else (built[0],))
             for b in visitors.iterate(stmt) if isinstance(b, BindParameter)]
    callers = [d.user.username for d in doctors.values()]
    assert {b.key: b.value for b in binds if b.key in (queries.USER_ID, queries.USERNAME)} == {
        queries.USER_ID: -1, queries.USERNAME: "-"}
    assert not [b.value for b in binds if isinstance(b.value, str) and (b.value in callers or "C01T0" in b.value)]


def test_a_villages_priority_page_reads_its_branches_whole_and_keeps_the_order(app, login_as, approval):
    """Issue 23.5: no index leads with (role, org_path, priority), so an ordered, limited role branch of a village
    could walk the role's whole priority index for a village the statistics guess busy but that holds none of the
    role's tasks. A village's (a leaf's) page in any order but due reads each branch whole and sorts once; a
    township's keeps one ordered, limited scan per branch. The same rows in the same order either way."""
    admin = login_as("county_admin")
    made = [start(admin, org="C01T01V01") for _ in range(3)]
    for inst, priority in zip(made, (3, 1, 2), strict=True):
        set_fields(app, inst["id"], role="village_doctor", priority=priority)
    village, township = login_as("village_doctor", org="C01T01V01"), login_as("village_doctor", org="C01T01")
    with statements_sent(app) as seen:
        for doctor, ordered_parts in ((village, 0), (township, 3)):
            seen.clear()
            listed = doctor.get("/api/v1/tasks?view=groups&sort=priority&per_page=2").json
            assert [t["instance_id"] for t in listed["items"]] == [made[1]["id"], made[2]["id"]] and listed["total"] == 3
            [page] = [st for st in seen if "ORDER BY" in st and "human_tasks.role = " in st]
            assert page.count("ORDER BY") == 2 + ordered_parts          # the page's and the rows'; one per part

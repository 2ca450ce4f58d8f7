"""A township caller's one-character name search in due order (issue 23.5, 2026-12-06): the resident-name part's role
branch compares the township key and `substr(resident_name, 1, 1)` (one range of an index keyed so on PostgreSQL,
0056) instead of the name's prefix per organization of the subtree. The same rows, order, totals and cursors as the
general path gave."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.auth.principal import Principal
from app.core import clock, db
from app.tasks import queries
from app.workflows.models import HumanTask
from tests.helpers import pages_by_cursor, start_approval, statements_sent


@pytest.fixture()
def approval(deploy_models):
    deploy_models("approval.bpmn", "approval")


# resident names: the searched characters first, with LIKE's own characters, a name that only starts a longer
# string, none, an empty one; tasks of the township, its villages, the other township, the county and a department
NAMES = ["王一", "王", "王二", "%王", "_x", "%", "\\a", "李王", None, "", "王三", "李四"]
ORGS = ("C01T01", "C01T01V01", "C01T01V02", "C01T02", "C01T02V01", "C01", "C01D01")


@pytest.fixture()
def spread(app, login_as, approval):
    admin = login_as("county_admin")
    township = login_as("township_doctor", org="C01T01")
    township.get("/api/v1/tasks")           # the user exists (laneless tasks it started name it)
    now = clock.now()
    for i in range(48):
        inst = start_approval(admin, ORGS[i % len(ORGS)])
        values = {"role": "township_doctor", "resident_name": NAMES[i % len(NAMES)],
                  "due_at": None if i % 7 == 0 else now + timedelta(hours=(i * 5) % 6)}
        if i % 11 == 3:
            values["role"] = "village_doctor"
        if i % 13 == 4:
            values["excluded_user"] = "the_excluded"
        if i % 9 == 2:                      # the task name starts with the character, the resident's does not
            values.update(name="王审批", resident_name="赵六")
        if i % 10 == 6:                     # laneless, started by an integration client: offered by organization
            values.update(role=None, started_by="cli_lab")
        with app.app_context(), db.unit_of_work() as s:
            s.execute(update(HumanTask).where(HumanTask.instance_id == inst).values(**values))


@pytest.mark.parametrize("q", ["王", "%", "_", "\\", "李", "赵", "填"])
def test_a_townships_one_character_search_by_the_initial_is_the_prefixs_search(app, login_as, spread, monkeypatch,
                                                                                 q):
    doctor = login_as("township_doctor", org="C01T01")
    url = f"/api/v1/tasks?view=groups&q={q.replace('%', '%25')}"
    filtered = f"{url}&village_code=C01T01V01"
    with statements_sent(app) as seen:
        keyed = {n: pages_by_cursor(doctor, url, n) for n in (1, 3, 200)}
        keyed_filtered = pages_by_cursor(doctor, filtered, 2)
        keyed_pages = [doctor.get(f"{url}&per_page=2&page={k}").json for k in (1, 2, 4)]
    listed = [st for st in seen if "ORDER BY" in st and "human_tasks.role = " in st]
    # every page's and total's role branch of the resident part reads the key and the initial
    assert listed and all("substr(human_tasks.resident_name, 1, 1) = " in st
                          and "human_tasks.township_path = '/C01/C01T01/'" in st for st in listed)

    monkeypatch.setattr(queries, "township_search", lambda _p, _paths, _args: None)     # the general path
    queries._STATEMENTS.clear()
    with statements_sent(app) as seen:
        assert {n: pages_by_cursor(doctor, url, n) for n in (1, 3, 200)} == keyed
        assert pages_by_cursor(doctor, filtered, 2) == keyed_filtered
        assert [doctor.get(f"{url}&per_page=2&page={k}").json for k in (1, 2, 4)] == keyed_pages
    assert not any("substr(" in st or "township_path =" in st for st in seen)
    if q == "王":
        whole, total = keyed[200][0]
        assert len(whole) == total >= 5          # resident 王…, and task names 王… of other residents
    if q == "填":                                # the task name of the model's first step
        assert keyed[200][0][1] > 0


def test_only_a_township_callers_one_character_search_in_due_order_reads_the_initial(app, login_as, spread):
    township = login_as("township_doctor", org="C01T01")
    village = login_as("township_doctor", org="C01T01V01")
    county = login_as("township_doctor", org="C01")
    with statements_sent(app) as seen:
        for api, query in ((township, "view=groups&q=王二"), (township, "view=groups&q=王&sort=priority"),
                           (township, "view=groups&q=王&sort=created"), (village, "view=groups&q=王"),
                           (county, "view=groups&q=王"), (township, "view=org&q=王"), (township, "view=mine&q=王"),
                           (township, "view=groups&sort=due")):
            assert api.get(f"/api/v1/tasks?{query}").status_code == 200
    assert not any("substr(" in st for st in seen)


def test_the_township_search_needs_a_township_its_subtree_a_one_character_prefix_and_the_due_order():
    township = Principal(user_id=1, username="u", roles=("township_doctor",), org_code="C01T01",
                         org_path="/C01/C01T01/", resident_id=None)
    village = Principal(user_id=1, username="u", roles=("township_doctor",), org_code="C01T01V01",
                        org_path="/C01/C01T01/C01T01V01/", resident_id=None)
    subtree = ["/C01/C01T01/", "/C01/C01T01/C01T01V01/"]
    assert queries.township_search(township, subtree, {"q": " 王 "}) == subtree
    assert isinstance(queries.township_search(township, subtree, {"q": "王", "sort": "due"}), queries.TownshipSearch)
    for args in ({"q": "王二"}, {"q": "王", "sort": "priority"}, {"q": ""}, {}):
        assert queries.township_search(township, subtree, args) is None, args
    assert queries.township_search(township, None, {"q": "王"}) is None          # a subtree read by its prefix
    assert queries.township_search(township, ["/C01/C01T01/"], {"q": "王"}) is None      # none below it
    assert queries.township_search(village, ["/C01/C01T01/C01T01V01/", "x"], {"q": "王"}) is None

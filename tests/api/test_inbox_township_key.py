"""A task's township (`human_tasks.township_path`, issue 23.5, 2026-12-05 evening): the first two levels of its
organization path, computed by the database on every write, and a township caller's groups list in priority or risk
order read by it (one range of (role, township_path, priority | risk_rank, due_at, id)) instead of by the path prefix.
The same rows, order, totals and cursors as the prefix gave."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from app.core import clock, db
from app.tasks import queries
from app.workflows.models import HumanTask, township_path_of
from tests.helpers import pages_by_cursor, start_approval, statements_sent


@pytest.fixture()
def approval(deploy_models):
    deploy_models("approval.bpmn", "approval")


PATHS = ["/C01/", "/C01/C01T01/", "/C01/C01T01/C01T01V01/", "/C01/C01D01/", "/C0_1/C%1/x/", "//x/", "/A//",
         "A/B/", "", None]


def test_the_key_is_the_paths_first_two_levels_as_the_database_computes_it(app, login_as, approval):
    admin = login_as("county_admin")
    inst = start_approval(admin, "C01T01V01")
    with app.app_context():
        s = db.session()
        [row] = s.scalars(select(HumanTask).where(HumanTask.instance_id == inst))
        # the projection's INSERT wrote the row; the database computed its key
        assert row.township_path == "/C01/C01T01/"
        assert s.execute(select(HumanTask.township_path).where(HumanTask.id == row.id)).scalar_one() == "/C01/C01T01/"
        for path in PATHS:        # any writer: a plain UPDATE of the path recomputes it
            s.execute(update(HumanTask).where(HumanTask.id == row.id).values(org_path=path))
            got = s.execute(text("SELECT township_path FROM human_tasks WHERE id = :id"), {"id": row.id}).scalar_one()
            assert got == township_path_of(path), path
        s.rollback()
    assert [township_path_of(p) for p in PATHS] == [None, "/C01/C01T01/", "/C01/C01T01/", "/C01/C01D01/",
                                                     "/C0_1/C%1/", "//x/", "/A//", None, None, None]


@pytest.fixture()
def spread(app, login_as, approval):
    """Tasks of the township doctor's role in the township, its two villages, the other township, the county and a
    department, with tied and varied priorities, risks and due dates (and none), some excluded, assigned, laneless."""
    admin = login_as("county_admin")
    now = clock.now()
    risks = ("HIGH", "LOW", "很高危", None, "MODERATE")
    orgs = ("C01T01", "C01T01V01", "C01T01V02", "C01T02", "C01T02V01", "C01", "C01D01")
    made = []
    for i in range(42):
        inst = start_approval(admin, orgs[i % len(orgs)])
        values = {"role": "township_doctor", "priority": 1 + (i * 7) % 3, "risk_level": risks[i % 5],
                  "disease": ("diabetes", "hypertension", None)[i % 3],
                  "due_at": None if i % 6 == 0 else now + timedelta(hours=(i * 5) % 4)}
        if i % 11 == 3:
            values["role"] = "village_doctor"
        if i % 13 == 4:
            values["excluded_user"] = "the_excluded"
        with app.app_context(), db.unit_of_work() as s:
            s.execute(update(HumanTask).where(HumanTask.instance_id == inst).values(**values))
        made.append(inst)
    return made


@pytest.mark.parametrize("query", ["sort=priority", "sort=risk", "disease=diabetes", "disease=diabetes&risk_level=HIGH",
                                   "disease=hypertension&sort=risk"])
def test_a_townships_groups_list_by_its_key_is_the_prefixs_list(app, login_as, spread, monkeypatch, query):
    doctor = login_as("township_doctor", org="C01T01")
    url = f"/api/v1/tasks?view=groups&{query}"
    filtered = f"{url}&priority=2"
    with statements_sent(app) as seen:
        keyed = {n: pages_by_cursor(doctor, url, n) for n in (1, 4, 200)}
        keyed_filtered = pages_by_cursor(doctor, filtered, 2)
        keyed_pages = [doctor.get(f"{url}&per_page=5&page={k}").json for k in (1, 2, 5)]
    listed = [st for st in seen if "ORDER BY" in st and "human_tasks.role = " in st]
    # every role branch (the page's and its total's) reads the key, not the prefix
    assert listed and all(st.count("human_tasks.township_path = '/C01/C01T01/'") == st.count("human_tasks.role = ")
                          for st in listed)

    monkeypatch.setattr(queries, "township_paths", lambda _p: None)       # the prefix, as before
    queries._STATEMENTS.clear()
    with statements_sent(app) as seen:
        assert {n: pages_by_cursor(doctor, url, n) for n in (1, 4, 200)} == keyed
        assert pages_by_cursor(doctor, filtered, 2) == keyed_filtered
        assert [doctor.get(f"{url}&per_page=5&page={k}").json for k in (1, 2, 5)] == keyed_pages
    assert not any("township_path =" in st for st in seen)
    whole = keyed[200][0][0]
    assert len(whole) == keyed[200][0][1] >= 3          # the township's own and its villages' tasks, no other's
    with app.app_context():
        paths = set(db.session().scalars(select(HumanTask.org_path).where(HumanTask.id.in_(whole))))
    assert paths and paths <= {"/C01/C01T01/", "/C01/C01T01/C01T01V01/", "/C01/C01T01/C01T01V02/"}


def test_only_a_two_level_path_outside_a_name_search_reads_the_key_and_not_in_due_order_unfiltered(app, login_as,
                                                                                                   spread):
    township = login_as("township_doctor", org="C01T01")
    village = login_as("township_doctor", org="C01T01V01")
    department = login_as("township_doctor", org="C01D01")
    county = login_as("township_doctor", org="C01")
    with statements_sent(app) as seen:
        for api, url in ((township, "view=groups&sort=due"), (township, "view=groups&sort=priority&q=居"),
                         (village, "view=groups&sort=priority"), (department, "view=groups&sort=risk"),
                         (county, "view=groups&sort=priority"), (township, "view=org&sort=priority")):
            assert api.get(f"/api/v1/tasks?{url}").status_code == 200
    assert not any("township_path =" in st for st in seen)


@pytest.mark.parametrize(("path", "keyed"), [("/C01/C01T01/", True), ("/C01/C01D01/", True), ("/C01/", False),
                                              ("/C01/C01T01/C01T01V01/", False), ("", False)])
def test_the_key_serves_a_caller_whose_path_is_its_own_township(path, keyed):
    from app.auth.principal import Principal
    p = Principal(user_id=1, username="u", roles=("township_doctor",), org_code="X", org_path=path, resident_id=None)
    assert queries.township_paths(p) == ([path] if keyed else None)


def test_a_township_doctors_next_page_stays_in_the_township(app, login_as, spread):
    doctor = login_as("township_doctor", org="C01T02")
    pages = pages_by_cursor(doctor, "/api/v1/tasks?view=groups&sort=priority", 3)
    ids = [i for page, _total in pages for i in page]
    assert len(ids) == len(set(ids)) == pages[0][1]
    with app.app_context():
        paths = set(db.session().scalars(select(HumanTask.org_path).where(HumanTask.id.in_(ids))))
    assert paths == {"/C01/C01T02/", "/C01/C01T02/C01T02V01/"}

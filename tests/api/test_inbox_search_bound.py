"""A name search's prefix is a bound parameter (issue 23, 2026-12-06): the statement's text is the same for every
prefix (so a prepared statement's plan is reused, and on PostgreSQL the page is a hot read), and on PostgreSQL the
prefix's range (`~>=~ :q_low AND ~<~ :q_high`) beside the LIKE lets a generic plan read it from the pattern indexes.
The rows are the LIKE's: every view's search lists exactly the tasks whose resident or task name starts with q."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core import clock, db
from app.tasks import queries
from app.workflows.models import HumanTask
from tests.helpers import pages_by_cursor, start_approval, statements_sent

# names around the prefixes' range ends: the character after 王 (玌), the highest code point, the last one before the
# surrogates, LIKE's own characters, a name that is a prefix's start only, none, an empty one
NAMES = ["王", "王一", "玌", "王\U0010ffff", "\U0010ffff", "\U0010ffffa", "\ud7ff", "\ud7ffz", "\ue000", "%王", "_x",
         "\\a", "李王", None, "", "王z"]
ORGS = ("C01T01", "C01T01V01", "C01T02")


@pytest.fixture()
def spread(app, login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    admin = login_as("county_admin")
    now = clock.now()
    for i in range(2 * len(NAMES)):
        inst = start_approval(admin, ORGS[i % len(ORGS)])
        values = {"role": "township_doctor", "resident_name": NAMES[i % len(NAMES)],
                  "due_at": None if i % 5 == 0 else now + timedelta(hours=i % 4)}
        if i % 7 == 3:                      # the task name starts with the character, the resident's does not
            values.update(name="王审批", resident_name="赵六")
        with app.app_context(), db.unit_of_work() as s:
            s.execute(update(HumanTask).where(HumanTask.instance_id == inst).values(**values))


def test_prefix_end():
    assert queries._prefix_end("王") == "玌"
    assert queries._prefix_end("a王") == "a玌"
    assert queries._prefix_end("a\U0010ffff") == "b"
    assert queries._prefix_end("\U0010ffff\U0010ffff") is None
    assert queries._prefix_end("\ud7ff") == "\ue000"


QS = ["王", "王一", "玌", "\U0010ffff", "王\U0010ffff", "\ud7ff", "%", "_", "\\", "李", "赵", "王z", "填"]


@pytest.mark.parametrize("view, role, org", [("groups", "township_doctor", "C01T01"), ("org", "county_admin", "C01"),
                                             ("groups", "township_doctor", "C01")])
def test_a_search_lists_the_tasks_whose_names_start_with_the_prefix(app, login_as, spread, view, role, org):
    api = login_as(role, org=org)
    every = {t["id"]: t for page in _all(api, f"/api/v1/tasks?view={view}&per_page=100") for t in page}
    for q in QS:
        expected = {i for i, t in every.items()
                    if ((t["resident"] or {}).get("name") or "").startswith(q) or t["name"].startswith(q)}
        url = f"/api/v1/tasks?view={view}&q={_quoted(q)}"
        pages = pages_by_cursor(api, url, 3)
        found = [i for ids, _total in pages for i in ids]
        assert sorted(found) == sorted(expected), q
        assert len(found) == len(set(found)) and all(total == len(expected) for _ids, total in pages), q
    assert any(t["resident"] and t["resident"]["name"] == "玌" for t in every.values())


def test_the_prefix_is_bound_the_statement_text_the_same_for_every_prefix(app, login_as, spread):
    api = login_as("township_doctor", org="C01T01")
    texts = []
    for q in ("王一", "李王", "赵六"):
        with statements_sent(app) as seen:
            assert api.get(f"/api/v1/tasks?view=groups&q={q}&per_page=1").status_code == 200
        listed = [st for st in seen if "ORDER BY" in st and "human_tasks.role = " in st]
        assert listed and not any(q in st or q[0] in st for st in listed)
        texts.append(listed)
    assert texts[0] == texts[1] == texts[2]
    if db.is_postgres():
        assert all("human_tasks.resident_name ~>=~ " in st and "human_tasks.resident_name ~<~ " in st
                   for st in texts[0])


def _quoted(q: str) -> str:
    from urllib.parse import quote
    return quote(q, safe="")


def _all(api, url: str) -> list[list[dict]]:
    out, cursor = [], None
    while True:
        body = api.get(url + (f"&cursor={cursor}" if cursor else "")).json
        out.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return out


def test_without_a_utf8_server_the_search_is_the_like_alone(app, login_as, spread, monkeypatch):
    """The prefix's range compares bytes, which orders texts by code point only in UTF-8: on a server of another
    encoding the range is left out (the LIKE alone), and the search lists the same tasks."""
    api = login_as("township_doctor", org="C01T01")
    url = "/api/v1/tasks?view=groups&per_page=100&q=" + _quoted("王")
    with_range = sorted(t["id"] for t in api.get(url).json["items"])
    monkeypatch.setattr(queries, "server_is_utf8", lambda: False)
    monkeypatch.setattr(queries, "_STATEMENTS", {})
    with statements_sent(app) as seen:
        body = api.get(url).json
    assert sorted(t["id"] for t in body["items"]) == with_range and with_range
    assert not any("~>=~" in st or "~<~" in st for st in seen)


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="PostgreSQL's encoding")
def test_the_server_encoding_is_read_from_the_connection(app):
    with app.app_context():
        assert db.server_is_utf8() is True     # the test database's encoding (the cluster's default here)

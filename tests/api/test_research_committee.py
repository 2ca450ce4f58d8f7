"""Issue 20.7 research extraction: the data/ethics committee votes. Each member of the county's committee (named by
the county administrator, or everyone holding the committee role) gets their own vote task (parallel multi-instance)
and votes 同意 / 不同意 / 需修改 with an opinion; the decision table `research_committee_decision` (quorum and
majority) decides; 需修改 returns the request; the requester never votes on their own request; the deadline reminds
who has not voted, then counts what was cast and escalates an inquorate vote to the chair. Every vote and the result
are on the project's page and in its audit."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from tests.research_support import deploy_research_models, resident
from tests.test_follow_up_support import complete, open_tasks
from tests.training_support import fire_timers

BODY = {"title": "高血压队列血压控制研究", "purpose": "评估高血压患者的血压控制", "criteria": {"diseases": ["htn"]},
        "variables": ["sex", "age_band", "risk_level"], "date_mode": "month", "k": 3, "l": 1}


@pytest.fixture()
def world(app, county, login_as):
    deploy_research_models(app)
    for i in range(6):
        resident(app, name=f"王建{'一二三四五六'[i]}", org="C01T01V01", born=date(1963, 1 + i, 3), sex="M",
                 seed=100 + i, htn=True, sbp=150 + i, risk="HIGH" if i < 3 else "MODERATE")
    w = {"admin": login_as("county_admin", username="admin_a"),
         "sup_a": login_as("supervisor", username="sup_a"), "sup_b": login_as("supervisor", username="sup_b"),
         "sup_c": login_as("supervisor", username="sup_c"),
         # a county specialist who sits on the committee and asks for data himself
         "spec": login_as("county_specialist", username="spec_d"),
         "researcher": login_as("researcher", username="res_a")}
    return w


def name_committee(w, members, chair="sup_a"):
    resp = w["admin"].put("/api/v1/research/committee", json={"members": members, "chair": chair})
    assert resp.status_code == 200, resp.json
    return resp.json


def submit(api) -> int:
    resp = api.post("/api/v1/research/projects", json=BODY)
    assert resp.status_code == 201, resp.json
    assert api.post(f"/api/v1/research/projects/{resp.json['id']}/submit").status_code == 200, resp.json
    return resp.json["id"]


def votes_of(api) -> list[dict]:
    return open_tasks(api, "committee_vote", view="mine")


def vote(api, data: dict) -> None:
    tasks = votes_of(api)
    assert len(tasks) == 1, tasks
    complete(api, tasks[0], data)


def project(w, pid: int, who: str = "researcher") -> dict:
    return w[who].get(f"/api/v1/research/projects/{pid}").json


def audit_actions(app, pid: int) -> list[str]:
    with app.app_context():
        from app.core.db import session
        return [e.action for e in session().scalars(select(AuditEntry).where(
            AuditEntry.object_type == "research_project", AuditEntry.object_id == str(pid)).order_by(AuditEntry.id))]


def notices(app, username: str, kind: str) -> int:
    with app.app_context():
        from app.auth.models import User
        from app.core.db import session
        from app.notifications.models import Notification
        uid = session().scalar(select(User.id).where(User.username == username))
        return len(list(session().scalars(select(Notification).where(Notification.user_id == uid,
                                                                      Notification.kind == kind))))


def test_the_committee_is_named_by_the_county_administrator_or_is_everyone_holding_the_role(world):
    w = world
    by_role = w["sup_a"].get("/api/v1/research/committee").json
    assert by_role["source"] == "role" and by_role["role"] == "supervisor" and by_role["role_label"] == "质控督导"
    assert [m["username"] for m in by_role["members"]] == ["sup_a", "sup_b", "sup_c"]
    assert by_role["chair"]["username"] == "admin_a" and by_role["can_edit"] is False     # county_admin chairs
    named = name_committee(w, ["sup_a", "sup_b", "spec_d"], chair="sup_b")
    assert named["source"] == "named" and [m["username"] for m in named["members"]] == ["sup_a", "sup_b", "spec_d"]
    assert named["chair"]["username"] == "sup_b"
    assert w["sup_a"].put("/api/v1/research/committee", json={"members": ["sup_a"]}).status_code == 403
    bad = w["admin"].put("/api/v1/research/committee", json={"members": ["sup_a", "nobody"]})
    assert bad.status_code == 422 and bad.json["code"] == "unknown_user" and bad.json["details"]["field"] == "members[1]"


def test_each_member_votes_a_split_vote_returns_the_request_and_the_requester_never_votes(app, world):
    w = world
    name_committee(w, ["sup_a", "sup_b", "spec_d"])
    pid = submit(w["spec"])                      # spec_d sits on the committee: his own request is not his to vote
    assert votes_of(w["spec"]) == []
    got = project(w, pid, "spec")
    assert got["review_round"] == 1 and [m["name"] for m in got["committee"]] == ["sup_a", "sup_b"]
    assert [m["vote_label"] for m in got["committee"]] == ["未投票", "未投票"] and got["committee"][0]["chair"]
    task = w["sup_a"].get(f"/api/v1/tasks/{votes_of(w['sup_a'])[0]['id']}").json
    assert "第 1 轮投票" in task["instructions"] and "截止" in task["instructions"]
    refused = w["sup_a"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"vote": "changes"}})
    assert refused.status_code == 422                                   # 需修改 / 不同意 need an opinion
    vote(w["sup_a"], {"vote": "approve", "opinion": "同意，注意数据安全"})
    assert project(w, pid, "spec")["status"] == "submitted"             # one of two: the vote is still open
    vote(w["sup_b"], {"vote": "changes", "opinion": "请限定年龄范围"})
    got = project(w, pid, "spec")
    # 1 同意 + 1 需修改: no majority (R13-4) → returned to the requester with every opinion
    assert got["status"] == "changes_requested"
    assert got["committee_result"]["decision"] == "changes" and got["committee_result"]["rule"] == "R13-4"
    assert got["committee_result"]["by_label"] == "委员会表决"
    assert "2 位委员中 2 位投票：同意 1、不同意 0、需修改 1" == got["committee_result"]["tally_label"]
    assert [(v["voter_name"], v["vote_label"], v["opinion"]) for v in got["votes"]] == [
        ("sup_a", "同意", "同意，注意数据安全"), ("sup_b", "需修改", "请限定年龄范围")]
    assert "请限定年龄范围" in got["review_comment"]
    revise = open_tasks(w["spec"], "revise_request", view="mine") or open_tasks(w["spec"], "revise_request")
    assert revise and "请限定年龄范围" in w["spec"].get(f"/api/v1/tasks/{revise[0]['id']}").json["instructions"]
    complete(w["spec"], revise[0], {"action": "resubmit"})
    assert project(w, pid, "spec")["review_round"] == 2
    vote(w["sup_a"], {"vote": "approve"})
    vote(w["sup_b"], {"vote": "approve", "opinion": "已修改，同意"})
    got = project(w, pid, "spec")
    assert got["status"] == "pending_release" and got["committee_result"]["rule"] == "R13-2"
    assert [v["round"] for v in got["votes"]] == [1, 1, 2, 2]
    actions = audit_actions(app, pid)
    assert actions.count("research.vote") == 4 and actions.count("research.committee_decision") == 2


def test_a_majority_against_rejects(world):
    w = world
    name_committee(w, ["sup_a", "sup_b", "sup_c"])
    pid = submit(w["researcher"])
    vote(w["sup_a"], {"vote": "reject", "opinion": "研究目的不明确"})
    vote(w["sup_b"], {"vote": "reject", "opinion": "不同意"})
    vote(w["sup_c"], {"vote": "approve"})
    got = project(w, pid)
    assert got["status"] == "rejected" and got["committee_result"]["rule"] == "R13-3"


def test_the_deadline_reminds_who_has_not_voted_then_an_inquorate_vote_goes_to_the_chair(app, world):
    w = world
    name_committee(w, ["sup_a", "sup_b", "sup_c"], chair="sup_c")
    pid = submit(w["researcher"])
    vote(w["sup_a"], {"vote": "approve"})
    fire_timers(app, minutes=5 * 24 * 60 + 1)          # 2 days before the 7-day deadline
    assert notices(app, "sup_b", "research.vote_reminder") == 1 and notices(app, "sup_c", "research.vote_reminder") == 1
    assert notices(app, "sup_a", "research.vote_reminder") == 0        # sup_a has voted
    assert len(votes_of(w["sup_b"])) == 1                               # the reminder leaves the vote open
    fire_timers(app, minutes=2 * 24 * 60 + 1)          # past the deadline: 1 of 3 voted, no quorum (R13-1)
    assert votes_of(w["sup_b"]) == [] and votes_of(w["sup_c"]) == []
    assert notices(app, "sup_c", "research.escalated") == 1
    chair = open_tasks(w["sup_c"], "chair_decide", view="mine")
    assert len(chair) == 1
    text = w["sup_c"].get(f"/api/v1/tasks/{chair[0]['id']}").json["instructions"]
    assert "未达法定人数" in text and "3 位委员中 1 位投票" in text
    assert project(w, pid)["committee_result"]["decision"] == "no_quorum"
    complete(w["sup_c"], chair[0], {"decision": "approve", "comment": "主任委员同意"})
    got = project(w, pid)
    assert got["status"] == "pending_release" and got["reviewed_by"] == "sup_c"
    assert got["committee_result"]["by_label"] == "主任委员决定"
    assert {"research.escalated", "research.chair_decision"} <= set(audit_actions(app, pid))


def test_at_the_deadline_a_quorate_vote_is_decided_by_the_votes_cast(app, world):
    w = world
    name_committee(w, ["sup_a", "sup_b", "sup_c"])
    pid = submit(w["researcher"])
    vote(w["sup_a"], {"vote": "approve"})
    vote(w["sup_b"], {"vote": "approve"})
    fire_timers(app, minutes=7 * 24 * 60 + 1)          # 2 of 3 voted: quorum; 2 of 2 同意 → approved
    got = project(w, pid)
    assert got["status"] == "pending_release" and got["committee_result"]["rule"] == "R13-2"
    assert open_tasks(w["sup_a"], "chair_decide", view="mine") == []


def test_a_committee_of_only_the_requester_cannot_review_the_request(world):
    w = world
    name_committee(w, ["spec_d"], chair="spec_d")
    resp = w["spec"].post("/api/v1/research/projects", json=BODY)
    sub = w["spec"].post(f"/api/v1/research/projects/{resp.json['id']}/submit")
    assert sub.status_code == 409 and sub.json["code"] == "committee_empty"
    assert project(w, resp.json["id"], "spec")["status"] == "draft"

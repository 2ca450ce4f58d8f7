"""Issue 12.3: no stuck revisions. A leftover draft is superseded by a new proposal, an abandoned draft reminds its
author and then expires (timers in `care_plan`), and a supervisor or county admin cancels an open revision with a
reason (audited, shown in the plan's history)."""
from __future__ import annotations

import copy

from sqlalchemy import select

from app.core import db
from tests.test_follow_up_support import (
    PLAN,
    complete,
    one_task,
    open_tasks,
    plan_in_force,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
    tick,
)


def _revised() -> dict:
    revised = copy.deepcopy(PLAN)
    revised["drugs"][0]["dose_mg"] = 10
    return revised


def _leftover_draft(approver, resident: int) -> None:
    """A re-grade asks the township for a revision (mode revision_request): a draft version waits at
    `propose_revision` — the state that used to block every later proposal with 409 forever."""
    resp = approver.post("/api/v1/care-plans/requests",
                         json={"resident_id": resident, "disease": "htn", "risk_level": "VERY_HIGH"})
    assert resp.status_code == 202 and resp.json["mode"] == "revision_request", resp.json


def _instance_status(app, instance_id: int) -> str:
    from app.workflows.models import ProcessInstance
    with app.app_context():
        return db.session().get(ProcessInstance, instance_id).status


def test_a_new_proposal_supersedes_a_leftover_draft(app, login_as, resident):
    done = plan_in_force(app, login_as, resident)
    plan_id = done["plan"]["id"]
    _leftover_draft(done["approver"], resident)
    township = login_as("township_doctor", org="C01T01")
    assert len(open_tasks(township, "propose_revision")) == 1
    left = township.get(f"/api/v1/care-plans/{plan_id}").json["versions"][-1]
    assert left["status"] == "draft"

    resp = township.post(f"/api/v1/care-plans/{plan_id}/revisions", json={"content": _revised(), "reason": "血压未达标"})
    assert resp.status_code == 202, resp.json
    assert open_tasks(township, "propose_revision") == []            # the leftover's task is gone with its instance
    assert _instance_status(app, left["instance_id"]) == "terminated"
    detail = township.get(f"/api/v1/care-plans/{plan_id}").json
    old, new = detail["versions"][-2], detail["versions"][-1]
    assert (old["version"], old["status"], old["closed_by"]) == (left["version"], "superseded", township.user.username)
    assert "血压未达标" in old["close_reason"] and old["closed_at"]
    assert new["status"] == "pending_approval" and new["drafted_by"] == township.user.username
    # a submitted proposal waiting for approval is not replaced silently
    again = township.post(f"/api/v1/care-plans/{plan_id}/revisions", json={"content": _revised(), "reason": "重复"})
    assert again.status_code == 409 and again.json["code"] == "revision_in_progress"
    complete(done["approver"], one_task(done["approver"], "approve_plan"), {"approved": True})
    assert township.get(f"/api/v1/care-plans/{plan_id}").json["current_version"] == new["version"]


def test_a_supervisor_cancels_an_open_revision_with_a_reason(app, login_as, resident):
    from app.audit.models import AuditEntry
    done = plan_in_force(app, login_as, resident)
    plan_id = done["plan"]["id"]
    township = login_as("township_doctor", org="C01T01")
    assert township.post(f"/api/v1/care-plans/{plan_id}/revisions",
                         json={"content": _revised(), "reason": "血压未达标"}).status_code == 202
    pending = township.get(f"/api/v1/care-plans/{plan_id}").json["versions"][-1]
    url = f"/api/v1/care-plans/{plan_id}/versions/{pending['version']}/cancel"

    assert township.post(url, json={"reason": "不需要了"}).status_code == 403
    supervisor = login_as("supervisor", org="C01")
    missing = supervisor.post(url, json={})
    assert missing.status_code == 422
    resp = supervisor.post(url, json={"reason": "患者已转诊上级医院，待返回后重新评估"})
    assert resp.status_code == 200, resp.json
    assert (resp.json["status"], resp.json["closed_by"]) == ("cancelled", supervisor.user.username)
    assert open_tasks(done["approver"], "approve_plan") == []
    assert _instance_status(app, pending["instance_id"]) == "terminated"
    detail = township.get(f"/api/v1/care-plans/{plan_id}").json
    cancelled = detail["versions"][-1]
    assert cancelled["close_reason"] == "患者已转诊上级医院，待返回后重新评估"
    assert detail["names"][supervisor.user.username] == supervisor.user.display_name
    assert detail["current_version"] == done["plan"]["current_version"]        # the plan in force stays
    with app.app_context():
        audit = db.session().scalars(select(AuditEntry).where(
            AuditEntry.action == "care_plan.revision_cancelled")).one()
    assert audit.actor == supervisor.user.username and audit.details["reason"].startswith("患者已转诊")

    assert supervisor.post(url, json={"reason": "再次撤销"}).json["code"] == "revision_not_open"
    current = f"/api/v1/care-plans/{plan_id}/versions/{done['plan']['current_version']}/cancel"
    assert supervisor.post(current, json={"reason": "撤销现行版本"}).status_code == 409
    assert township.post(f"/api/v1/care-plans/{plan_id}/revisions",
                         json={"content": _revised(), "reason": "重新提出"}).status_code == 202


def test_an_abandoned_revision_draft_reminds_its_author_then_expires(app, login_as, resident, monkeypatch):
    from app.notifications.models import Notification
    monkeypatch.setenv("YGT_CARE_PLAN_DRAFT_EXPIRY_DAYS", "10")
    monkeypatch.setenv("YGT_CARE_PLAN_DRAFT_REMINDER_DAYS", "3")
    done = plan_in_force(app, login_as, resident)
    plan_id = done["plan"]["id"]
    township = login_as("township_doctor", org="C01T01")
    _leftover_draft(done["approver"], resident)
    task = one_task(township, "propose_revision")
    assert township.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200

    def reminders() -> list:
        with app.app_context():
            return list(db.session().scalars(select(Notification).where(
                Notification.kind == "care_plan_draft_expiring")))

    tick(app, 6)
    assert reminders() == []
    tick(app, 1.5)
    told = reminders()
    assert [n.user_id for n in told] == [township.user.id] and "3天后自动过期" in told[0].body
    assert open_tasks(township, "propose_revision")                    # the reminder leaves the draft open
    tick(app, 3)
    assert open_tasks(township, "propose_revision") == []
    detail = township.get(f"/api/v1/care-plans/{plan_id}").json
    expired = detail["versions"][-1]
    assert (expired["status"], expired["closed_by"]) == ("expired", "system")
    assert "10天未提交" in expired["close_reason"] and detail["names"]["system"] == "系统"
    assert _instance_status(app, expired["instance_id"]) == "completed"
    assert len(reminders()) == 1
    # nothing blocks the next revision
    assert township.post(f"/api/v1/care-plans/{plan_id}/revisions",
                         json={"content": _revised(), "reason": "血压未达标"}).status_code == 202


def test_terminating_a_revision_instance_from_the_instance_view_closes_its_version(app, login_as, resident):
    """An operator who terminates the `care_plan` instance (the generic instance action) does not leave a version
    open forever: it is cancelled with who and why, and the next proposal is accepted."""
    done = plan_in_force(app, login_as, resident)
    plan_id = done["plan"]["id"]
    _leftover_draft(done["approver"], resident)
    township = login_as("township_doctor", org="C01T01")
    left = township.get(f"/api/v1/care-plans/{plan_id}").json["versions"][-1]
    admin = login_as("county_admin", org="C01")
    resp = admin.post(f"/api/v1/process-instances/{left['instance_id']}/terminate", json={"reason": "重复的修订申请"})
    assert resp.status_code == 200, resp.json
    closed = township.get(f"/api/v1/care-plans/{plan_id}").json["versions"][-1]
    assert (closed["status"], closed["closed_by"], closed["close_reason"]) == \
        ("cancelled", admin.user.username, "重复的修订申请")
    assert township.post(f"/api/v1/care-plans/{plan_id}/revisions",
                         json={"content": _revised(), "reason": "血压未达标"}).status_code == 202

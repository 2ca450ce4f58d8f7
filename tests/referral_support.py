"""Shared helpers of the referral tests (no tests here): deploy the real models, the capability catalogue, users."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from app.core import db
from tests.helpers import REPO
from tests.test_follow_up_support import complete, make_resident, open_tasks  # noqa: F401  (re-exported)

MODELS = [REPO / "bpmn" / "referral_up.bpmn", REPO / "bpmn" / "referral_down.bpmn", REPO / "bpmn" / "care_plan.bpmn",
          REPO / "bpmn" / "follow_up.bpmn", REPO / "forms" / "referral_up", REPO / "forms" / "referral_down",
          REPO / "forms" / "care_plan", REPO / "forms" / "follow_up", REPO / "dmn"]


def deploy_referral_models(app) -> None:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")


def add_department(app, code: str, name: str) -> None:
    from app.org.services import create_org
    with app.app_context():
        create_org(code, name, level="department", parent_code="C01")


def catalogue(app, *rows: tuple) -> None:
    """Rows of (org_code | None, capability[, hospital_name[, available, reason]])."""
    from app.referral import catalogue as cat
    with app.app_context():
        for row in rows:
            org, capability, *rest = row
            hospital = rest[0] if rest else ""
            available = rest[1] if len(rest) > 1 else True
            reason = rest[2] if len(rest) > 2 else None
            cat.upsert(capability=capability, org_code=org, hospital_name=hospital, available=available,
                       unavailable_reason=reason)


def one(api, element_id: str) -> dict:
    tasks = open_tasks(api, element_id)
    assert len(tasks) == 1, (element_id, tasks)
    return api.get(f"/api/v1/tasks/{tasks[0]['id']}").json


def referral(api, referral_id: int) -> dict:
    resp = api.get(f"/api/v1/referrals/{referral_id}")
    assert resp.status_code == 200, resp.json
    return resp.json


def count(app, model, **where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return db.session().scalar(stmt)


def arrival(client, creds: dict, payload: dict, webhook_id: str, message: str = "referral_arrived"):
    """The hospital's ADT arrival (or another referral message), signed like any webhook."""
    from app.core import clock
    from app.webhooks.signature import sign
    body = json.dumps(payload)
    ts = int(clock.now().timestamp())
    return client.post(f"/api/v1/webhooks/messages/{message}", data=body.encode(), headers={
        "X-Client-Id": creds["client_id"], "webhook-id": webhook_id, "webhook-timestamp": str(ts),
        "webhook-signature": sign(creds["secret"], webhook_id, ts, body), "Content-Type": "application/json"})

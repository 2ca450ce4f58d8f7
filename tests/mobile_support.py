"""Shared helpers of the mobile API tests (no tests here): a phone (an ApiClient that names its device), and open
village-doctor tasks about a resident from the `approval` fixture model (a real engine instance and form)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update

from app.core import db
from app.workflows import runner
from app.workflows.models import HumanTask


class Phone:
    """`phone.get/post` with `X-Device-Id`; `pull()` keeps the token like the client does."""

    def __init__(self, api, device_id: str | None = None):
        self.api, self.device_id, self.token = api, device_id or f"dev-{uuid.uuid4().hex[:12]}", None
        self.user = api.user

    def _h(self, kw):
        return {"X-Device-Id": self.device_id, **kw.pop("headers", {})}

    def get(self, url, **kw):
        return self.api.get(url, headers=self._h(kw), **kw)

    def post(self, url, **kw):
        return self.api.post(url, headers=self._h(kw), **kw)

    def pull(self, token: str | None = "keep") -> dict:
        token = self.token if token == "keep" else token
        resp = self.get("/api/mobile/v1/pull", query_string={"token": token} if token else {})
        assert resp.status_code == 200, resp.json
        self.token = resp.json["token"]
        return resp.json

    def complete(self, task: dict, data: dict, *, observations=(), completion_id: str | None = None, **extra):
        body = {"completion_id": completion_id or str(uuid.uuid4()), "task_id": task["id"], "etag": task["etag"],
                "form_version": task["form_version"], "data": data, "observations": list(observations),
                "completed_at_device": datetime.now(UTC).isoformat(), **extra}
        return self.post("/api/mobile/v1/completions", json=body), body


def village_task(app, resident: dict, *, org: str = "C01T01V01", role: str = "village_doctor") -> int:
    """Start `approval` for the resident and route its first task to the village doctors of `org`."""
    with app.app_context():
        inst = runner.start_instance("approval", actor=runner.Actor("setup"), resident_id=resident["id"],
                                     org_code=org)
        with db.unit_of_work() as s:
            s.execute(update(HumanTask).where(HumanTask.instance_id == inst.id).values(
                role=role, resident_id=resident["id"], resident_name=resident["name"], village_code=org))
            return s.scalar(select(HumanTask.id).where(HumanTask.instance_id == inst.id,
                                                       HumanTask.status == "open"))


def bp(resident_id: int, systolic: float = 132, *, id: str | None = None, **extra) -> dict:
    return {"id": id or str(uuid.uuid4()), "resident_id": resident_id, "code": "8480-6", "value": systolic,
            "unit": "mm[Hg]", "effective_at": datetime.now(UTC).isoformat(), **extra}

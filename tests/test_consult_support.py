"""Shared helpers of the remote-consult tests (no tests here): deploy the real models, agreements, the expert
registry, a drawn signature."""
from __future__ import annotations

import base64
import struct
import zlib
from datetime import date, timedelta

from tests.helpers import REPO
from tests.test_follow_up_support import complete, make_resident, open_tasks  # noqa: F401  (re-exported)

MODELS = [REPO / "bpmn" / "remote_consult.bpmn", REPO / "forms" / "remote_consult",
          REPO / "bpmn" / "referral_up.bpmn", REPO / "bpmn" / "referral_down.bpmn", REPO / "forms" / "referral_up",
          REPO / "forms" / "referral_down", REPO / "bpmn" / "care_plan.bpmn", REPO / "forms" / "care_plan",
          REPO / "bpmn" / "follow_up.bpmn", REPO / "forms" / "follow_up", REPO / "dmn"]


def deploy_consult_models(app) -> None:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")


def agreement(app, requester: str = "C01T01", invited: str = "C01", *, no: str = "YL-2026-001",
              valid_from: date | None = None, valid_to: date | None = None, active: bool = True) -> None:
    from app.consult import agreements
    from app.core import clock
    with app.app_context():
        today = clock.today()
        agreements.upsert(agreement_no=no, requester_org_code=requester, invited_org_code=invited,
                          valid_from=valid_from or today - timedelta(days=30),
                          valid_to=valid_to or today + timedelta(days=335), active=active,
                          terms={"purpose": "提升基层疑难病诊治能力", "liability": "邀请方承担诊疗决定责任"})


def expert(app, user_id: int, title: str, *, org: str = "C01D01", specialty: str = "cardiology") -> None:
    from app.consult import experts
    with app.app_context():
        experts.upsert(user_id=user_id, org_code=org, specialty=specialty, title=title)


def signature_png(width: int = 240, height: int = 90) -> str:
    """A drawn signature as the canvas exports it: a PNG data URL with a few strokes."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            ink = abs((x * 3 + y * 7) % 41 - 20) < 2 or abs(y - 45 - ((x * 13) % 29 - 14)) < 2
            row += bytes([0, 0, 0, 255] if ink else [255, 255, 255, 0])
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


CONSENT = {"informed": ["purpose", "method", "fees", "privacy"], "signer_type": "patient", "signer_name": "王建国",
           "consented": True}


def request_body(resident_id: int, **extra) -> dict:
    return {"resident_id": resident_id, "invited_org_code": "C01D01", "consult_type": "single", "mode": "realtime",
            "urgency": "urgent", "specialty": "cardiology", "reason": "胸痛2小时，心电图ST段改变，基层无法明确",
            "purpose": "明确是否急性冠脉综合征及处置方案",
            "summary": {"chief_complaint": "胸痛2小时", "present_illness": "活动后胸骨后压榨样疼痛",
                        "auxiliary_exams": "心电图 V1-V4 ST段压低", "diagnosis": "胸痛待查"},
            "attachments": [{"kind": "ecg", "ref": "ECG-20261204-001", "title": "12导联心电图"}], **extra}


def step(api, element_id: str) -> dict:
    tasks = open_tasks(api, element_id)
    if not tasks:
        tasks = [t for t in api.get("/api/v1/tasks?view=mine&per_page=200").json["items"]
                 if t["element_id"] == element_id]
    assert len(tasks) == 1, (element_id, tasks)
    return api.get(f"/api/v1/tasks/{tasks[0]['id']}").json


def consult(api, consult_id: int) -> dict:
    resp = api.get(f"/api/v1/consults/{consult_id}")
    assert resp.status_code == 200, resp.json
    return resp.json


def stored_consult(app, resident_id: int, requester_user_id: int, *, requester_org: str = "C01T01V01",
                   invited_org: str = "C01D01") -> int:
    """A closed consult row with its archived report, written straight to the tables (for the endpoint walkers,
    which need one of each object, not the process that makes it)."""
    from app.consult.models import Consult, ConsultDocument
    from app.core import clock
    from app.core.db import unit_of_work
    from app.org.queries import find_org
    with app.app_context(), unit_of_work() as s:
        now = clock.now()
        c = Consult(consult_no=f"HZ-T{resident_id}-{requester_user_id}", status="closed", consult_type="single",
                    mode="offline", urgency="routine", specialty="cardiology", resident_id=resident_id,
                    resident_name="王建国", requester_org_code=requester_org,
                    requester_org_path=find_org(requester_org).path, requester_user_id=requester_user_id,
                    invited_org_code=invited_org, invited_org_path=find_org(invited_org).path, reason="血压难控",
                    purpose="调整方案", summary={"diagnosis": "高血压"}, attachments=[], consent={}, review={},
                    expert_ids=[], room={}, report={"diagnosis": "高血压3级"}, report_signed_at=now, adoption={},
                    evaluation={}, billing={}, referral_ids=[], log=[], requested_at=now, closed_at=now,
                    updated_at=now)
        s.add(c)
        s.flush()
        for side, org in (("requester", requester_org), ("invited", invited_org)):
            s.add(ConsultDocument(consult_id=c.id, side=side, org_code=org, kind="report", sha256="0" * 64,
                                  content=b"%PDF-1.7 test", archived_at=now))
        return c.id

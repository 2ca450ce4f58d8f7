"""Demo remote consults (远程会诊), run through the real `remote_consult` process: an agreement between 城关街道社区卫生
服务中心 (C01T01) and the county hospital, the hospital's expert registry, and consults in several states — completed
with its signed report, a real-time consult under way (live room open), an imaging consult waiting for acceptance,
one waiting for the patient's consent, one declined with its reason, and a general-practice consult with the
neighbouring 石门镇中心卫生院 under way — its expert (township_doctor3) is outside the patient's scope and reads the
patient's 全网记录 through the consult."""
from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.consult import agreements, experts
from app.consult import services as consults
from app.consult.models import Consult
from app.core import clock
from app.core.db import session
from app.residents.models import Resident
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

REQUESTER, REVIEWER, SUPERVISOR = "village_doctor1", "township_doctor1", "supervisor"
EXPERTS = (("specialist_cardio", "C01D01", "cardiology", "chief"), ("specialist_mic", "C01", "cardiology", "associate_chief"),
           ("specialist_endo", "C01", "cardiology", "attending"), ("specialist_neuro", "C01D07", "neurology", "chief"),
           ("specialist_resp", "C01", "radiology", "associate_chief"),
           ("township_doctor3", "C01T02", "general_medicine", "associate_chief"))


def signature_png() -> str:
    """A drawn signature as the phone's canvas exports it (PNG data URL)."""
    width, height = 240, 90
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            ink = abs(y - 45 - ((x * 13) % 29 - 14)) < 2
            row += bytes([0, 0, 0, 255] if ink else [255, 255, 255, 0])
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _task(c: Consult, element_id: str) -> HumanTask | None:
    return session().scalars(select(HumanTask).where(HumanTask.instance_id == c.instance_id,
                                                     HumanTask.element_id == element_id,
                                                     HumanTask.status == "open")).first()


def seed_consults(complete: Callable[[str, Any, dict], Any], principal: Callable[[str], Any]) -> dict[str, int]:
    """`complete(username, task, data)` completes a task as that demo user; `principal(username)` is their Principal."""
    if "remote_consult" not in latest_process_versions(session()):
        return {}
    if session().scalars(select(Consult.id).limit(1)).first() is not None:
        return {}
    today = clock.today()
    agreements.upsert(agreement_no="YLXY-2026-001", requester_org_code="C01T01", invited_org_code="C01",
                      valid_from=today - timedelta(days=200), valid_to=today + timedelta(days=530),
                      terms={"purpose": "医共体内疑难病例远程会诊", "conditions": "双方具备远程医疗设备与网络",
                             "content": "单学科/多学科会诊、影像/心电诊断", "process": "按医共体远程会诊流程",
                             "rights": "受邀方提供诊疗意见，邀请方决定诊疗方案", "liability": "邀请方承担诊疗决定责任"})
    agreements.upsert(agreement_no="YLXY-2026-002", requester_org_code="C01T01", invited_org_code="C01T02",
                      valid_from=today - timedelta(days=100), valid_to=today + timedelta(days=265),
                      terms={"purpose": "乡镇卫生院之间全科疑难病例会诊", "process": "按医共体远程会诊流程",
                             "liability": "邀请方承担诊疗决定责任"})
    ids = {u.username: u.id for u in session().scalars(select(User).where(User.username.in_([e[0] for e in EXPERTS])))}
    for username, org, specialty, title in EXPERTS:
        if username in ids:
            experts.upsert(user_id=ids[username], org_code=org, specialty=specialty, title=title)
    people = list(session().scalars(select(Resident).where(Resident.org_code == "C01T01V01")
                                    .order_by(Resident.id).offset(8).limit(6)))
    if len(people) < 6:
        return {}
    doctor = principal(REQUESTER)

    def request(resident: Resident, **kw: Any) -> Consult:
        base = {"consult_type": "single", "mode": "realtime", "urgency": "routine", "specialty": "cardiology",
                    "reason": "血压控制不佳伴胸闷，基层调整两次方案效果不理想", "purpose": "明确胸闷原因并调整降压方案",
                    "summary": {"chief_complaint": "反复胸闷1月", "present_illness": "活动后胸闷，休息可缓解",
                             "auxiliary_exams": "心电图 ST-T 改变", "diagnosis": "高血压3级 很高危；胸闷待查"}}
        return consults.request_consult(doctor, resident_id=resident.id, **{"invited_org_code": "C01D01", **base, **kw})

    def consent(c: Consult) -> None:
        consults.give_consent(doctor, c.id, {"informed": ["purpose", "method", "fees", "privacy"],
                                             "signer_type": "patient", "signer_name": c.resident_name or "患者",
                                             "consented": True, "signature": signature_png()})

    def to_invited(c: Consult) -> None:
        consent(c)
        complete(REVIEWER, _task(c, "review_request"), {"decision": "approve", "summary_complete": True,
                                                         "purpose_clear": True, "materials_complete": True})

    def schedule(c: Consult, lead: str) -> None:
        complete(SUPERVISOR, _task(c, "accept_consult"), {"decision": "accept"})
        complete(SUPERVISOR, _task(c, "assign_experts"), {"lead_expert": ids[lead],
                                                           "slot": clock.local(clock.now()).isoformat()})

    # 1. completed: report signed and archived, adopted, evaluated
    done = request(people[0])
    to_invited(done)
    schedule(done, "specialist_cardio")
    start = clock.now() - timedelta(minutes=35)
    complete("specialist_cardio", _task(done, "write_report"), {
        "started_at": start.isoformat(), "ended_at": clock.now().isoformat(),
        "assessment": "高血压3级，胸闷考虑劳力性心绞痛可能", "diagnosis": "高血压3级 很高危；冠心病待排",
        "icd10": "I10", "exams": "建议平板运动试验或冠脉CTA", "treatment": "氨氯地平5mg qd + 缬沙坦80mg qd；阿司匹林100mg qd",
        "follow_up": "2周后复测血压，基层随访", "risks": "出现持续胸痛立即转诊", "sign": True})
    complete(REQUESTER, _task(done, "adopt_opinion"), {"adoption": "all", "final_plan": "按会诊意见调整用药，2周复诊",
                                                       "physician_sign": True})
    complete(REQUESTER, _task(done, "evaluate"), {"timeliness": 5, "pertinence": 5, "av_quality": 4,
                                                  "avoided_transfer": True, "comment": "意见明确，避免了患者往返县城"})
    consults.record_satisfaction(doctor, done.id, 5)
    # 2. under way: an urgent real-time consult, room open, the lead writing
    live = request(people[1], urgency="urgent", reason="胸痛2小时，心电图 V1-V4 ST 段压低",
                   purpose="明确是否急性冠脉综合征及处置", summary={"chief_complaint": "胸痛2小时",
                                                            "diagnosis": "胸痛待查：急性冠脉综合征？"})
    to_invited(live)
    schedule(live, "specialist_cardio")
    # 3. an offline imaging consult waiting for the invited side's acceptance
    imaging = request(people[2], consult_type="imaging", mode="offline", specialty="radiology",
                      reason="胸部CT发现右肺结节", purpose="结节性质判断及随访建议",
                      summary={"auxiliary_exams": "胸部CT：右肺上叶磨玻璃结节 8mm", "diagnosis": "肺结节"},
                      attachments=[{"kind": "dicom", "ref": "1.2.840.113619.2.55.3.604688119.868.1", "title": "胸部CT"}])
    to_invited(imaging)
    # 4. waiting for the patient's consent
    request(people[3], reason="糖尿病合并肾功能下降", purpose="调整降糖方案", mode="offline",
            summary={"diagnosis": "2型糖尿病；CKD 3a期"})
    # 5. declined with the reason
    declined = request(people[4], mode="offline", reason="头晕伴步态不稳", purpose="排除后循环缺血")
    to_invited(declined)
    complete(SUPERVISOR, _task(declined, "accept_consult"),
             {"decision": "decline", "decline_reason": "该病例需神经内科会诊，请改邀神经内科"})
    # 6. under way with a neighbouring township hospital: its expert reads the network record through the consult
    gp = request(people[5], invited_org_code="C01T02", specialty="general_medicine", mode="offline",
                 reason="慢性咳嗽3月，基层反复抗感染效果不佳", purpose="明确咳嗽原因，是否需进一步检查",
                 summary={"chief_complaint": "咳嗽3月", "diagnosis": "慢性咳嗽待查"})
    to_invited(gp)
    schedule(gp, "township_doctor3")
    return {"consults": 6}

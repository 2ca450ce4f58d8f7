"""Use cases of remote consultation: a doctor's request (agreement checked up front: no agreement → refused with the
reason, nothing started), the patient's consent drawn on the phone (completes the consent step), an expert's own
signed opinion (MDT), the requester's deterioration alarm (an emergency referral while the consult goes on), the
patient's satisfaction answer, and the live room's alarms logged in the record.

    request_consult(principal, resident_id=12, invited_org_code="C01D01", consult_type="single", mode="realtime",
                    urgency="urgent", specialty="cardiology", reason="...", purpose="...", summary={...})"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import select

from app.auth.principal import Principal
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.org.queries import find_org
from app.residents import queries as residents
from app.tasks import completion
from app.workflows import runner
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask, MessageSubscription

from . import agreements, notices, queries, steps
from .labels import MODES, SPECIALTIES, TITLES, TYPES, URGENCIES
from .models import Consult, ConsultOpinion

log = logs.get("consult")
PROCESS = "remote_consult"
SUMMARY_FIELDS = ("chief_complaint", "present_illness", "past_history", "physical_exam", "auxiliary_exams",
                  "diagnosis", "treatment")
ATTACHMENT_KINDS = ("dicom", "ecg", "pathology", "lab", "document")
MAX_ATTACHMENTS = 20
CHANNEL_LABELS = {"hr": "心率", "spo2": "血氧饱和度", "sbp": "收缩压", "dbp": "舒张压", "rr": "呼吸频率", "temp": "体温"}


def _attachments(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(items) > MAX_ATTACHMENTS:
        raise Invalid(f"附件最多 {MAX_ATTACHMENTS} 项", code="too_many_attachments", field="attachments")
    out = []
    for i, a in enumerate(items):
        if a.get("kind") not in ATTACHMENT_KINDS:
            raise Invalid("附件类型不正确", code="invalid_attachment", field=f"attachments/{i}/kind",
                          allowed=list(ATTACHMENT_KINDS))
        if not (a.get("ref") or "").strip():
            raise Invalid("附件须填写编号或链接 (DICOM Study UID 等)", code="invalid_attachment",
                          field=f"attachments/{i}/ref")
        out.append({"kind": a["kind"], "ref": a["ref"].strip(), "title": (a.get("title") or "").strip()})
    return out


def request_consult(p: Principal, *, resident_id: int, invited_org_code: str, consult_type: str, mode: str,
                    urgency: str, specialty: str, reason: str, purpose: str, summary: dict[str, Any],
                    attachments: list[dict[str, Any]] | None = None, requested_title: str | None = None,
                    named_expert_id: int | None = None, expected_at: datetime | None = None,
                    patient_demanded: bool = False, device_ids: list[str] | None = None) -> Consult:
    """F2.1: record the request and start `remote_consult` (404 outside the doctor's scope; 422 `no_agreement`
    etc. with the reason when the two organisations have no agreement in force)."""
    resident = residents.get_resident(resident_id, p)
    if resident is None:
        raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
    for value, allowed, field in ((consult_type, TYPES, "consult_type"), (mode, MODES, "mode"),
                                  (urgency, URGENCIES, "urgency"), (specialty, SPECIALTIES, "specialty")):
        if value not in allowed:
            raise Invalid(f"{field} 取值不正确", code=f"invalid_{field}", field=field, allowed=list(allowed))
    if requested_title and requested_title not in TITLES:
        raise Invalid("拟邀请职称不正确", code="invalid_title", field="requested_title", allowed=list(TITLES))
    if consult_type in ("imaging", "ecg", "pathology") and mode != "offline":
        raise Invalid("影像/心电/病理会诊为离线会诊", code="invalid_mode", field="mode")
    if not reason.strip() or not purpose.strip():
        raise Invalid("请填写邀请事由与会诊目的", code="reason_required", field="reason" if not reason.strip() else "purpose")
    invited = find_org(invited_org_code)
    if invited is None:
        raise NotFound("受邀机构不存在 (organization not found)", code="organization_not_found",
                       org_code=invited_org_code)
    if invited_org_code == p.org_code:
        raise Invalid("不能邀请本机构会诊", code="same_organization", field="invited_org_code")
    found = agreements.check(p.org_code, invited_org_code)
    if not found.ok:
        raise Invalid(found.reason, code=found.code, status=422, requester_org=p.org_code,
                      invited_org=invited_org_code)
    if PROCESS not in latest_process_versions(session()):
        raise Conflict("远程会诊流程尚未部署 (process not deployed)", code="process_not_deployed", status=409)
    clean = {k: (summary.get(k) or "").strip() for k in SUMMARY_FIELDS if (summary.get(k) or "").strip()}
    if not clean.get("diagnosis") and not clean.get("chief_complaint"):
        raise Invalid("病历摘要至少须填写主诉或目前诊断", code="summary_required", field="summary")
    if named_expert_id:
        clean["named_expert_id"] = int(named_expert_id)
    files = _attachments(attachments or [])
    with unit_of_work() as s:
        now = clock.now()
        c = Consult(consult_no=f"t{uuid4().hex[:16]}", status="requested", consult_type=consult_type, mode=mode,
                    urgency=urgency, patient_demanded=patient_demanded, named=bool(named_expert_id),
                    specialty=specialty, requested_title=requested_title, resident_id=resident_id,
                    resident_name=resident.name, requester_org_code=p.org_code, requester_org_path=p.org_path,
                    requester_user_id=p.user_id, requester_name=p.display_name or p.username,
                    invited_org_code=invited.code, invited_org_path=invited.path, agreement_id=found.agreement.id
                    if found.agreement else None, reason=reason.strip(), purpose=purpose.strip(), summary=clean,
                    attachments=files, expected_at=expected_at,
                    room={"device_ids": list(device_ids or [])} if device_ids else {},
                    requested_at=now, updated_at=now, log=[])
        s.add(c)
        s.flush()
        c.consult_no = f"HZ{clock.today():%Y%m%d}-{c.id:04d}"
        inst = runner.start_instance(PROCESS, actor=runner.Actor.of(p), data=steps.start_data(c),
                                     resident_id=resident_id, org_code=p.org_code, business_key=c.consult_no)
        c.instance_id = inst.id
        return c


def open_task(c: Consult, element_id: str) -> HumanTask:
    task = session().scalars(select(HumanTask).where(
        HumanTask.instance_id == c.instance_id, HumanTask.element_id == element_id,
        HumanTask.status == "open")).first() if c.instance_id else None
    if task is None:
        raise Conflict("此会诊当前没有这一步 (no such open step)", code="step_not_open", status=409, step=element_id)
    return task


def give_consent(p: Principal, consult_id: int, consent: dict[str, Any]) -> Consult:
    """The consent drawn on the phone/tablet (completes `patient_consent`). A bad or missing signature is refused
    before anything is stored; a refusal by the patient ends the consult without an invitation."""
    c = queries.get(p, consult_id)
    task = open_task(c, "patient_consent")
    if consent.get("consented"):
        problem = steps.signature_problem(consent.get("signature"))
        if problem:
            raise Invalid(problem, code="signature_invalid", field="signature")
    completion.complete(p, task.id, data=consent)
    return queries.get(p, consult_id)


def complete_step(p: Principal, consult_id: int, element_id: str, data: dict[str, Any]) -> Consult:
    c = queries.get(p, consult_id)
    completion.complete(p, open_task(c, element_id).id, data=data)
    return queries.get(p, consult_id)


def decline(p: Principal, consult_id: int, reason: str | None, note: str | None = None) -> Consult:
    """The invited 医务科 declines: a reason is required (400 `reason_required`)."""
    if not (reason or "").strip() or len((reason or "").strip()) < 2:
        raise Invalid("拒绝会诊须说明理由", code="reason_required", status=400, field="reason")
    return complete_step(p, consult_id, "accept_consult", {"decision": "decline", "decline_reason": reason,
                                                            "note": note})


def sign_opinion(p: Principal, consult_id: int, content: dict[str, Any]) -> ConsultOpinion:
    """An assigned expert (not the lead, who signs the summary) signs their own opinion, once."""
    c = queries.get(p, consult_id)
    if p.user_id not in [int(u) for u in c.expert_ids or []]:
        raise Forbidden("您不是本次会诊的专家 (not an expert of this consult)", code="not_consult_expert")
    if p.user_id == c.lead_expert_id:
        raise Invalid("牵头专家请在“出具会诊意见”中签署汇总意见", code="lead_signs_summary", status=409)
    if c.status != "scheduled":
        raise Conflict("会诊不在进行中 (consult not in progress)", code="consult_not_in_progress", status=409)
    for field in ("assessment", "diagnosis"):
        if len((content.get(field) or "").strip()) < 2:
            raise Invalid("请填写病情评估与诊断意见", code="opinion_incomplete", field=field)
    with unit_of_work() as s:
        row = s.scalars(select(Consult).where(Consult.id == c.id).with_for_update()).one()
        exists = s.scalars(select(ConsultOpinion).where(ConsultOpinion.consult_id == c.id,
                                                        ConsultOpinion.expert_id == p.user_id,
                                                        ConsultOpinion.role == "member")).first()
        if exists is not None:
            raise Conflict("您已签署本人意见 (already signed)", code="already_signed", status=409)
        clean = {k: v for k, v in content.items() if k in ("assessment", "diagnosis", "icd10", "exams", "treatment",
                                                          "follow_up", "risks", "suggest_referral")}
        op = steps.add_opinion(s, row, p.user_id, "member", clean)
        steps.note(row, "opinion", f"{op.expert_name} 已签署本人意见")
        row.updated_at = clock.now()
        s.flush()
        return op


def report_deterioration(p: Principal, consult_id: int, reason: str) -> Consult:
    """The requester reports deterioration during the consult: the model's boundary starts an emergency referral
    without cancelling the consult (409 `not_in_consult` outside the consult itself)."""
    c = queries.get(p, consult_id)
    if p.user_id != c.requester_user_id and not c.requester_org_path.startswith(p.org_path or "\0"):
        raise Forbidden("仅邀请方可发起 (requester side only)", code="requester_only")
    if len((reason or "").strip()) < 2:
        raise Invalid("请说明病情变化", code="reason_required", field="reason")
    waiting = session().scalars(select(MessageSubscription).where(
        MessageSubscription.instance_id == c.instance_id,
        MessageSubscription.message_name == "consult_deterioration")).first() if c.instance_id else None
    if waiting is None or c.instance_id is None:
        raise Conflict("会诊不在进行中，请直接发起转诊 (not in the consult)", code="not_in_consult", status=409)
    runner.correlate(c.instance_id, "consult_deterioration",
                     {"consult_no": c.consult_no, "reason": reason.strip(), "seq": len(c.referral_ids or []) + 1,
                      "by": p.username}, runner.Actor.of(p), interactive=True)
    return queries.get(p, consult_id)


def record_satisfaction(p: Principal, consult_id: int, score: int) -> Consult:
    """The patient's satisfaction answer (SMS reply or phone call, recorded by the requester side)."""
    if not 1 <= int(score) <= 5:
        raise Invalid("满意度为 1–5 分", code="invalid_score", field="score")
    c = queries.get(p, consult_id)
    if c.status != "closed":
        raise Conflict("会诊尚未完成 (consult not closed)", code="consult_not_closed", status=409)
    with unit_of_work() as s:
        row = s.scalars(select(Consult).where(Consult.id == c.id).with_for_update()).one()
        row.satisfaction = int(score)
        steps.note(row, "satisfaction", f"患者满意度 {int(score)} 分")
        row.updated_at = clock.now()
    return queries.get(p, consult_id)


def log_alarm(*, kind: str, ref: int, channel: str, value: Any, threshold: Any, at: Any = None, **_: Any) -> None:
    """A LIVE_ALARM of the consult's room: logged in the consult record (both sides see it on the page)."""
    if kind != "consult":
        return
    with unit_of_work() as s:
        row = s.scalars(select(Consult).where(Consult.id == int(ref)).with_for_update()).first()
        if row is None:
            log.warning("live alarm for unknown consult %s", ref)
            return
        label = CHANNEL_LABELS.get(channel, channel)
        steps.note(row, "alarm", f"体征报警：{label} {value}（阈值 {threshold}）", channel=channel, value=value,
                   threshold=threshold, measured_at=str(at) if at else None)
        row.updated_at = clock.now()


def _reassign_message(c: Consult, p: Principal, payload: dict[str, Any]) -> None:
    """Correlate `consult_reassign` to write_report's interrupting boundary (only while the consult is under way)."""
    waiting = session().scalars(select(MessageSubscription).where(
        MessageSubscription.instance_id == c.instance_id,
        MessageSubscription.message_name == "consult_reassign")).first() if c.instance_id else None
    if waiting is None or c.instance_id is None:
        raise Conflict("会诊不在进行中 (consult not in progress)", code="consult_not_in_progress", status=409)
    runner.correlate(c.instance_id, "consult_reassign", {"consult_no": c.consult_no, "by": p.username,
                                                         "by_name": p.display_name or p.username, **payload},
                     runner.Actor.of(p), interactive=True)


def room_expired(*, kind: str, ref: int, max_minutes: int, closed_at: Any = None, **_: Any) -> None:
    """LIVE_ROOM_EXPIRED of the consult's room: the copy on the consult says closed and the record says why."""
    if kind != "consult":
        return
    with unit_of_work() as s:
        row = s.scalars(select(Consult).where(Consult.id == int(ref)).with_for_update()).first()
        if row is None:
            return
        row.room = {**(row.room or {}), "status": "closed", "closed_at": closed_at.isoformat() if closed_at else None,
                    "expired": True}
        steps.note(row, "room", f"会诊室已开启超过 {max_minutes} 分钟，系统自动关闭（视频与实时体征结束，会诊本身继续）")
        row.updated_at = clock.now()


def expert_declines(p: Principal, consult_id: int, reason: str) -> Consult:
    """An assigned expert declines to take part, with a reason (400 `reason_required`). A member leaves the consult,
    the reason is logged and the invited 医务科 is told. The lead's decline interrupts the report step (message
    `consult_reassign`): all experts are released and the 医务科 gets 排班/指派专家 again (the lead is not offered
    again). An expert who signed their opinion cannot decline any more (409 `already_signed`)."""
    if len((reason or "").strip()) < 2:
        raise Invalid("拒绝参加会诊须说明理由", code="reason_required", status=400, field="reason")
    c = queries.get(p, consult_id)
    if p.user_id not in [int(u) for u in c.expert_ids or []]:
        raise Forbidden("您不是本次会诊的专家 (not an expert of this consult)", code="not_consult_expert")
    if c.status != "scheduled":
        raise Conflict("会诊不在进行中 (consult not in progress)", code="consult_not_in_progress", status=409)
    if p.user_id == c.lead_expert_id:
        _reassign_message(c, p, {"kind": "lead_declined", "user_id": p.user_id, "reason": reason.strip()})
        return queries.get(p, consult_id)
    with unit_of_work() as s:
        row = s.scalars(select(Consult).where(Consult.id == c.id).with_for_update()).one()
        if s.scalars(select(ConsultOpinion.id).where(ConsultOpinion.consult_id == c.id,
                                                     ConsultOpinion.expert_id == p.user_id)).first() is not None:
            raise Conflict("您已签署本人意见 (already signed)", code="already_signed", status=409)
        row.expert_ids = [int(u) for u in row.expert_ids or [] if int(u) != p.user_id]
        steps.note(row, "expert_declined", f"{p.display_name or p.username} 拒绝参加会诊：{reason.strip()}",
                   reason=reason.strip())
        notices.tell(notices.staff_at(notices.admin_org(row.invited_org_code), "supervisor"), row, "expert_declined",
                     f"{row.consult_no}：{p.display_name or p.username} 拒绝参加，理由：{reason.strip()}")
        row.updated_at = clock.now()
    return queries.get(p, consult_id)


def reassign(p: Principal, consult_id: int, reason: str) -> Consult:
    """The invited 医务科 takes the experts off a scheduled consult (e.g. the lead is called to surgery) with a
    reason (400 `reason_required`); the 排班/指派专家 step opens again in their inbox. 409 `consult_not_in_progress`
    before scheduling or after the report."""
    if len((reason or "").strip()) < 2:
        raise Invalid("改派专家须说明理由", code="reason_required", status=400, field="reason")
    c = queries.get(p, consult_id)
    if c.status != "scheduled":
        raise Conflict("会诊不在进行中 (consult not in progress)", code="consult_not_in_progress", status=409)
    _reassign_message(c, p, {"kind": "reassign", "reason": reason.strip()})
    return queries.get(p, consult_id)

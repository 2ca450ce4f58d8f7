"""The `remote_consult` process's steps (called by its service tasks; each idempotent, keyed by the consult row).

The `consults` row is updated at every step, so the lists, the patient record and the indicators read current
process data without a batch."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.auth import queries as users
from app.core import clock
from app.core.db import unit_of_work
from app.org.queries import find_org, township_of
from app.referral import services as referral

from . import agreements, documents, experts, fees, notices, rooms
from .labels import ADOPTION, MODES, SPECIALTIES, TITLES, TYPES, URGENCIES
from .models import Consult, ConsultOpinion

REVIEW_DUE = {"urgent": "PT30M"}          # wave2 §2.1 step 4 [P]: 30 min urgent, 1 working day otherwise
SESSION_MINUTES = 30                      # a real-time consult's planned length (one W3 billing unit)
MIN_SIGNATURE_BYTES = 200
MIN_SIGNATURE_SIDE = 60                   # px: a tap is not a signature
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def duration(iso: str) -> timedelta:
    """The ISO 8601 durations R4 answers (`PT10M`, `PT2H`, `P1D`)."""
    m = _DURATION.match(iso or "")
    if not m or not any(m.groups()):
        raise ValueError(f"unsupported duration {iso!r}")
    d, h, mi = (int(x or 0) for x in m.groups())
    return timedelta(days=d, hours=h, minutes=mi)


def iso_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"PT{minutes}M"


def _row(s, consult_id: int) -> Consult:
    return s.scalars(select(Consult).where(Consult.id == int(consult_id)).with_for_update()).one()


def _touch(c: Consult, status: str | None = None) -> None:
    if status:
        c.status = status
    c.updated_at = clock.now()


def note(c: Consult, event: str, text: str, **extra: Any) -> None:
    c.log = [*(c.log or []), {"at": clock.now().isoformat(), "event": event, "text": text, **extra}]


def local_time(at: datetime | None) -> str:
    return clock.local(at).strftime("%Y-%m-%d %H:%M") if at else ""


def org_name(code: str | None) -> str:
    org = find_org(code) if code else None
    return org.name if org else ""


def start_data(c: Consult) -> dict[str, Any]:
    """What the process starts with (labels for the tasks' instructions included)."""
    return {"consult_id": c.id, "consult_no": c.consult_no, "resident_id": c.resident_id,
            "resident_name": c.resident_name or "", "urgency": c.urgency, "mode": c.mode,
            "consult_type": c.consult_type, "requested_title": c.requested_title or "",
            "requester_user": c.requester_user_id, "requester_username": requester_username(c), "requester_org": c.requester_org_code,
            "review_org": review_org(c.requester_org_code), "invited_org": c.invited_org_code,
            "invited_admin_org": notices.admin_org(c.invited_org_code),
            "invited_name": org_name(c.invited_org_code), "requester_name": org_name(c.requester_org_code),
            "urgency_label": URGENCIES[c.urgency], "mode_label": MODES[c.mode], "type_label": TYPES[c.consult_type],
            "specialty_label": SPECIALTIES.get(c.specialty, c.specialty), "reason": c.reason, "purpose": c.purpose,
            "consent_error": "", "revision_note": "", "decide_error": "", "schedule_error": "", "report_error": "",
            "pool": {"needed": 1}, "reviewed": {"note": ""}}


def requester_username(c: Consult) -> str:
    u = users.users_by_id([c.requester_user_id]).get(c.requester_user_id)
    return u.username if u else ""


def review_org(requester_org: str) -> str:
    """The requester side's reviewer sits at the requester's township health centre (a village's, or its own)."""
    t = township_of(requester_org)
    return t.code if t else requester_org


# -- agreement, R4, consent, review -----------------------------------------------------------------------------

def check_agreement(consult_id: int) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, consult_id)
        found = agreements.check(c.requester_org_code, c.invited_org_code)
        if found.ok and found.agreement is not None:
            c.agreement_id = found.agreement.id
            _touch(c)
            return {"ok": True, "reason": "", "agreement_no": found.agreement.agreement_no}
        note(c, "no_agreement", found.reason)
        return {"ok": False, "reason": found.reason, "agreement_no": ""}


def stop(consult_id: int, *, status: str, reason: str) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, consult_id)
        if c.closed_at is None:
            c.closed_at = clock.now()
            if status == "refused":
                c.decline_reason = reason
            note(c, status, reason)
            _touch(c, status)
        return {"status": c.status}


def register(consult_id: int, *, accept_sla: str, report_sla: str, sla_rule: str, priority: int) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, consult_id)
        c.accept_sla, c.report_sla, c.sla_rule = accept_sla, report_sla, sla_rule
        if c.status == "requested":
            _touch(c, "consent_pending")
        return {"accept_sla": accept_sla, "report_sla": report_sla, "priority": int(priority or 3),
                "accept_timeout": iso_duration(duration(accept_sla) * 2),
                "review_due": REVIEW_DUE.get(c.urgency, "P1D")}


def signature_problem(data_url: str | None) -> str | None:
    """Why a drawn signature is not acceptable (None when it is): a PNG data URL of a real stroke area."""
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        return "请在签名区手写签名"
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        return "签名图像无法读取"
    if len(raw) < 24 or raw[:8] != b"\x89PNG\r\n\x1a\n" or raw[12:16] != b"IHDR":
        return "签名图像无法读取"
    width, height = struct.unpack(">II", raw[16:24])
    if len(raw) < MIN_SIGNATURE_BYTES or max(width, height) < MIN_SIGNATURE_SIDE:
        return "签名过小或为空，请重新签名"
    return None


def record_consent(consult_id: int, *, consent: dict[str, Any]) -> dict[str, Any]:
    """F2.2: written consent (signature drawn on the phone/tablet). Without it nothing is sent to the invited side."""
    with unit_of_work() as s:
        c = _row(s, consult_id)
        if not consent.get("consented"):
            c.consent = {k: v for k, v in consent.items() if k != "signature"}
            _touch(c)
            return {"ok": True, "consented": False, "message": ""}
        problem = signature_problem(consent.get("signature"))
        if problem:
            return {"ok": False, "consented": True, "message": problem}
        if consent.get("signer_type") in ("guardian", "relative") and not consent.get("not_told_reason"):
            return {"ok": False, "consented": True, "message": "由监护人/近亲属签署时须写明不宜告知本人的理由"}
        c.consent = {**consent, "signed_at": clock.now().isoformat()}
        c.consent_signed_at = clock.now()
        note(c, "consent", f"知情同意已签署（{consent.get('signer_name', '')}）")
        _touch(c, "reviewing")
        return {"ok": True, "consented": True, "message": ""}


def record_review(consult_id: int, *, review: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, consult_id)
        approved = review.get("decision") == "approve"
        c.review = {**review, "at": clock.now().isoformat()}
        if not approved:
            note(c, "returned", f"申请审核退回：{review.get('note') or ''}")
            _touch(c, "returned")
            notices.tell([c.requester_user_id], c, "returned", f"{c.consult_no}：{review.get('note') or ''}")
        else:
            _touch(c)
        return {"approved": approved, "note": review.get("note") or ""}


def record_revision(consult_id: int, *, revision: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, consult_id)
        c.summary = {**(c.summary or {}), **{k: v for k, v in revision.items() if k != "note" and v}}
        note(c, "revised", f"申请人已补充：{revision.get('note') or ''}")
        _touch(c, "reviewing")
        return {"note": revision.get("note") or ""}


# -- invitation and acceptance ----------------------------------------------------------------------------------

def invitation_text(c: Consult) -> str:
    """W1: 邀请事由, 目的, 时间安排, 病历摘要, 拟邀请医师的专业和技术职务任职资格."""
    s = c.summary or {}
    when = local_time(c.expected_at) if c.expected_at else "尽快"
    title = TITLES.get(c.requested_title or "", "不限")
    return (f"{c.consult_no}（{URGENCIES[c.urgency]}，{MODES[c.mode]}{TYPES[c.consult_type]}会诊）来自"
            f"{org_name(c.requester_org_code)}。邀请事由：{c.reason}；目的：{c.purpose}；期望时间：{when}；"
            f"拟邀请：{SPECIALTIES.get(c.specialty, c.specialty)}，{title}；病历摘要：{s.get('diagnosis') or ''} "
            f"{s.get('chief_complaint') or ''}")


def invite(consult_id: int) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, consult_id)
        if c.invited_at is None:
            c.invited_at = clock.now()
            c.accept_due_at = c.invited_at + duration(c.accept_sla or "P1D")
            note(c, "invited", f"已发送邀请，受理时限 {local_time(c.accept_due_at)}")
            _touch(c, "invited")
        notices.tell(notices.staff_at(notices.admin_org(c.invited_org_code), "supervisor"), c, "invited",
                     invitation_text(c))
        return {"accept_due_local": local_time(c.accept_due_at), "accept_due_at": c.accept_due_at.isoformat()
                if c.accept_due_at else None}


def escalate(consult_id: int, *, stage: str) -> dict[str, Any]:
    """The acceptance (or report) SLA passed: tell the invited side's 医务科 heads (and the lead expert), once."""
    with unit_of_work() as s:
        c = _row(s, consult_id)
        admin = notices.admin_org(c.invited_org_code)
        heads = notices.staff_at(admin, "county_admin", "supervisor")
        if stage == "accept":
            c.escalated_at = c.escalated_at or clock.now()
            note(c, "escalated", f"受理超时（时限 {local_time(c.accept_due_at)}），已升级医务科负责人")
            notices.tell(heads, c, "escalated", f"{c.consult_no} {c.resident_name}：受理已超过时限 "
                         f"{local_time(c.accept_due_at)}，请立即处理")
        else:
            note(c, "report_overdue", f"会诊报告超时（时限 {local_time(c.report_due_at)}）")
            notices.tell(heads + ([c.lead_expert_id] if c.lead_expert_id else []), c, "report_overdue",
                         f"{c.consult_no} {c.resident_name}：会诊报告已超过时限 {local_time(c.report_due_at)}")
        _touch(c)
        return {"escalated": True}


def decline_timeout(consult_id: int) -> dict[str, Any]:
    """Second timeout (twice the acceptance SLA): declined on the invited side's behalf, reason `timeout`."""
    with unit_of_work() as s:
        c = _row(s, consult_id)
        if c.status == "invited":
            c.declined_at = c.closed_at = clock.now()
            c.decline_reason = "受邀方超时未受理（timeout）"
            note(c, "declined", c.decline_reason, reason="timeout")
            _touch(c, "declined")
            notices.tell([c.requester_user_id], c, "declined", f"{c.consult_no}：{c.decline_reason}")
        return {"status": c.status}


def decide(consult_id: int, *, acceptance: dict[str, Any], decided_by: int | None = None) -> dict[str, Any]:
    """受理: accept, or decline with a reason (W1: decide promptly, give the reasons when declining)."""
    decision = acceptance.get("decision")
    reason = (acceptance.get("decline_reason") or "").strip()
    if decision == "decline" and len(reason) < 2:
        return {"decision": "invalid", "message": "拒绝会诊须说明理由"}
    if decision not in ("accept", "decline"):
        return {"decision": "invalid", "message": "请选择受理或拒绝"}
    with unit_of_work() as s:
        c = _row(s, consult_id)
        now = clock.now()
        if decision == "accept":
            c.accepted_at = c.accepted_at or now
            c.accepted_by = decided_by
            note(c, "accepted", "受邀方已受理")
            _touch(c, "accepted")
            notices.tell([c.requester_user_id], c, "accepted", f"{c.consult_no}：{org_name(c.invited_org_code)}已受理，正在指派专家")
        else:
            c.declined_at = c.closed_at = now
            c.decline_reason = reason
            note(c, "declined", f"受邀方拒绝：{reason}", reason=reason)
            _touch(c, "declined")
            notices.tell([c.requester_user_id], c, "declined", f"{c.consult_no}：{org_name(c.invited_org_code)}拒绝会诊，理由：{reason}")
        return {"decision": decision, "message": ""}


# -- experts, scheduling ----------------------------------------------------------------------------------------

def _suggested_slot(c: Consult) -> datetime:
    now = clock.now()
    if c.mode == "offline" or c.urgency == "urgent":
        return now + timedelta(minutes=10) if c.mode == "realtime" else now
    day = clock.local(now)
    for add in range(1, 8):       # next weekday afternoon (W4: routine consults on weekday afternoons)
        d = day + timedelta(days=add)
        if d.weekday() < 5:
            return d.replace(hour=14, minute=0, second=0, microsecond=0)
    return now


def candidates(consult_id: int, *, min_title_rank: int, lead_min_title_rank: int,
               experts_needed: int) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, consult_id)
        pool = [e for e in experts.candidates(c, min_rank=int(min_title_rank)) if e["user_id"] not in declined_by(c)]
        leads = [e for e in pool if e["rank"] >= int(lead_min_title_rank)]
        named = (c.summary or {}).get("named_expert_id")
        lead = next((e["user_id"] for e in leads if e["user_id"] == named), leads[0]["user_id"] if leads else None)
        members = [e["user_id"] for e in pool if e["user_id"] != lead][:max(0, int(experts_needed) - 1)]
        if not pool:
            note(c, "no_experts", "受邀机构名册中暂无符合条件的专家")
        c.review = {**(c.review or {}), "expert_rule": {"min_title_rank": int(min_title_rank),
                                                         "lead_min_title_rank": int(lead_min_title_rank),
                                                         "experts_needed": int(experts_needed)}}
        _touch(c)
        return {"experts": [{"value": e["user_id"], "label": e["label"]} for e in pool],
                "leads": [{"value": e["user_id"], "label": e["label"]} for e in leads],
                "suggested_lead": lead, "suggested_members": members, "needed": int(experts_needed),
                "suggested_slot": clock.local(_suggested_slot(c)).isoformat(timespec="minutes")}


def _parse_at(value: str | None) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(value)
    return clock.assume_local(at) if at.tzinfo is None else at


def schedule(consult_id: int, *, assignment: dict[str, Any]) -> dict[str, Any]:
    """Check the chosen experts against R5's filter, record the slot and, for a real-time consult, open its room."""
    with unit_of_work() as s:
        c = _row(s, consult_id)
        rule = (c.review or {}).get("expert_rule", {"min_title_rank": 2, "lead_min_title_rank": 2,
                                                    "experts_needed": 1})
        pool = {e["user_id"]: e for e in experts.candidates(c, min_rank=rule["min_title_rank"])
                if e["user_id"] not in declined_by(c)}
        lead = int(assignment.get("lead_expert") or 0)
        members = [int(m) for m in assignment.get("members") or [] if m != lead]
        fail = lambda message: {"ok": False, "message": message, "lead_expert_id": None,
                                "report_due_at": None, "slot": None}
        if lead not in pool or pool[lead]["rank"] < rule["lead_min_title_rank"]:
            return fail("牵头专家不符合专业/职称/排班要求")
        if any(m not in pool for m in members):
            return fail("所选专家不符合专业/职称/排班要求")
        if len(members) + 1 < rule["experts_needed"]:
            return fail(f"多学科会诊至少需要 {rule['experts_needed']} 名专家")
        try:
            slot = _parse_at(assignment.get("slot")) or clock.now()
        except ValueError:
            return fail("会诊时间格式不正确")
        c.lead_expert_id, c.expert_ids, c.scheduled_at = int(lead), [int(lead), *members], slot
        start = max(slot, clock.now())
        c.report_due_at = (start + timedelta(minutes=SESSION_MINUTES) if c.mode == "realtime" else start) + \
            duration(c.report_sla or "PT48H")
        if c.mode == "realtime":
            room = rooms.open_for(c, external_url=assignment.get("external_video_url"))
            if room.get("note"):
                note(c, "room", room["note"])
        names = ", ".join(pool[u]["name"] for u in c.expert_ids)
        note(c, "scheduled", f"已指派专家：{names}；会诊时间 {local_time(slot)}")
        _touch(c, "scheduled")
        notices.tell([c.requester_user_id], c, "scheduled", f"{c.consult_no}：会诊时间 {local_time(slot)}，专家 {names}")
        notices.tell(c.expert_ids, c, "assigned", f"{c.consult_no} {c.resident_name}：{c.purpose}（会诊时间 "
                     f"{local_time(slot)}，报告时限 {local_time(c.report_due_at)}）")
        return {"ok": True, "message": "", "lead_expert_id": int(lead), "report_due_at": c.report_due_at.isoformat(),
                "slot": clock.local(slot).isoformat(timespec="minutes")}


def declined_by(c: Consult) -> set[int]:
    """Experts who declined this consult (not offered again)."""
    return {int(u) for u in (c.review or {}).get("declined_expert_ids") or []}


def release(consult_id: int, *, reassign: dict[str, Any]) -> dict[str, Any]:
    """The lead declined (with a reason) or the invited 医务科 reassigns: the experts are released (they leave the
    room and lose the consult's access to the record), the reason is logged, everyone is told and the 医务科 gets
    the 排班/指派专家 step again. An expert who declined is not offered again."""
    with unit_of_work() as s:
        c = _row(s, consult_id)
        reason = str(reassign.get("reason") or "").strip()
        who = str(reassign.get("by_name") or "")
        before = [int(u) for u in c.expert_ids or []]
        if reassign.get("kind") == "lead_declined" and reassign.get("user_id"):
            c.review = {**(c.review or {}), "declined_expert_ids": sorted(declined_by(c) | {int(reassign["user_id"])})}
            text = f"牵头专家 {who} 拒绝参加：{reason}，待医务科重新指派"
        else:
            text = f"医务科 {who} 改派专家：{reason}"
        c.lead_expert_id, c.expert_ids = None, []
        if c.mode == "realtime" and (c.room or {}).get("status") == "open":
            rooms.open_for(c)
        note(c, "reassign", text, reason=reason, kind=reassign.get("kind"))
        _touch(c, "accepted")
        notices.tell(notices.staff_at(notices.admin_org(c.invited_org_code), "supervisor"), c, "reassign",
                     f"{c.consult_no}：{text}")
        notices.tell([u for u in before if u != reassign.get("user_id")], c, "released",
                     f"{c.consult_no}：{text}。您不再参加本次会诊。")
        return {"ok": True, "reason": text, "released": before}


# -- opinions and report ----------------------------------------------------------------------------------------

def signature_of(c: Consult, expert_id: int, role: str, content: dict[str, Any], at: datetime) -> str:
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(f"{c.consult_no}|{expert_id}|{role}|{text}|{at.isoformat()}".encode()).hexdigest()


def add_opinion(s, c: Consult, expert_id: int, role: str, content: dict[str, Any]) -> ConsultOpinion:
    user = users.users_by_id([expert_id]).get(expert_id)
    at = clock.now()
    row = ConsultOpinion(consult_id=c.id, expert_id=expert_id, role=role, content=content,
                         expert_name=(user.display_name or user.username) if user else "专家",
                         signature=signature_of(c, expert_id, role, content, at), signed_at=at)
    s.add(row)
    return row


def sign_report(consult_id: int, *, report: dict[str, Any]) -> dict[str, Any]:
    """The lead signs the summary once every other expert signed their own opinion (MDT); the PDF is archived on
    both sides and the room closes with it."""
    with unit_of_work() as s:
        c = _row(s, consult_id)
        if c.report_signed_at is not None:
            return {"ok": True, "message": ""}
        signed = {o.expert_id for o in s.scalars(select(ConsultOpinion).where(ConsultOpinion.consult_id == c.id,
                                                                              ConsultOpinion.role == "member"))}
        missing = [u for u in c.expert_ids or [] if int(u) != c.lead_expert_id and int(u) not in signed]
        if missing:
            names = users.users_by_id(missing)
            who = "、".join((names[u].display_name if u in names else str(u)) for u in missing)
            return {"ok": False, "message": f"尚有专家未签署本人意见：{who}"}
        try:
            started, ended = _parse_at(report.get("started_at")), _parse_at(report.get("ended_at"))
        except ValueError:
            return {"ok": False, "message": "会诊时间格式不正确"}
        if started and ended and ended < started:
            return {"ok": False, "message": "会诊结束时间早于开始时间"}
        content = {k: v for k, v in report.items() if k != "sign"}
        lead = c.lead_expert_id or 0
        add_opinion(s, c, lead, "lead", content)
        c.report, c.report_signed_at = content, clock.now()
        c.started_at, c.ended_at = started or c.scheduled_at, ended or clock.now()
        rooms.close_for(c)
        note(c, "reported", "会诊报告已签发并归档（双方）")
        _touch(c, "reported")
        s.flush()
        documents.archive(s, c)
        notices.tell([c.requester_user_id], c, "reported", f"{c.consult_no}：诊断意见 {content.get('diagnosis', '')}")
        return {"ok": True, "message": ""}


def raise_referral(consult_id: int, *, deterioration: dict[str, Any]) -> dict[str, Any]:
    """Deterioration during the consult: an emergency up-referral through the referral package's public entry
    point; the consult goes on."""
    with unit_of_work() as s:
        c = _row(s, consult_id)
        requester = users.users_by_id([c.requester_user_id]).get(c.requester_user_id)
        seq = int(deterioration.get("seq") or len(c.referral_ids or []) + 1)
        reason = deterioration.get("reason") or "会诊中病情恶化"
        row = referral.request_referral(
            resident_id=c.resident_id, source="consult", trigger="emergency", reason=f"远程会诊 {c.consult_no}：{reason}",
            requested_urgency="emergency", source_key=f"consult:{c.id}:deterioration:{seq}",
            source_instance_id=c.instance_id, from_org_code=c.requester_org_code,
            from_user=requester.username if requester else None)
        if row.id not in (c.referral_ids or []):
            c.referral_ids = [*(c.referral_ids or []), row.id]
            note(c, "referral", f"病情恶化，已发起紧急转诊 {row.referral_no}（会诊继续）：{reason}",
                 referral_id=row.id)
            notices.tell(c.expert_ids or [], c, "referral", f"{c.consult_no}：{reason}；紧急转诊 {row.referral_no}")
        _touch(c)
        return {"referral_id": row.id, "referral_no": row.referral_no}


# -- after the report -------------------------------------------------------------------------------------------

def record_adoption(consult_id: int, *, adoption: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work() as s:
        c = _row(s, consult_id)
        c.adoption, c.adopted_at = dict(adoption), c.adopted_at or clock.now()
        note(c, "adopted", f"邀请方处理：{ADOPTION.get(adoption.get('adoption') or '', '')}")
        _touch(c, "adopted")
        return {"adoption": adoption.get("adoption")}


def close(consult_id: int, *, evaluation: dict[str, Any]) -> dict[str, Any]:
    """Evaluation (F2.5), billing units from the fee schedule, and the patient's satisfaction SMS."""
    with unit_of_work() as s:
        c = _row(s, consult_id)
        if c.closed_at is None:
            c.evaluation, c.evaluated_at = dict(evaluation), clock.now()
            minutes = ((c.ended_at - c.started_at).total_seconds() / 60) if c.started_at and c.ended_at else 0
            c.billing = fees.bill(consult_type=c.consult_type, org_code=c.requester_org_code, minutes=minutes,
                                  named=c.named)
            c.closed_at = clock.now()
            note(c, "closed", f"会诊完成，计费 {c.billing['billable_units']} 单位 {c.billing['amount']} 元")
            _touch(c, "closed")
            notices.satisfaction_sms(c)
        return {"billing": c.billing}

"""Who is told what, once (dedupe key `consult:<id>:<event>:<user>`): the invited 医务科 at invitation, escalation
and timeout, the requester at acceptance, decline (with the reason), scheduling and report, the experts when they
are assigned; the patient gets the satisfaction SMS (sent only with consent, enforced by the notification outbox)."""
from __future__ import annotations

from app.auth import queries as users
from app.auth.principal import COUNTY_WIDE_ROLES
from app.notifications import services as inbox
from app.org.queries import ancestors
from connectors.notify.services import queue_message

from .models import Consult

TITLES = {"invited": "新的远程会诊邀请待受理", "escalated": "远程会诊受理已超时", "accepted": "远程会诊已受理",
          "declined": "远程会诊被拒绝", "scheduled": "远程会诊已排班", "assigned": "您被指派参加远程会诊",
          "report_overdue": "会诊报告已超时", "reported": "会诊报告已签发", "returned": "会诊申请被退回补充",
          "referral": "会诊中病情恶化：已发起紧急转诊", "alarm": "会诊患者体征报警",
          "expert_declined": "会诊专家拒绝参加"}


def link(c: Consult) -> str:
    return f"/consults/{c.id}"


def staff_at(org_code: str | None, *roles: str) -> list[int]:
    """Users with one of `roles` working at `org_code` itself."""
    if not org_code:
        return []
    out: list[int] = []
    for role in roles:
        out += [u.id for u in users.candidate_users(role, org_code)
                if role not in COUNTY_WIDE_ROLES or u.org_code == org_code]
    return out


def admin_org(org_code: str) -> str:
    """The organisation whose 医务科 (supervisor) handles the invited department: its top-level hospital."""
    chain = ancestors(org_code, include_self=True)
    return chain[0].code if chain else org_code


def tell(user_ids, c: Consult, event: str, body: str) -> int:
    told = 0
    for user_id in dict.fromkeys(int(u) for u in user_ids):
        told += inbox.notify(user_id, kind=f"consult_{event}", title=f"{TITLES[event]}：{c.resident_name or ''}",
                             body=body, link=link(c), dedupe_key=f"consult:{c.id}:{event}:{user_id}")
    return told


def satisfaction_sms(c: Consult) -> None:
    queue_message("sms", recipient=("resident", c.resident_id), template_code="SMS_CONSULT_SATISFACTION",
                  params={"consult_no": c.consult_no}, idempotency_key=f"consult:{c.id}:satisfaction:patient")

"""Who is told what, once (dedupe key `consult:<id>:<event>:<user>`): the invited 医务科 at invitation, escalation
and timeout, the requester at acceptance, decline (with the reason), scheduling and report, the experts when they
are assigned; the patient gets the satisfaction SMS (sent only with consent, enforced by the notification outbox)."""
from __future__ import annotations

import re
from typing import Any

from app.auth import queries as users
from app.auth.principal import COUNTY_WIDE_ROLES
from app.core import clock
from app.notifications import services as inbox
from app.org.queries import ancestors, find_org
from connectors.notify.models import OutboxMessage
from connectors.notify.services import has_consent, queue_message

from .models import Consult

TITLES = {"invited": "新的远程会诊邀请待受理", "escalated": "远程会诊受理已超时", "accepted": "远程会诊已受理",
          "declined": "远程会诊被拒绝", "scheduled": "远程会诊已排班", "assigned": "您被指派参加远程会诊",
          "report_overdue": "会诊报告已超时", "reported": "会诊报告已签发", "returned": "会诊申请被退回补充",
          "referral": "会诊中病情恶化：已发起紧急转诊", "alarm": "会诊患者体征报警",
          "expert_declined": "会诊专家拒绝参加", "reassign": "远程会诊待重新指派专家",
          "released": "您已不再参加远程会诊"}


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


# The patient's SMS templates as registered with the SMS vendor (签名 added by the vendor; variables ${…} are the
# params sent with the template code). Keep this text and the vendor's registered template identical.
SMS_TEMPLATES = {
    "SMS_CONSULT_SATISFACTION": "${name}您好，您${date}在${org}的远程会诊（${consult_no}）已完成。请回复数字1-5评价本次"
                                "会诊服务：5非常满意，4满意，3一般，2不满意，1很不满意。回复免费，谢谢！",
}


def render_sms(template_code: str, params: dict[str, Any]) -> str:
    """The text the patient receives (what the vendor renders from the registered template)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), SMS_TEMPLATES[template_code])


def satisfaction_sms(c: Consult) -> OutboxMessage | None:
    """Queue the satisfaction SMS if the patient consented to SMS (checked again at delivery); otherwise record in
    the consult that the requester should ask by phone. Answers the queued message (None when not sent)."""
    if not has_consent(c.resident_id, "sms"):
        c.log = [*(c.log or []), {"at": clock.now().isoformat(), "event": "satisfaction_sms",
                                  "text": "患者未同意短信联系，未发送满意度短信，请电话回访后记录满意度"}]
        return None
    org = find_org(c.requester_org_code)
    params = {"name": c.resident_name or "", "date": clock.local(c.report_signed_at or clock.now()).strftime("%-m月%-d日"),
              "org": org.name if org else "", "consult_no": c.consult_no}
    msg = queue_message("sms", recipient=("resident", c.resident_id), template_code="SMS_CONSULT_SATISFACTION",
                        params=params, idempotency_key=f"consult:{c.id}:satisfaction:patient")
    c.log = [*(c.log or []), {"at": clock.now().isoformat(), "event": "satisfaction_sms",
                              "text": "已发送满意度回访短信，患者回复后请记录满意度"}]
    return msg

"""Who is told what, once: the receiving department, the sender, the township lead and the patient (SMS/app only
with consent, enforced by the notification outbox) at offer, acceptance, appointment, rejection and result.

Every notice has a dedupe key `referral:<id>:<event>:<recipient>`, so a retried service call never tells twice."""
from __future__ import annotations

from app.auth import queries as users
from app.auth.principal import COUNTY_WIDE_ROLES
from app.notifications import services as inbox
from app.org.queries import find_org, township_of
from connectors.notify.services import queue_message

from .models import Referral

TITLES = {
    "offered": "新的转诊申请待接诊", "emergency": "紧急转诊：患者正在转来", "accepted": "转诊已接收",
    "rejected": "转诊被拒收", "redirected": "转诊已改派", "appointed": "转诊已预约", "result": "转诊诊疗结果已回传",
    "approval": "县外转诊待审批", "down_offered": "新的下转患者待接收", "overdue": "转诊接诊审核已超时",
    "cancelled": "转诊已撤销",
}
PATIENT_TEMPLATES = {"offered": "SMS_REFERRAL_OFFERED", "accepted": "SMS_REFERRAL_ACCEPTED",
                     "appointed": "SMS_REFERRAL_APPOINTMENT", "rejected": "SMS_REFERRAL_REJECTED",
                     "result": "SMS_REFERRAL_RESULT", "emergency": "SMS_REFERRAL_EMERGENCY",
                     "down_offered": "SMS_REFERRAL_DOWN"}


def link(referral: Referral) -> str:
    return f"/referrals/{referral.id}"


def org_staff(org_code: str | None, role: str | None) -> list[int]:
    """Users who work at `org_code` itself with `role` (a department's specialists, a township's doctors)."""
    if not org_code or not role:
        return []
    return [u.id for u in users.candidate_users(role, org_code)
            if role not in COUNTY_WIDE_ROLES or u.org_code == org_code]


def township_leads(org_code: str | None) -> list[int]:
    org = find_org(org_code) if org_code else None
    if org is None:
        return []
    township = township_of(org.code)
    return org_staff(township.code, "township_doctor") if township else []


def sender_users(referral: Referral) -> list[int]:
    found = users.user_id_by_username(referral.from_user)
    if found is not None:
        return [found]
    return org_staff(referral.from_org_code, referral.sender_role)


def receiver_users(referral: Referral) -> list[int]:
    return org_staff(referral.to_org_code, referral.receiver_role or "county_specialist")


def tell(user_ids, referral: Referral, event: str, body: str, *, push: bool = False) -> int:
    """Inbox notification (and, for emergencies, an app push through the outbox) to each user, once per event."""
    told = 0
    for user_id in dict.fromkeys(user_ids):
        key = f"referral:{referral.id}:{event}:{user_id}"
        told += inbox.notify(user_id, kind=f"referral_{event}", title=f"{TITLES[event]}：{referral.resident_name or ''}",
                             body=body, link=link(referral), dedupe_key=key)
        if push:
            queue_message("app", recipient=("user", user_id), template_code="APP_REFERRAL_EMERGENCY",
                          params={"referral_no": referral.referral_no, "name": referral.resident_name or ""},
                          idempotency_key=f"{key}:push")
    return told


def tell_patient(referral: Referral, event: str, params: dict) -> None:
    """An SMS to the patient (the outbox sends it only with the resident's consent to SMS)."""
    if event not in PATIENT_TEMPLATES:
        return
    queue_message("sms", recipient=("resident", referral.resident_id), template_code=PATIENT_TEMPLATES[event],
                  params={"referral_no": referral.referral_no, **params},
                  idempotency_key=f"referral:{referral.id}:{event}:patient")

"""Consent per purpose and channel, versioned (PIPL: health data is sensitive personal information and needs its
own, separate consent; a guardian decides for a child under 14).

    from app.portal import consent
    consent.allows(resident_id, "reminder", "app")      # the one public check, read at the moment of sending

Every decision is a new row (`PortalConsent`): the latest row per purpose and channel rules, so a withdrawal takes
effect on the very next check and the history stays. Reminder consents are also written through to the notify
connector's per-channel contact consent, which its delivery checks before every SMS/app message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from app.audit.services import record as audit
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid, NotFound
from app.residents.models import Resident
from connectors.notify import services as notify

from .errors import GuardianRequired
from .models import PortalConsent

VERSION = "2026.12-v1"          # the consent text's version; a new text → a new version, asked for again
GUARDIAN_AGE = 14


@dataclass(frozen=True)
class Purpose:
    code: str
    title: str
    text: str
    channels: tuple[str, ...]
    required: bool = False


PURPOSES = (
    Purpose("health_data", "查看本人健康信息",
            "同意本平台在居民端向您（或经您同意的家属）展示您的健康档案、随访计划、检查检验结果和用药信息。"
            "健康信息属于敏感个人信息，仅用于您本人的健康管理，您可随时撤回，撤回后居民端立即停止展示。",
            ("portal",), required=True),
    Purpose("reminder", "随访与用药提醒",
            "同意家庭医生团队通过所选渠道向您发送随访、复诊和用药提醒。可按渠道分别同意或撤回，撤回后立即停止发送。",
            ("app", "sms")),
    Purpose("education", "健康宣教推送",
            "同意根据您的慢病情况向您推送健康教育内容。", ("app",)),
)
PURPOSE_BY_CODE = {p.code: p for p in PURPOSES}
DECIDERS = ("self", "guardian", "staff")
RELATIONS = ("父亲", "母亲", "祖父母", "外祖父母", "其他监护人")
NOTIFY_CHANNELS = {"app": "app", "sms": "sms"}


def _latest(resident_id: int) -> dict[tuple[str, str], PortalConsent]:
    rows = session().scalars(select(PortalConsent).where(PortalConsent.resident_id == resident_id)
                             .order_by(PortalConsent.id))
    out: dict[tuple[str, str], PortalConsent] = {}
    for row in rows:
        out[(row.purpose, row.channel)] = row
    return out


def allows(resident_id: int, purpose: str, channel: str) -> bool:
    """Whether the resident's latest decision for this purpose and channel grants it (no decision: no)."""
    row = session().scalars(select(PortalConsent).where(
        PortalConsent.resident_id == resident_id, PortalConsent.purpose == purpose,
        PortalConsent.channel == channel).order_by(PortalConsent.id.desc())).first()
    return bool(row and row.granted)


def reminders_allowed(resident_id: int) -> bool:
    """The in-platform (app) reminder check `app.follow_up.reminders` asks before reminding a patient."""
    return allows(resident_id, "reminder", "app")


def education_allowed(resident_id: int) -> bool:
    return allows(resident_id, "education", "app")


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def decide(resident_id: int, *, purpose: str, channel: str, granted: bool, decided_by: str = "self",
           guardian_name: str | None = None, guardian_relation: str | None = None, via: str = "portal",
           actor: Any = None) -> PortalConsent:
    """Record a grant or withdrawal (a new row, the current text's version); one transaction with its audit entry."""
    spec = PURPOSE_BY_CODE.get(purpose)
    if spec is None:
        raise Invalid("未知的授权用途", code="invalid_purpose", allowed=list(PURPOSE_BY_CODE))
    if channel not in spec.channels:
        raise Invalid("该用途不支持此渠道", code="invalid_channel", allowed=list(spec.channels))
    if decided_by not in DECIDERS:
        raise Invalid("未知的决定人", code="validation_error", field="decided_by")
    with unit_of_work() as s:
        resident = s.get(Resident, resident_id)
        if resident is None:
            raise NotFound("居民不存在 (resident not found)")
        minor = age_on(resident.birth_date, clock.today()) < GUARDIAN_AGE
        if minor and granted and (decided_by != "guardian" or not (guardian_name or "").strip()
                                  or guardian_relation not in RELATIONS):
            raise GuardianRequired("未满14周岁，须由监护人同意（填写监护人姓名与关系）", age=GUARDIAN_AGE,
                                   relations=list(RELATIONS))
        if decided_by == "guardian" and not minor:
            raise Invalid("已满14周岁，须由本人决定", code="not_a_minor")
        row = PortalConsent(resident_id=resident_id, purpose=purpose, channel=channel, version=VERSION,
                            granted=granted, decided_by=decided_by,
                            guardian_name=(guardian_name or "").strip()[:80] or None if decided_by == "guardian"
                            else None,
                            guardian_relation=guardian_relation if decided_by == "guardian" else None,
                            via=via[:20], recorded_at=clock.now())
        s.add(row)
        s.flush()
        if purpose == "reminder" and channel in NOTIFY_CHANNELS:
            notify.set_consent(resident_id, NOTIFY_CHANNELS[channel], granted=granted,
                               source=f"portal consent {VERSION} #{row.id}")
        audit("portal.consent", object_type="resident", object_id=resident_id, principal=actor,
              details={"purpose": purpose, "channel": channel, "granted": granted, "version": VERSION,
                       "decided_by": decided_by})
        return row


def current(resident_id: int) -> list[dict[str, Any]]:
    """Every purpose and channel with the text, its version and the latest decision (None: never asked)."""
    latest = _latest(resident_id)
    out = []
    for p in PURPOSES:
        for channel in p.channels:
            row = latest.get((p.code, channel))
            out.append({"purpose": p.code, "title": p.title, "text": p.text, "channel": channel,
                        "required": p.required, "current_version": VERSION,
                        "granted": bool(row and row.granted), "decided": row is not None,
                        "version": row.version if row else None,
                        "outdated": bool(row and row.granted and row.version != VERSION),
                        "decided_by": row.decided_by if row else None,
                        "recorded_at": row.recorded_at if row else None})
    return out


def history(resident_id: int) -> list[PortalConsent]:
    return list(session().scalars(select(PortalConsent).where(PortalConsent.resident_id == resident_id)
                                  .order_by(PortalConsent.id.desc())))


def portal_allowed(resident_id: int) -> bool:
    """The portal shows health data only under the current version of the health-data consent."""
    row = _latest(resident_id).get(("health_data", "portal"))
    return bool(row and row.granted and row.version == VERSION)

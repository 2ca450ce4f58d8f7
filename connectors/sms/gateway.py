"""The SMS gateway the portal sends verification codes through.

    from connectors.sms.gateway import gateway
    message_id = gateway().send(phone="13800001234", text="【医共体】验证码 123456 …", purpose="portal_bind")

`YGT_SMS_GATEWAY` picks the implementation:

* `dev` (the embedded default when unset): `DevSink` writes each message to the log (`sms` logger) and to the
  `sms_dev_messages` table, which the dev inbox page (`/portal/dev-sms`, API `GET /api/portal/v1/dev/sms`) shows,
  so a demo user can read the code. Nothing leaves the machine.
* `http`: `HttpGateway` posts to `YGT_SMS_URL` in the shape of the common Chinese SMS APIs (sign name, template
  code `YGT_SMS_VERIFY_TEMPLATE`, template params), reusing the notify connector's provider; a refusal or an
  unreachable gateway raises `SmsNotSent` (the caller answers 503 `sms_unavailable`, and no code is valid).
"""
from __future__ import annotations

import os
import re
import uuid
from typing import Protocol

from sqlalchemy import select

from app.core import clock, logs
from app.core.db import session, unit_of_work
from connectors.notify import providers

from .models import DevSmsMessage

log = logs.get("sms")
PHONE = re.compile(r"1[3-9]\d{9}")


class SmsNotSent(Exception):
    """The gateway did not take the message (refused, unreachable, not configured)."""


class SmsGateway(Protocol):
    def send(self, *, phone: str, text: str, purpose: str, params: dict[str, str] | None = None) -> str:
        """Send one message; the gateway's message id. Raises SmsNotSent when nothing was sent."""
        ...


class DevSink:
    """Development sink: logs the message and keeps it for the dev inbox page; never contacts anybody."""

    def send(self, *, phone: str, text: str, purpose: str, params: dict[str, str] | None = None) -> str:
        if not PHONE.fullmatch(phone):
            raise SmsNotSent(f"not a mainland mobile number: {phone[:3]}…")
        with unit_of_work() as s:
            row = DevSmsMessage(phone=phone, purpose=purpose[:40], text=text, sent_at=clock.now())
            s.add(row)
            s.flush()
            message_id = f"dev-{row.id}"
        log.info("dev sms sink", extra={"job": message_id, "status": purpose})
        return message_id


class HttpGateway:
    """A real gateway through the notify connector's templated SMS provider."""

    def send(self, *, phone: str, text: str, purpose: str, params: dict[str, str] | None = None) -> str:
        template = os.environ.get("YGT_SMS_VERIFY_TEMPLATE", "SMS_PORTAL_VERIFY")
        try:
            return providers.sms().send(phone=phone, template_code=template, params=params or {"text": text},
                                        out_id=f"{purpose}:{uuid.uuid4().hex}")
        except (providers.Retryable, providers.Rejected, providers.Uncertain) as exc:
            raise SmsNotSent(str(exc)) from None


def is_dev() -> bool:
    return os.environ.get("YGT_SMS_GATEWAY", "dev") == "dev"


def gateway() -> SmsGateway:
    kind = os.environ.get("YGT_SMS_GATEWAY", "dev")
    if kind == "dev":
        return DevSink()
    if kind == "http":
        return HttpGateway()
    raise SmsNotSent(f"unknown YGT_SMS_GATEWAY {kind!r} (dev | http)")


def dev_messages(*, phone: str | None = None, limit: int = 20) -> list[DevSmsMessage]:
    """The development sink's latest messages, newest first (one phone's when given)."""
    query = select(DevSmsMessage).order_by(DevSmsMessage.id.desc()).limit(limit)
    if phone:
        query = query.where(DevSmsMessage.phone == phone)
    return list(session().scalars(query))

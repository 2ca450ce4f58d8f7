"""The notification outbox: queue a message once (its idempotency key is unique), deliver it once.

    queue_message("sms", recipient=("resident", 12), template_code="SMS_FOLLOW_UP_DUE",
                  params={"name": "王建国", "date": "3月8日"}, idempotency_key="follow_up:77:due")

Delivery (`deliver`) claims the row (`sending`) in its own transaction before calling the provider, so two workers
never send the same row; a provider answer that nothing was sent (throttled, unreachable) retries with backoff; an
unanswered request becomes `uncertain` and is never resent automatically (SMS sends are not idempotent). Residents
are contacted only on channels they consented to (`contact_consents`); staff (users) always.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.auth.crypto import decrypt_field
from app.auth.principal import SYSTEM
from app.auth.services import phone_of
from app.core import clock, logs
from app.core.db import is_postgres, session, unit_of_work
from app.core.errors import Invalid
from app.jobs.queue import enqueue, enqueue_after_commit
from app.notifications.models import Notification
from app.notifications.services import notify
from app.residents.queries import get_resident

from . import providers
from .models import CHANNELS, ContactConsent, OutboxMessage

log = logs.get("notify")
BACKOFF_S = (30, 120, 600, 1800, 3600)
MAX_ATTEMPTS = 6
SENDING_LEASE = timedelta(minutes=5)
DELIVER_JOB = "connectors.notify.services.deliver"


def queue_message(channel: str, *, recipient: tuple[str, int], template_code: str, params: dict[str, Any],
                  idempotency_key: str) -> OutboxMessage:
    """Add a message to the outbox unless its key is there already; delivery starts after commit."""
    if channel not in CHANNELS:
        raise Invalid(f"未知渠道 {channel}", code="invalid_channel", allowed=list(CHANNELS))
    if recipient[0] not in ("resident", "user"):
        raise Invalid("收件人须为 resident 或 user", code="invalid_recipient")
    dialect = postgresql if is_postgres() else sqlite
    stmt = dialect.insert(OutboxMessage).values(
        channel=channel, recipient_type=recipient[0], recipient_id=recipient[1], template_code=template_code,
        params=params, idempotency_key=idempotency_key[:160], status="pending", attempts=0, created_at=clock.now(),
        next_attempt_at=clock.now()).on_conflict_do_nothing(index_elements=["idempotency_key"])
    with unit_of_work() as s:
        inserted = s.execute(stmt).rowcount
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key[:160])).one()
        if inserted:
            enqueue_after_commit(s, DELIVER_JOB, row.id, job_id=f"notify-{row.id}-0", retries=0)
        return row


def set_consent(resident_id: int, channel: str, *, granted: bool, source: str) -> None:
    """Record a resident's consent (or its withdrawal) to be contacted on a channel."""
    dialect = postgresql if is_postgres() else sqlite
    stmt = dialect.insert(ContactConsent).values(resident_id=resident_id, channel=channel, granted=granted,
                                                 source=source[:80], recorded_at=clock.now())
    stmt = stmt.on_conflict_do_update(index_elements=["resident_id", "channel"],
                                      set_={"granted": granted, "source": source[:80], "recorded_at": clock.now()})
    with unit_of_work() as s:
        s.execute(stmt)


def has_consent(resident_id: int, channel: str) -> bool:
    return bool(session().scalar(select(ContactConsent.granted).where(
        ContactConsent.resident_id == resident_id, ContactConsent.channel == channel)))


# -- delivery ------------------------------------------------------------------------------------------------------

def deliver(outbox_id: int) -> str:
    """Send one outbox message if it is due and nobody else is sending it; its status afterwards."""
    row = _claim(outbox_id)
    if row is None:
        return "skipped"
    try:
        status, provider_id, error = "sent", _send(row), None
    except providers.Uncertain as exc:
        status, provider_id, error = "uncertain", None, str(exc)
    except providers.Rejected as exc:
        status, provider_id, error = "failed", None, str(exc)
    except _Suppressed as exc:
        status, provider_id, error = "suppressed", None, str(exc)
    except providers.Retryable as exc:
        status, provider_id, error = ("failed" if row.attempts >= MAX_ATTEMPTS else "pending"), None, str(exc)
    with unit_of_work() as s:
        row = s.get(OutboxMessage, outbox_id)
        row.status, row.last_error = status, error
        if provider_id is not None:
            row.provider_message_id, row.sent_at = provider_id, clock.now()
        row.next_attempt_at = (clock.now() + timedelta(seconds=BACKOFF_S[min(row.attempts - 1, len(BACKOFF_S) - 1)])
                               if status == "pending" else None)
    log.info("notification delivery", extra={"status": status, "job": f"outbox:{outbox_id}"})
    return status


def _claim(outbox_id: int) -> OutboxMessage | None:
    with unit_of_work() as s:
        stmt = select(OutboxMessage).where(OutboxMessage.id == outbox_id)
        row = s.scalars(stmt.with_for_update() if is_postgres() else stmt).first()
        if row is None or row.status != "pending" or (row.next_attempt_at and row.next_attempt_at > clock.now()):
            return None
        row.status, row.attempts = "sending", row.attempts + 1
        row.next_attempt_at = clock.now() + SENDING_LEASE
        return row


class _Suppressed(Exception):
    pass


def _send(row: OutboxMessage) -> str:
    if row.channel == "platform":
        return _platform(row)
    if row.recipient_type == "resident" and not has_consent(row.recipient_id, row.channel):
        raise _Suppressed(f"resident {row.recipient_id} has not consented to {row.channel}")
    if row.channel == "sms":
        phone = _phone(row)
        return providers.sms().send(phone=phone, template_code=row.template_code, params=row.params,
                                    out_id=row.idempotency_key)
    return providers.push().send(alias=f"{row.recipient_type}:{row.recipient_id}", template_code=row.template_code,
                                 params=row.params, out_id=row.idempotency_key)


def _phone(row: OutboxMessage) -> str:
    if row.recipient_type == "user":
        phone = phone_of(row.recipient_id)
        if not phone:
            raise _Suppressed(f"user {row.recipient_id} has no mobile number")
        return phone
    resident = get_resident(row.recipient_id, SYSTEM)
    if resident is None or not resident.phone_encrypted:
        raise _Suppressed(f"resident {row.recipient_id} has no phone number")
    return decrypt_field(resident.phone_encrypted)


def _platform(row: OutboxMessage) -> str:
    if row.recipient_type != "user":
        raise _Suppressed("in-platform messages go to users")
    notify(row.recipient_id, kind=row.template_code, title=str(row.params.get("title", row.template_code)),
           body=str(row.params.get("body", "")), link=row.params.get("link"), dedupe_key=row.idempotency_key)
    return f"platform:{row.idempotency_key}"[:120]


# -- schedules -----------------------------------------------------------------------------------------------------

def deliver_due(limit: int = 500) -> int:
    """Enqueue delivery of due pending messages; mark messages stuck in `sending` past their lease uncertain."""
    now = clock.now()
    with unit_of_work() as s:
        for row in s.scalars(select(OutboxMessage).where(OutboxMessage.status == "sending",
                                                        OutboxMessage.next_attempt_at < now).limit(limit)):
            row.status, row.last_error = "uncertain", "worker stopped while sending; check with the provider (OutId)"
        due = s.execute(select(OutboxMessage.id, OutboxMessage.attempts).where(
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now).limit(limit)).all()
    for outbox_id, attempts in due:     # one job per message and attempt: a waiting job is never queued twice
        enqueue(DELIVER_JOB, outbox_id, job_id=f"notify-{outbox_id}-{attempts}", retries=0)
    return len(due)


def forward_notifications(limit: int = 500) -> int:
    """Push the in-platform notifications (app.notifications) not yet delivered to the users' app, once each."""
    with unit_of_work() as s:
        rows = list(s.scalars(select(Notification).where(Notification.delivered_at.is_(None))
                              .order_by(Notification.id).limit(limit)))
        for n in rows:
            queue_message("app", recipient=("user", n.user_id), template_code=n.kind,
                          params={"title": n.title, "body": n.body, "link": n.link},
                          idempotency_key=f"notification:{n.id}:app")
            n.delivered_at = clock.now()
    return len(rows)

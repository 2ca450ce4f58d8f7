"""Standard Webhooks verification: `X-Client-Id` names the integration client, whose `whsec_` secret signs
`"{webhook-id}.{webhook-timestamp}.{body}"` (HMAC-SHA256, `webhook-signature: v1,<base64>`; several space-separated
signatures are allowed, so a client can rotate its secret). Timestamps more than 5 minutes from our clock are
refused (replay protection; the durable `webhook-id` store does the rest)."""
from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks import Webhook

from app.auth.principal import Principal
from app.auth.services import client_secret, principal_for_user_id
from app.core import clock
from app.core.errors import DomainError, Unauthorized

TOLERANCE_S = 5 * 60


class TimestampOutOfRange(DomainError):
    status, code = 400, "timestamp_out_of_range"


@dataclass(frozen=True)
class SignedCaller:
    client_id: str
    name: str
    principal: Principal
    webhook_id: str


def verify(headers: Mapping[str, str], body: bytes) -> SignedCaller:
    """The caller of a signed request, or 401 `unknown_client` / 401 `invalid_signature` /
    400 `timestamp_out_of_range`."""
    client_id = headers.get("X-Client-Id", "").strip()
    found = client_secret(client_id) if client_id else None
    principal = principal_for_user_id(found[0].user_id) if found else None
    if found is None or principal is None:
        raise Unauthorized("未知或已停用的集成客户端 (unknown or inactive client)", code="unknown_client",
                           client_id=client_id or None)
    client, secret = found
    msg_id, stamp, signatures = (headers.get(h, "").strip() for h in
                                 ("webhook-id", "webhook-timestamp", "webhook-signature"))
    missing = [h for h, v in (("webhook-id", msg_id), ("webhook-timestamp", stamp), ("webhook-signature", signatures))
               if not v]
    if missing:
        raise Unauthorized("缺少签名头 (missing signature headers)", code="invalid_signature", missing=missing)
    sent_at = _timestamp(stamp)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Unauthorized("请求体不是 UTF-8 (body is not UTF-8)", code="invalid_signature") from None
    expected = base64.b64decode(Webhook(secret).sign(msg_id, sent_at, text).split(",", 1)[1])
    if not any(_matches(sig, expected) for sig in signatures.split()):
        raise Unauthorized("签名无效 (invalid signature)", code="invalid_signature")
    return SignedCaller(client.client_id, client.name, principal, msg_id)


def _timestamp(stamp: str) -> datetime:
    try:
        sent_at = datetime.fromtimestamp(int(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise TimestampOutOfRange("webhook-timestamp 必须是 Unix 秒 (must be Unix seconds)",
                                  webhook_timestamp=stamp[:40]) from None
    skew = abs((clock.now() - sent_at).total_seconds())
    if skew > TOLERANCE_S:
        raise TimestampOutOfRange("时间戳超出 ±5 分钟 (timestamp outside ±5 minutes)",
                                  webhook_timestamp=stamp, skew_s=int(skew), tolerance_s=TOLERANCE_S)
    return sent_at


def _matches(versioned: str, expected: bytes) -> bool:
    version, _, sig = versioned.partition(",")
    if version != "v1":
        return False
    try:
        return hmac.compare_digest(base64.b64decode(sig, validate=True), expected)
    except (binascii.Error, ValueError):
        return False


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header value for a body (used by clients, tests and docs)."""
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, tz=UTC), body)

"""Delivery providers. SMS is shaped like the common Chinese SMS APIs (Aliyun SendSms, Tencent SendSms): a sign
name (签名), a template code (模板) and template params, plus our `OutId` (the outbox key) for reconciliation.
Their send is not idempotent — a repeated request sends a second SMS — so the outbox decides, never a retry here.

Configuration (environment): `YGT_SMS_URL`, `YGT_SMS_SIGN_NAME` (default 医共体), `YGT_SMS_ACCESS_KEY`;
`YGT_PUSH_URL`, `YGT_PUSH_ACCESS_KEY`. Unset URL: the channel is not configured and messages wait.
"""
from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_S = 10
RETRYABLE_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "ServiceUnavailable", "isp.SYSTEM_ERROR",
                             "LimitExceeded", "InternalError"})


class Retryable(Exception):
    """Nothing was sent (the provider said so, or we never reached it): try again later."""


class Rejected(Exception):
    """The provider refused this message for good (bad number, template not approved)."""


class Uncertain(Exception):
    """The request left and no answer came back: it may have been sent. Never retried automatically."""


class NotConfigured(Retryable):
    pass


@dataclass
class HttpJsonProvider:
    url: str
    access_key: str = ""

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(self.url, data=json.dumps(payload, ensure_ascii=False).encode(),
                                         method="POST", headers={"Content-Type": "application/json",
                                                                 "X-Access-Key": self.access_key})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:            # an answer: the provider did not take it
            body = exc.read()
            try:
                return json.loads(body) | {"_http_status": exc.code}
            except ValueError:
                raise (Retryable if exc.code >= 500 or exc.code == 429 else Rejected)(
                    f"HTTP {exc.code}: {body[:200]!r}") from None
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise Retryable(f"provider unreachable: {exc}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (ConnectionRefusedError, socket.gaierror)):
                raise Retryable(f"provider unreachable: {exc.reason}") from None
            raise Uncertain(f"no answer from provider: {exc.reason}") from None
        except (TimeoutError, ConnectionResetError) as exc:
            raise Uncertain(f"no answer from provider: {exc}") from None


class SmsProvider(HttpJsonProvider):
    def __init__(self, url: str, *, sign_name: str, access_key: str = "") -> None:
        super().__init__(url, access_key)
        self.sign_name = sign_name

    def send(self, *, phone: str, template_code: str, params: dict[str, Any], out_id: str) -> str:
        """Send one templated SMS; the provider's message id (BizId)."""
        answer = self._post({"PhoneNumbers": phone, "SignName": self.sign_name, "TemplateCode": template_code,
                             "TemplateParam": json.dumps(params, ensure_ascii=False), "OutId": out_id})
        return _accepted(answer, id_field="BizId")


class PushProvider(HttpJsonProvider):
    def send(self, *, alias: str, template_code: str, params: dict[str, Any], out_id: str) -> str:
        """Push to the app installations registered under `alias` (our user id); the provider's message id."""
        answer = self._post({"Alias": alias, "TemplateCode": template_code, "Params": params, "OutId": out_id})
        return _accepted(answer, id_field="MessageId")


def _accepted(answer: dict[str, Any], *, id_field: str) -> str:
    code = answer.get("Code")
    if code == "OK":
        return str(answer.get(id_field) or "")
    message = f"{code}: {answer.get('Message', '')}"
    raise (Retryable if code in RETRYABLE_CODES or answer.get("_http_status", 200) >= 500 else Rejected)(message)


def sms() -> SmsProvider:
    url = os.environ.get("YGT_SMS_URL")
    if not url:
        raise NotConfigured("YGT_SMS_URL is not set")
    return SmsProvider(url, sign_name=os.environ.get("YGT_SMS_SIGN_NAME", "医共体"),
                       access_key=os.environ.get("YGT_SMS_ACCESS_KEY", ""))


def push() -> PushProvider:
    url = os.environ.get("YGT_PUSH_URL")
    if not url:
        raise NotConfigured("YGT_PUSH_URL is not set")
    return PushProvider(url, os.environ.get("YGT_PUSH_ACCESS_KEY", ""))

"""The venue QR code: a token that rotates every `qr_period_s` seconds, signed with the app secret so it cannot be
made up, bound to one session so it cannot be reused elsewhere, and useless once its window has passed."""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import datetime

import segno


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    code: str = ""           # sign_in_token_invalid | sign_in_token_expired
    window: int | None = None


def window_of(at: datetime, period_s: int) -> int:
    return int(at.timestamp()) // period_s


def _signature(secret: str, session_id: int, window: int) -> str:
    mac = hmac.new(secret.encode(), f"training-qr:{session_id}:{window}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac[:10]).decode().rstrip("=").lower()


def make_token(secret: str, session_id: int, at: datetime, period_s: int) -> tuple[str, int]:
    """The token shown at `at`, and the second (epoch) at which it rotates."""
    window = window_of(at, period_s)
    return f"{window}.{_signature(secret, session_id, window)}", (window + 1) * period_s


def check_token(secret: str, session_id: int, token: str, at: datetime, *, period_s: int, grace_s: int
                ) -> TokenCheck:
    """Valid when signed for this session and shown now (or rotated less than `grace_s` ago)."""
    try:
        window_text, signature = str(token).strip().split(".", 1)
        window = int(window_text)
    except ValueError:
        return TokenCheck(False, "sign_in_token_invalid")
    if not hmac.compare_digest(signature, _signature(secret, session_id, window)):
        return TokenCheck(False, "sign_in_token_invalid")
    now_s = at.timestamp()
    if window * period_s > now_s + 2:                       # from the future: a forged clock, not a scan
        return TokenCheck(False, "sign_in_token_invalid", window)
    if (window + 1) * period_s + grace_s < now_s:
        return TokenCheck(False, "sign_in_token_expired", window)
    return TokenCheck(True, "", window)


def svg(text: str) -> str:
    """The QR code of `text` as an SVG document (error correction M, a quiet zone of 4 modules)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=8, border=4, xmldecl=False, svgns=True, omitsize=True)
    return out.getvalue().decode()

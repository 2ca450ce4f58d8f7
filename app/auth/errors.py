"""Typed errors of authentication and access control (each carries its HTTP status and stable code)."""
from __future__ import annotations

from app.core.errors import Forbidden, Invalid, TooManyRequests, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class LoginThrottled(TooManyRequests):
    code = "login_throttled"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class InvalidRole(Invalid):
    code = "invalid_role"

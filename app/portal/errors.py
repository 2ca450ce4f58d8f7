"""The portal's stable error codes (the UI maps each to a sentence in Chinese)."""
from __future__ import annotations

from app.core.errors import DomainError, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized


class NotMatched(NotFound):
    """ID number and name name no resident (or disagree): one answer for both, so nothing is learnt by guessing."""
    code = "resident_not_matched"


class WrongCode(Invalid):
    code = "wrong_code"


class CodeExpired(Invalid):
    code = "code_expired"


class BindingLocked(TooManyRequests):
    """Five wrong codes: binding for this resident is locked until `locked_until`."""
    code = "binding_locked"


class SmsTooSoon(TooManyRequests):
    code = "sms_too_soon"


class NoPhoneOnFile(Invalid):
    code = "no_phone_on_file"


class SmsUnavailable(DomainError):
    status, code = 503, "sms_unavailable"


class PortalLoginRequired(Unauthorized):
    code = "portal_login_required"


class InvalidPortalToken(Unauthorized):
    code = "invalid_portal_token"


class ConsentRequired(Forbidden):
    """The resident has not (or no longer) consented to the portal processing their health data."""
    code = "consent_required"


class GuardianRequired(Invalid):
    code = "guardian_required"


class ProxyPending(Forbidden):
    code = "proxy_pending"


class ProxyNotAllowed(Forbidden):
    """A family member cannot manage consents or other family members: only the resident can."""
    code = "proxy_not_allowed"

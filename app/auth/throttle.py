"""Failed-login throttling: after MAX_FAILURES wrong passwords an account is locked for LOCK_FOR.

Known users keep the count in their row (shared by every web process). Unknown usernames are counted in this
process too, so the answer for a missing user looks the same as for a real one (no user enumeration by 429).
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from app.core import clock

from .errors import InvalidCredentials, LoginThrottled

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
WRONG = "用户名或密码错误 (invalid username or password)"
THROTTLED = "登录失败次数过多，请稍后再试 (too many failed logins)"
_unknown: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
_UNKNOWN_MAX = 10_000


def fail_user(user) -> Exception:
    """Count a wrong password for a known user; lock the account at the limit."""
    if user.locked_until and user.locked_until <= clock.now():      # a past lock: start counting afresh
        user.failed_login_count, user.locked_until = 0, None
    user.failed_login_count = (user.failed_login_count or 0) + 1
    if user.failed_login_count >= MAX_FAILURES:
        user.locked_until = clock.now() + LOCK_FOR
    return InvalidCredentials(WRONG)


def fail_unknown(username: str) -> Exception:
    """Count a failure for a username that does not exist (or is inactive), the same way."""
    count, locked_until = _unknown.pop(username, (0, None))
    if locked_until and locked_until > clock.now():
        _unknown[username] = (count, locked_until)
        return LoginThrottled(THROTTLED, retry_after=int((locked_until - clock.now()).total_seconds()) + 1)
    if locked_until:
        count = 0
    count += 1
    _unknown[username] = (count, clock.now() + LOCK_FOR if count >= MAX_FAILURES else None)
    while len(_unknown) > _UNKNOWN_MAX:
        _unknown.popitem(last=False)
    return InvalidCredentials(WRONG)


def locked(user) -> Exception:
    return LoginThrottled(THROTTLED, retry_after=int((user.locked_until - clock.now()).total_seconds()) + 1)

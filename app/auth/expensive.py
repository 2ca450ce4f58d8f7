"""Per-user rate limit on expensive endpoints (decision analysis, draft evaluation and validation).

Each user has a token bucket per endpoint group: `YGT_EXPENSIVE_BURST` calls at once (default 5), refilled at
`YGT_EXPENSIVE_RATE` per second (default 0.2: one every 5 s). Over the limit: 429 with the stable code
`rate_limited`. Buckets live in Redis when configured (shared by every web process); if Redis does not answer,
an in-process bucket limits the caller instead (the limit never turns into a 500).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import current_app
from redis.exceptions import RedisError

from app.core.errors import TooManyRequests
from app.core.ratelimit import RedisTokenBucket, TokenBucket

from .access import require_principal

F = TypeVar("F", bound=Callable)
_buckets: dict[str, RedisTokenBucket | TokenBucket] = {}


def _rate() -> tuple[float, float]:
    return float(os.environ.get("YGT_EXPENSIVE_RATE", "0.2")), float(os.environ.get("YGT_EXPENSIVE_BURST", "5"))


def _bucket(kind: str):
    if kind not in _buckets:
        rate, burst = _rate()
        url = current_app.config["YGT"].redis_url
        _buckets[kind] = RedisTokenBucket(url, rate, burst) if (kind == "redis" and url) else TokenBucket(rate, burst)
    return _buckets[kind]


def reset() -> None:
    """Forget every bucket (tests, and after changing the rate)."""
    for bucket in _buckets.values():
        try:
            bucket.reset()
        except (RedisError, OSError):
            pass
    _buckets.clear()


def take(user_id: int, group: str) -> None:
    """Take one token for the user in `group` or raise 429 `rate_limited`."""
    key = f"user:{user_id}:{group}"
    try:
        allowed = _bucket("redis").take(key)
    except (RedisError, OSError):
        allowed = _bucket("memory").take(key)
    if not allowed:
        rate, burst = _rate()
        raise TooManyRequests("操作过于频繁，请稍后重试 (rate limited)", code="rate_limited", group=group,
                              rate_per_s=rate, burst=burst)


def limited(group: str) -> Callable[[F], F]:
    """Decorate a view (after the role check) so each user may call it only at the expensive-endpoint rate."""
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            take(require_principal().user_id, group)
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorator

"""Per-client token buckets: in Redis when configured (shared by every web process), in-process otherwise.

Rate and burst come from `YGT_CLIENT_RATE` (tokens per second, default 20) and `YGT_CLIENT_BURST` (default 100).
"""
from __future__ import annotations

import os
import threading
import time

from flask import current_app
from redis import Redis

from app.core.errors import TooManyRequests

_LUA = """
local key, rate, burst, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', key, 'tokens', tokens, 'at', now)
redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
return {allowed, tostring(tokens)}
"""


class TokenBucket:
    """In-process buckets keyed by client id."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            allowed = tokens >= 1
            self._state[key] = (tokens - 1 if allowed else tokens, now)
            return allowed

    def reset(self) -> None:
        with self._lock:
            self._state.clear()


class RedisTokenBucket:
    def __init__(self, redis_url: str, rate: float, burst: float) -> None:
        self.redis = Redis.from_url(redis_url)
        self.rate, self.burst = rate, burst
        self._script = self.redis.register_script(_LUA)

    def take(self, key: str) -> bool:
        allowed, _ = self._script(keys=[f"ygt:ratelimit:{key}"], args=[self.rate, self.burst, time.time()])
        return bool(int(allowed))

    def reset(self) -> None:
        for key in self.redis.scan_iter("ygt:ratelimit:*"):
            self.redis.delete(key)


_bucket: TokenBucket | RedisTokenBucket | None = None


def configure(*, redis_url: str | None, rate: float | None = None,
              burst: float | None = None) -> TokenBucket | RedisTokenBucket:
    """(Re)build the limiter; tests call this to set a small burst."""
    global _bucket
    rate = rate if rate is not None else float(os.environ.get("YGT_CLIENT_RATE", "20"))
    burst = burst if burst is not None else float(os.environ.get("YGT_CLIENT_BURST", "100"))
    _bucket = RedisTokenBucket(redis_url, rate, burst) if redis_url else TokenBucket(rate, burst)
    return _bucket


def check(client_id: str) -> None:
    """Take one token for the client or raise 429 `rate_limited`."""
    bucket = _bucket
    if bucket is None:
        bucket = configure(redis_url=current_app.config["YGT"].redis_url)
    if not bucket.take(client_id):
        raise TooManyRequests("请求过于频繁，请稍后重试 (rate limited)", client_id=client_id,
                              rate_per_s=bucket.rate, burst=bucket.burst)

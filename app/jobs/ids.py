"""Job ids that every queue accepts.

rq (3.x) takes only letters, digits, `_` and `-` in a job id; callers build ids from names, ids and timestamps
(`screen-1-observation.create-7056`, `regrade-3-1764790000.123`). `job_id()` keeps a readable id when it is already
safe and short, and otherwise replaces the unsafe characters and appends a digest of the original, so two different
ids never become the same one.
"""
from __future__ import annotations

import hashlib
import re

SAFE = re.compile(r"[A-Za-z0-9_-]+")
MAX_LEN = 120


def job_id(*parts: object) -> str:
    """A queue-safe job id for `parts` joined by `-` (deterministic: the same parts give the same id)."""
    raw = "-".join(str(p) for p in parts)
    if not raw:
        raise ValueError("a job id needs at least one non-empty part")
    if SAFE.fullmatch(raw) and len(raw) <= MAX_LEN:
        return raw
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", raw)[:MAX_LEN - len(digest) - 1]
    return f"{readable}-{digest}"

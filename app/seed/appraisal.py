"""Demo appraisal (绩效考核): the default scheme of each institution type, and the current quarter computed once so
the 绩效考核 page opens on a ranking."""
from __future__ import annotations

from app.appraisal import schemes, services
from app.core import clock


def current_quarter() -> str:
    today = clock.today()
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def seed_appraisal() -> dict[str, int]:
    added = {"appraisal_schemes": schemes.ensure_defaults(), "appraisal_results": 0}
    period = current_quarter()
    for kind in schemes.KINDS:
        if services.stored(kind, period) is None:
            services.run(kind, period, by="系统")
            added["appraisal_results"] += 1
    return {k: v for k, v in added.items() if v}             # nothing on a second run

"""Background work of appraisal (see app/schedules.py and app/jobs/queue.py).

* `recompute_current` (schedule `appraisal.recompute_current`): the results of the periods still running are kept
  current — the current month of every type, and the current quarter and year of a type once someone has run them.
  Each recompute replaces the period's snapshot (`services.run`), so running it again is harmless; one job per day
  and period (job id) so a second scheduler tick while it runs is a no-op.
* `build_report`: the PDF (or xlsx) of every institution type for a period, built as an export job
  (app.reports.background) because the whole county's report takes tens of seconds.
"""
from __future__ import annotations

from typing import Any

from app.auth.services import principal_for_user_id
from app.core import clock
from app.core.errors import NotFound
from app.jobs.queue import enqueue
from app.reports.background import Progress

from . import queries, reports, schemes, services

SCHEDULER = "定时任务"


def running_periods() -> list[tuple[str, str]]:
    """(type, period) pairs to refresh today: the current month of each type, and the current quarter and year
    of each type that has a stored result for them."""
    today = clock.today()
    month = today.strftime("%Y-%m")
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    year = str(today.year)
    out = []
    for kind in schemes.KINDS:
        out.append((kind, month))
        out += [(kind, period) for period in (quarter, year) if services.stored(kind, period) is not None]
    return out


def recompute_current() -> int:
    """Schedule `appraisal.recompute_current`: queue the recompute of each running period (idempotent)."""
    pairs = running_periods()
    for kind, period in pairs:
        enqueue("app.appraisal.jobs.recompute", kind, period,
                job_id=f"appraisal-recompute-{kind}-{period}-{clock.today().isoformat()}", retries=1)
    return len(pairs)


def recompute(kind: str, period: str) -> None:
    """Recompute one type's period with the scheme in force (replaces its snapshot)."""
    services.run(kind, period, by=SCHEDULER)


def build_report(params: dict[str, Any], owner_id: int, progress: Progress) -> tuple[bytes, str, str]:
    """The report of every type (or one) for a period with the requester's scope: (content, filename, mime)."""
    p = principal_for_user_id(owner_id)
    if p is None:
        raise NotFound("申请人账号已停用", code="owner_inactive")
    kinds = [params["kind"]] if params.get("kind") else list(schemes.KINDS)
    found = []
    progress(0, len(kinds) + 1)
    for i, kind in enumerate(kinds):
        try:
            found.append(queries.result(p, kind=kind, period=params["period"]))
        except NotFound:
            pass
        progress(i + 1, len(kinds) + 1)
    if not found:
        raise NotFound("该考核期尚未计算, 请先运行考核", code="result_not_found", period=params["period"])
    if params.get("format") == "xlsx":
        return reports.workbook(found), f"appraisal-{params['period']}.xlsx", reports.MIME
    return reports.pdf(found, org_name=params.get("org_name") or ""), f"appraisal-{params['period']}.pdf", \
        reports.PDF_MIME

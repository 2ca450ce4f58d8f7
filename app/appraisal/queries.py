"""Read side of appraisal: a stored period result as the caller may see it. County-wide roles see every subject;
others the subjects in their own subtree (a township: itself, its villages and their teams), each with the rank it
holds among all its peers of the county."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.auth.principal import Principal
from app.core.db import session
from app.core.errors import NotFound

from . import schemes, services
from .models import AppraisalResult, AppraisalScheme


def visible(p: Principal, subject: dict[str, Any]) -> bool:
    return p.county_wide or (bool(p.org_path) and (subject.get("org_path") or "").startswith(p.org_path))


def describe(p: Principal, row: AppraisalResult) -> dict[str, Any]:
    items = [s for s in row.subjects if visible(p, s)]
    return {"kind": row.kind, "kind_label": schemes.KINDS[row.kind], "period": row.period,
            "scheme_version": row.scheme_version, "scheme_name": _scheme_name(row.scheme_id),
            "window_start": row.window_start, "window_end": row.window_end, "indicators": row.indicators,
            "peer_count": len(row.subjects), "subjects": items, "computed_by": row.computed_by,
            "computed_at": row.computed_at}


def _scheme_name(scheme_id: int) -> str:
    row = session().get(AppraisalScheme, scheme_id)
    return row.name if row else ""


def latest_period(kind: str | None = None) -> str:
    """The newest period computed (of one type, or of any), or NotFound."""
    stmt = select(AppraisalResult.period)
    if kind:
        stmt = stmt.where(AppraisalResult.kind == kind)
    found = session().scalars(stmt.order_by(AppraisalResult.computed_at.desc(), AppraisalResult.id.desc())
                              .limit(1)).first()
    if found is None:
        raise NotFound("尚未计算任何考核期, 请先运行考核", code="result_not_found", kind=kind)
    return found


def result(p: Principal, *, kind: str, period: str | None = None) -> dict[str, Any]:
    schemes.check_kind(kind)
    period = period or latest_period(kind)
    services.period_bounds(period)
    row = services.stored(kind, period)
    if row is None:
        raise NotFound("该考核期尚未计算, 请先运行考核", code="result_not_found", kind=kind, period=period)
    return describe(p, row)


def periods(p: Principal) -> list[dict[str, Any]]:
    """The periods computed, newest first, per type."""
    rows = session().execute(select(AppraisalResult.kind, AppraisalResult.period, AppraisalResult.scheme_version,
                                    AppraisalResult.computed_at).order_by(AppraisalResult.period.desc()))
    return [{"kind": k, "kind_label": schemes.KINDS.get(k, k), "period": per, "scheme_version": v,
             "computed_at": at} for k, per, v, at in rows]

"""Read side of screening: cases and the prevention (high-risk) list in the caller's scope, and the counts
supervisors need (flagged, verified, rejected, enrolled per disease, organization and period; referral flags)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, func, select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.org.scope import org_scope_filter
from app.residents.models import Resident
from app.residents.record_models import ReferralFlag
from app.vocabulary import Disease

from .models import ScreeningCase, ScreeningRun


def _day_start(day: date) -> datetime:
    return clock.start_of_day(day)


def case_dict(c: ScreeningCase, name: str | None = None) -> dict[str, Any]:
    return {"id": c.id, "resident_id": c.resident_id, "resident_name": name, "org_code": c.org_code,
            "township_code": c.township_code, "disease": c.disease, "disease_name": Disease.label_of(c.disease),
            "kind": c.kind, "track": c.track, "status": c.status, "open": c.open_key is not None,
            "evidence": c.evidence, "decision_id": c.decision_id, "reason": c.reason, "versions": c.versions,
            "referral_flag": c.referral_flag, "source": c.source, "run_id": c.run_id, "instance_id": c.instance_id,
            "flagged_at": c.flagged_at.isoformat(), "reject_reason": c.reject_reason,
            "closed_at": c.closed_at.isoformat() if c.closed_at else None}


def list_cases(p: Principal, *, disease: str | None = None, status: str | None = None, kind: str | None = None,
               track: str | None = None, open_only: bool = False, referral_flag: bool | None = None,
               org_code: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """Cases in the caller's scope, newest first, referral-flagged residents first."""
    query = select(ScreeningCase, Resident.name).join(Resident, Resident.id == ScreeningCase.resident_id).where(
        org_scope_filter(ScreeningCase.org_path, p))
    for column, value in ((ScreeningCase.disease, disease), (ScreeningCase.status, status),
                          (ScreeningCase.kind, kind), (ScreeningCase.track, track),
                          (ScreeningCase.referral_flag, referral_flag)):
        if value is not None:
            query = query.where(column == value)
    if open_only:
        query = query.where(ScreeningCase.open_key.is_not(None))
    if org_code:
        query = query.where((ScreeningCase.org_code == org_code) | (ScreeningCase.township_code == org_code))
    total = session().scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session().execute(query.order_by(ScreeningCase.referral_flag.desc(), ScreeningCase.id.desc())
                             .offset((page - 1) * per_page).limit(per_page)).all()
    return [case_dict(c, name) for c, name in rows], total


def high_risk(p: Principal, **filters) -> tuple[list[dict], int]:
    """The prevention list: open high-risk cases (prediabetes, high-normal BP with risk factors, …)."""
    return list_cases(p, track="prevention", open_only=True, **filters)


def stats(p: Principal, *, date_from: date | None = None, date_to: date | None = None,
          group_by: str = "township") -> dict[str, Any]:
    """Counts per disease and organization for cases flagged in [date_from, date_to] (local days, display time zone)."""
    org = {"township": ScreeningCase.township_code, "village": ScreeningCase.org_code}[group_by]
    where = [org_scope_filter(ScreeningCase.org_path, p), ScreeningCase.track != "prevention"]
    if date_from:
        where.append(ScreeningCase.flagged_at >= _day_start(date_from))
    if date_to:
        where.append(ScreeningCase.flagged_at < _day_start(date_to + timedelta(days=1)))

    def n(condition):
        return func.sum(case((condition, 1), else_=0)).cast(Integer)
    rows = session().execute(select(
        org.label("org_code"), ScreeningCase.disease,
        func.count().label("flagged"), n(ScreeningCase.verified_at.is_not(None)).label("verified"),
        n(ScreeningCase.status == "rejected").label("rejected"),
        n(ScreeningCase.status == "enrolled").label("enrolled"),
        n(ScreeningCase.open_key.is_not(None)).label("open"),
        n(ScreeningCase.referral_flag.is_(True)).label("referral_flagged"),
    ).where(*where).group_by(org, ScreeningCase.disease).order_by(org, ScreeningCase.disease)).all()
    items = [{"org_code": r.org_code, "disease": r.disease, "disease_name": Disease.label_of(r.disease),
              "flagged": r.flagged, "verified": r.verified or 0, "rejected": r.rejected or 0,
              "enrolled": r.enrolled or 0, "open": r.open or 0, "referral_flagged": r.referral_flagged or 0}
             for r in rows]
    totals = {k: sum(i[k] for i in items) for k in ("flagged", "verified", "rejected", "enrolled", "open",
                                                     "referral_flagged")}
    return {"group_by": group_by, "date_from": date_from.isoformat() if date_from else None,
            "date_to": date_to.isoformat() if date_to else None, "items": items, "totals": totals,
            "high_risk": _prevention_counts(p), "referral_flags": referral_flag_summary(p)}


def _prevention_counts(p: Principal) -> dict[str, int]:
    rows = session().execute(select(ScreeningCase.disease, func.count()).where(
        org_scope_filter(ScreeningCase.org_path, p), ScreeningCase.track == "prevention",
        ScreeningCase.open_key.is_not(None)).group_by(ScreeningCase.disease)).all()
    return {disease: count for disease, count in rows}


def referral_flag_summary(p: Principal) -> dict[str, Any]:
    """Two-way-referral patients in scope: how many per source, and how many have an open screening case."""
    scoped = and_(ReferralFlag.flagged.is_(True), Resident.id == ReferralFlag.resident_id,
                  org_scope_filter(Resident.org_path, p))
    per_source: dict[str, int] = {source: n for source, n in session().execute(
        select(ReferralFlag.source, func.count()).join(Resident, Resident.id == ReferralFlag.resident_id)
        .where(scoped).group_by(ReferralFlag.source)).all()}
    residents = session().scalar(select(func.count(func.distinct(ReferralFlag.resident_id))).join(
        Resident, Resident.id == ReferralFlag.resident_id).where(scoped)) or 0
    with_case = session().scalar(select(func.count(func.distinct(ScreeningCase.resident_id))).where(
        ScreeningCase.referral_flag.is_(True), ScreeningCase.open_key.is_not(None),
        org_scope_filter(ScreeningCase.org_path, p))) or 0
    return {"residents": residents, "by_source": per_source, "with_open_case": with_case}


def get_run(run_id: int) -> ScreeningRun | None:
    return session().get(ScreeningRun, run_id)


def stored_run(run_id: int) -> ScreeningRun:
    """The run; NotFound when there is none."""
    run = session().get(ScreeningRun, run_id)
    if run is None:
        raise NotFound("筛查批次不存在 (run not found)", run_id=run_id)
    return run


def list_runs(limit: int = 20) -> list[ScreeningRun]:
    return list(session().scalars(select(ScreeningRun).order_by(ScreeningRun.id.desc()).limit(limit)))

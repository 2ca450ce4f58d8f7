"""Rows the anticoagulant indicators count (wave2 §3.5; quality sources `anticoag_inr_tests`, `anticoag_patients`):
one row per INR test due in the window (done ≤ due + 3 d or not), one row per warfarin patient on treatment in the
window (last INR in range, TTR and its band, severe bleeding). Read-only; app.quality calls these."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from app.residents.models import Resident

from . import ttr as ttr_module
from .models import AnticoagEpisode, AnticoagEvent, AnticoagResult
from .services import ON_TIME_GRACE_DAYS


def _under(column, prefix: str):
    return column.startswith(prefix, autoescape=True)


def _names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session().execute(select(Resident.id, Resident.name).where(Resident.id.in_(sorted(ids))))
    return {rid: name for rid, name in rows}


def inr_test_rows(start: date, end: date, prefix: str) -> list[dict[str, Any]]:
    """INR tests due in [start, end]: each result whose due date falls in the window, and each active warfarin
    episode whose next INR fell due in the window and is more than 3 days overdue without a result (not on time)."""
    today = clock.today()
    done = list(session().execute(select(AnticoagResult, AnticoagEpisode.org_code).join(
        AnticoagEpisode, AnticoagEpisode.id == AnticoagResult.episode_id).where(
        _under(AnticoagResult.org_path, prefix), AnticoagResult.kind == "inr", AnticoagResult.due_on >= start,
        AnticoagResult.due_on <= end)))
    missed = list(session().scalars(select(AnticoagEpisode).where(
        _under(AnticoagEpisode.org_path, prefix), AnticoagEpisode.status == "active",
        AnticoagEpisode.drug == "warfarin", AnticoagEpisode.next_inr_due >= start, AnticoagEpisode.next_inr_due <= end,
        AnticoagEpisode.next_inr_due < today - timedelta(days=ON_TIME_GRACE_DAYS))))
    names = _names({r.resident_id for r, _ in done} | {e.resident_id for e in missed})
    rows = [{"key": f"ar{r.id}", "resident_id": r.resident_id, "resident_name": names.get(r.resident_id, ""),
             "org_path": r.org_path, "org_code": org, "doctor_id": None, "disease": None, "risk_level": None,
             "due_on": r.due_on, "done_on": r.measured_on, "on_time": bool(r.on_time), "source": r.source}
            for r, org in done]
    rows += [{"key": f"ae{e.id}:{e.next_inr_due}", "resident_id": e.resident_id,
              "resident_name": names.get(e.resident_id, ""), "org_path": e.org_path, "org_code": e.org_code,
              "doctor_id": None, "disease": None, "risk_level": None, "due_on": e.next_inr_due, "done_on": None,
              "on_time": False, "source": None} for e in missed]
    return rows


def patient_rows(start: date, end: date, prefix: str) -> list[dict[str, Any]]:
    """Warfarin (and DOAC/LMWH) patients on treatment in [start, end]: one row per episode."""
    lo, hi = clock.start_of_day(start), clock.start_of_day(end + timedelta(days=1))
    episodes = list(session().scalars(select(AnticoagEpisode).where(
        _under(AnticoagEpisode.org_path, prefix), AnticoagEpisode.started_on <= end,
        (AnticoagEpisode.status == "active") | (AnticoagEpisode.updated_at >= lo))))
    names = _names({e.resident_id for e in episodes})
    rows = []
    for e in episodes:
        inrs = list(session().scalars(select(AnticoagResult).where(
            AnticoagResult.episode_id == e.id, AnticoagResult.kind == "inr", AnticoagResult.measured_on <= end)
            .order_by(AnticoagResult.measured_on, AnticoagResult.id)))
        in_window = [r for r in inrs if r.measured_on >= start]
        value = None
        if e.drug == "warfarin" and e.target_lo is not None and e.target_hi is not None:
            value = ttr_module.rosendaal([(r.measured_on, r.value) for r in inrs], e.target_lo, e.target_hi).ttr
        bleeds = session().scalars(select(AnticoagEvent.id).where(
            AnticoagEvent.episode_id == e.id, AnticoagEvent.kind == "bleeding", AnticoagEvent.at >= lo,
            AnticoagEvent.at < hi)).first()
        rows.append({"key": f"ep{e.id}", "resident_id": e.resident_id, "resident_name": names.get(e.resident_id, ""),
                     "org_path": e.org_path, "org_code": e.org_code, "doctor_id": None, "disease": None,
                     "risk_level": None, "drug": e.drug, "warfarin": e.drug == "warfarin",
                     "has_inr_in_window": bool(in_window),
                     "last_inr_in_range": bool(in_window and in_window[-1].in_range),
                     "ttr": value, "ttr_band": ttr_module.band(value) if value is not None else None,
                     "bleeding_major": bleeds is not None})
    return rows

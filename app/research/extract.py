"""Build a project's de-identified extract: one row per cohort member, only the approved variables, identifiers
replaced by the project's pseudonym, dates shifted or generalised, ages banded, small cells suppressed.

The rows are read in batches of residents; the only things that leave this module are de-identified values."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from app.follow_up.models import FollowUpVisit
from app.org.models import Organization
from app.residents.models import Resident
from app.residents.record_models import Condition, DiseaseEnrolment, Observation, RiskLevel
from app.vocabulary import Disease
from app.vocabulary import RiskLevel as RiskGrade

from . import deidentify
from .criteria import DATE_VARIABLES, VARIABLES, variable_label

BATCH = 500
NOTE_KEYS = ("note", "notes", "remark", "remarks", "advice")


def _townships() -> dict[str, str]:
    """Township name of every org path prefix /C/T/ (villages are generalised to their township)."""
    rows = session().execute(select(Organization.path, Organization.name).where(Organization.level == "township"))
    return {path: name for path, name in rows}


def _township_of(org_path: str, townships: dict[str, str]) -> str | None:
    parts = [p for p in org_path.split("/") if p]
    return townships.get("/" + "/".join(parts[:2]) + "/") if len(parts) >= 2 else None


def _notes(record: dict[str, Any] | None) -> str | None:
    found: list[str] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, str) and key.lower() in NOTE_KEYS and value.strip():
            found.append(value.strip())
    walk(record or {})
    return "；".join(found) or None


def _facts(ids: list[int], until: date | None = None) -> dict[int, dict[str, Any]]:
    """What the variables are computed from, per resident of the batch (`until`: only what happened by that day,
    for a refreshed extract with data up to a date)."""
    facts: dict[int, dict[str, Any]] = {i: {"diseases": [], "diagnoses": set(), "enrolled": [], "risks": [],
                                            "visits": [], "obs": defaultdict(list)} for i in ids}
    s = session()
    for e in s.scalars(select(DiseaseEnrolment).where(DiseaseEnrolment.resident_id.in_(ids))):
        if until is not None and clock.date_of(e.enrolled_at) > until:
            continue
        facts[e.resident_id]["diseases"].append(e.disease)
        facts[e.resident_id]["diagnoses"].add(e.icd10[:3])
        facts[e.resident_id]["enrolled"].append(clock.date_of(e.enrolled_at))
    for c in s.scalars(select(Condition).where(Condition.resident_id.in_(ids), Condition.status != "refuted")):
        facts[c.resident_id]["diagnoses"].add(c.icd10[:3])
    for r in s.scalars(select(RiskLevel).where(RiskLevel.resident_id.in_(ids))):
        facts[r.resident_id]["risks"].append(r.level)
    for v in s.scalars(select(FollowUpVisit).where(FollowUpVisit.resident_id.in_(ids), FollowUpVisit.status == "done")
                       .order_by(FollowUpVisit.visited_on, FollowUpVisit.id)):
        if until is not None and v.visited_on is not None and v.visited_on > until:
            continue
        facts[v.resident_id]["visits"].append(v)
    for o in s.scalars(select(Observation).where(Observation.resident_id.in_(ids), Observation.value_num.is_not(None))
                       .order_by(Observation.effective_at, Observation.id)):
        if until is not None and clock.date_of(o.effective_at) > until:
            continue
        facts[o.resident_id]["obs"][o.code].append(o.value_num)
    return facts


def _risk(levels: list[str | None]) -> str | None:
    graded = [lv for lv in levels if lv]
    return RiskGrade.label_of(max(graded, key=RiskGrade.rank_of)) if graded else None


def _value(var: str, resident: Resident, f: dict[str, Any], townships: dict[str, str], on: date,
           free_text: bool) -> Any:
    visits = f["visits"]
    simple = {
        "sex": lambda: resident.sex,
        "age_band": lambda: deidentify.age_band(clock.age(resident.birth_date, on)),
        "township": lambda: _township_of(resident.org_path, townships),
        "diseases": lambda: "；".join(Disease.label_of(d, d) for d in sorted(f["diseases"])) or None,
        "diagnoses": lambda: "；".join(sorted(f["diagnoses"])) or None,
        "enrolled_on": lambda: min(f["enrolled"]) if f["enrolled"] else None,
        "risk_level": lambda: _risk(f["risks"]),
        "follow_up_count": lambda: len(visits),
        "last_follow_up_on": lambda: visits[-1].visited_on if visits else None,
        "visit_notes": lambda: _notes(visits[-1].record) if visits and free_text else None,
    }
    if var in simple:
        return simple[var]()
    stat, _, code = var.partition(":")
    values = f["obs"].get(code, [])
    if stat == "obs_count":
        return len(values)
    if not values:
        return None
    return round(values[-1] if stat == "obs_last" else sum(values) / len(values), 2)


def build_rows(resident_ids: list[int], variables: list[str], *, secret: str, date_mode: str, shift_days: int,
               free_text: bool, until: date | None = None) -> list[dict[str, Any]]:
    """The pseudonymised rows (before suppression): `pid` plus one key per variable; `until`: data up to that day
    (ages on it), else everything to today."""
    townships, on, out = _townships(), until or clock.today(), []
    wanted = [v for v in variables if free_text or not VARIABLES.get(v, ("", "", False))[2]]
    for start in range(0, len(resident_ids), BATCH):
        ids = resident_ids[start:start + BATCH]
        facts = _facts(ids, until)
        for resident in session().scalars(select(Resident).where(Resident.id.in_(ids)).order_by(Resident.id)):
            offset = deidentify.date_offset(secret, resident.id, shift_days)
            row: dict[str, Any] = {"pid": deidentify.pseudonym(secret, resident.id)}
            for var in wanted:
                value = _value(var, resident, facts[resident.id], townships, on, free_text)
                if var in DATE_VARIABLES:
                    value = deidentify.generalise_date(value, mode=date_mode, offset=offset)
                row[var] = value
            out.append(row)
    return out


def columns(variables: list[str], free_text: bool) -> list[dict[str, str]]:
    wanted = [v for v in variables if free_text or not VARIABLES.get(v, ("", "", False))[2]]
    return [{"id": "pid", "label": "研究编号"}] + [{"id": v, "label": variable_label(v)} for v in wanted]


def quasi_identifiers(variables: list[str]) -> list[str]:
    return [q for q in deidentify.QUASI_IDENTIFIERS if q in variables]

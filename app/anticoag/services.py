"""Use cases of anticoagulant monitoring (`anticoag_monitoring`, wave2 §3.2), one episode per patient and drug.

    on_prescription_released(...)     # pre-review passed: start (or continue) the episode and its process
    on_facts_recorded(...)            # an INR / creatinine from the LIS, a new medicine: into the episode
    record_result(episode_id, ...)    # one INR (or CrCl, platelets) graded through warfarin_inr / the dose tables

The schedule of checks is the DMN table `monitoring_plan` (R7); warfarin results go through `warfarin_inr` (T14);
bleeding or INR ≥ 4.5 raise an emergency referral through `app.referral`'s public service; a CrCl that moves the
DOAC/LMWH dose band (T16/T18) asks a pharmacist; a new interacting drug (T15) asks a pharmacist to intervene.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.auth.crypto import decrypt_field
from app.auth.models import User, UserRole
from app.auth.principal import SYSTEM
from app.core import clock, logs
from app.core.db import session
from app.core.errors import Invalid, NotFound
from app.decisions import services as decisions
from app.notifications.services import notify
from app.org.queries import find_org, township_of
from app.referral import services as referral
from app.residents import intake
from app.residents import queries as residents
from app.vocabulary import drugs as catalogue
from app.workflows import runner
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask, MessageSubscription

from .models import AnticoagEpisode, AnticoagEvent, AnticoagResult
from .ttr import check_inr, rosendaal

log = logs.get("anticoag")
PROCESS = "anticoag_monitoring"
SOURCE = "抗凝监测"                     # the record's source name of results entered on the monitoring form
DRUGS = ("warfarin", "rivaroxaban", "enoxaparin", "nadroparin")
LMWH = ("enoxaparin", "nadroparin")
INR, SCR, PLT = "6301-6", "2160-0", "777-3"
URGENT_INR = 4.5                       # wave2 §3.2 step 3: bleeding or INR ≥ 4.5 → urgent path
ON_TIME_GRACE_DAYS = 3                 # INR 监测及时率: done ≤ due + 3 d; past it the check is overdue (wave2 §3.2)
ESCALATE_AFTER_DAYS = 7                # overdue this long: the round passes to the township doctor (★5 chain) [P]
COSIGN_CHANGE_PCT = 20.0               # a warfarin weekly dose change above this needs a pharmacist's co-sign [P]
REMIND_DAYS_BEFORE = 2
WARFARIN_INDICATION = {"NVAF": "NVAF", "VTE_TREATMENT": "VTE", "DVT_TREATMENT": "VTE", "VTE": "VTE",
                       "MECHANICAL_VALVE": "MECHANICAL_VALVE", "BIOPROSTHETIC_VALVE": "BIOPROSTHETIC_VALVE"}
DEFAULT_TARGET = {"MECHANICAL_VALVE": (1.8, 2.5)}          # Chinese consensus lower valve target; else 2.0–3.0
URGENT_ACTIONS = ("STOP_VITK_PCC_FFP_EMERGENCY", "STOP_VITK_HIGH", "STOP_VITK_LOW")
DOSE_ACTIONS = ("INCREASE_5_20PCT_RECHECK_1W", "REDUCE_5_20PCT_OR_OMIT_1_RECHECK_1_2D", "STOP_RECHECK")
ACTION_LABELS = {
    "MAINTAIN": "维持原剂量", "NO_CHANGE_RECHECK_1_2W": "不调剂量，查找原因，1–2周复查",
    "INCREASE_5_20PCT_RECHECK_1W": "每周剂量增加5–20%，约1周复查",
    "REDUCE_5_20PCT_OR_OMIT_1_RECHECK_1_2D": "每周剂量减少5–20%或停服1次，1–2天复查",
    "STOP_RECHECK": "暂停华法林并复查", "STOP_VITK_LOW": "停药，维生素K1 1.0–2.5 mg，6–12小时复查",
    "STOP_VITK_HIGH": "停药，维生素K1 5 mg 肌注，6–12小时复查",
    "STOP_VITK_PCC_FFP_EMERGENCY": "停药，维生素K1 + PCC/新鲜冰冻血浆，紧急转诊"}
KIND_LABELS = {"inr": "INR", "crcl": "肾功能（肌酐/CrCl）", "plt": "血小板"}
BLEEDING_LABELS = {"none": "无", "minor": "轻微出血", "major": "严重出血"}
_patient_reminders: list[Callable[[int, str], bool]] = []
FREQ_WORDS = {"qd": "每日1次", "bid": "每日2次", "tid": "每日3次"}
BAND_WORDS = {"NOT_RECOMMENDED": "不推荐使用", "NOT_RECOMMENDED_EU_CN": "不推荐使用", "CONTRAINDICATED": "禁用"}
_BAND_PART = re.compile(r"^(\d+(?:\.\d+)?)mg_(qd|bid|tid)(?:_day(\d+)_(\d+))?(_caution)?$")


def band_label(band: str | None) -> str | None:
    """The dose band of the dose tables (T16/T18) in words: '15mg_qd' → '15 mg 每日1次',
    '15mg_bid_day1_21_then_20mg_qd' → '15 mg 每日2次（第1–21天），之后 20 mg 每日1次'; unknown bands unchanged."""
    if band is None:
        return None
    if band in BAND_WORDS:
        return BAND_WORDS[band]
    words = []
    for part in band.split(" ")[0].split("_then_"):
        m = _BAND_PART.match(part)
        if m is None:
            return band
        mg, freq, d1, d2, caution = m.groups()
        text = f"{mg} mg {FREQ_WORDS[freq]}"
        if d1:
            text += f"（第{d1}–{d2}天）"
        if caution:
            text += "（慎用）"
        words.append(text)
    return "，之后 ".join(words)


def patient_reminder(fn: Callable[[int, str], bool]) -> Callable[[int, str], bool]:
    """Register `fn(resident_id, text) -> sent`: remind the patient (the SMS connector, under the patient's
    reminder consent for SMS, is plugged in by app.wiring)."""
    _patient_reminders.append(fn)
    return fn


def resident_phone(resident_id: int) -> str | None:
    resident = residents.get_resident(resident_id, SYSTEM)
    return decrypt_field(resident.phone_encrypted) if resident is not None and resident.phone_encrypted else None


def drug_name(drug: str) -> str:
    entry = catalogue.find(drug)
    return entry["name_zh"] if entry else drug


# -- episodes --------------------------------------------------------------------------------------------------------

def active_episode(resident_id: int, drug: str) -> AnticoagEpisode | None:
    return session().scalars(select(AnticoagEpisode).where(
        AnticoagEpisode.resident_id == resident_id, AnticoagEpisode.drug == drug,
        AnticoagEpisode.status == "active").order_by(AnticoagEpisode.id.desc())).first()


def active_episodes(resident_id: int) -> list[AnticoagEpisode]:
    return list(session().scalars(select(AnticoagEpisode).where(
        AnticoagEpisode.resident_id == resident_id, AnticoagEpisode.status == "active").order_by(AnticoagEpisode.id)))


def _weekly(dose_mg: float | None, frequency: str | None) -> float | None:
    per_day = {"qd": 1, "q24h": 1, "qn": 1, "bid": 2, "q12h": 2, "tid": 3, "q8h": 3}.get(frequency or "qd")
    return round(dose_mg * per_day * 7, 2) if dose_mg is not None and per_day else None


def _target(indication: str, clinical: dict[str, Any]) -> tuple[float, float]:
    given = clinical.get("target_inr")
    if isinstance(given, (list, tuple)) and len(given) == 2:
        return float(given[0]), float(given[1])
    return DEFAULT_TARGET.get(WARFARIN_INDICATION.get(indication, "OTHER"), (2.0, 3.0))


def _dose_label(drug: str, indication: str, crcl: float | None, weight_kg: float | None,
                dose_mg: float | None) -> str | None:
    """The dose band of a DOAC/LMWH at this CrCl (T16/T18 through the DMN pack), or None when not computable."""
    if crcl is None:
        return None
    if drug == "rivaroxaban":
        inputs: dict[str, Any] = {"indication": indication, "crcl_ml_min": crcl}
    elif drug == "enoxaparin":
        inputs = {"indication": indication, "crcl_ml_min": crcl, "weight_kg": weight_kg}
    elif drug == "nadroparin":
        inputs = {"indication": indication, "crcl_ml_min": crcl, "standard_dose": f"{float(dose_mg or 0):g}mg"}
    else:
        return None
    try:
        return decisions.evaluate(f"{drug}_dose", inputs)["outputs"].get("dose")
    except Invalid as exc:
        log.warning("dose band not computable", extra={"status": exc.code})
        return None


def on_prescription_released(*, resident_id: int, prescription_id: int, org_code: str, items: list[dict[str, Any]],
                             indication: str, clinical: dict[str, Any], actor: str, **_: Any) -> None:
    """A supervised prescription passed pre-review (event `hooks.PRESCRIPTION_RELEASED`, in its transaction):
    each supervised drug on it starts an episode (and its `anticoag_monitoring` instance) or updates the one open."""
    for line in items:
        drug = line.get("drug")
        if drug not in DRUGS:
            continue
        episode = active_episode(resident_id, drug)
        if episode is None:
            start_episode(resident_id=resident_id, drug=drug, indication=indication, line=line, clinical=clinical,
                          prescriber_org_code=org_code, prescription_id=prescription_id)
        else:
            _update_dose(episode, line, prescription_id=prescription_id, actor=actor)


def _update_dose(episode: AnticoagEpisode, line: dict[str, Any], *, prescription_id: int | None, actor: str) -> None:
    dose, freq = float(line.get("dose_mg") or 0) or None, line.get("frequency")
    changed = (dose, freq) != (episode.dose_mg, episode.frequency)
    episode.prescription_id = prescription_id or episode.prescription_id
    if changed:
        _event(episode, "dose_adjusted", actor=actor, before={"dose_mg": episode.dose_mg, "frequency": episode.frequency},
               after={"dose_mg": dose, "frequency": freq}, prescription_id=prescription_id)
        episode.dose_mg, episode.frequency = dose, freq
        episode.weekly_dose_mg = _weekly(dose, freq)
        if episode.drug == "warfarin":
            episode.phase = "dose_changed"
    episode.updated_at = clock.now()


def start_episode(*, resident_id: int, drug: str, indication: str, line: dict[str, Any], clinical: dict[str, Any],
                  prescriber_org_code: str, prescription_id: int | None = None,
                  started_on: date | None = None) -> AnticoagEpisode:
    """A new episode with its monitoring process (422 when the drug is not supervised, 409 when not deployed)."""
    if drug not in DRUGS:
        raise Invalid("不是需监测的抗凝药 (not a monitored anticoagulant)", code="not_monitored", drug=drug)
    s = session()
    resident = residents.get_resident(resident_id, SYSTEM)
    if resident is None:
        raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
    org = find_org(resident.org_code)
    lo, hi = _target(indication, clinical) if drug == "warfarin" else (None, None)
    dose = float(line.get("dose_mg") or 0) or None
    crcl = clinical.get("crcl_for_dosing") or clinical.get("crcl_ml_min")
    now = clock.now()
    episode = AnticoagEpisode(
        resident_id=resident_id, drug=drug, indication=indication, target_lo=lo, target_hi=hi,
        org_code=resident.org_code, org_path=org.path if org else resident.org_code,
        prescriber_org_code=prescriber_org_code, prescription_id=prescription_id, status="active",
        phase="initiation", dose_mg=dose, frequency=line.get("frequency"),
        weekly_dose_mg=_weekly(dose, line.get("frequency")), crcl_ml_min=float(crcl) if crcl is not None else None,
        weight_kg=clinical.get("weight_kg"), started_on=started_on or clock.today(), created_at=now, updated_at=now)
    episode.dose_band = _dose_label(drug, indication, episode.crcl_ml_min, episode.weight_kg, dose)
    s.add(episode)
    s.flush()
    _event(episode, "started", actor="system", prescription_id=prescription_id, dose_mg=dose,
           frequency=line.get("frequency"), weekly_dose_mg=episode.weekly_dose_mg)
    if PROCESS not in latest_process_versions(s):
        # the prescription is released all the same; the episode is kept (and shown) and the gap is logged loudly
        _event(episode, "not_scheduled", actor="system", reason="anticoag_monitoring is not deployed")
        log.error("anticoag_monitoring not deployed: episode kept without schedule",
                  extra={"status": "process_not_deployed"})
        return episode
    township = township_of(resident.org_code)
    county = (org.path.split("/")[1] if org and org.path.count("/") > 1 else resident.org_code) if org else None
    inst = runner.start_instance(PROCESS, actor=runner.Actor("system"), data={
        "episode_id": episode.id, "drug": drug, "drug_name": drug_name(drug), "resident_name": resident.name,
        "entry_org": resident.org_code, "township_org": township.code if township else resident.org_code,
        "review_org": _county_of(org.path if org else resident.org_code) or county or resident.org_code,
        "graded": {}, "interaction": {}, "lis": {}, "agreed_on": None},
        resident_id=resident_id, org_code=resident.org_code, business_key=f"anticoag:{episode.id}")
    episode.instance_id = inst.id
    return episode


def _county_of(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[0] if parts else None


def _event(episode: AnticoagEpisode, kind: str, *, actor: str, **detail: Any) -> AnticoagEvent:
    row = AnticoagEvent(episode_id=episode.id, resident_id=episode.resident_id, org_path=episode.org_path, kind=kind,
                        detail=detail, actor=actor, at=clock.now())
    session().add(row)
    return row


def _locked(episode_id: int) -> AnticoagEpisode:
    row = session().scalars(select(AnticoagEpisode).where(AnticoagEpisode.id == episode_id).with_for_update()).first()
    if row is None:
        raise NotFound("抗凝监测不存在 (episode not found)", code="episode_not_found", episode_id=episode_id)
    return row


# -- the plan (R7) -----------------------------------------------------------------------------------------------

def _inrs(episode_id: int) -> list[AnticoagResult]:
    return list(session().scalars(select(AnticoagResult).where(
        AnticoagResult.episode_id == episode_id, AnticoagResult.kind == "inr")
        .order_by(AnticoagResult.measured_on, AnticoagResult.id)))


def _previously_stable(inrs: list[AnticoagResult]) -> bool:
    """≥ 3 consecutive in-range INRs spanning ≥ 4 weeks (T14 note)."""
    last = inrs[-3:]
    return (len(last) == 3 and all(r.in_range for r in last)
            and (last[-1].measured_on - last[0].measured_on).days >= 28)


def _due_at(day: date) -> datetime:
    """09:00 local on that day."""
    return clock.assume_local(datetime.combine(day, time(9, 0)))


def plan(episode_id: int, agreed_on: str | None = None) -> dict[str, Any]:
    """The next INR / renal / platelet dates from `monitoring_plan` (R7), stored on the episode; the entry task is
    due on the earliest, the reminder goes out two days before it, it is overdue three days after and passes to the
    township doctor seven days after. `agreed_on` (the township doctor's answer to an overdue check: the date agreed
    with the patient) is the new due date of the checks that were overdue."""
    episode = _locked(episode_id)
    today = clock.today()
    pending = {k for k, d in (("inr", episode.next_inr_due), ("crcl", episode.next_renal_due),
                              ("plt", episode.next_platelet_due)) if d is not None and d <= today}
    inrs = _inrs(episode.id)
    if episode.drug == "warfarin" and inrs and episode.phase != "dose_changed":
        episode.phase = "stable" if _previously_stable(inrs) else "initiation"
    last = inrs[-1] if inrs else None
    out = decisions.evaluate("monitoring_plan", {
        "drug": episode.drug, "phase": episode.phase,
        "inr_above_range": bool(last and episode.target_hi is not None and last.value > episode.target_hi),
        "crcl_ml_min": episode.crcl_ml_min, "therapy_day": (today - episode.started_on).days})["outputs"]
    base = last.measured_on if (last and episode.drug == "warfarin") else today

    def due(days: Any, since: date) -> date | None:
        return None if days is None else max(since + timedelta(days=int(days)), today)
    if episode.drug == "warfarin":
        episode.next_inr_due = today if last is None else due(out.get("inr_days"), base)
    episode.next_renal_due = due(out.get("renal_days"), today)
    episode.next_platelet_due = due(out.get("platelet_days"), today)
    if agreed_on:
        agreed = max(date.fromisoformat(agreed_on), today)
        for kind in pending:
            setattr(episode, DUE_FIELDS[kind], agreed)
    dues = {k: d for k, d in (("inr", episode.next_inr_due), ("crcl", episode.next_renal_due),
                                ("plt", episode.next_platelet_due)) if d is not None}
    next_due = min(dues.values()) if dues else today + timedelta(days=28)
    kinds = [k for k, d in dues.items() if d == next_due] or ["inr" if episode.drug == "warfarin" else "crcl"]
    episode.updated_at = clock.now()
    remind_on = max(next_due - timedelta(days=REMIND_DAYS_BEFORE), today)
    return {"next_due": next_due.isoformat(), "due_at": _due_at(next_due).isoformat(),
            "remind_at": max(_due_at(remind_on), clock.now() + timedelta(minutes=1)).isoformat(),
            "overdue_at": _due_at(next_due + timedelta(days=ON_TIME_GRACE_DAYS)).isoformat(),
            "escalate_at": _due_at(next_due + timedelta(days=ESCALATE_AFTER_DAYS)).isoformat(),
            "kinds": kinds, "kinds_text": "、".join(KIND_LABELS[k] for k in kinds),
            "phase": episode.phase, "due_text": f"{next_due.month}月{next_due.day}日"}


# -- results ---------------------------------------------------------------------------------------------------------

DUE_FIELDS = {"inr": "next_inr_due", "crcl": "next_renal_due", "plt": "next_platelet_due"}


def _due_for(episode: AnticoagEpisode, kind: str) -> date | None:
    return getattr(episode, DUE_FIELDS[kind])


def grade_inr(episode: AnticoagEpisode, inr: float, bleeding: str) -> dict[str, Any]:
    """`warfarin_inr` (T14) for this INR: the action and the path (urgent | dose | routine)."""
    inrs = _inrs(episode.id)
    result = decisions.evaluate("warfarin_inr", {
        "indication": WARFARIN_INDICATION.get(episode.indication, "OTHER"), "bleeding": bleeding, "inr": inr,
        "target_inr": [episode.target_lo or 2.0, episode.target_hi or 3.0],
        "previously_stable": _previously_stable(inrs)})
    action = result["outputs"].get("action")
    urgent = bleeding == "major" or inr >= URGENT_INR or action in URGENT_ACTIONS
    path = "urgent" if urgent else ("dose" if action in DOSE_ACTIONS else "routine")
    return {"action": action, "path": path, "rule_version": result["versions"].get("warfarin_inr"),
            "reason": result.get("reason") or ""}


def record_result(episode_id: int, *, kind: str, value: float, measured_on: date, source: str, recorded_by: str,
                  source_key: str, bleeding: str = "none", detail: dict[str, Any] | None = None,
                  to_record: bool = False) -> dict[str, Any]:
    """One result into the episode, graded (idempotent on `source_key`): `{result_id, path, text, …}`.
    An INR outside 0.5–20 is refused (422 `implausible_inr`), never graded. `to_record` also files an INR or
    creatinine entered on the form into the health record (through the one intake)."""
    found = session().scalars(select(AnticoagResult).where(AnticoagResult.source_key == source_key)).first()
    if found is not None:
        return _answer(found)
    if kind == "inr":
        value = check_inr(value)
    if bleeding not in BLEEDING_LABELS:
        raise Invalid("出血情况无效", code="validation_error", field="bleeding", allowed=list(BLEEDING_LABELS))
    episode = _locked(episode_id)
    due = _due_for(episode, kind)
    extra = dict(detail or {})
    graded: dict[str, Any] = {"action": None, "path": "routine"}
    in_range = None
    if kind == "inr" and episode.drug == "warfarin":
        graded = grade_inr(episode, value, bleeding)
        in_range = (episode.target_lo or 2.0) <= value <= (episode.target_hi or 3.0)
    elif kind == "inr" and bleeding == "major":
        graded = {"action": None, "path": "urgent"}
    elif kind == "crcl":
        graded = _renal_recheck(episode, value, extra)
    elif bleeding == "major":
        graded = {"action": None, "path": "urgent"}
    row = AnticoagResult(
        source_key=source_key, episode_id=episode.id, resident_id=episode.resident_id, org_path=episode.org_path,
        kind=kind, value=value, measured_on=measured_on, due_on=due,
        on_time=None if due is None else measured_on <= due + timedelta(days=ON_TIME_GRACE_DAYS), in_range=in_range,
        bleeding=bleeding, action=graded.get("action"), source=source, recorded_by=recorded_by,
        detail={**extra, **{k: v for k, v in graded.items() if k not in ("action",)}}, created_at=clock.now())
    session().add(row)
    session().flush()
    if to_record and kind in ("inr", "crcl"):
        code, unit, raw = (INR, "{INR}", value) if kind == "inr" else (SCR, "umol/L", extra.get("scr_umol_l"))
        if raw is not None:
            intake.submit(episode.resident_id, [intake.ObservationFact(
                code=code, value=float(raw), unit=unit, client_id=f"anticoag:{source_key}"[:80],
                effective_at=clock.assume_local(datetime.combine(measured_on, time(8, 0))))],
                source=SOURCE, actor=recorded_by, rescreen=False)
    if bleeding == "major":
        _event(episode, "bleeding", actor=recorded_by, result_id=row.id, site=extra.get("bleeding_site"))
    return _answer(row)


def _renal_recheck(episode: AnticoagEpisode, crcl: float, extra: dict[str, Any]) -> dict[str, Any]:
    """DOAC/LMWH: the new CrCl's dose band (T16/T18); a band change is a pharmacist's dose review."""
    before = episode.dose_band
    band = _dose_label(episode.drug, episode.indication, crcl, episode.weight_kg, episode.dose_mg)
    extra.update(crcl_before=episode.crcl_ml_min, band_before=before, band_after=band)
    episode.crcl_ml_min, episode.updated_at = crcl, clock.now()
    if band is not None and before is not None and band != before:
        episode.dose_band = band
        return {"action": None, "path": "renal_review", "band_before": before, "band_after": band}
    if band is not None:
        episode.dose_band = band
    return {"action": None, "path": "routine"}


def _answer(row: AnticoagResult) -> dict[str, Any]:
    path = (row.detail or {}).get("path", "routine")
    if row.kind == "inr":
        text = f"INR {row.value:g}（{row.measured_on.isoformat()}）"
        if row.bleeding != "none":
            text += f"，{BLEEDING_LABELS[row.bleeding]}"
        if row.action:
            text += f"：{ACTION_LABELS.get(row.action, row.action)}"
    elif row.kind == "crcl":
        d = row.detail or {}
        text = f"CrCl {row.value:.0f} mL/min（{row.measured_on.isoformat()}）"
        if path == "renal_review":
            text += (f"，按剂量表剂量由 {band_label(d.get('band_before'))} 变为 {band_label(d.get('band_after'))}，"
                     "请药师复核剂量")
    else:
        text = f"血小板 {row.value:g}×10⁹/L（{row.measured_on.isoformat()}）"
    return {"result_id": row.id, "kind": row.kind, "value": row.value, "path": path, "action": row.action,
            "text": text, "bleeding": row.bleeding, "band_after": (row.detail or {}).get("band_after")}


def record_entry(episode_id: int, *, idempotency_key: str, entry: dict[str, Any], recorded_by: str) -> dict[str, Any]:
    """The monitoring form (F3.3): the INR (warfarin) or Scr/CrCl and platelets (DOAC/LMWH); the worst path wins."""
    episode = session().get(AnticoagEpisode, episode_id)
    if episode is None:
        raise NotFound("抗凝监测不存在 (episode not found)", code="episode_not_found", episode_id=episode_id)
    measured_on = date.fromisoformat(entry.get("test_date") or clock.today().isoformat())
    bleeding = entry.get("bleeding") or "none"
    detail = {k: entry.get(k) for k in ("bleeding_site", "missed_doses_per_week", "new_drugs", "diet_change",
                                        "weekly_dose_mg", "note", "weight_kg", "hb_g_l") if entry.get(k) is not None}
    answers = []
    if entry.get("inr") is not None:
        answers.append(record_result(episode_id, kind="inr", value=entry["inr"], measured_on=measured_on,
                                     source="form", recorded_by=recorded_by, source_key=f"{idempotency_key}:inr",
                                     bleeding=bleeding, detail=detail, to_record=True))
        bleeding = "none"
    if entry.get("weight_kg"):
        episode.weight_kg = float(entry["weight_kg"])
    crcl = entry.get("crcl_ml_min")
    if crcl is None and entry.get("scr_umol_l") is not None:
        crcl = _crcl_from_scr(episode, float(entry["scr_umol_l"]))
    if crcl is not None:
        answers.append(record_result(episode_id, kind="crcl", value=float(crcl), measured_on=measured_on,
                                     source="form", recorded_by=recorded_by, source_key=f"{idempotency_key}:crcl",
                                     bleeding=bleeding, detail={**detail, "scr_umol_l": entry.get("scr_umol_l")},
                                     to_record=True))
        bleeding = "none"
    if entry.get("plt") is not None:
        answers.append(record_result(episode_id, kind="plt", value=float(entry["plt"]), measured_on=measured_on,
                                     source="form", recorded_by=recorded_by, source_key=f"{idempotency_key}:plt",
                                     bleeding=bleeding, detail=detail))
    if not answers and bleeding == "major":
        _event(episode, "bleeding", actor=recorded_by, site=detail.get("bleeding_site"), key=idempotency_key)
        site = detail.get("bleeding_site")
        return {"result_id": None, "path": "urgent", "action": None, "bleeding": "major",
                "text": f"严重出血（{site}）" if site else "严重出血"}
    if not answers:
        raise Invalid("请至少录入一项结果 (INR、肌酐或血小板)", code="no_result")
    order = ("urgent", "renal_review", "dose", "routine")
    worst = min(answers, key=lambda a: order.index(a["path"]))
    return {**worst, "text": "；".join(a["text"] for a in answers)}


def _crcl_from_scr(episode: AnticoagEpisode, scr: float) -> float | None:
    resident = residents.get_resident(episode.resident_id, SYSTEM)
    if resident is None or episode.weight_kg is None:
        return None
    out = decisions.evaluate("crcl_for_dosing", {
        "age": clock.age(resident.birth_date, clock.today()), "sex": resident.sex, "weight_kg": episode.weight_kg,
        "scr_umol_l": scr})["outputs"].get("crcl_for_dosing")
    return round(float(out), 1) if out is not None else None


# -- what a result leads to --------------------------------------------------------------------------------------

def raise_urgent(episode_id: int, *, result_id: int | None, text: str) -> dict[str, Any]:
    """Bleeding or INR ≥ 4.5: an emergency up-referral through app.referral (once per result)."""
    episode = session().get(AnticoagEpisode, episode_id)
    if episode is None:
        raise NotFound("抗凝监测不存在 (episode not found)", code="episode_not_found", episode_id=episode_id)
    ref = referral.request_referral(
        resident_id=episode.resident_id, source=PROCESS, trigger="emergency",
        reason=f"{drug_name(episode.drug)}抗凝：{text}", requested_urgency="emergency",
        source_key=f"anticoag:{episode.id}:{result_id}", source_instance_id=episode.instance_id,
        from_org_code=episode.org_code)
    raised = session().scalars(select(AnticoagEvent).where(
        AnticoagEvent.episode_id == episode.id, AnticoagEvent.kind == "urgent"))
    if not any((e.detail or {}).get("referral_id") == ref.id for e in raised):
        _event(episode, "urgent", actor="system", result_id=result_id, referral_id=ref.id, text=text)
    return {"referral_id": ref.id, "referral_no": ref.referral_no}


def record_decision(episode_id: int, *, kind: str, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    """A clinician's or pharmacist's answer on the episode (urgent care done, dose adjusted, renal dose reviewed,
    interaction intervened); a new dose starts the dose-changed interval (R7)."""
    episode = _locked(episode_id)
    fields = {k: data.get(k) for k in ("decision", "dose_mg", "frequency", "weekly_dose_mg", "opinion", "note",
                                       "problems", "stop", "outcome", "agreed_date") if data.get(k) is not None}
    _event(episode, kind, actor=actor, **fields)
    if data.get("weekly_dose_mg") is not None and episode.drug == "warfarin":
        episode.weekly_dose_mg, episode.phase = float(data["weekly_dose_mg"]), "dose_changed"
    if data.get("dose_mg") is not None and episode.drug != "warfarin":
        episode.dose_mg = float(data["dose_mg"])
        episode.frequency = data.get("frequency") or episode.frequency
        episode.weekly_dose_mg = _weekly(episode.dose_mg, episode.frequency)
    episode.updated_at = clock.now()
    return {"kind": kind, "actor": actor}


def stop(episode_id: int, *, reason: str, actor: str) -> dict[str, Any]:
    episode = _locked(episode_id)
    if episode.status == "active":
        episode.status, episode.stopped_reason, episode.updated_at = "stopped", reason, clock.now()
        _event(episode, "stopped", actor=actor, reason=reason)
    return {"status": episode.status}


def remind(episode_id: int, *, instance_id: int, plan_: dict[str, Any]) -> dict[str, Any]:
    """Two days before a check is due: the village doctor (on the entry task) and, with consent, the patient."""
    episode = session().get(AnticoagEpisode, episode_id)
    if episode is None:
        return {"sent": 0}
    task = session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == "monitoring_entry",
        HumanTask.status == "open").order_by(HumanTask.id.desc())).first()
    sent = 0
    title = f"{drug_name(episode.drug)}监测：{plan_.get('due_text', '')}需查{plan_.get('kinds_text', '')}"
    if task is not None:
        for uid in _staff_of(task.org_code, "village_doctor"):
            sent += notify(uid, kind="anticoag_due", title=f"{task.resident_name or ''} {title}",
                           body="请提醒患者按时检测，并在任务中录入结果。", link=f"/tasks/{task.id}", task_id=task.id,
                           dedupe_key=f"anticoag_due:{task.id}:{uid}")
    text = (f"【医共体】您正在服用{drug_name(episode.drug)}，请于{plan_.get('due_text', '')}到村卫生室/卫生院"
            f"检查{plan_.get('kinds_text', '')}。如有出血、黑便、头痛请立即就医。")
    for fn in _patient_reminders:
        sent += int(bool(fn(episode.resident_id, text)))
    _event(episode, "reminded", actor="system", due=plan_.get("next_due"), sent=sent)
    return {"sent": sent}


def _entry_task(instance_id: int) -> HumanTask | None:
    return session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == "monitoring_entry",
        HumanTask.status == "open").order_by(HumanTask.id.desc())).first()


def overdue(episode_id: int, *, instance_id: int, plan_: dict[str, Any]) -> dict[str, Any]:
    """Three days past the due date without a result (`overdue_timer`): the village doctor is reminded again."""
    episode = session().get(AnticoagEpisode, episode_id)
    if episode is None:
        return {"sent": 0}
    task = _entry_task(instance_id)
    sent = 0
    if task is not None:
        title = (f"{task.resident_name or ''} {drug_name(episode.drug)}监测已逾期：应于{plan_.get('due_text', '')}"
                 f"检查{plan_.get('kinds_text', '')}")
        for uid in _staff_of(task.org_code, "village_doctor"):
            sent += notify(uid, kind="anticoag_overdue", title=title,
                           body=f"已超过{ON_TIME_GRACE_DAYS}天未录入结果，请尽快联系患者检测；逾期{ESCALATE_AFTER_DAYS}天将转卫生院督办。",
                           link=f"/tasks/{task.id}", task_id=task.id, dedupe_key=f"anticoag_overdue:{task.id}:{uid}")
    _event(episode, "overdue", actor="system", due=plan_.get("next_due"), sent=sent)
    return {"sent": sent}


def escalate(episode_id: int, *, plan_: dict[str, Any]) -> dict[str, Any]:
    """Seven days past the due date (`escalate_timer`, interrupting): the round passes to the township doctor."""
    episode = session().get(AnticoagEpisode, episode_id)
    if episode is None:
        return {"text": ""}
    due = date.fromisoformat(plan_["next_due"]) if plan_.get("next_due") else clock.today()
    days = (clock.today() - due).days
    text = f"应于{plan_.get('due_text', '')}检查{plan_.get('kinds_text', '')}，已逾期{days}天，村医处未录入结果"
    _event(episode, "escalated", actor="system", due=plan_.get("next_due"), days_overdue=days)
    return {"days_overdue": days, "text": text}


def dose_change(episode_id: int, *, dose: dict[str, Any]) -> dict[str, Any]:
    """The warfarin weekly dose the clinician decided against the current one: above 20 % (or with no current dose
    to compare) it needs a pharmacist's co-sign before it takes effect (wave2 §3.2 step 3)."""
    episode = session().get(AnticoagEpisode, episode_id)
    if episode is None:
        raise NotFound("抗凝监测不存在 (episode not found)", code="episode_not_found", episode_id=episode_id)
    after = float(dose["weekly_dose_mg"])
    before = episode.weekly_dose_mg
    pct = None if not before else round((after - before) / before * 100, 1)
    needs = pct is None or abs(pct) > COSIGN_CHANGE_PCT
    if pct is None:
        text = f"每周剂量定为 {after:g} mg（无当前剂量可比较）"
    else:
        text = f"每周剂量由 {before:g} mg 调整为 {after:g} mg（{'增加' if pct >= 0 else '减少'}{abs(pct):g}%）"
    return {"before": before, "after": after, "change_pct": pct, "needs_cosign": needs, "text": text}


def cosign_refused(episode_id: int, *, key: str, instance_id: int, cosign: dict[str, Any], change: dict[str, Any],
                   pharmacist: str) -> dict[str, Any]:
    """The pharmacist did not co-sign: the dose is not applied and the prescriber is told (the dose task returns)."""
    episode = session().get(AnticoagEpisode, episode_id)
    if episode is None:
        return {"told": 0}
    prescriber = session().scalars(select(HumanTask.completed_by).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == "dose_adjustment",
        HumanTask.status == "completed").order_by(HumanTask.id.desc())).first()
    _event(episode, "dose_cosign_refused", actor=pharmacist, opinion=cosign.get("opinion"),
           weekly_dose_mg=change.get("after"), prescriber=prescriber)
    told = 0
    user = session().scalars(select(User).where(User.username == prescriber)).first() if prescriber else None
    if user is not None:
        told = notify(user.id, kind="anticoag_cosign_refused",
                      title=f"药师未同意华法林剂量调整：{change.get('text', '')}",
                      body=f"药师意见：{cosign.get('opinion') or ''}。剂量未生效，请重新确定每周剂量。",
                      link=f"/anticoag/{episode.id}", dedupe_key=f"anticoag_cosign_refused:{key}:{user.id}")
    return {"told": told}


def _staff_of(org_code: str | None, role: str) -> list[int]:
    if not org_code:
        return []
    return list(session().scalars(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        UserRole.role == role, User.org_code == org_code, User.active.is_(True)).distinct()))


# -- inbound facts (the one intake) ------------------------------------------------------------------------------

def _waiting(instance_id: int | None, message: str) -> bool:
    return instance_id is not None and session().scalars(select(MessageSubscription.id).where(
        MessageSubscription.instance_id == instance_id, MessageSubscription.message_name == message)).first() is not None


def on_facts_recorded(*, resident_id: int, source: str, actor: str, recorded: list[Any], **_: Any) -> None:
    """New facts in the record (`hooks.RESIDENT_FACTS_RECORDED`): an INR or creatinine from the LIS (HL7 ORU, FHIR)
    goes into the resident's open episode and its process; a new medicine that interacts (T15) asks a pharmacist."""
    if source == SOURCE:
        return                                 # entered on the monitoring form: already in the episode
    episodes = active_episodes(resident_id)
    if not episodes:
        return
    for item in recorded:
        row = item.row
        if item.record_type == "observation" and row.code in (INR, SCR, PLT):
            _observation(episodes, row, actor)
        elif item.record_type == "medication" and row.status == "active":
            _medication(episodes, row, actor)


def _observation(episodes: list[AnticoagEpisode], row: Any, actor: str) -> None:
    measured_on = clock.local(row.effective_at).date()
    if row.value_num is None:
        return
    value = float(row.value_num)
    for episode in episodes:
        if row.code == INR and episode.drug != "warfarin":
            continue
        if row.code == SCR:
            crcl = _crcl_from_scr(episode, value)
            if crcl is None or episode.drug == "warfarin":
                continue
            kind, value_in, detail = "crcl", crcl, {"scr_umol_l": value}
        elif row.code == PLT:
            kind, value_in, detail = "plt", value, {}
        else:
            kind, value_in, detail = "inr", value, {}
        answer = record_result(episode.id, kind=kind, value=value_in, measured_on=measured_on, source="lis",
                               recorded_by=actor, source_key=f"obs:{row.id}:{episode.id}", detail=detail)
        _deliver(episode, "anticoag_result", {"episode_id": episode.id, **answer})


def _deliver(episode: AnticoagEpisode, message: str, payload: dict[str, Any]) -> None:
    """Into the episode's process when it waits for it; otherwise the urgent path is raised here, so a result that
    arrives while a clinician is still handling the last one is never silently parked."""
    if episode.instance_id is not None and _waiting(episode.instance_id, message):
        runner.correlate(episode.instance_id, message, payload, runner.Actor("system"))
        return
    if message == "anticoag_result" and payload.get("path") == "urgent":
        raise_urgent(episode.id, result_id=payload.get("result_id"), text=payload.get("text", ""))
    _event(episode, "held", actor="system", message=message, payload=payload)
    log.warning("anticoag message not awaited", extra={"status": message})


def _medication(episodes: list[AnticoagEpisode], row: Any, actor: str) -> None:
    drug = (catalogue.find(row.drug) or {}).get("drug") or row.drug
    for episode in episodes:
        if drug == episode.drug:
            continue
        try:
            result = decisions.evaluate("warfarin_interaction", {"anticoagulant": episode.drug, "co_drug": drug})
        except Invalid:
            continue
        severity = result["outputs"].get("severity")
        if severity in ("MAJOR", "MODERATE"):
            text = (f"新增合用药{drug_name(drug)}与{drug_name(episode.drug)}相互作用（{ {'MAJOR': '严重', 'MODERATE': '中度'}[severity] }）："
                    f"{result['outputs'].get('action') or ''}")
            _event(episode, "interaction", actor=actor, co_drug=drug, severity=severity, text=text)
            _deliver(episode, "anticoag_interaction", {"episode_id": episode.id, "co_drug": drug,
                                                       "severity": severity, "text": text})


# -- read helpers used by the read side and indicators -------------------------------------------------------------

def inrs_of(episode_id: int) -> list[AnticoagResult]:
    """The episode's INRs in test order (the read side's TTR)."""
    return _inrs(episode_id)


def ttr_of(episode: AnticoagEpisode) -> dict[str, Any] | None:
    if episode.drug != "warfarin" or episode.target_lo is None or episode.target_hi is None:
        return None
    return rosendaal([(r.measured_on, r.value) for r in _inrs(episode.id)], episode.target_lo,
                     episode.target_hi).as_dict()

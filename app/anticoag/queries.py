"""Read side of anticoagulant monitoring: episodes in the caller's scope with their results, events and TTR."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.org.queries import find_org, township_of
from app.org.scope import org_scope_filter
from app.residents.models import Resident

from . import services
from . import ttr as ttr_module
from .models import AnticoagEpisode, AnticoagEvent, AnticoagResult

PHASE_LABELS = {"initiation": "起始期", "stable": "稳定期", "dose_changed": "调整剂量后"}
STATUS_LABELS = {"active": "监测中", "stopped": "已停药"}
EVENT_LABELS = {"started": "开始监测", "dose_adjusted": "剂量调整", "urgent": "紧急转诊", "urgent_handled": "紧急处理",
                "renal_review": "药师复核剂量", "interaction": "相互作用干预", "bleeding": "出血事件",
                "reminded": "已提醒", "not_scheduled": "监测流程未部署，未排期", "held": "结果已记录（流程处理中）", "stopped": "停药",
                "overdue": "逾期未检测，已提醒村医", "escalated": "逾期7天，转卫生院督办", "overdue_handled": "卫生院督办",
                "dose_cosigned": "药师共同签名", "dose_cosign_refused": "药师未同意剂量调整（未生效）"}
SOURCE_LABELS = {"form": "村医录入", "lis": "检验科"}
FREQUENCY_LABELS = {"qd": "每日1次", "q24h": "每日1次", "qn": "每晚1次", "bid": "每日2次", "q12h": "每12小时1次",
                    "tid": "每日3次", "q8h": "每8小时1次"}
DECISION_LABELS = {"adjust": "调整剂量", "maintain": "维持", "stop": "停药"}
DOSE_EVENTS = ("started", "dose_adjusted", "renal_review")


def dose_text(detail: dict[str, Any]) -> str | None:
    """'3 mg 每日1次（每周 21 mg）' from an event's dose fields (None when the event carries no dose)."""
    after = detail.get("after")
    d: dict[str, Any] = after if isinstance(after, dict) else detail
    parts = []
    if d.get("dose_mg") is not None:
        parts.append(f"{float(d['dose_mg']):g} mg {FREQUENCY_LABELS.get(d.get('frequency') or '', '')}".strip())
    if d.get("weekly_dose_mg") is not None:
        week = f"每周 {float(d['weekly_dose_mg']):g} mg"
        parts.append(f"（{week}）" if parts else week)
    return "".join(parts) or None


def dose_history(events: list[AnticoagEvent]) -> list[dict[str, Any]]:
    rows = []
    for v in events:
        if v.kind not in DOSE_EVENTS:
            continue
        detail = v.detail or {}
        text = dose_text(detail)
        decision = DECISION_LABELS.get(detail.get("decision") or "")
        if text is None and decision is None:
            continue
        rows.append({"at": v.at, "label": EVENT_LABELS.get(v.kind, v.kind), "dose_text": text or decision,
                     "decision": decision, "note": detail.get("opinion") or detail.get("note"), "actor": v.actor})
    return rows


def in_scope(p: Principal) -> ColumnElement[bool]:
    conds = [org_scope_filter(AnticoagEpisode.org_path, p)]
    if p.resident_id is not None and p.has_role("patient"):
        conds.append(AnticoagEpisode.resident_id == p.resident_id)
    return or_(*conds)


def get(p: Principal, episode_id: int) -> AnticoagEpisode:
    row = session().scalars(select(AnticoagEpisode).where(AnticoagEpisode.id == episode_id, in_scope(p))).first()
    if row is None:
        raise NotFound("抗凝监测不存在 (episode not found)", code="episode_not_found", episode_id=episode_id)
    return row


def _overdue(today: date) -> ColumnElement[bool]:
    return (AnticoagEpisode.status == "active") & or_(
        AnticoagEpisode.next_inr_due < today, AnticoagEpisode.next_renal_due < today,
        AnticoagEpisode.next_platelet_due < today)


def _not_overdue(today: date) -> ColumnElement[bool]:
    """The complement of `_overdue` (NULL due dates count as not due: a plain NOT would drop those rows)."""
    cols = (AnticoagEpisode.next_inr_due, AnticoagEpisode.next_renal_due, AnticoagEpisode.next_platelet_due)
    return or_(AnticoagEpisode.status != "active", and_(*[or_(c.is_(None), c >= today) for c in cols]))


def _under_org(org_code: str) -> ColumnElement[bool]:
    org = find_org(org_code)
    if org is None:
        raise NotFound("机构不存在 (organization not found)", code="org_not_found", org_code=org_code)
    return AnticoagEpisode.org_path.startswith(org.path, autoescape=True)


def listing(p: Principal, *, resident_id: int | None = None, status: str | None = None, drug: str | None = None,
            org_code: str | None = None, overdue: bool | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Episodes in scope, the overdue first (earliest due first), then the newest."""
    q = select(AnticoagEpisode).where(in_scope(p))
    if resident_id is not None:
        q = q.where(AnticoagEpisode.resident_id == resident_id)
    if status:
        q = q.where(AnticoagEpisode.status == status)
    if drug:
        q = q.where(AnticoagEpisode.drug == drug)
    if org_code:
        q = q.where(_under_org(org_code))
    if overdue is not None:
        q = q.where(_overdue(clock.today()) if overdue else _not_overdue(clock.today()))
    rows = [summary(e) for e in session().scalars(q.order_by(AnticoagEpisode.id.desc()).limit(limit))]
    return sorted(rows, key=lambda r: (0, r["next_due"]) if r["overdue"] else (1, date.max))


def _names(episodes: list[AnticoagEpisode]) -> dict[int, str]:
    ids = sorted({e.resident_id for e in episodes})
    if not ids:
        return {}
    return dict(session().execute(select(Resident.id, Resident.name).where(Resident.id.in_(ids))).tuples().all())


def _last_inr(episode_id: int) -> AnticoagResult | None:
    return session().scalars(select(AnticoagResult).where(
        AnticoagResult.episode_id == episode_id, AnticoagResult.kind == "inr")
        .order_by(AnticoagResult.measured_on.desc(), AnticoagResult.id.desc()).limit(1)).first()


def summary(e: AnticoagEpisode) -> dict[str, Any]:
    ttr = services.ttr_of(e)
    dues = [d for d in (e.next_inr_due, e.next_renal_due, e.next_platelet_due) if d is not None]
    next_due = min(dues) if dues and e.status == "active" else None
    last = _last_inr(e.id)
    org = find_org(e.org_code)
    return {"id": e.id, "resident_id": e.resident_id, "resident_name": _names([e]).get(e.resident_id, ""),
            "org_code": e.org_code, "org_name": org.name if org else e.org_code,
            "next_due": next_due, "overdue": bool(next_due and next_due < clock.today()),
            "last_inr": last.value if last else None, "last_inr_on": last.measured_on if last else None,
            "last_inr_in_range": last.in_range if last else None,
            "drug": e.drug, "drug_name": services.drug_name(e.drug),
            "indication": e.indication, "target_lo": e.target_lo, "target_hi": e.target_hi, "status": e.status,
            "status_label": STATUS_LABELS.get(e.status, e.status), "phase": e.phase,
            "phase_label": PHASE_LABELS.get(e.phase, e.phase), "dose_mg": e.dose_mg, "frequency": e.frequency,
            "weekly_dose_mg": e.weekly_dose_mg, "dose_band": e.dose_band,
            "dose_band_label": services.band_label(e.dose_band), "crcl_ml_min": e.crcl_ml_min,
            "started_on": e.started_on, "next_inr_due": e.next_inr_due, "next_renal_due": e.next_renal_due,
            "next_platelet_due": e.next_platelet_due, "instance_id": e.instance_id,
            "ttr": ttr["ttr"] if ttr else None}


def detail(e: AnticoagEpisode) -> dict[str, Any]:
    results = session().scalars(select(AnticoagResult).where(AnticoagResult.episode_id == e.id)
                                .order_by(AnticoagResult.measured_on, AnticoagResult.id))
    events = list(session().scalars(select(AnticoagEvent).where(AnticoagEvent.episode_id == e.id)
                                    .order_by(AnticoagEvent.id)))
    schedule = [{"kind": kind, "label": services.KIND_LABELS[kind], "due_on": due,
                 "overdue": e.status == "active" and due < clock.today()}
                for kind, due in (("inr", e.next_inr_due), ("crcl", e.next_renal_due), ("plt", e.next_platelet_due))
                if due is not None]
    return {**summary(e), "ttr_detail": services.ttr_of(e), "doses": dose_history(events), "schedule": schedule,
            "frequency_label": FREQUENCY_LABELS.get(e.frequency or "", e.frequency or ""),
            "results": [{"id": r.id, "kind": r.kind, "value": r.value, "measured_on": r.measured_on,
                         "due_on": r.due_on, "on_time": r.on_time, "in_range": r.in_range, "bleeding": r.bleeding,
                         "bleeding_label": services.BLEEDING_LABELS.get(r.bleeding, r.bleeding),
                         "action": r.action, "action_label": services.ACTION_LABELS.get(r.action or "", ""),
                         "path": (r.detail or {}).get("path"), "source": r.source,
                         "source_label": SOURCE_LABELS.get(r.source, r.source), "recorded_by": r.recorded_by}
                        for r in results],
            "events": [{"id": v.id, "kind": v.kind, "label": EVENT_LABELS.get(v.kind, v.kind), "detail": v.detail,
                        "actor": v.actor, "at": v.at} for v in events]}


HISTOGRAM_STEP = 10          # the TTR histogram's bins: 0–10 %, 10–20 %, …, 90–100 %


def ttr_distribution(p: Principal, *, org_code: str | None = None) -> dict[str, Any]:
    """TTR (Rosendaal) of the active warfarin patients in scope (optionally under one organisation): the
    organisation's pooled and mean TTR and bands, a 10 % histogram, and the same figures per township."""
    q = select(AnticoagEpisode).where(in_scope(p), AnticoagEpisode.drug == "warfarin",
                                      AnticoagEpisode.status == "active")
    if org_code:
        q = q.where(_under_org(org_code))
    per_patient: list[tuple[AnticoagEpisode, ttr_module.Ttr]] = []
    for e in session().scalars(q.order_by(AnticoagEpisode.id)):
        if e.target_lo is None or e.target_hi is None:
            continue
        got = ttr_module.rosendaal([(r.measured_on, r.value) for r in services.inrs_of(e.id)], e.target_lo,
                                   e.target_hi)
        per_patient.append((e, got))
    bins = [0] * (100 // HISTOGRAM_STEP)
    for _, t in per_patient:
        if t.ttr is not None:
            bins[min(int(t.ttr // HISTOGRAM_STEP), len(bins) - 1)] += 1
    towns: dict[str, list[ttr_module.Ttr]] = {}
    names: dict[str, str] = {}
    for e, t in per_patient:
        town = township_of(e.org_code)
        code = town.code if town else e.org_code
        names[code] = town.name if town else e.org_code
        towns.setdefault(code, []).append(t)
    whole = ttr_module.organisation_ttr([t for _, t in per_patient])
    return {**whole, "org_code": org_code, "episodes": len(per_patient),
            "without_ttr": sum(1 for _, t in per_patient if t.ttr is None),
            "histogram": [{"lo": i * HISTOGRAM_STEP, "hi": (i + 1) * HISTOGRAM_STEP,
                           "label": f"{i * HISTOGRAM_STEP}–{(i + 1) * HISTOGRAM_STEP}%", "patients": n}
                          for i, n in enumerate(bins)],
            "by_org": [{"org_code": code, "org_name": names[code], **ttr_module.organisation_ttr(ts)}
                       for code, ts in sorted(towns.items())]}

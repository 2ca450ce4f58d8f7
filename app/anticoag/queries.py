"""Read side of anticoagulant monitoring: episodes in the caller's scope with their results, events and TTR."""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.principal import Principal
from app.core.db import session
from app.core.errors import NotFound
from app.org.scope import org_scope_filter

from . import services
from .models import AnticoagEpisode, AnticoagEvent, AnticoagResult

PHASE_LABELS = {"initiation": "起始期", "stable": "稳定期", "dose_changed": "调整剂量后"}
STATUS_LABELS = {"active": "监测中", "stopped": "已停药"}
EVENT_LABELS = {"started": "开始监测", "dose_adjusted": "剂量调整", "urgent": "紧急转诊", "urgent_handled": "紧急处理",
                "renal_review": "药师复核剂量", "interaction": "相互作用干预", "bleeding": "出血事件",
                "reminded": "已提醒", "not_scheduled": "监测流程未部署，未排期", "held": "结果已记录（流程处理中）", "stopped": "停药"}
SOURCE_LABELS = {"form": "村医录入", "lis": "检验科"}


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


def listing(p: Principal, *, resident_id: int | None = None, status: str | None = None,
            limit: int = 100) -> list[dict[str, Any]]:
    q = select(AnticoagEpisode).where(in_scope(p))
    if resident_id is not None:
        q = q.where(AnticoagEpisode.resident_id == resident_id)
    if status:
        q = q.where(AnticoagEpisode.status == status)
    return [summary(e) for e in session().scalars(q.order_by(AnticoagEpisode.id.desc()).limit(limit))]


def summary(e: AnticoagEpisode) -> dict[str, Any]:
    ttr = services.ttr_of(e)
    return {"id": e.id, "resident_id": e.resident_id, "drug": e.drug, "drug_name": services.drug_name(e.drug),
            "indication": e.indication, "target_lo": e.target_lo, "target_hi": e.target_hi, "status": e.status,
            "status_label": STATUS_LABELS.get(e.status, e.status), "phase": e.phase,
            "phase_label": PHASE_LABELS.get(e.phase, e.phase), "dose_mg": e.dose_mg, "frequency": e.frequency,
            "weekly_dose_mg": e.weekly_dose_mg, "dose_band": e.dose_band, "crcl_ml_min": e.crcl_ml_min,
            "started_on": e.started_on, "next_inr_due": e.next_inr_due, "next_renal_due": e.next_renal_due,
            "next_platelet_due": e.next_platelet_due, "instance_id": e.instance_id,
            "ttr": ttr["ttr"] if ttr else None}


def detail(e: AnticoagEpisode) -> dict[str, Any]:
    results = session().scalars(select(AnticoagResult).where(AnticoagResult.episode_id == e.id)
                                .order_by(AnticoagResult.measured_on, AnticoagResult.id))
    events = session().scalars(select(AnticoagEvent).where(AnticoagEvent.episode_id == e.id)
                               .order_by(AnticoagEvent.id))
    return {**summary(e), "ttr_detail": services.ttr_of(e),
            "results": [{"id": r.id, "kind": r.kind, "value": r.value, "measured_on": r.measured_on,
                         "due_on": r.due_on, "on_time": r.on_time, "in_range": r.in_range, "bleeding": r.bleeding,
                         "bleeding_label": services.BLEEDING_LABELS.get(r.bleeding, r.bleeding),
                         "action": r.action, "action_label": services.ACTION_LABELS.get(r.action or "", ""),
                         "path": (r.detail or {}).get("path"), "source": r.source,
                         "source_label": SOURCE_LABELS.get(r.source, r.source), "recorded_by": r.recorded_by}
                        for r in results],
            "events": [{"id": v.id, "kind": v.kind, "label": EVENT_LABELS.get(v.kind, v.kind), "detail": v.detail,
                        "actor": v.actor, "at": v.at} for v in events]}

"""The centre's quality and DRG cost-benefit indicators (wave2 §4.4–4.5), per service line and for the centre, for
a period of discharge months. Numerator and denominator are both attributed to the **discharge month** (no >100%
artefacts when the operation and the discharge fall in different months); the 2022 improvement-target form of the
unplanned re-operation rate is the exception by definition (re-operations ÷ operations in the period).

Each indicator answers {code, label, definition, numerator, denominator, value, unit, target, alarm, case_ids}: the
case ids behind the numerator are the drill-down. Targets are configuration (`quality_targets` in the DRG file)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session

from . import costing
from .labels import SERVICE_LINES
from .models import CaseDevice, Complication, InterventionCase, Reoperation
from .queries import in_scope

C = InterventionCase

DEFINITIONS: dict[str, tuple[str, str, str]] = {          # code: (label, definition, unit)
    "cases": ("出院介入病例数", "统计期内出院的介入病例", "例"),
    "complication_rate": ("介入术后并发症发生率", "住院期间登记≥1项并发症的病例 ÷ 同期出院介入病例", "%"),
    "severe_complication_rate": ("严重并发症率", "Clavien-Dindo ≥Ⅲ级并发症的病例 ÷ 同期出院介入病例", "%"),
    "unplanned_48h": ("非计划重返手术室再次手术率（48小时，2011版）",
                      "术后48小时内非计划重返手术室再次手术人数 ÷ 同期出院患者手术例数", "%"),
    "unplanned_31d": ("非计划重返手术室再次手术率（31天，2011版）",
                      "术后31天内非计划重返手术室再次手术人数 ÷ 同期出院患者手术例数", "%"),
    "unplanned_2022": ("非计划重返手术室再手术率（2022改进目标口径）",
                       "统计期内非计划重返手术室再次手术例数 ÷ 同期手术例数", "%"),
    "mortality": ("介入术后住院死亡率", "院内死亡 ÷ 同期出院介入病例", "%"),
    "readmission_30d": ("30天再入院率", "出院30天内再入院 ÷ 已完成30天随访的病例", "%"),
    "satisfaction": ("患者满意度", "总体满意度≥4分的应答 ÷ 应答数", "%"),
    "cmi": ("CMI", "Σ 病例 RW ÷ 有 DRG 分组结果的病例数", ""),
    "cost_index": ("费用消耗指数", "Σ 病组例数 ×（本院次均费用 ÷ 区域次均费用）÷ Σ 病组例数", ""),
    "time_index": ("时间消耗指数", "Σ 病组例数 ×（本院平均住院日 ÷ 区域平均住院日）÷ Σ 病组例数", ""),
    "mean_cost": ("例均病例成本", "Σ 病例成本 ÷ 已核算病例", "元"),
    "total_margin": ("结余合计", "Σ（预期收入 − 病例成本）", "元"),
    "mean_margin": ("例均结余", "Σ 结余 ÷ 已核算病例", "元"),
    "loss_rate": ("亏损病例占比", "结余 < 0 的病例 ÷ 已核算病例", "%"),
    "high_value_cost": ("例均高值耗材费用", "Σ 扫码高值耗材费用 ÷ 出院介入病例", "元"),
    "consumable_share": ("耗占比", "Σ 卫生材料收入 ÷ Σ 住院总费用", "%"),
}
QUALITY = ("complication_rate", "severe_complication_rate", "unplanned_48h", "unplanned_31d", "unplanned_2022",
           "mortality", "readmission_30d", "satisfaction")
ECONOMY = ("cmi", "cost_index", "time_index", "mean_cost", "total_margin", "mean_margin", "loss_rate",
           "high_value_cost", "consumable_share")


def month_range(first: str, last: str | None = None) -> tuple[date, date]:
    """`2026-12` (… `2027-02`) → the first and the last day."""
    start = date.fromisoformat(f"{first}-01")
    end_month = date.fromisoformat(f"{last or first}-01")
    nxt = (end_month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, nxt - timedelta(days=1)


def _targets() -> dict[str, dict[str, float]]:
    return costing.config().get("quality_targets") or {}


def _indicator(code: str, num: float | None, den: float | None, case_ids: list[int] | None = None, *,
               value: float | None = None) -> dict[str, Any]:
    label, definition, unit = DEFINITIONS[code]
    if value is None and num is not None and den:
        value = num / den * (100 if unit == "%" else 1)
    target = _targets().get(code) or {}
    alarm = value is not None and (("max" in target and value > target["max"]) or
                                   ("min" in target and value < target["min"]))
    return {"code": code, "label": label, "definition": definition, "unit": unit, "numerator": num,
            "denominator": den, "value": round(value, 4) if value is not None else None,
            "target": target.get("max", target.get("min")), "direction": "max" if "max" in target else
            "min" if "min" in target else None, "alarm": bool(alarm), "case_ids": case_ids or []}


def _compute(cases: list[InterventionCase], operated: list[InterventionCase], reops_in_period: list[Reoperation],
             comps: dict[int, list[Complication]], reops: dict[int, list[Reoperation]],
             device_cost: dict[int, float]) -> dict[str, dict[str, Any]]:
    n = len(cases)
    ids = [c.id for c in cases]
    with_comp = [c.id for c in cases if any(x.during_stay for x in comps.get(c.id, []))]
    severe = [c.id for c in cases if any(x.severe for x in comps.get(c.id, []))]
    r48 = [c.id for c in cases if any(r.unplanned and r.interval_hours <= 48 for r in reops.get(c.id, []))]
    r31 = [c.id for c in cases if any(r.unplanned and r.interval_hours <= 31 * 24 for r in reops.get(c.id, []))]
    died = [c.id for c in cases if c.died]
    followed = [c for c in cases if c.readmitted_30d is not None]
    readmitted = [c.id for c in followed if c.readmitted_30d]
    answered = [c for c in cases if c.satisfaction is not None]
    satisfied = [c.id for c in answered if (c.satisfaction or 0) >= 4]
    grouped = [c for c in cases if c.drg_weight is not None]
    costed = [c for c in cases if c.case_cost is not None]
    losing = [c.id for c in costed if (c.margin or 0) < 0]
    out = {
        "cases": _indicator("cases", None, None, ids, value=float(n)),
        "complication_rate": _indicator("complication_rate", len(with_comp), n, with_comp),
        "severe_complication_rate": _indicator("severe_complication_rate", len(severe), n, severe),
        "unplanned_48h": _indicator("unplanned_48h", len(r48), n, r48),
        "unplanned_31d": _indicator("unplanned_31d", len(r31), n, r31),
        "unplanned_2022": _indicator("unplanned_2022", len([r for r in reops_in_period if r.unplanned]),
                                     len(operated), sorted({r.case_id for r in reops_in_period if r.unplanned})),
        "mortality": _indicator("mortality", len(died), n, died),
        "readmission_30d": _indicator("readmission_30d", len(readmitted), len(followed), readmitted),
        "satisfaction": _indicator("satisfaction", len(satisfied), len(answered), satisfied),
        "cmi": _indicator("cmi", sum(c.drg_weight or 0 for c in grouped), len(grouped), [c.id for c in grouped]),
    }
    cost_ratio, time_ratio, weights = 0.0, 0.0, 0
    by_group: dict[tuple[str, str], list[InterventionCase]] = defaultdict(list)
    for c in grouped:
        by_group[(c.org_code, c.drg_code or "")].append(c)
    for (org_code, code), rows in by_group.items():
        region = costing.region_or_none(org_code, rows[0].org_path)
        avg = ((region or {}).get("groups") or {}).get(code) or {}
        if not avg.get("avg_charge") or not avg.get("avg_los"):
            continue
        k = len(rows)
        cost_ratio += k * (sum(r.total_charge or 0 for r in rows) / k) / float(avg["avg_charge"])
        time_ratio += k * (sum(r.los_days or 0 for r in rows) / k) / float(avg["avg_los"])
        weights += k
    in_index = [c.id for c in grouped]
    out["cost_index"] = _indicator("cost_index", None, weights, in_index,
                                   value=cost_ratio / weights if weights else None)
    out["time_index"] = _indicator("time_index", None, weights, in_index,
                                   value=time_ratio / weights if weights else None)
    total_cost = sum(c.case_cost or 0 for c in costed)
    total_margin = sum(c.margin or 0 for c in costed)
    out["mean_cost"] = _indicator("mean_cost", total_cost, len(costed), [c.id for c in costed])
    out["total_margin"] = _indicator("total_margin", None, None, [c.id for c in costed],
                                     value=total_margin if costed else None)
    out["mean_margin"] = _indicator("mean_margin", total_margin, len(costed), [c.id for c in costed])
    out["loss_rate"] = _indicator("loss_rate", len(losing), len(costed), losing)
    out["high_value_cost"] = _indicator("high_value_cost", sum(device_cost.get(i, 0.0) for i in ids), n, ids)
    material = sum((c.cost or {}).get("consumable_share", 0) * (c.total_charge or 0) for c in costed
                   if (c.cost or {}).get("consumable_share") is not None)
    out["consumable_share"] = _indicator("consumable_share", material, sum(c.total_charge or 0 for c in costed),
                                         [c.id for c in costed])
    return out


def centre(p: Principal, first_month: str, last_month: str | None = None) -> dict[str, Any]:
    """Indicators of the caller's centre(s) for discharge months `first_month` … `last_month`, per service line."""
    start, end = month_range(first_month, last_month)
    cases = list(session().scalars(select(C).where(in_scope(p), C.discharged_on >= start, C.discharged_on <= end)
                                   .order_by(C.discharged_on, C.id)))
    tz = clock.local_tz()
    lo, hi = datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz)
    operated = list(session().scalars(select(C).where(in_scope(p), C.operated_at >= lo, C.operated_at < hi)))
    reops_period = [(r, line) for r, line in session().execute(
        select(Reoperation, C.service_line).join(C, C.id == Reoperation.case_id).where(
            in_scope(p), Reoperation.reoperated_at >= lo, Reoperation.reoperated_at < hi)).all()]
    ids = [c.id for c in cases] or [0]
    comps: dict[int, list[Complication]] = defaultdict(list)
    for x in session().scalars(select(Complication).where(Complication.case_id.in_(ids))):
        comps[x.case_id].append(x)
    reops: dict[int, list[Reoperation]] = defaultdict(list)
    for r in session().scalars(select(Reoperation).where(Reoperation.case_id.in_(ids))):
        reops[r.case_id].append(r)
    device_cost: dict[int, float] = defaultdict(float)
    for d in session().scalars(select(CaseDevice).where(CaseDevice.case_id.in_(ids), CaseDevice.high_value.is_(True))):
        device_cost[d.case_id] += d.unit_cost * d.quantity
    lines = []
    for line, label in SERVICE_LINES.items():
        mine = [c for c in cases if c.service_line == line]
        if not mine and not any(c.service_line == line for c in operated):
            continue
        lines.append({"service_line": line, "label": label, "indicators": _compute(
            mine, [c for c in operated if c.service_line == line],
            [r for r, r_line in reops_period if r_line == line],
            comps, reops, device_cost)})
    return {"from": start.isoformat(), "to": end.isoformat(), "quality": list(QUALITY), "economy": list(ECONOMY),
            "total": _compute(cases, operated, [r for r, _ in reops_period], comps, reops, device_cost),
            "lines": lines}

"""Medication guidance from the plan in force and the latest data: what to take, an adherence check, and warnings
(dose above the label maximum from the `drug_dose_limits` table, ACEI/ARB with potassium or potassium-sparing
diuretics, dual RAS blockade, two drugs of one class, sulfonylurea with reported hypoglycaemia, metformin at low
eGFR, ACEI/ARB at high potassium).

The interaction rules cite their sources below; drug classes and dose limits are data (DMN), not code.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.residents.record_models import Observation
from app.residents.sources import clinical
from app.vocabulary import Frequency
from app.workflows import decisions

from . import providers, queries
from .errors import CarePlanNotFound
from .models import CarePlan

TIMES_PER_DAY = {"qd": 1, "qn": 1, "bid": 2, "tid": 3, "qw": 1 / 7}
RAS = ("ACEI", "ARB")
DECISION = "drug_dose_limits"


def _classify(drugs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    pinned = decisions.registry(session())
    out = []
    for d in drugs:
        info: dict[str, Any] = {"drug_class": "UNKNOWN", "drug_name": d.get("name"), "max_daily_mg": None}
        if DECISION in pinned.registry and d.get("drug"):
            info = decisions.evaluate(pinned, DECISION, {"drug": d["drug"]})["outputs"]
        daily = (d.get("dose_mg") or 0) * TIMES_PER_DAY.get(d.get("frequency") or "qd", 1)
        out.append({**d, "drug_class": info.get("drug_class"), "max_daily_mg": info.get("max_daily_mg"),
                    "daily_mg": round(daily, 2),
                    "instruction": f"{d.get('name')} {d.get('dose_mg')} mg，{Frequency.label_of(d.get('frequency'), '')}"})
    versions = {DECISION: pinned.versions[DECISION]} if DECISION in pinned.versions else {}
    return out, versions


def _warnings(drugs: list[dict[str, Any]], latest: dict[str, Any]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    classes = [d["drug_class"] for d in drugs]

    def warn(code: str, severity: str, message: str) -> None:
        found.append({"code": code, "severity": severity, "message": message})
    for d in drugs:
        if d.get("max_daily_mg") is not None and d["daily_mg"] > d["max_daily_mg"]:
            warn("dose_above_max", "major", f"{d.get('name')} 每日 {d['daily_mg']} mg 超过说明书最大剂量 "
                                             f"{d['max_daily_mg']} mg，请核对。")
    if any(c in RAS for c in classes) and any(c in ("POTASSIUM", "K_SPARING") for c in classes):
        # ACEI/ARB reduce potassium excretion; with potassium supplements or spironolactone → hyperkalaemia (labels)
        warn("ras_potassium", "major", "ACEI/ARB 与补钾制剂或保钾利尿剂合用有高钾血症风险，需监测血钾和肾功能。")
    if "ACEI" in classes and "ARB" in classes:
        # 中国高血压防治指南2018: ACEI 与 ARB 不联合使用
        warn("dual_ras", "major", "ACEI 与 ARB 联合使用（双重RAS阻断）不推荐，请调整。")
    for cls in sorted({c for c in classes if c not in ("UNKNOWN", "POTASSIUM") and classes.count(c) > 1}):
        warn("duplicate_class", "moderate", f"同类药物（{cls}）重复使用，请核对。")
    if "SULFONYLUREA" in classes and latest.get("hypoglycemia") in ("偶尔", "频繁"):
        warn("sulfonylurea_hypoglycemia", "major", "使用磺脲类药物且近期有低血糖反应，建议评估减量或换药。")
    if "BIGUANIDE" in classes and latest.get("egfr") is not None and latest["egfr"] < 45:
        # 二甲双胍说明书: eGFR 30–45 减量, <30 禁用
        warn("metformin_egfr", "major" if latest["egfr"] < 30 else "moderate",
             "eGFR<30 禁用二甲双胍" if latest["egfr"] < 30 else "eGFR 30–45 二甲双胍需减量（最大1000 mg/日）。")
    if any(c in RAS for c in classes) and latest.get("potassium") is not None and latest["potassium"] > 5.5:
        warn("ras_hyperkalemia", "major", f"血钾 {latest['potassium']} mmol/L，使用 ACEI/ARB 时需减量或停用并复查。")
    return found


def _latest(resident_id: int, disease: str) -> dict[str, Any]:
    visit = providers.last_done_visit(resident_id, disease)
    med = ((visit.record or {}).get("medication") or {}) if visit else {}
    latest: dict[str, Any] = {"adherence": med.get("adherence"), "adr": med.get("adr"),
                              "hypoglycemia": med.get("hypoglycemia"),
                              "visited_on": visit.visited_on.isoformat() if visit and visit.visited_on else None}
    latest.update(_lab_values(resident_id))
    return latest


def _lab_values(resident_id: int) -> dict[str, Any]:
    """Latest potassium and eGFR from the health record."""
    out = {}
    for name, code in (("potassium", "2823-3"), ("egfr", "62238-1")):
        row = session().scalars(select(Observation).where(Observation.resident_id == resident_id,
                                                          Observation.code == code, clinical(Observation.source))
                                .order_by(Observation.effective_at.desc())).first()
        if row is not None:
            out[name] = row.value_num
    return out


ADHERENCE_ADVICE = {"规律": "服药规律，继续坚持。", "间断": "存在漏服，请与患者约定固定服药时间并由家属提醒。",
                    "不服药": "有处方未服药：了解原因（费用、副作用、认为无需服药），必要时调整方案。"}


def guidance(plan_id: int) -> dict[str, Any]:
    """Medication guidance for the version in force of a plan."""
    plan = session().get(CarePlan, plan_id)
    if plan is None:
        raise CarePlanNotFound("管理方案不存在 (care plan not found)", care_plan_id=plan_id)
    current = queries.current(plan_id)
    drugs, versions = _classify((current.content.get("drugs") if current else None) or [])
    latest = _latest(plan.resident_id, plan.disease)
    return {"care_plan_id": plan_id, "version": current.version if current else None, "drugs": drugs,
            "adherence": {"last": latest.get("adherence"), "advice": ADHERENCE_ADVICE.get(latest.get("adherence") or "",
                                                                                      "尚无随访记录的服药情况。")},
            "warnings": _warnings(drugs, latest), "latest": latest, "decision_versions": versions}

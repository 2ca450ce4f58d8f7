"""What a plan says: default content per disease and risk (the draft a doctor starts from), and version diffs.

Targets follow the guidelines named beside each number; the follow-up control rule itself (T04b/T05b) stays in the
DMN pack and is never replaced by a plan target (decisions.md convention 1).
"""
from __future__ import annotations

from typing import Any

from app.vocabulary import Disease, RiskLevel

PLAN_DISEASES = (Disease.HTN, Disease.T2DM)          # the diseases a care plan is made for
HIGH_RISK = (RiskLevel.HIGH, RiskLevel.VERY_HIGH)


def default_targets(disease: str, *, age: int | None, has_diabetes: bool = False) -> dict[str, Any]:
    """Clinical targets shown on the plan (rules.md T04b note, T12)."""
    if disease == Disease.T2DM:
        elderly = age is not None and age >= 75
        # S8 2020: HbA1c <7.0% for most, individualise <8.0% for the elderly / hypoglycaemia-prone; BP <130/80
        return {"sbp_lt": 130, "dbp_lt": 80, "hba1c_lt": 8.0 if elderly else 7.0, "fpg_min": 4.4, "fpg_max": 7.0,
                "note": "血压<130/80 mmHg，空腹血糖4.4–7.0 mmol/L，糖化血红蛋白<" + ("8.0%（老年个体化）" if elderly
                                                                     else "7.0%") + "（中国2型糖尿病防治指南2020）"}
    if age is not None and age >= 80:
        # S3 2017/2020 基层: ≥80 y without DM/CKD <150/90 (2025: →<140/90 if tolerated)
        return {"sbp_lt": 150, "dbp_lt": 90, "note": "≥80岁血压<150/90 mmHg，如能耐受可降至<140/90（国家基层高血压防治管理指南）"}
    if has_diabetes:
        return {"sbp_lt": 130, "dbp_lt": 80, "note": "合并糖尿病血压<130/80 mmHg（中国高血压防治指南2018）"}
    return {"sbp_lt": 140, "dbp_lt": 90, "note": "血压<140/90 mmHg，能耐受者可进一步降至<130/80（中国高血压防治指南2018）"}


def default_interval_days(risk_level: str | None) -> int:
    """Plan follow-up frequency [P]: high risk monthly until controlled (WHO HEARTS), otherwise quarterly (T19)."""
    return 30 if risk_level in HIGH_RISK else 90


def default_topics(disease: str, risk_level: str | None) -> list[str]:
    topics = ["medication", "diet_salt", "exercise", "self_monitoring"]
    if disease == Disease.T2DM:
        topics += ["hypoglycemia", "foot_care"]
    if risk_level in HIGH_RISK:
        topics.append("danger_signs")
    return topics


def default_content(disease: str, risk_level: str | None, *, age: int | None = None,
                    has_diabetes: bool = False) -> dict[str, Any]:
    """The draft a doctor starts from; every field is theirs to change."""
    return {
        "targets": default_targets(disease, age=age, has_diabetes=has_diabetes),
        "drugs": [],
        "lifestyle": {"salt_g_per_day": 5, "exercise": "每周≥5次，每次≥30分钟中等强度有氧运动",
                      "smoking": "戒烟", "alcohol": "戒酒或限酒", "diet": "低盐低脂饮食，多吃蔬菜水果",
                      "weight_target_kg": None},
        "follow_up_interval_days": default_interval_days(risk_level),
        "education_topics": default_topics(disease, risk_level),
        "notes": "",
    }


CONTENT_KEYS = ("targets", "drugs", "lifestyle", "follow_up_interval_days", "education_topics", "notes",
                "acknowledgements")   # regimen warnings the drafter acknowledged (safety.py, issue 12.5)


def normalize(content: dict[str, Any]) -> dict[str, Any]:
    """Keep the plan keys only (form data carries other task fields)."""
    out = {k: content.get(k) for k in CONTENT_KEYS if k in content}
    out["drugs"] = [dict(d) for d in out.get("drugs") or []]
    return out


# -- diff ----------------------------------------------------------------------------------------------------

def _flatten(content: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in content.items():
        if key == "drugs":
            for drug in value or []:
                flat[f"drugs.{drug.get('drug') or drug.get('name')}"] = {k: v for k, v in drug.items()}
        elif isinstance(value, dict):
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = v
        elif isinstance(value, list):
            flat[key] = sorted(value, key=str)
        else:
            flat[key] = value
    return flat


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Changes from `old` to `new`: `[{path, change: added|removed|changed, from, to}]`, drugs keyed by drug."""
    a, b = _flatten(old or {}), _flatten(new or {})
    changes = []
    for path in sorted(set(a) | set(b)):
        if path not in a:
            changes.append({"path": path, "change": "added", "from": None, "to": b[path]})
        elif path not in b:
            changes.append({"path": path, "change": "removed", "from": a[path], "to": None})
        elif a[path] != b[path]:
            changes.append({"path": path, "change": "changed", "from": a[path], "to": b[path]})
    return changes

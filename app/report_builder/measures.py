"""What a report can count: the indicators of the quality library, and raw measures (counts of a quality source's
rows under a condition). A raw measure is written as an indicator definition and parsed by the library, so it is
checked against the sources' vocabulary exactly like an indicator and counted by the same code."""
from __future__ import annotations

from functools import cache
from typing import Any

from app.quality.library import Indicator, library, parse_indicator
from app.quality.sources import DIMENSIONS

PERIOD_DIMENSION = "period"
DIMENSION_LABELS = {PERIOD_DIMENSION: "统计期", **DIMENSIONS}
GRANULARITIES = {"month": "月", "quarter": "季度", "year": "年"}
COMPARISONS = {"mom": "环比", "yoy": "同比"}

# code: (名称, source, where, unit)
RAW: dict[str, tuple[str, str, list[Any], str]] = {
    "residents": ("辖区居民数", "residents", [], "人"),
    "enrolments": ("慢病建档管理人数", "chronic_patients", [], "人"),
    "new_enrolments": ("新增建档人数", "chronic_patients", [["new_in_window", "=", True]], "人"),
    "overdue_patients": ("逾期未随访人数", "chronic_patients", [["overdue", "=", True]], "人"),
    "lost_to_follow_up": ("失访人数", "chronic_patients", [["lost_to_follow_up", "=", True]], "人"),
    "follow_ups_due": ("到期随访人次", "follow_up_visits", [], "人次"),
    "follow_ups_done": ("已完成随访人次", "follow_up_visits", [["done", "=", True]], "人次"),
    "follow_ups_missed": ("未完成随访人次", "follow_up_visits", [["done", "=", False]], "人次"),
    "escalations": ("逾期升级人次", "escalations", [], "人次"),
    "consults": ("远程会诊例数", "consults", [], "人次"),
    "consults_held": ("已完成会诊例数", "consults", [["held", "=", True]], "人次"),
    "prescriptions": ("监管抗凝药处方数", "rx_prescriptions", [], "人次"),
    "prescriptions_reviewed": ("处方前置审核数", "rx_prescriptions", [["reviewed_before_billing", "=", True]], "人次"),
    "signed_contracts": ("签约居民数", "contract_residents", [["signed", "=", True]], "人"),
    "recognition_orders": ("互认核对开单数", "recognition_orders", [], "人次"),
}


@cache
def raw_measures() -> dict[str, Indicator]:
    """The raw measures as count indicators (window: the period itself)."""
    return {code: parse_indicator({"id": f"raw:{code}", "name": name, "unit": unit, "direction": "higher",
                                   "window": "month", "group": "raw",
                                   "numerator": {"source": source, "where": where}})
            for code, (name, source, where, unit) in RAW.items()}


def find(kind: str, code: str) -> Indicator | None:
    """The measure named by a definition (`indicator` of the library or `raw` count), None when unknown."""
    if kind == "indicator":
        return library().get(code)
    if kind == "raw":
        return raw_measures().get(code)
    return None


def catalogue() -> dict[str, Any]:
    """The builder's choices: indicators, raw measures, dimensions (with which each measure offers), granularities
    and comparisons."""
    def item(kind: str, code: str, ind: Indicator) -> dict[str, Any]:
        return {"kind": kind, "code": code, "name": ind.name, "unit": ind.unit, "group": ind.group,
                "dimensions": [PERIOD_DIMENSION, *ind.dimensions]}
    return {"measures": [item("indicator", i.id, i) for i in library().values()]
            + [item("raw", code, ind) for code, ind in raw_measures().items()],
            "dimensions": [{"code": c, "label": label} for c, label in DIMENSION_LABELS.items()],
            "granularities": [{"code": c, "label": label} for c, label in GRANULARITIES.items()],
            "comparisons": [{"code": c, "label": label} for c, label in COMPARISONS.items()]}

"""Case cost, DRG payment and margin (wave2 §4.4). Every coefficient comes from configuration (`drg_payment.json`
beside this module, or the file named by `YGT_DRG_PAYMENT`), per 医保统筹区 (region = the nearest organisation on
the case's path that the file lists): the method (点数法 `points` or 费率法 `rate`), the point value or base rate,
the region's and the organisation's 差异系数, outlier factors, the LOS exclusions and the regional group averages.

- 点数法: 病例点数 = RW × 100 × 差异系数; 病组支付标准 = 病例点数 × 点值
- 费率法: 病组支付标准 = 基础费率 × RW × 差异系数
- 住院 ≤ exclude_los_at_most 或 ≥ exclude_los_at_least 天: 不按 DRG, 按项目 (标准 = 住院总费用)
- 高倍率 (总费用 > 高倍率界值 × 区域次均费用): 标准 + 超出部分按项目; 低倍率 (< 低倍率界值 × 次均): 按项目
- 预期收入 = 病组支付标准 + 自费耗材; 医保支付 = 病组支付标准 − 患者自付部分
- 病例成本 = 药品 + 耗材 (扫码耗材按采购价 + 其他卫生材料) + 检查检验 + 医疗服务 + 床日 × 住院日 + 手术分钟 × 分钟成本
- 结余 = 预期收入 − 病例成本; 耗占比 = 卫生材料收入 ÷ 住院总费用"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.core.errors import Invalid
from app.org.queries import find_org

DEFAULT_FILE = Path(__file__).parent / "drg_payment.json"
METHODS = {"points": "点数法", "rate": "费率法"}


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def config() -> dict[str, Any]:
    return _load(os.environ.get("YGT_DRG_PAYMENT") or str(DEFAULT_FILE))


def region_of(org_code: str, org_path: str | None = None) -> tuple[str, dict[str, Any]]:
    """The 统筹区 whose configuration applies to an organisation (nearest listed ancestor); 422 when none is."""
    regions = config()["regions"]
    org = None if org_path else find_org(org_code)
    path = org_path or (org.path if org else "")
    for code in reversed([org_code, *[p for p in path.split("/") if p]]):
        if code in regions:
            return code, regions[code]
    raise Invalid("该机构所在统筹区未配置 DRG 付费参数 (no DRG payment configuration)", code="drg_region_not_configured",
                  org_code=org_code)


def region_or_none(org_code: str, org_path: str | None = None) -> dict[str, Any] | None:
    """The region's configuration, or None when the organisation's 统筹区 is not configured (indices skip it)."""
    try:
        return region_of(org_code, org_path)[1]
    except Invalid:
        return None


def _money(x: float) -> float:
    return round(float(x) + 0.0, 2)


def payment(*, region: dict[str, Any], org_code: str, weight: float, total_charge: float, los_days: int | None,
            drg_code: str) -> dict[str, Any]:
    """The DRG payment standard of one case under the region's method."""
    coefficient = float(region.get("coefficient", 1.0)) * float((region.get("org_coefficients") or {})
                                                                 .get(org_code, 1.0))
    out: dict[str, Any] = {"method": region["method"], "method_label": METHODS[region["method"]],
                           "coefficient": round(coefficient, 4), "outlier": None, "excluded": False}
    if region["method"] == "points":
        points = weight * 100 * coefficient
        out["points"] = round(points, 2)
        out["point_value"] = float(region["point_value"])
        standard = points * float(region["point_value"])
    elif region["method"] == "rate":
        out["base_rate"] = float(region["base_rate"])
        standard = float(region["base_rate"]) * weight * coefficient
    else:
        raise Invalid("DRG 付费方式配置不正确", code="drg_method_invalid", method=region["method"])
    out["drg_standard"] = _money(standard)
    los = los_days if los_days is not None else 0
    if los <= int(region.get("exclude_los_at_most", -1)) or los >= int(region.get("exclude_los_at_least", 10 ** 6)):
        out.update(excluded=True, paid=_money(total_charge), basis="按项目付费（住院天数不纳入 DRG）")
        return out
    group = (region.get("groups") or {}).get(drg_code)
    if group and group.get("avg_charge"):
        avg = float(group["avg_charge"])
        high, low = float(region["high_outlier_factor"]), float(region["low_outlier_factor"])
        if total_charge > high * avg:
            out.update(outlier="high", paid=_money(standard + total_charge - high * avg),
                       basis=f"高倍率病例：超出 {high:g} 倍次均费用部分按项目付费")
            return out
        if total_charge < low * avg:
            out.update(outlier="low", paid=_money(total_charge), basis=f"低倍率病例（低于 {low:g} 倍次均费用）：按项目付费")
            return out
    out.update(paid=_money(standard), basis="按 DRG 病组支付标准")
    return out


def evaluate(case: Any, devices: list[Any]) -> dict[str, Any]:
    """Cost, expected revenue and margin of a grouped case (the DRG result is on the case row)."""
    drg = case.drg or {}
    charges = drg.get("charges") or {}
    model = config()["cost_model"]
    region_code, region = region_of(case.org_code, case.org_path)
    total = float(case.total_charge or 0)
    pay = payment(region=region, org_code=case.org_code, weight=float(case.drg_weight or 0), total_charge=total,
                  los_days=case.los_days, drg_code=case.drg_code or "")
    scanned_cost = sum(d.unit_cost * d.quantity for d in devices)
    scanned_charge = sum(d.unit_price * d.quantity for d in devices)
    self_pay = sum(d.unit_price * d.quantity for d in devices if d.self_pay)
    other_consumables = float(charges.get("other_consumables") or 0)
    costs = {
        "drugs": float(charges.get("drugs") or 0) * float(model["drug_cost_ratio"]),
        "consumables": scanned_cost + other_consumables * float(model["other_consumable_cost_ratio"]),
        "exams": float(charges.get("exams") or 0) * float(model["exam_cost_ratio"]),
        "services": float(charges.get("services") or 0) * float(model["service_cost_ratio"]),
        "bed_days": float(model["bed_day_cost"]) * int(case.los_days or 0),
        "theatre": float(model["theatre_minute_cost"]) * int((case.operation or {}).get("minutes") or 0),
    }
    case_cost = sum(costs.values())
    revenue = float(pay["paid"]) + self_pay
    patient_share = float(drg.get("patient_share") or 0)
    return {"region": region_code, "region_name": region.get("name", ""), **pay,
            "insurance_payment": _money(float(pay["paid"]) - patient_share),
            "self_pay_consumables": _money(self_pay), "expected_revenue": _money(revenue),
            "costs": {k: _money(v) for k, v in costs.items()}, "case_cost": _money(case_cost),
            "margin": _money(revenue - case_cost), "high_value_cost": _money(scanned_cost),
            "consumable_share": round((scanned_charge + other_consumables) / total, 4) if total else None}

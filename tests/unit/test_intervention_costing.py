"""DRG payment by points and by rate, outliers, LOS exclusions, case cost and margin: a worked example by hand
(wave2 §4.4), coefficients from a configuration file (never from code)."""
from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pytest

from app.intervention import costing

CONFIG = {
    "regions": {
        "C01": {"name": "示例县", "method": "points", "point_value": 100, "coefficient": 1.0,
                "org_coefficients": {"C01D01": 1.1}, "high_outlier_factor": 3.0, "low_outlier_factor": 0.4,
                "exclude_los_at_most": 2, "exclude_los_at_least": 60,
                "groups": {"FM19": {"avg_charge": 40000, "avg_los": 7}}},
        "C02": {"name": "示例市", "method": "rate", "base_rate": 11000, "coefficient": 0.95, "org_coefficients": {},
                "high_outlier_factor": 2.0, "low_outlier_factor": 0.4, "exclude_los_at_most": 2,
                "exclude_los_at_least": 60, "groups": {}},
    },
    "cost_model": {"drug_cost_ratio": 1.0, "exam_cost_ratio": 0.65, "other_consumable_cost_ratio": 0.9,
                   "service_cost_ratio": 0.8, "bed_day_cost": 320, "theatre_minute_cost": 30},
}


@pytest.fixture(autouse=True)
def config(tmp_path, monkeypatch):
    path = tmp_path / "drg.json"
    path.write_text(json.dumps(CONFIG), encoding="utf-8")
    monkeypatch.setenv("YGT_DRG_PAYMENT", str(path))


def _case(**extra):
    base = {"org_code": "C01D01", "org_path": "/C01/C01D01/", "drg_code": "FM19", "drg_weight": 3.6, "total_charge": 45000.0,
                "los_days": 6, "operation": {"minutes": 90}, "admitted_on": date(2026, 11, 1),
                "drg": {"patient_share": 9000, "charges": {"drugs": 6000, "exams": 5000, "other_consumables": 3000,
                                                        "services": 4000}}}
    return SimpleNamespace(**{**base, **extra})


def _device(price, cost, *, qty=1, self_pay=False):
    return SimpleNamespace(unit_price=price, unit_cost=cost, quantity=qty, self_pay=self_pay)


DEVICES = [_device(5800, 5600, qty=2), _device(2000, 1500, self_pay=True)]


def test_worked_example_points_method():
    r = costing.evaluate(_case(), DEVICES)
    # 病例点数 = RW 3.6 × 100 × 差异系数 (1.0 × 1.1) = 396; 标准 = 396 × 点值 100 = 39 600
    assert r["method"] == "points" and r["points"] == 396.0 and r["drg_standard"] == 39600.0
    assert r["paid"] == 39600.0 and r["outlier"] is None and not r["excluded"]
    assert r["insurance_payment"] == 30600.0                      # − 患者自付 9 000
    # 预期收入 = 39 600 + 自费耗材 2 000
    assert r["expected_revenue"] == 41600.0
    # 成本: 药 6 000 + 耗材 (2×5 600 + 1 500 + 3 000×0.9 = 15 400) + 检查 5 000×0.65 = 3 250
    #       + 服务 4 000×0.8 = 3 200 + 床日 320×6 = 1 920 + 手术 30×90 = 2 700 = 32 470
    assert r["costs"] == {"drugs": 6000.0, "consumables": 15400.0, "exams": 3250.0, "services": 3200.0,
                          "bed_days": 1920.0, "theatre": 2700.0}
    assert r["case_cost"] == 32470.0 and r["margin"] == 9130.0
    # 耗占比 = (2×5 800 + 2 000 + 3 000) ÷ 45 000
    assert r["consumable_share"] == round(16600 / 45000, 4)


def test_rate_method_uses_the_regions_base_rate_and_coefficient():
    r = costing.evaluate(_case(org_code="C02X", org_path="/C02/C02X/"), DEVICES)
    # 11 000 × 3.6 × 0.95 = 37 620
    assert r["method"] == "rate" and r["region"] == "C02" and r["paid"] == 37620.0


def test_outliers_and_exclusions():
    high = costing.evaluate(_case(total_charge=130000.0), DEVICES)
    assert high["outlier"] == "high" and high["paid"] == 39600.0 + (130000 - 3 * 40000)
    low = costing.evaluate(_case(total_charge=15000.0), DEVICES)
    assert low["outlier"] == "low" and low["paid"] == 15000.0
    short = costing.evaluate(_case(los_days=2), DEVICES)
    assert short["excluded"] and short["paid"] == 45000.0
    long = costing.evaluate(_case(los_days=60), DEVICES)
    assert long["excluded"]


def test_unconfigured_region_is_refused():
    from app.core.errors import Invalid
    with pytest.raises(Invalid) as err:
        costing.evaluate(_case(org_code="C09", org_path="/C09/"), DEVICES)
    assert err.value.code == "drg_region_not_configured"

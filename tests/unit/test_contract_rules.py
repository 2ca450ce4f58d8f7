"""Pure rules of contracting: R9 package recommendation (the deployed DMN), the catalogue's validation (never charge
a free 基本公卫 item; the payer split adds up), units per cycle, due dates and on-time units of the ledger."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.contracting import catalogue, ledger, services
from app.contracting.models import ContractItem
from app.core.errors import Invalid
from app.engine import dmn

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def r9():
    path = REPO / "dmn" / "package_recommend.dmn"
    return dmn.DecisionRegistry([dmn.parse_decision(path.read_bytes(), filename=path.name)])


BASE = {"htn_enrolled": False, "htn_uncontrolled_twice": False, "htn_risk": None, "t2dm_enrolled": False,
        "on_warfarin": False, "age": 50, "disability": "none"}


@pytest.mark.parametrize(("inputs", "expected"), [
    ({}, ["BASIC"]),
    ({"htn_enrolled": True, "htn_uncontrolled_twice": True, "htn_risk": "LOW"}, ["BASIC", "HTN_PLUS"]),
    ({"htn_enrolled": True, "htn_uncontrolled_twice": True, "htn_risk": "HIGH"}, ["BASIC", "HTN_PLUS"]),
    ({"htn_enrolled": True, "htn_risk": "MODERATE"}, ["BASIC"]),
    ({"t2dm_enrolled": True, "on_warfarin": True}, ["BASIC", "DM_PLUS", "ANTICOAG"]),
    ({"age": 65, "disability": "full"}, ["BASIC", "HOME_CARE"]),
    ({"age": 90, "disability": "none"}, ["BASIC"]),
])
def test_r9_recommends_the_basic_package_always_and_one_package_per_condition(r9, inputs, expected):
    assert r9.evaluate("package_recommend", {**BASE, **inputs}).outputs["package"] == expected


PAID = {"code": "x_plus", "name": "测试包", "price_fen": 100, "target_groups": ["高血压"],
        "payer_split": {"insurance": 50, "public_health": 0, "self": 50},
        "items": [{"service_code": "home_medical_visit", "name": "上门", "kind": "home_visit", "quantity": 1,
                   "period": "month", "provider_level": "village"}]}


def test_a_priced_package_with_a_free_phs_item_is_refused_with_a_stable_code():
    body = {**PAID, "items": [*PAID["items"], {"service_code": "phs_elderly_checkup", "kind": "exam", "quantity": 1,
                                               "period": "year", "provider_level": "township"}]}
    with pytest.raises(Invalid) as raised:
        catalogue.validate(body)
    assert raised.value.code == "free_phs_item_charged" and raised.value.details["path"] == "/items/1/service_code"
    free = {**body, "price_fen": 0, "payer_split": {"insurance": 0, "public_health": 0, "self": 0}}
    assert catalogue.validate(free)["items"][1]["free_phs"] is True


@pytest.mark.parametrize(("change", "code"), [
    ({"payer_split": {"insurance": 50, "public_health": 0, "self": 10}}, "payer_split_mismatch"),
    ({"items": []}, "package_items_required"),
    ({"target_groups": ["外星人"]}, "unknown_target_group"),
    ({"code": "坏 code"}, "invalid_package_code"),
    ({"items": [{**PAID["items"][0], "quantity": 0}]}, "invalid_item_quantity"),
    ({"items": [{**PAID["items"][0], "kind": "follow_up"}]}, "follow_up_item_needs_disease"),
    ({"items": [PAID["items"][0], PAID["items"][0]]}, "duplicate_package_item"),
])
def test_a_bad_package_is_refused_whole(change, code):
    with pytest.raises(Invalid) as raised:
        catalogue.validate({**PAID, **change})
    assert raised.value.code == code


def test_units_per_cycle_and_due_dates():
    assert catalogue.units_per_cycle({"quantity": 1, "period": "quarter"}) == 4
    assert catalogue.units_per_cycle({"quantity": 2, "period": "half_year"}) == 4
    assert catalogue.units_per_cycle({"quantity": 1, "period": "month"}) == 12
    assert services.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert services.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_a_unit_is_on_time_when_delivered_by_its_due_date():
    item = ContractItem(quantity=4, delivered=0, due_dates=["2026-03-31", "2026-06-30", "2026-09-30", "2026-12-31"])
    assert ledger.unit_on_time(item, 1, date(2026, 3, 31)) == (date(2026, 3, 31), True)
    assert ledger.unit_on_time(item, 2, date(2026, 7, 1)) == (date(2026, 6, 30), False)
    assert ledger.unit_on_time(item, 5, date(2026, 7, 1)) == (None, True)

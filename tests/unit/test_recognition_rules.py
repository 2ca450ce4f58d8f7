"""Issue 17.5: the mutual-recognition rules (window edges, accreditation, network membership) as pure functions."""
from __future__ import annotations

from datetime import date

from app.recognition.rules import Accredited, ItemRule, is_accredited, judge, valid_until

HBA1C = ItemRule(True, 90, "90天")
FPG = ItemRule(True, 7, "7天")
INR = ItemRule(False, 0, "不纳入")
DAY = date(2026, 12, 1)


def verdict(rule, on, *, in_network=True, accredited=True, result_day=DAY):
    return judge(rule, result_day=result_day, on=on, in_network=in_network, accredited=accredited)


def test_a_7_day_item_is_recognised_on_its_day_and_the_6_days_after_and_not_on_the_8th():
    assert valid_until(DAY, 7) == date(2026, 12, 7)
    assert verdict(FPG, DAY).code == "recognised"
    assert verdict(FPG, date(2026, 12, 7)).code == "recognised"
    late = verdict(FPG, date(2026, 12, 8))
    assert late.code == "expired" and late.label == "已超过互认有效期" and late.valid_until == date(2026, 12, 7)


def test_a_90_day_window_crosses_the_year_end():
    assert valid_until(DAY, 90) == date(2027, 2, 28)
    assert verdict(HBA1C, date(2027, 2, 28)).recognised
    assert not verdict(HBA1C, date(2027, 3, 1)).recognised


def test_an_order_before_the_result_does_not_recognise_it():
    assert verdict(FPG, date(2026, 11, 30)).code == "not_yet"


def test_an_unlisted_item_is_never_recognised_whatever_its_source():
    v = verdict(INR, DAY)
    assert v.code == "not_listed" and v.valid_until is None and not v.recognised


def test_outside_the_network_and_without_accreditation_are_told_apart():
    assert verdict(HBA1C, DAY, in_network=False).code == "outside_network"
    assert verdict(HBA1C, DAY, accredited=False).label == "该机构此项目未通过质控认证"


def test_accreditation_covers_its_item_or_every_item_only_inside_its_dates():
    rows = [Accredited("4548-4", date(2026, 1, 1), date(2026, 12, 31))]
    assert is_accredited(rows, "4548-4", date(2026, 1, 1))
    assert is_accredited(rows, "4548-4", date(2026, 12, 31))
    assert not is_accredited(rows, "4548-4", date(2027, 1, 1))
    assert not is_accredited(rows, "4548-4", date(2025, 12, 31))
    assert not is_accredited(rows, "13457-7", date(2026, 6, 1))
    assert is_accredited([Accredited("*", date(2026, 1, 1), None)], "13457-7", date(2030, 6, 1))
    assert not is_accredited([], "4548-4", DAY)

"""The dose tables' bands (T16/T18: rivaroxaban_dose, enoxaparin_dose, nadroparin_dose) are shown in words."""
from __future__ import annotations

import pytest

from app.anticoag.services import band_label


@pytest.mark.parametrize("band,words", [
    ("20mg_qd", "20 mg 每日1次"), ("15mg_qd_caution", "15 mg 每日1次（慎用）"),
    ("15mg_bid_day1_21_then_20mg_qd", "15 mg 每日2次（第1–21天），之后 20 mg 每日1次"),
    ("20mg_qd (EU/CN 2000 IU)", "20 mg 每日1次"), ("NOT_RECOMMENDED", "不推荐使用"), ("CONTRAINDICATED", "禁用"),
    ("something_else", "something_else"), (None, None)])
def test_bands_in_words(band, words):
    assert band_label(band) == words

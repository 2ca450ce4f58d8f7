"""Issue 18.1: the automatic pre-review's findings against worked cases (CR T15–T18 and wave2 §3.4 R6b), through
the deployed DMN pack."""
from __future__ import annotations

import pytest

from app.core import clock
from tests.pharmacy_support import deploy_pharmacy_models

W3 = {"drug": "warfarin", "dose_mg": 3, "frequency": "qd"}


def riva(mg: float, freq: str = "qd") -> dict:
    return {"drug": "rivaroxaban", "dose_mg": mg, "frequency": freq}


def enox(mg: float, freq: str) -> dict:
    return {"drug": "enoxaparin", "dose_mg": mg, "frequency": freq}


@pytest.fixture()
def review(app):
    from app.pharmacy import checks
    deploy_pharmacy_models(app)

    def run(items, *, indication="NVAF", concomitant=(), **clinical):
        with app.app_context():
            return checks.review(items=items, indication=indication, clinical=clinical,
                                 concomitant=list(concomitant))
    return run


def codes(result) -> list[tuple[str, str]]:
    return [(f["code"], f["grade"]) for f in result["findings"]]


def test_cockcroft_gault_male_60y_70kg_scr_88_4_gives_77_8_and_rivaroxaban_20_mg_is_as_recommended(review):
    out = review([riva(20)], age=60, weight_kg=70, sex="M", scr_umol_l=88.4)
    assert out["crcl_for_dosing"] == pytest.approx(77.8, abs=0.1)
    assert out["grade"] == "none" and out["findings"] == []


def test_female_80y_50kg_scr_120_crcl_26_wants_15_mg_with_caution(review):
    # (140-80)×50 / (72 × 120/88.4) × 0.85 = 26.1 mL/min → T16 row 2: 15 mg qd, caution
    out = review([riva(20)], age=80, weight_kg=50, sex="F", scr_umol_l=120)
    assert out["crcl_for_dosing"] == pytest.approx(26.1, abs=0.1)
    [finding] = out["findings"]
    assert (finding["code"], finding["grade"], finding["recommended"]) == ("dose_not_as_recommended", "warn",
                                                                          "15mg_qd_caution")
    assert finding["rule"] == "rivaroxaban_dose" and finding["rule_version"] == 1
    assert codes(review([riva(15)], age=80, weight_kg=50, sex="F", scr_umol_l=120)) == [("dose_caution", "warn")]


def test_rivaroxaban_below_crcl_15_is_blocked_and_without_renal_function_is_a_warning(review):
    assert codes(review([riva(15)], crcl_ml_min=14)) == [("contraindicated_renal", "block")]
    assert codes(review([riva(20)], weight_kg=70)) == [("renal_function_missing", "warn")]


def test_vte_treatment_accepts_either_phase_of_the_rivaroxaban_schedule(review):
    assert review([riva(15, "bid")], indication="VTE_TREATMENT", crcl_ml_min=60)["grade"] == "none"
    assert review([riva(20)], indication="VTE_TREATMENT", crcl_ml_min=60)["grade"] == "none"


def test_enoxaparin_dvt_70_kg_is_q12h_at_crcl_30_and_q24h_at_29(review):
    assert review([enox(70, "q12h")], indication="DVT_TREATMENT", weight_kg=70, crcl_ml_min=30)["grade"] == "none"
    out = review([enox(70, "q12h")], indication="DVT_TREATMENT", weight_kg=70, crcl_ml_min=29)
    assert codes(out) == [("dose_not_as_recommended", "warn")] and out["findings"][0]["recommended"] == "70mg_qd"
    assert codes(review([enox(70, "qd")], indication="DVT_TREATMENT", weight_kg=70, crcl_ml_min=10)) == [
        ("contraindicated_renal", "block")]


def test_two_anticoagulants_block_unless_lmwh_bridges_to_warfarin(review):
    today = clock.today().isoformat()
    assert ("duplicate_anticoagulant", "block") in codes(review([riva(20), W3], crcl_ml_min=80, inr_date=today))
    bridging = review([enox(70, "q12h"), W3], indication="DVT_TREATMENT", weight_kg=70, crcl_ml_min=80,
                      inr_date=today, bridging=True)
    assert ("duplicate_anticoagulant", "warn") in codes(bridging) and bridging["grade"] == "warn"


def test_warfarin_interactions_inr_age_and_bleeding_risk(review):
    today = clock.today().isoformat()
    assert codes(review([W3], concomitant=["amiodarone"], inr_date=today)) == [("warfarin_interaction", "warn")]
    assert codes(review([W3], concomitant=["danshen"], inr_date=today)) == [("warfarin_interaction", "info")]
    assert review([W3], concomitant=["danshen"], inr_date=today)["grade"] == "info"
    assert codes(review([W3])) == [("inr_missing", "warn")]
    old = review([riva(15)], concomitant=["aspirin"], age=80, crcl_ml_min=40)
    assert codes(old) == [("elderly_bleeding_risk", "warn")]


def test_what_a_modified_version_changed_is_said_in_words():
    from app.pharmacy.queries import changes
    before = [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd", "days": 14},
              {"drug": "rivaroxaban", "dose_mg": 20, "frequency": "qd"}]
    after = [{"drug": "warfarin", "dose_mg": 2, "frequency": "qd", "days": 7},
             {"drug": "enoxaparin", "dose_mg": 40, "frequency": "qd"}]
    assert changes(before, after) == ["华法林 3 mg 每日1次 → 2 mg 每日1次（14天 → 7天）", "新增 依诺肝素 40 mg 每日1次",
                                      "停用 利伐沙班 20 mg 每日1次"]
    assert changes(before, before) == []

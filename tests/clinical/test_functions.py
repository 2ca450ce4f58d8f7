"""The formula helpers DMN expressions call reproduce hand-worked examples of the published equations."""
from __future__ import annotations

import pytest
from clinical_pack import decisions

from app.engine.dmn.functions import (
    FUNCTIONS,
    age_in_years,
    ckd_epi_2009_egfr,
    ckd_epi_2021_egfr,
    cockcroft_gault_crcl,
    dose_per_kg_label,
    inr_distance_from_target,
    pack_years_from_cigarettes,
    round_half_up,
)


def test_cockcroft_gault_male_60y_70kg_scr_1_mg_dl_is_77_8() -> None:
    # (140 − 60) × 70 / (72 × 88.4/88.4) = 5600 / 72 = 77.78 mL/min (Cockcroft & Gault 1976)
    assert cockcroft_gault_crcl(60, 70, "M", 88.4) == pytest.approx(77.7778, abs=1e-4)


def test_cockcroft_gault_female_multiplies_by_0_85() -> None:
    assert cockcroft_gault_crcl(60, 70, "F", 88.4) == pytest.approx(77.7778 * 0.85, abs=1e-4)  # 66.11


def test_cockcroft_gault_converts_micromol_per_litre_by_88_4() -> None:
    # Scr 100 μmol/L = 1.1312 mg/dL; (140 − 80) × 60 / (72 × 1.1312) = 44.20 mL/min
    assert cockcroft_gault_crcl(80, 60, "M", 100) == pytest.approx(44.2, abs=0.01)


def test_cockcroft_gault_is_unknown_when_an_argument_is_missing() -> None:
    assert cockcroft_gault_crcl(60, None, "M", 88.4) is None


def test_ckd_epi_2009_male_50y_scr_1_mg_dl_is_87_4() -> None:
    # 141 × (1.0/0.9)^−1.209 [0.8804] × 0.993^50 [0.7038] = 87.37 (Levey 2009; no race factor)
    assert ckd_epi_2009_egfr("M", 50, 88.4) == 87.4


def test_ckd_epi_2009_female_at_kappa_uses_only_the_age_and_sex_terms() -> None:
    # Scr = κ = 0.7 mg/dL (61.88 μmol/L): 141 × 0.993^50 [0.7038] × 1.018 = 101.02
    assert ckd_epi_2009_egfr("F", 50, 61.88) == 101.0


def test_ckd_epi_2009_female_below_kappa_uses_alpha() -> None:
    # Scr 50 μmol/L = 0.5656 mg/dL; (0.5656/0.7)^−0.329 [1.0727] × 141 × 0.993^60 [0.6561] × 1.018 = 101.0
    assert ckd_epi_2009_egfr("F", 60, 50) == 101.0


def test_ckd_epi_2021_male_50y_scr_1_mg_dl_is_91_7() -> None:
    # 142 × (1.0/0.9)^−1.200 [0.8812] × 0.9938^50 [0.7328] = 91.70 (Inker 2021, race-free)
    assert ckd_epi_2021_egfr("M", 50, 88.4) == 91.7


def test_ckd_epi_2021_female_at_kappa() -> None:
    # 142 × 0.9938^50 [0.7328] × 1.012 = 105.30
    assert ckd_epi_2021_egfr("F", 50, 61.88) == 105.3


def test_ckd_epi_equations_round_to_one_decimal_and_can_disagree_on_the_stage() -> None:
    # Scr 124 μmol/L, male 50: 2009 → 58.0 (G3a), 2021 → 61.1 (G2) — why the edition is recorded
    assert (ckd_epi_2009_egfr("M", 50, 124), ckd_epi_2021_egfr("M", 50, 124)) == (58.0, 61.1)


def test_round_half_up_is_not_bankers_rounding() -> None:
    assert (round_half_up(88.5), round_half_up(89.5), round_half_up(59.45, 1)) == (89.0, 90.0, 59.5)


def test_pack_years_are_packs_per_day_times_years() -> None:
    assert (pack_years_from_cigarettes(20, 30), pack_years_from_cigarettes(10, 30)) == (30.0, 15.0)


def test_age_counts_completed_years() -> None:
    assert (age_in_years("1970-06-15", "2025-06-14"), age_in_years("1970-06-15", "2025-06-15")) == (54, 55)


def test_inr_distance_is_zero_inside_and_exact_at_half_a_unit_outside() -> None:
    assert inr_distance_from_target(2.5, [2.0, 3.0]) == 0
    assert inr_distance_from_target(3.5, [2.0, 3.0]) == 0.5
    assert inr_distance_from_target(1.3, [1.8, 2.5]) == -0.5  # 1.3 − 1.8 is −0.5000000000000001 unrounded


def test_inr_distance_refuses_a_reversed_target() -> None:
    with pytest.raises(ValueError):
        inr_distance_from_target(2.5, [3.0, 2.0])


def test_weight_based_dose_rounds_half_up_to_whole_units() -> None:
    assert (dose_per_kg_label(1, 72.5, "mg", "q12h"), dose_per_kg_label(1, 72.4, "mg", "qd")) == (
        "73mg_q12h", "72mg_qd")


def test_every_helper_is_registered_and_none_shadows_a_decision_output() -> None:
    outputs = {name for d in decisions() for name in d.output_names}
    assert {"cockcroft_gault_crcl", "ckd_epi_2009_egfr", "ckd_epi_2021_egfr", "round_half_up"} <= set(FUNCTIONS)
    assert not set(FUNCTIONS) & outputs

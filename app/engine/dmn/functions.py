"""Named helper functions that DMN expressions may call (derived clinical values).

Each helper is small, pure and cites its source; the thresholds that act on its result live in DMN tables.
Helper names put the method first (``ckd_epi_2009_egfr``) so they never shadow the decision outputs they feed
(``egfr_ckd_epi_2009``, ``crcl_cockcroft_gault``).
Coefficients of published formulas live here; cut-offs never do. Helpers return ``None`` when an argument is
missing, so the table that reads the result decides what an unknown value means.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.core import clock

# Scr μmol/L → mg/dL (rules.md §0; creatinine molar mass 113.12 g/mol → 1 mg/dL = 88.4 μmol/L).
SCR_UMOL_PER_MG_DL = 88.4


def round_half_up(value: float | None, digits: int = 0) -> float | None:
    """Round half away from zero (89.5 → 90), unlike Python's banker's rounding."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-digits)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    return float(rounded) if digits > 0 else float(int(rounded))


def cockcroft_gault_crcl(age: float | None, weight_kg: float | None, sex: str | None,
                         scr_umol_l: float | None) -> float | None:
    """Return creatinine clearance (mL/min), unrounded; None if an argument is missing.

    Cockcroft DW, Gault MH. Nephron 1976;16:31-41: CrCl = (140 − age) × weight / (72 × Scr mg/dL), × 0.85 if
    female. Actual body weight (rules.md T17, EHRA 2021). Compare unrounded; display 1 decimal.
    """
    if None in (age, weight_kg, sex, scr_umol_l):
        return None
    scr_mg_dl = scr_umol_l / SCR_UMOL_PER_MG_DL
    crcl = (140 - age) * weight_kg / (72 * scr_mg_dl)
    return crcl * 0.85 if sex == "F" else crcl


def _ckd_epi(sex: str, age: float, scr_umol_l: float, *, intercept: float, alpha: dict[str, float],
             high_exponent: float, age_base: float, female_factor: float) -> float:
    scr_mg_dl = scr_umol_l / SCR_UMOL_PER_MG_DL
    kappa = 0.7 if sex == "F" else 0.9
    ratio = scr_mg_dl / kappa
    egfr = (intercept * min(ratio, 1.0) ** alpha[sex] * max(ratio, 1.0) ** high_exponent * age_base ** age)
    return egfr * female_factor if sex == "F" else egfr


def ckd_epi_2009_egfr(sex: str | None, age: float | None, scr_umol_l: float | None) -> float | None:
    """Return eGFR (mL/min/1.73 m²) by CKD-EPI 2009 creatinine, 1 decimal, without the race factor.

    Levey AS et al. Ann Intern Med 2009;150:604-12: 141 × min(Scr/κ,1)^α × max(Scr/κ,1)^−1.209 × 0.993^age
    × 1.018 [F]; κ 0.7 F / 0.9 M; α −0.329 F / −0.411 M (rules.md T10: drop the 1.159 race factor).
    """
    if None in (sex, age, scr_umol_l):
        return None
    egfr = _ckd_epi(sex, age, scr_umol_l, intercept=141, alpha={"F": -0.329, "M": -0.411},
                    high_exponent=-1.209, age_base=0.993, female_factor=1.018)
    return round_half_up(egfr, 1)


def ckd_epi_2021_egfr(sex: str | None, age: float | None, scr_umol_l: float | None) -> float | None:
    """Return eGFR (mL/min/1.73 m²) by the race-free CKD-EPI 2021 creatinine equation, 1 decimal.

    Inker LA et al. N Engl J Med 2021;385:1737-49: 142 × min(Scr/κ,1)^α × max(Scr/κ,1)^−1.200 × 0.9938^age
    × 1.012 [F]; κ 0.7 F / 0.9 M; α −0.241 F / −0.302 M.
    """
    if None in (sex, age, scr_umol_l):
        return None
    egfr = _ckd_epi(sex, age, scr_umol_l, intercept=142, alpha={"F": -0.241, "M": -0.302},
                    high_exponent=-1.200, age_base=0.9938, female_factor=1.012)
    return round_half_up(egfr, 1)


def pack_years_from_cigarettes(cigarettes_per_day: float | None, years_smoked: float | None) -> float | None:
    """Return pack-years = packs (20 cigarettes) per day × years smoked (COPD-SQ item, rules.md T08)."""
    if cigarettes_per_day is None or years_smoked is None:
        return None
    return cigarettes_per_day / 20 * years_smoked


def age_in_years(birth_date: date | str | None, on_date: date | str | None) -> int | None:
    """Return completed years of age on ``on_date`` (ISO strings accepted)."""
    if birth_date is None or on_date is None:
        return None
    return clock.age(date.fromisoformat(str(birth_date)), date.fromisoformat(str(on_date)))


def inr_distance_from_target(inr: float | None, target_inr: Sequence[float] | None) -> float | None:
    """Return how far the INR lies outside the target range: 0 inside, + above, − below (2 decimals).

    The margins that act on it (±0.5, rules.md T14 row 5) live in the warfarin_inr table.
    """
    if inr is None or target_inr is None:
        return None
    low, high = _target_bounds(target_inr)
    if inr > high:
        return round_half_up(inr - high, 2)
    if inr < low:
        return round_half_up(inr - low, 2)
    return 0.0


def _target_bounds(target_inr: Sequence[float]) -> tuple[float, float]:
    if len(target_inr) != 2 or not target_inr[0] < target_inr[1]:
        raise ValueError(f"target_inr must be [low, high] with low < high, got {target_inr!r}")
    return float(target_inr[0]), float(target_inr[1])


def dose_per_kg_label(dose_per_kg: float, weight_kg: float, unit: str, frequency: str) -> str:
    """Return a weight-based dose code, e.g. (1, 70, "mg", "q12h") → "70mg_q12h" (whole units, half up)."""
    amount = round_half_up(dose_per_kg * weight_kg)
    return f"{int(amount)}{unit}_{frequency}"


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "round_half_up": round_half_up,
    "cockcroft_gault_crcl": cockcroft_gault_crcl,
    "ckd_epi_2009_egfr": ckd_epi_2009_egfr,
    "ckd_epi_2021_egfr": ckd_epi_2021_egfr,
    "pack_years_from_cigarettes": pack_years_from_cigarettes,
    "age_in_years": age_in_years,
    "inr_distance_from_target": inr_distance_from_target,
    "dose_per_kg_label": dose_per_kg_label,
}

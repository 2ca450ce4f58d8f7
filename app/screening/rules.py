"""Screening rules: which decision of the pack decides what for each disease, and what a result means.

Every threshold lives in a DMN table; this module only maps a resident's features to each decision's inputs and a
decision's output to a finding:

| disease | confirmed (→ verification) | suspected (→ verification) | high risk (→ prevention list) |
|---|---|---|---|
| htn | ICD-10 I10–I15 | `htn_screening` RECHECK_NON_SAME_DAY (+ `htn_diagnosis`) | `htn_screening` PRONE_BP_EVERY_6M |
| t2dm | E11; `dm_diagnosis` DIABETES | `dm_diagnosis` SUSPECTED | `dm_diagnosis` IFG/IGT; `dm_risk_score` ≥25 |
| copd | J43/J44 | `copd_sq` high_risk (→ spirometry) | — |
| chd | I20–I25 | — | — |
| stroke | I60–I64, I69, G45 | `stroke_risk` HIGH (卒中高危) | `stroke_risk` MEDIUM |
| ckd | N18 | `ckd_stage` G3a–G5 or A2–A3 | — |
| colorectal_cancer | — | `colorectal_high_risk` (→ colonoscopy, cancer_screening) | — |
| upper_gi_cancer | — | `upper_gi_screening` (→ endoscopy, cancer_screening) | — |
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import Invalid
from app.vocabulary import AF_PREFIXES, Disease

from .features import Features

Evaluate = Callable[[str, dict[str, Any]], dict[str, Any]]
MIN_AGE = {"htn": 35, "copd": 40, "stroke": 40, "ckd": 18, "colorectal_cancer": 40, "upper_gi_cancer": 40}
CRC_FACTORS = ("chronic_constipation", "chronic_diarrhoea", "mucus_bloody_stool", "adverse_life_event",
               "appendicitis_history", "biliary_history", "personal_cancer_history", "polyp_history", "famhx_crc")
UGI_FACTORS = ("high_incidence_area", "famhx_upper_gi_cancer", "precancerous_lesion", "hp_infection",
               "other_ugi_risk")
COPD_FACTORS = ("pack_years", "cough_without_cold", "dyspnea", "biomass", "famhx_resp")


@dataclass
class Finding:
    disease: str
    kind: str                   # confirmed | suspected | high_risk
    decision_id: str
    reason: str
    versions: dict[str, int] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def track(self) -> str:
        if self.kind == "high_risk":
            return "prevention"
        return "cancer" if self.disease.endswith("_cancer") else "case"


_PREFIXES: dict[str, tuple[str, ...]] = {}


def _has(f: Features, disease: str) -> str | None:
    if not f.conditions:            # most residents: no diagnosis at all
        return None
    prefixes = _PREFIXES.get(disease)
    if prefixes is None:            # once per disease: the enum lookup costs more than the test (py-spy, 23.4)
        prefixes = _PREFIXES[disease] = Disease(disease).prefixes
    return next((c for c in sorted(f.conditions) if c.upper().startswith(prefixes)), None)


def _any_factor(f: Features, keys: tuple[str, ...]) -> bool:
    return bool(f.factors) and any(k in f.factors for k in keys)    # most residents answered no questionnaire


def _int(value: Any) -> int | None:
    return int(value + 0.5) if isinstance(value, (int, float)) else None


def _bmi(f: Features) -> float | None:
    bmi = f.value("39156-5")
    weight, height = f.value("29463-7"), f.value("8302-2")
    if bmi is None and isinstance(weight, (int, float)) and isinstance(height, (int, float)) and height > 0:
        bmi = round(weight / (height / 100) ** 2, 1)
    return bmi


def _finding(disease, kind, decision_id, result, evidence) -> Finding:
    return Finding(disease, kind, decision_id, result["reason"], result["versions"],
                   {**evidence, "outputs": result["outputs"]})


def _from_diagnosis(f: Features, disease: str) -> Finding | None:
    code = _has(f, disease)
    if code is None:
        return None
    return Finding(disease, "confirmed", "icd10", f"已有诊断 {code} ({Disease(disease).label})",
                   evidence={"icd10": code})


def screen_htn(f: Features, evaluate: Evaluate) -> Finding | None:
    sbp, dbp = _int(f.value("8480-6")), _int(f.value("8462-4"))
    if sbp is None or dbp is None or f.age < MIN_AGE["htn"]:
        return None
    inputs = {"age": f.age, "sex": f.sex, "sbp": sbp, "dbp": dbp, "bmi": _bmi(f), "waist": f.value("8280-0"),
              "famhx": f.factors.get("famhx_htn", False), "high_salt": f.factors.get("high_salt", False),
              "drink_ml": f.factors.get("drink_ml")}
    result = evaluate("htn_screening", inputs)
    action = result["outputs"]["action"]
    evidence = {"sbp": sbp, "dbp": dbp, "raised_bp_days": f.raised_bp_days, "action": action}
    if action == "RECHECK_NON_SAME_DAY":
        diagnosis = evaluate("htn_diagnosis", {"raised_bp_days": max(f.raised_bp_days, 1)})
        evidence["diagnosis"] = diagnosis["outputs"]["diagnosis"]
        finding = _finding("htn", "suspected", "htn_screening", result, evidence)
        finding.reason = f"{result['reason']}; {diagnosis['reason']}"
        finding.versions |= diagnosis["versions"]
        return finding
    if action == "PRONE_BP_EVERY_6M":
        return _finding("htn", "high_risk", "htn_screening", result, evidence)
    return None


def screen_t2dm(f: Features, evaluate: Evaluate) -> Finding | None:
    glucose = {"fpg": f.value("1558-6"), "random_glucose": f.value("2339-0"), "ogtt_2h": f.value("20438-8"),
               "hba1c": f.value("4548-4")}
    if f.dm_abnormal_days or glucose["fpg"] is not None or glucose["random_glucose"] is not None or \
            glucose["ogtt_2h"] is not None or glucose["hba1c"] is not None:
        result = evaluate("dm_diagnosis", {**glucose, "abnormal_days": f.dm_abnormal_days})
        diagnosis = result["outputs"]["diagnosis"]
        evidence = {**{k: v for k, v in glucose.items() if v is not None}, "abnormal_days": f.dm_abnormal_days}
        kind = {"DIABETES": "confirmed", "SUSPECTED": "suspected", "IFG": "high_risk", "IGT": "high_risk"}.get(diagnosis)
        if kind:
            return _finding("t2dm", kind, "dm_diagnosis", result, evidence | {"diagnosis": diagnosis})
    return _cdrs(f, evaluate)


def _cdrs(f: Features, evaluate: Evaluate) -> Finding | None:
    bmi, waist, sbp = _bmi(f), f.value("8280-0"), _int(f.value("8480-6"))
    if not 20 <= f.age <= 74 or None in (bmi, waist, sbp):
        return None         # CDRS applies at 20–74 y with BMI, waist and SBP measured (T07)
    result = evaluate("dm_risk_score", {"sex": f.sex, "age": f.age, "bmi": bmi, "waist": waist, "sbp": sbp,
                                        "family_history_dm": f.factors.get("famhx_dm", False)})
    if result["outputs"]["high_risk"]:
        return _finding("t2dm", "high_risk", "dm_risk_score", result, {"score": result["outputs"].get("score")})
    return None


def screen_copd(f: Features, evaluate: Evaluate) -> Finding | None:
    if f.age < MIN_AGE["copd"] or not _any_factor(f, COPD_FACTORS):
        return None         # COPD-SQ needs the questionnaire (T08), validated from 40 y
    bmi = _bmi(f)
    if bmi is None:
        return None
    inputs = {"age": f.age, "pack_years": f.factors.get("pack_years", 0), "bmi": bmi,
              "cough_without_cold": f.factors.get("cough_without_cold", False),
              "dyspnea": f.factors.get("dyspnea", "none"), "biomass": f.factors.get("biomass", False),
              "family_resp": f.factors.get("famhx_resp", False)}
    result = evaluate("copd_sq", inputs)
    if result["outputs"]["high_risk"]:
        return _finding("copd", "suspected", "copd_sq", result, {"score": result["outputs"].get("score")})
    return None


def stroke_inputs(f: Features, evaluate: Evaluate) -> dict[str, Any]:
    """The nine T09 items from the record (an unmeasured lipid profile counts, as the card says)."""
    lipids = {"tc": f.value("2093-3"), "ldl": f.value("13457-7"), "hdl": f.value("2085-9")}
    dyslipidaemia = all(v is None for v in lipids.values()) or \
        evaluate("htn_dyslipidaemia", lipids)["outputs"]["dyslipidaemia"]
    sbp, dbp = _int(f.value("8480-6")), _int(f.value("8462-4"))
    raised = sbp is not None and dbp is not None and \
        evaluate("bp_grade", {"sbp": sbp, "dbp": dbp})["outputs"]["bp_grade"] in ("G1", "G2", "G3")
    bmi = _bmi(f)
    return {"htn": bool(_has(f, "htn")) or "htn" in f.enrolled or raised,
            "af_or_valvular": f.factors.get("af_or_valvular", False) or any(
                c.upper().startswith(AF_PREFIXES) for c in f.conditions),
            "smoking": bool(f.factors.get("smoking", False)), "dyslipidemia_or_unknown": bool(dyslipidaemia),
            "diabetes": bool(_has(f, "t2dm")) or "t2dm" in f.enrolled, "inactive": bool(f.factors.get("inactive")),
            "bmi_ge_26": bmi is not None and bmi >= 26, "family_stroke": bool(f.factors.get("famhx_stroke")),
            "prior_stroke_or_tia": bool(_has(f, "stroke"))}


def screen_stroke(f: Features, evaluate: Evaluate) -> Finding | None:
    if f.age < MIN_AGE["stroke"]:
        return None
    inputs = stroke_inputs(f, evaluate)
    result = evaluate("stroke_risk", inputs)
    level = result["outputs"]["level"]
    evidence = {"factors": [k for k, v in inputs.items() if v], "level": level}
    if level == "HIGH":
        return _finding("stroke", "suspected", "stroke_risk", result, evidence)
    if level == "MEDIUM":
        return _finding("stroke", "high_risk", "stroke_risk", result, evidence)
    return None


def ckd_inputs(f: Features) -> dict[str, Any] | None:
    scr = f.value("2160-0")
    if scr is None or f.age < MIN_AGE["ckd"]:
        return None
    acr = f.value("14959-1")
    return {"sex": f.sex, "age": f.age, "scr_umol_l": scr, "acr_mg_g": acr if acr is not None else 0}


def screen_ckd(f: Features, evaluate: Evaluate) -> Finding | None:
    inputs = ckd_inputs(f)
    if inputs is None:
        return None
    result = evaluate("ckd_stage", inputs)
    out = result["outputs"]
    if out["g_stage"] in ("G3a", "G3b", "G4", "G5") or out["a_stage"] in ("A2", "A3"):
        return _finding("ckd", "suspected", "ckd_stage", result, {
            "scr_umol_l": inputs["scr_umol_l"], "egfr": out.get("egfr_ckd_epi_2009"), "g_stage": out["g_stage"],
            "a_stage": out["a_stage"], "acr_measured": f.value("14959-1") is not None})
    return None


def screen_colorectal(f: Features, evaluate: Evaluate) -> Finding | None:
    fit = f.value("29771-3")
    if f.age < MIN_AGE["colorectal_cancer"] or (fit is None and not _any_factor(f, CRC_FACTORS)):
        return None
    inputs = {k: bool(f.factors.get(k, False)) for k in CRC_FACTORS if k != "famhx_crc"}
    inputs |= {"family_crc": bool(f.factors.get("famhx_crc", False)), "fit_positive": fit == "positive"}
    result = evaluate("colorectal_high_risk", inputs)
    if result["outputs"]["crc_high_risk"]:
        return _finding("colorectal_cancer", "suspected", "colorectal_high_risk", result,
                        {"fit": fit, "factors": [k for k, v in inputs.items() if v]})
    return None


def screen_upper_gi(f: Features, evaluate: Evaluate) -> Finding | None:
    if f.age < MIN_AGE["upper_gi_cancer"] or not _any_factor(f, UGI_FACTORS):
        return None
    inputs = {"age": f.age, **{k: bool(f.factors.get(k, False)) for k in UGI_FACTORS if k != "famhx_upper_gi_cancer"},
              "family_upper_gi_cancer": bool(f.factors.get("famhx_upper_gi_cancer", False))}
    result = evaluate("upper_gi_screening", inputs)
    if result["outputs"]["endoscopy_indicated"]:
        return _finding("upper_gi_cancer", "suspected", "upper_gi_screening", result,
                        {"factors": [k for k, v in inputs.items() if v is True]})
    return None


SCREENS: dict[str, Callable[[Features, Evaluate], Finding | None]] = {
    "htn": screen_htn, "t2dm": screen_t2dm, "copd": screen_copd, "chd": lambda f, e: None,
    "stroke": screen_stroke, "ckd": screen_ckd, "colorectal_cancer": screen_colorectal,
    "upper_gi_cancer": screen_upper_gi,
}


_DIAGNOSABLE = frozenset(d for d in SCREENS if d in Disease.codes() and not d.endswith("_cancer"))


def findings(f: Features, evaluate: Evaluate, errors: dict[str, int] | None = None) -> list[Finding]:
    """Everything the rules find for one resident, skipping enrolled diseases, open cases and refused inputs."""
    out = []
    for disease, screen in SCREENS.items():
        if disease in f.enrolled:
            continue
        try:
            found = _from_diagnosis(f, disease) if disease in _DIAGNOSABLE else None
            found = found or screen(f, evaluate)
        except Invalid as exc:
            if errors is not None:
                errors[f"{disease}:{exc.code}"] = errors.get(f"{disease}:{exc.code}", 0) + 1
            continue
        if found is None or f"{disease}:{found.track}" in f.open_keys:
            continue
        closed = f.closed_at.get(f"{disease}:{found.track}")
        if closed is not None and (f.latest_data_at is None or f.latest_data_at <= closed):
            continue        # decided already (rejected or closed) and nothing new arrived since
        if found.track == "prevention" and f"{disease}:case" in f.open_keys:
            continue
        out.append(found)
    return out

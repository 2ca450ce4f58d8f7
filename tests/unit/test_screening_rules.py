"""Worked cases for each screening rule (the pack's tables, read from dmn/), and the bulk evaluator's promise:
its equivalence-class memo answers exactly what a direct evaluation answers."""
from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from app.core.errors import Invalid
from app.engine import dmn
from app.screening.bulk import BulkEvaluator
from app.screening.features import Features
from app.screening.rules import findings
from app.workflows.decisions import PinnedRegistry

DMN = Path(__file__).resolve().parents[2] / "dmn"


@pytest.fixture(scope="module")
def evaluator() -> BulkEvaluator:
    registry = dmn.DecisionRegistry(dmn.parse_decision(p.read_bytes(), filename=p.name) for p in DMN.glob("*.dmn"))
    bulk = BulkEvaluator.__new__(BulkEvaluator)
    bulk.pinned, bulk._plans, bulk._cache, bulk.max_cache, bulk.calls, bulk.misses = \
        PinnedRegistry(registry, {}), {}, {}, 100_000, 0, 0
    bulk.samples = {}
    return bulk


def person(age: int, sex: str = "M", **values) -> Features:
    f = Features(1, sex, date(2026 - age, 1, 1), "C01T01V01", "/C01/C01T01/C01T01V01/", age=age)
    f.factors = values.pop("factors", {})
    f.conditions = set(values.pop("conditions", ()))
    f.raised_bp_days = values.pop("raised_bp_days", 0)
    f.dm_abnormal_days = values.pop("dm_abnormal_days", 0)
    f.values = {code.replace("_", "-"): v for code, v in values.items()}
    return f


def found(f: Features, evaluator) -> dict[str, tuple[str, str]]:
    return {x.disease: (x.kind, x.decision_id) for x in findings(f, evaluator.evaluate)}


def test_a_first_raised_bp_is_a_suspected_hypertension(evaluator):
    out = findings(person(48, **{"8480_6": 146, "8462_4": 88}, raised_bp_days=1), evaluator.evaluate)
    htn = next(x for x in out if x.disease == "htn")
    assert (htn.kind, htn.evidence["diagnosis"]) == ("suspected", "SUSPECTED") and "T06" in htn.reason


def test_three_raised_days_is_a_preliminary_diagnosis(evaluator):
    out = findings(person(48, **{"8480_6": 150, "8462_4": 95}, raised_bp_days=3), evaluator.evaluate)
    assert [x.evidence["diagnosis"] for x in out if x.disease == "htn"] == ["PRELIMINARY"]


def test_high_normal_bp_with_a_prone_factor_goes_to_the_prevention_list(evaluator):
    assert found(person(45, **{"8480_6": 134, "8462_4": 82}), evaluator)["htn"] == ("high_risk", "htn_screening")


def test_normal_bp_at_40_without_prone_factors_is_not_flagged(evaluator):
    assert "htn" not in found(person(40, **{"8480_6": 118, "8462_4": 76, "39156_5": 22.0}), evaluator)


def test_a_known_hypertension_diagnosis_is_a_confirmed_case(evaluator):
    assert found(person(60, conditions=["I10"]), evaluator)["htn"] == ("confirmed", "icd10")


def test_an_enrolled_disease_is_not_screened_again(evaluator):
    f = person(60, conditions=["I10"])
    f.enrolled = {"htn"}
    assert "htn" not in found(f, evaluator)


def test_two_abnormal_fasting_glucose_days_confirm_diabetes(evaluator):
    assert found(person(55, **{"1558_6": 7.4}, dm_abnormal_days=2), evaluator)["t2dm"] == ("confirmed", "dm_diagnosis")


def test_impaired_fasting_glucose_is_prediabetes_on_the_prevention_list(evaluator):
    assert found(person(55, **{"1558_6": 6.3}), evaluator)["t2dm"] == ("high_risk", "dm_diagnosis")


def test_a_cdrs_of_25_or_more_is_diabetes_high_risk(evaluator):
    # male 60 (16) + BMI 25 (3) + waist 92 (8) + SBP 132 (6) = 33 ≥ 25 (T07)
    f = person(60, **{"39156_5": 25.0, "8280_0": 92.0, "8480_6": 132, "8462_4": 80})
    assert found(f, evaluator)["t2dm"] == ("high_risk", "dm_risk_score")


def test_copd_sq_16_or_more_is_a_suspected_copd(evaluator):
    # age 65 (7) + BMI 18 (7) + cough (5) = 19 ≥ 16 (T08)
    f = person(65, **{"39156_5": 18.0}, factors={"cough_without_cold": True})
    assert found(f, evaluator)["copd"] == ("suspected", "copd_sq")


def test_three_stroke_factors_are_stroke_high_risk(evaluator):
    # hypertension (BP 150/95), smoking, unknown lipids = 3 factors (T09)
    f = person(58, **{"8480_6": 150, "8462_4": 95}, factors={"smoking": True})
    assert found(f, evaluator)["stroke"] == ("suspected", "stroke_risk")


def test_egfr_below_60_is_a_suspected_ckd(evaluator):
    f = person(70, "F", **{"2160_0": 110})
    assert found(f, evaluator)["ckd"] == ("suspected", "ckd_stage")


def test_a_positive_fit_is_a_colorectal_cancer_screening_positive(evaluator):
    f = person(60, **{"29771_3": "positive"})
    assert found(f, evaluator)["colorectal_cancer"] == ("suspected", "colorectal_high_risk")


def test_an_upper_gi_risk_factor_at_45_indicates_endoscopy(evaluator):
    f = person(50, factors={"famhx_upper_gi_cancer": True})
    assert found(f, evaluator)["upper_gi_cancer"] == ("suspected", "upper_gi_screening")


def test_the_class_memo_agrees_with_direct_evaluation(evaluator):
    rng = random.Random(3)
    registry = evaluator.pinned.registry
    for _ in range(3000):
        inputs = {"sex": rng.choice("MF"), "age": rng.randint(20, 74), "bmi": round(rng.uniform(16, 36), 1),
                  "waist": round(rng.uniform(60, 110), 1), "sbp": rng.randint(90, 200),
                  "family_history_dm": rng.random() < 0.2}
        assert evaluator.evaluate("dm_risk_score", inputs)["outputs"] == \
            registry.evaluate("dm_risk_score", inputs).outputs
        bp = {"age": rng.randint(0, 100), "sex": rng.choice("MF"), "sbp": rng.randint(90, 200),
              "dbp": rng.randint(50, 120), "bmi": rng.choice([None, round(rng.uniform(16, 36), 1)]),
              "waist": rng.choice([None, round(rng.uniform(60, 110), 1)]), "famhx": rng.random() < 0.3}
        assert evaluator.evaluate("htn_screening", bp)["outputs"] == registry.evaluate("htn_screening", bp).outputs


def test_the_class_memo_keeps_a_fraction_apart_only_where_a_column_reads_an_integer(evaluator):
    cdrs = {"sex": "M", "age": 50, "bmi": 24.0, "waist": 85.0, "sbp": 140, "family_history_dm": False}
    first = evaluator.evaluate("dm_risk_score", cdrs)
    misses = evaluator.misses
    # BMI and waist are numbers in every column: 24.3 is in 24.0's class, answered from the memo
    assert evaluator.evaluate("dm_risk_score", cdrs | {"bmi": 24.3, "waist": 85.5}) == first
    assert evaluator.misses == misses
    # SBP is an integer column: 140.5 is refused, as the table itself refuses it, and 140 still answered
    with pytest.raises(Invalid):
        evaluator.evaluate("dm_risk_score", cdrs | {"sbp": 140.5})
    with pytest.raises(dmn.DmnInputError):
        evaluator.pinned.registry.evaluate("dm_risk_score", cdrs | {"sbp": 140.5})
    assert evaluator.evaluate("dm_risk_score", cdrs) == first


def test_case_json_is_the_text_json_dumps_gives():
    import json

    from app.screening.services import _to_json
    value = {"sbp": 157, "bmi": 24.3, "fpg": 7.0, "action": "非同日复查", "factors": ["htn", "bmi_ge_26"], "n": None,
             "ok": True, "on": date(2026, 3, 2), "outputs": {"level": "HIGH", "score": 0.1 + 0.2}}
    assert _to_json(value) == json.dumps(value, ensure_ascii=False, default=str)


def test_the_plan_key_fast_path_is_the_classification_itself(evaluator):
    """`_Plan.key` answers from its per-class value memo in one comprehension: the same class ids as classifying each
    value afresh (`_class_id`), also for values equal across Python types (1, 1.0, True), None, lists and NaN."""
    evaluator.evaluate("htn_screening", {"age": 50, "sex": "M", "sbp": 150, "dbp": 90})     # builds the plan
    plan = evaluator._plans["htn_screening"]
    rng = random.Random(11)
    odd = [1, 1.0, True, 0, 0.0, False, None, [1, 2], float("nan"), "x", 140, 140.0, 140.5]
    for n in range(4000):
        inputs = {name: rng.choice(odd) if n % 3 == 0 else rng.choice([rng.randint(0, 200), round(rng.uniform(
            10, 200), 1), None]) for name in plan.fields}
        if n % 7 == 0:
            inputs.pop(rng.choice(plan.fields))
        fresh = tuple(plan._class_id(name, inputs.get(name)) for name in plan.fields)
        assert plan.key(inputs) == fresh == plan._key_filling(inputs) == plan.key(inputs), inputs

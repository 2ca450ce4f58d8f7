"""Every worked case beside every DMN (dmn/<decision>.cases.json) evaluates to what rules.md says."""
from __future__ import annotations

from typing import Any

import pytest
from clinical_pack import all_cases, decisions, registry

from app.engine.dmn import DmnEvaluationError, DmnInputError

CASES = all_cases()


def _matches(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return actual == pytest.approx(expected, abs=5e-4)
    return actual == expected and type(actual) is type(expected) if isinstance(expected, bool) else actual == expected


@pytest.mark.parametrize(("decision_id", "case"), CASES, ids=[f"{d}::{c['name']}" for d, c in CASES])
def test_case(decision_id: str, case: dict[str, Any]) -> None:
    if "expect_error" in case:
        _expect_error(decision_id, case)
        return
    outputs = registry().evaluate(decision_id, case["inputs"]).outputs
    wrong = {k: (outputs.get(k, "<absent>"), v) for k, v in case["expect"].items()
             if k not in outputs or not _matches(outputs[k], v)}
    assert not wrong, f"(actual, expected) per output: {wrong}; source: {case['source']}"


def _expect_error(decision_id: str, case: dict[str, Any]) -> None:
    expected = case["expect_error"]
    error_type = DmnInputError if expected["code"] in ("missing_input", "invalid_input") else DmnEvaluationError
    with pytest.raises(error_type) as raised:
        registry().evaluate(decision_id, case["inputs"])
    assert raised.value.code == expected["code"]
    if "field" in expected:
        assert raised.value.field == expected["field"]


def test_every_fired_rule_explains_itself_to_a_clinician() -> None:
    for decision_id, case in CASES:
        if "expect" not in case:
            continue
        for step in registry().evaluate(decision_id, case["inputs"]).trace:
            for rule in step["rules"]:
                assert rule["annotation"] and rule["annotation"].startswith(step["table"]), (decision_id, rule)


@pytest.mark.parametrize("decision", [d for d in decisions() if d.kind == "table"], ids=lambda d: d.id)
def test_every_rule_row_is_exercised_by_some_case(decision) -> None:  # type: ignore[no-untyped-def]
    fired: set[int] = set()
    for decision_id, case in CASES:
        if "expect" in case:
            try:
                trace = registry().evaluate(decision_id, case["inputs"]).trace
            except (DmnInputError, DmnEvaluationError):
                continue
            fired |= {r["index"] for s in trace if s["decision_id"] == decision.id for r in s["rules"]}
    unexercised = [r.index for r in decision.rules if r.index not in fired]
    assert not unexercised, f"{decision.id}: rules {unexercised} are not exercised by any case"

"""Inputs are checked before any rule runs: missing, wrongly typed, out of range, or defaulted."""
import pytest
from dmn_fixtures import load, table

from app.engine.dmn import MISSING, DecisionRegistry, DmnInputError


@pytest.fixture
def bp_grade():
    return DecisionRegistry([load("bp_grade")], helpers={})


def test_a_required_input_that_is_absent_is_missing(bp_grade):
    with pytest.raises(DmnInputError) as err:
        bp_grade.evaluate("bp_grade", {"sbp": 120})
    assert err.value.code == "missing_input"
    assert err.value.field == "dbp"
    assert err.value.decision_id == "bp_grade"


def test_a_required_input_that_is_null_is_missing(bp_grade):
    with pytest.raises(DmnInputError) as err:
        bp_grade.evaluate("bp_grade", {"sbp": None, "dbp": 80})
    assert (err.value.code, err.value.field) == ("missing_input", "sbp")


@pytest.mark.parametrize("value", ["150", True, float("nan"), [150]])
def test_a_number_input_of_another_type_is_invalid(bp_grade, value):
    with pytest.raises(DmnInputError) as err:
        bp_grade.evaluate("bp_grade", {"sbp": value, "dbp": 80})
    assert (err.value.code, err.value.field) == ("invalid_input", "sbp")


def test_a_value_outside_input_values_is_invalid_and_names_the_range(bp_grade):
    with pytest.raises(DmnInputError) as err:
        bp_grade.evaluate("bp_grade", {"sbp": 301, "dbp": 80})
    assert (err.value.code, err.value.field) == ("invalid_input", "sbp")
    assert "[40..300]" in err.value.reason


def test_values_at_the_edges_of_input_values_are_accepted(bp_grade):
    assert bp_grade.evaluate("bp_grade", {"sbp": 300, "dbp": 20}).outputs == {"bp_grade": "G3"}
    assert bp_grade.evaluate("bp_grade", {"sbp": 40, "dbp": 20}).outputs == {"bp_grade": "NORMAL"}


def test_an_absent_optional_input_takes_its_default():
    decision = table(hit_policy="FIRST", inputs=[("smoking", "boolean", None, "false")],
                     outputs=[("risk", "string")], rules=[(["true"], ['"HIGH"']), (["false"], ['"LOW"'])])
    registry = DecisionRegistry([decision], helpers={})
    assert registry.evaluate("t", {}).outputs == {"risk": "LOW"}
    assert registry.evaluate("t", {"smoking": None}).outputs == {"risk": "LOW"}
    assert registry.evaluate("t", {"smoking": True}).outputs == {"risk": "HIGH"}


def test_a_boolean_input_given_as_a_string_is_invalid():
    decision = table(hit_policy="FIRST", inputs=[("smoking", "boolean", None, "false")],
                     outputs=[("risk", "string")], rules=[(["-"], ['"LOW"'])])
    with pytest.raises(DmnInputError) as err:
        DecisionRegistry([decision], helpers={}).evaluate("t", {"smoking": "yes"})
    assert (err.value.code, err.value.field) == ("invalid_input", "smoking")


def test_an_integer_input_rejects_fractions():
    decision = table(hit_policy="FIRST", inputs=[("age", "integer")], outputs=[("x", "string")],
                     rules=[(["-"], ['"ok"'])])
    registry = DecisionRegistry([decision], helpers={})
    assert registry.evaluate("t", {"age": 56}).outputs == {"x": "ok"}
    with pytest.raises(DmnInputError):
        registry.evaluate("t", {"age": 55.5})


def test_an_enumerated_input_rejects_unknown_codes():
    decision = table(hit_policy="FIRST", inputs=[("sex", "string", '"M","F"')], outputs=[("x", "string")],
                     rules=[(["-"], ['"ok"'])])
    with pytest.raises(DmnInputError) as err:
        DecisionRegistry([decision], helpers={}).evaluate("t", {"sex": "X"})
    assert err.value.code == "invalid_input" and '"M","F"' in err.value.reason


def test_an_input_without_type_ref_accepts_any_json_value():
    decision = table(hit_policy="FIRST", inputs=[("target_inr", None)], outputs=[("low", "number")],
                     rules=[(["-"], ["target_inr[0]"])])
    assert DecisionRegistry([decision], helpers={}).evaluate("t", {"target_inr": [2.0, 3.0]}).outputs == {"low": 2.0}


def test_computed_input_expressions_call_helpers_and_check_the_result():
    decision = table(hit_policy="FIRST", inputs=[("bmi(weight_kg, height_m)", "number", "[10..80]")],
                     outputs=[("obese", "boolean")], rules=[([">= 28"], ["true"]), (["-"], ["false"])])
    registry = DecisionRegistry([decision], helpers={"bmi": lambda w, h: w / h ** 2})
    assert registry.evaluate("t", {"weight_kg": 90, "height_m": 1.7}).outputs == {"obese": True}
    with pytest.raises(DmnInputError) as err:
        registry.evaluate("t", {"weight_kg": 900, "height_m": 1.7})
    assert err.value.code == "invalid_input"


def test_input_fields_list_raw_inputs_with_type_requirement_default_and_range(bp_grade):
    fields = {f.name: f for f in bp_grade.input_fields("bp_grade")}
    assert set(fields) == {"sbp", "dbp"}
    assert fields["sbp"].type == "number" and fields["sbp"].required and fields["sbp"].allowed == "[40..300]"
    assert fields["sbp"].default is MISSING


def test_input_fields_exclude_helper_function_names():
    decision = table(hit_policy="FIRST", inputs=[("bmi(weight_kg, height_m)", "number")],
                     outputs=[("x", "number")], rules=[(["-"], ["1"])])
    registry = DecisionRegistry([decision], helpers={"bmi": lambda w, h: w / h ** 2})
    assert [f.name for f in registry.input_fields("t")] == ["weight_kg", "height_m"]


def test_names_read_by_entry_expressions_are_inputs_too():
    decision = table(hit_policy="FIRST", inputs=[("sbp", "number")], outputs=[("x", "boolean")],
                     rules=[(["< target_sbp"], ["true"]), (["-"], ["false"])])
    registry = DecisionRegistry([decision], helpers={})
    assert {f.name for f in registry.input_fields("t")} == {"sbp", "target_sbp"}
    assert registry.evaluate("t", {"sbp": 135, "target_sbp": 140}).outputs == {"x": True}


def test_date_inputs_accept_iso_strings_and_compare_as_dates():
    decision = table(hit_policy="FIRST", inputs=[("visit_on", "date")], outputs=[("late", "boolean")],
                     rules=[(["> date(2024, 6, 30)"], ["true"]), (["-"], ["false"])])
    registry = DecisionRegistry([decision], helpers={})
    assert registry.evaluate("t", {"visit_on": "2024-07-01"}).outputs == {"late": True}
    assert registry.evaluate("t", {"visit_on": "2024-06-30"}).outputs == {"late": False}
    with pytest.raises(DmnInputError) as err:
        registry.evaluate("t", {"visit_on": "yesterday"})
    assert (err.value.code, err.value.field) == ("invalid_input", "visit_on")


def test_a_table_without_rules_reads_no_input_and_answers_null():
    from pathlib import Path

    from app.engine.dmn import parse_decision
    stub = Path(__file__).resolve().parents[1] / "compat" / "models" / "new_decision.dmn"
    registry = DecisionRegistry([parse_decision(stub.read_bytes(), filename=stub.name)], helpers={})
    assert registry.input_fields("Decision_draft") == []
    assert registry.evaluate("Decision_draft", {}).outputs == {"Decision_draft": None}

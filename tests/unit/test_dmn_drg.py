"""Decisions chain through requiredDecision: required ones run first, outputs merge, the trace tells why."""
import pytest
from dmn_fixtures import literal, load, table

from app.engine.dmn import DecisionRegistry, DmnDefinitionError


@pytest.fixture
def registry():
    return DecisionRegistry([load("bp_grade"), load("rf_count"), load("htn_risk")], helpers={})


def test_required_decisions_run_first_and_feed_the_top_decision(registry):
    result = registry.evaluate("htn_risk", {"sbp": 165, "dbp": 85, "smoking": True})
    assert result.outputs == {"bp_grade": "G2", "rf_count": 1, "risk": "HIGH"}


def test_the_trace_has_one_step_per_decision_top_decision_last(registry):
    trace = registry.evaluate("htn_risk", {"sbp": 165, "dbp": 85, "smoking": True}).trace
    assert [s["decision_id"] for s in trace] == ["bp_grade", "rf_count", "htn_risk"]


def test_a_trace_step_names_table_rules_and_reason(registry):
    step = registry.evaluate("htn_risk", {"sbp": 165, "dbp": 85, "smoking": True}).trace[-1]
    assert step["table"] == "T03"
    assert step["decision_name"] == "高血压危险分层"
    assert step["hit_policy"] == "UNIQUE"
    assert step["rules"] == [{"index": 5, "id": "k5", "annotation": "C2/G2"}]
    assert step["outputs"] == {"risk": "HIGH"}
    assert step["reason"] == "T03 行 C2/G2"
    assert len(step["content_hash"]) == 64


def test_defaults_of_required_decisions_apply_to_the_top_decision(registry):
    assert registry.evaluate("htn_risk", {"sbp": 145, "dbp": 85}).outputs["risk"] == "LOW"


def test_input_fields_span_the_whole_graph_without_intermediate_outputs(registry):
    fields = {f.name: f for f in registry.input_fields("htn_risk")}
    assert set(fields) == {"sbp", "dbp", "smoking", "dyslipidemia"}
    assert fields["smoking"].required is False and fields["smoking"].default is False
    assert fields["sbp"].required is True


def test_a_required_decision_can_be_evaluated_alone(registry):
    assert registry.evaluate("rf_count", {"smoking": True, "dyslipidemia": True}).outputs == {"rf_count": 2}


def test_literal_expression_decisions_compute_a_variable():
    total = literal("total", "a + b", variable="sum_ab")
    assert DecisionRegistry([total], helpers={}).evaluate("total", {"a": 1, "b": 2}).outputs == {"sum_ab": 3}


def test_a_literal_decision_can_require_a_table():
    doubled = literal("doubled", "rf_count * 2", required=("rf_count",))
    registry = DecisionRegistry([load("rf_count"), doubled], helpers={})
    result = registry.evaluate("doubled", {"smoking": True})
    assert result.outputs == {"rf_count": 1, "doubled": 2}
    assert result.trace[-1]["rules"] == []


def test_a_reference_to_an_unknown_decision_is_refused():
    orphan = table("orphan", required=("nowhere",), hit_policy="FIRST", inputs=[("x", "number")],
                   outputs=[("y", "number")], rules=[(["-"], ["1"])])
    with pytest.raises(DmnDefinitionError) as err:
        DecisionRegistry([orphan], helpers={})
    assert err.value.element_id == "orphan" and "nowhere" in err.value.reason


def test_a_cycle_of_required_decisions_is_refused():
    a = literal("a", "b + 1", required=("b",))
    b = literal("b", "a + 1", required=("a",))
    with pytest.raises(DmnDefinitionError) as err:
        DecisionRegistry([a, b], helpers={})
    assert "cycle" in err.value.reason
    assert "a → b → a" in err.value.reason or "b → a → b" in err.value.reason


def test_a_decision_id_defined_twice_is_refused():
    with pytest.raises(DmnDefinitionError):
        DecisionRegistry([literal("a", "1"), literal("a", "2")], helpers={})


def test_the_default_helpers_are_the_clinical_functions():
    from app.engine.dmn.functions import FUNCTIONS

    registry = DecisionRegistry([load("rf_count")])
    assert registry._helpers == FUNCTIONS


def test_an_output_named_like_a_helper_function_is_refused():
    with pytest.raises(DmnDefinitionError) as err:
        DecisionRegistry([literal("x", "1", variable="bmi")], helpers={"bmi": abs})
    assert "bmi" in err.value.reason


def test_annotations_that_name_their_table_are_not_prefixed_twice():
    decision = table(hit_policy="FIRST", inputs=[("x", "number")], outputs=[("y", "number")],
                     rules=[(["-"], ["1"], "t 行3 always")])
    step = DecisionRegistry([decision], helpers={}).evaluate("t", {"x": 1}).trace[0]
    assert step["reason"] == "t 行3 always"

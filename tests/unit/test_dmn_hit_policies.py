"""Hit policies behave as DMN defines them, not as first-match (ENGINE_NOTES §1.6)."""
from dataclasses import replace

import pytest
from dmn_fixtures import table

from app.engine.dmn import DecisionRegistry, DmnDefinitionError, DmnEvaluationError

SCORE = [("score", "number")]


def evaluate(decision, **inputs):
    return DecisionRegistry([decision], helpers={}).evaluate(decision.id, inputs)


def overlapping(hit_policy, outputs=('"A"', '"B"', '"C"'), aggregation=None, out_type="string",
                out_values=None):
    return table(hit_policy=hit_policy, aggregation=aggregation, inputs=SCORE,
                 outputs=[("result", out_type, out_values)],
                 rules=[([">= 10"], [outputs[0]], "ten"), ([">= 20"], [outputs[1]], "twenty"),
                        ([">= 30"], [outputs[2]], "thirty")])


def test_unique_returns_the_single_matching_rule():
    assert evaluate(overlapping("UNIQUE"), score=15).outputs == {"result": "A"}


def test_unique_with_two_matches_is_a_violation_naming_the_rules():
    with pytest.raises(DmnEvaluationError) as err:
        evaluate(replace(overlapping("UNIQUE"), clinical=True), score=25)
    assert err.value.code == "unique_violation"
    assert err.value.details["rules"] == [1, 2]
    assert err.value.decision_id == "t"


def test_unique_with_no_match_is_an_error():
    with pytest.raises(DmnEvaluationError) as err:
        evaluate(replace(overlapping("UNIQUE"), clinical=True), score=5)
    assert err.value.code == "no_rule_matched"


def test_outside_the_clinical_pack_unique_is_first_match_and_no_match_is_null():
    """Issue 14.8, SpiffWorkflow's reading: UNIQUE takes the first matching rule; no match gives null outputs."""
    decision = overlapping("UNIQUE")
    assert not decision.clinical
    assert evaluate(decision, score=25).outputs == {"result": "A"}
    assert evaluate(decision, score=5).outputs == {"result": None}


def test_no_match_falls_back_to_declared_output_defaults():
    decision = table(inputs=SCORE, outputs=[("result", "string", None, '"NONE"')], rules=[([">= 10"], ['"A"'])])
    result = evaluate(decision, score=1)
    assert result.outputs == {"result": "NONE"}
    assert result.trace[0]["rules"] == []


def test_first_returns_the_first_match_in_rule_order():
    result = evaluate(overlapping("FIRST"), score=35)
    assert result.outputs == {"result": "A"}
    assert [r["index"] for r in result.trace[0]["rules"]] == [1]


def test_priority_returns_the_match_whose_output_comes_first_in_output_values():
    decision = overlapping("PRIORITY", out_values='"C","B","A"')
    assert evaluate(decision, score=35).outputs == {"result": "C"}
    assert evaluate(decision, score=25).outputs == {"result": "B"}


def test_priority_ties_go_to_rule_order():
    decision = table(hit_policy="PRIORITY", inputs=SCORE, outputs=[("result", "string", '"HI","LO"'),
                                                                   ("note", "string")],
                     rules=[([">= 10"], ['"LO"', '"first"']), ([">= 20"], ['"HI"', '"second"']),
                            ([">= 20"], ['"HI"', '"third"'])])
    assert evaluate(decision, score=25).outputs == {"result": "HI", "note": "second"}


def test_priority_without_output_values_is_refused():
    with pytest.raises(DmnDefinitionError):
        overlapping("PRIORITY")


def test_any_accepts_several_matches_with_equal_outputs():
    decision = overlapping("ANY", outputs=('"X"', '"X"', '"Y"'))
    result = evaluate(decision, score=25)
    assert result.outputs == {"result": "X"}
    assert [r["index"] for r in result.trace[0]["rules"]] == [1, 2]


def test_any_with_different_outputs_is_a_conflict():
    with pytest.raises(DmnEvaluationError) as err:
        evaluate(overlapping("ANY", outputs=('"X"', '"X"', '"Y"')), score=35)
    assert err.value.code == "any_conflict"
    assert err.value.details["rules"] == [1, 2, 3]


def test_collect_returns_each_output_as_a_list_in_rule_order():
    assert evaluate(overlapping("COLLECT"), score=35).outputs == {"result": ["A", "B", "C"]}
    assert evaluate(overlapping("COLLECT"), score=5).outputs == {"result": []}


@pytest.mark.parametrize("aggregation,score,expected", [
    ("SUM", 35, 6), ("SUM", 5, 0), ("COUNT", 25, 2), ("COUNT", 5, 0),
    ("MIN", 35, 1), ("MIN", 5, None), ("MAX", 35, 3), ("MAX", 5, None),
])
def test_collect_aggregations(aggregation, score, expected):
    decision = overlapping("COLLECT", outputs=("1", "2", "3"), aggregation=aggregation, out_type="integer")
    assert evaluate(decision, score=score).outputs == {"result": expected}


def test_collect_sum_records_every_fired_rule_in_the_trace():
    decision = overlapping("COLLECT", outputs=("1", "2", "3"), aggregation="SUM", out_type="integer")
    step = evaluate(decision, score=25).trace[0]
    assert [r["index"] for r in step["rules"]] == [1, 2]
    assert step["reason"] == "t 行 ten; twenty"


def test_aggregation_with_several_outputs_is_refused():
    with pytest.raises(DmnDefinitionError):
        table(hit_policy="COLLECT", aggregation="SUM", inputs=SCORE,
              outputs=[("a", "integer"), ("b", "integer")], rules=[(["-"], ["1", "2"])])


def test_rule_order_returns_lists_in_rule_order():
    assert evaluate(overlapping("RULE ORDER"), score=35).outputs == {"result": ["A", "B", "C"]}


def test_output_order_sorts_by_output_values():
    decision = overlapping("OUTPUT ORDER", out_values='"C","A","B"')
    assert evaluate(decision, score=35).outputs == {"result": ["C", "A", "B"]}


def test_unknown_hit_policy_is_refused_naming_the_table():
    with pytest.raises(DmnDefinitionError) as err:
        overlapping("SOMETIMES")
    assert err.value.element_id == "t_table"
    assert err.value.code == "invalid_definition"


def test_integer_outputs_are_ints():
    decision = table(hit_policy="FIRST", inputs=SCORE, outputs=[("days", "integer")], rules=[(["-"], ["14.0"])])
    days = evaluate(decision, score=1).outputs["days"]
    assert days == 14 and isinstance(days, int)


def test_output_expressions_are_computed_from_the_context():
    decision = table(hit_policy="FIRST", inputs=SCORE, outputs=[("half", "number")],
                     rules=[(["-"], ["round(score / 2, 1)"])])
    assert evaluate(decision, score=5).outputs == {"half": 2.5}


def test_empty_output_entry_is_null():
    decision = table(hit_policy="FIRST", inputs=SCORE, outputs=[("a", "string"), ("b", "string")],
                     rules=[(["-"], ['"x"', ""])])
    assert evaluate(decision, score=1).outputs == {"a": "x", "b": None}


def test_a_failing_expression_cell_is_an_evaluation_error_naming_rule_and_column():
    decision = table(hit_policy="FIRST", inputs=SCORE, outputs=[("a", "number")], rules=[(["-"], ["score / 0"])])
    with pytest.raises(DmnEvaluationError) as err:
        evaluate(decision, score=1)
    assert err.value.code == "evaluation_error"
    assert "rule 1" in err.value.reason and "ZeroDivisionError" in err.value.reason

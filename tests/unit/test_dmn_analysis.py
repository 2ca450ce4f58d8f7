"""Deploy-time proof of UNIQUE and ANY tables: overlaps and gaps are found, with rule numbers and an example."""
from dataclasses import replace

import pytest
from dmn_fixtures import load, table

from app.engine.dmn import DmnDefinitionError, analyze, validate_for_deploy


def kinds(findings):
    return [f.kind for f in findings]


def test_rules_sharing_a_boundary_overlap_at_that_boundary():
    findings = analyze(load("broken_overlap_boundary"))
    assert kinds(findings) == ["overlap"]
    assert findings[0].rules == (1, 2)
    assert findings[0].example_input == {"sbp": 140}
    assert findings[0].message == "规则 1 与规则 2 重叠 (rules 1 and 2 overlap), e.g. {'sbp': 140}"


def test_strict_comparisons_on_both_sides_leave_the_boundary_uncovered():
    findings = analyze(load("broken_gap_number"))
    assert kinds(findings) == ["gap"]
    assert findings[0].example_input == {"sbp": 140}
    assert findings[0].message == "输入域存在空缺 (gap), e.g. {'sbp': 140}"


def test_adjacent_integer_bounds_leave_no_gap_for_an_integer_input():
    assert analyze(load("integer_boundaries_ok")) == []


def test_the_same_bounds_leave_a_gap_for_a_number_input():
    findings = analyze(load("number_boundaries_gap"))
    assert kinds(findings) == ["gap"]
    assert findings[0].example_input == {"sbp": 139.5}


def test_a_missing_enumerated_value_is_a_gap():
    findings = analyze(load("broken_enum_gap"))
    assert kinds(findings) == ["gap"]
    assert findings[0].example_input == {"dyspnea": "walking"}


def test_overlapping_boolean_rules_are_found():
    findings = analyze(load("broken_boolean_overlap"))
    assert [f.rules for f in findings if f.kind == "overlap"] == [(1, 2)]
    assert findings[0].example_input == {"smoking": True, "sbp": 140}


def test_any_rules_that_overlap_with_equal_outputs_are_not_an_overlap():
    assert analyze(load("any_equal_outputs")) == []


def test_any_rules_that_overlap_with_different_outputs_are_an_overlap():
    findings = analyze(load("any_conflicting_outputs"))
    assert [f.rules for f in findings] == [(1, 2)]


def test_a_correct_multi_input_table_has_no_findings():
    assert analyze(load("htn_risk")) == []
    assert analyze(load("spiff_style")) == []


def test_a_string_input_without_values_has_a_gap_for_any_other_value():
    decision = table(inputs=[("sex", "string")], outputs=[("x", "number")],
                     rules=[(['"M"'], ["1"]), (['"F"'], ["2"])])
    findings = analyze(decision)
    assert kinds(findings) == ["gap"]
    assert findings[0].example_input["sex"] not in ("M", "F")


def test_not_and_inequality_cells_close_an_enumeration():
    decision = table(inputs=[("sex", "string")], outputs=[("x", "number")],
                     rules=[(['"M"'], ["1"]), (['!= "M"'], ["2"])])
    assert analyze(decision) == []


def test_a_null_default_puts_null_in_the_domain():
    decision = table(inputs=[("ckd_stage", "integer", "[1..5]", "null")], outputs=[("x", "number")],
                     rules=[(["[1..3]"], ["1"]), (["[4..5]"], ["2"])])
    findings = analyze(decision)
    assert kinds(findings) == ["gap"]
    assert findings[0].example_input == {"ckd_stage": None}


def test_a_gap_in_one_corner_of_a_two_input_table_is_found():
    decision = table(inputs=[("sbp", "number"), ("dbp", "number")], outputs=[("x", "number")],
                     rules=[(["< 140", "< 90"], ["0"]), ([">= 140", "-"], ["1"]), (["< 130", ">= 90"], ["2"])])
    findings = analyze(decision)
    assert kinds(findings) == ["gap"]
    assert findings[0].example_input == {"sbp": 130, "dbp": 90}


def test_an_expression_cell_makes_a_unique_table_unprovable_naming_the_cell():
    decision = table(inputs=[("sbp", "number")], outputs=[("x", "number")],
                     rules=[(["< limit"], ["1"]), (["-"], ["2"])])
    findings = analyze(decision)
    assert kinds(findings) == ["unprovable"]
    assert findings[0].element_id == "r1_i1"


def test_collect_and_rule_order_tables_are_not_analysed():
    for policy in ("COLLECT", "RULE ORDER"):
        decision = table(hit_policy=policy, inputs=[("sbp", "number")], outputs=[("x", "number")],
                         rules=[(["< limit"], ["1"]), ([">= 140"], ["2"])])
        assert analyze(decision) == []


def test_a_first_table_reports_shadowed_rules_and_gaps_but_not_its_overlaps():
    decision = table(hit_policy="FIRST", inputs=[("sbp", "number"), ("dbp", "number")], outputs=[("x", "number")],
                     rules=[([">= 140", "-"], ["2"]), (["< 140", ">= 90"], ["3"]), ([">= 160", ">= 100"], ["1"]),
                            (["< 120", "< 80"], ["0"])])
    findings = analyze(decision)
    assert kinds(findings)[0] == "shadowed" and set(kinds(findings)[1:]) == {"gap"}
    assert findings[0].rules == (3, 1) and findings[0].element_id == "r3"
    assert "rule 3 never fires: earlier rules 1 cover every input it accepts" in findings[0].message
    for gap in findings[1:]:   # below 140 / 90, outside rule 4's corner
        sbp, dbp = gap.example_input["sbp"], gap.example_input["dbp"]
        assert sbp is None or dbp is None or (sbp < 140 and dbp < 90 and not (sbp < 120 and dbp < 80))


def test_an_expression_cell_in_a_first_table_is_never_taken_to_shadow_and_hides_the_gaps():
    decision = table(hit_policy="FIRST", inputs=[("sbp", "number")], outputs=[("x", "number")],
                     rules=[(["< limit"], ["1"]), ([">= 140"], ["2"])])
    assert analyze(decision) == []
    shadowed = table(hit_policy="FIRST", inputs=[("sbp", "number")], outputs=[("x", "number")],
                     rules=[(["-"], ["1"]), (["< limit"], ["2"])])
    assert kinds(analyze(shadowed)) == ["shadowed"]


def test_first_findings_are_warnings_even_for_a_clinical_decision():
    decision = table(hit_policy="FIRST", inputs=[("sbp", "number")], outputs=[("x", "number")],
                     rules=[([">= 140"], ["2"]), ([">= 160"], ["3"])])
    warnings: list[str] = []
    validate_for_deploy([replace(decision, clinical=True)], warnings=warnings)
    assert [w.split(": ", 1)[1].split(" ")[0] for w in warnings] == ["规则", "输入域存在空缺"]


def test_a_wide_table_is_proven_without_enumerating_every_combination():
    inputs = [(f"x{k}", "boolean") for k in range(10)]
    rules = [([("true" if j == k else "-") for j in range(10)], [str(k)]) for k in range(10)]
    rules.append((["false"] * 10, ["99"]))
    decision = table(hit_policy="FIRST", inputs=inputs, outputs=[("x", "number")], rules=rules)
    unique = table(inputs=inputs, outputs=[("x", "number")], rules=rules)
    assert analyze(decision) == []
    assert {f.kind for f in analyze(unique)} == {"overlap"}


def test_deploy_validation_refuses_an_overlap_with_rule_numbers_and_example():
    with pytest.raises(DmnDefinitionError) as err:
        validate_for_deploy([replace(load("broken_overlap_boundary"), clinical=True)])
    assert err.value.code == "invalid_definition"
    assert "rules 1 and 2 overlap" in err.value.reason and "{'sbp': 140}" in err.value.reason
    assert err.value.file == "broken_overlap_boundary.dmn"
    assert err.value.element_id == "r2"


def test_deploy_validation_refuses_a_gap_naming_the_table():
    with pytest.raises(DmnDefinitionError) as err:
        validate_for_deploy([replace(load("broken_gap_number"), clinical=True)])
    assert err.value.element_id == "broken_gap_number_table"
    assert "gap" in err.value.reason


def test_outside_the_clinical_pack_findings_are_warnings():
    """Issue 14.8: a decision that neither declares provenance nor carries a pack id is read as SpiffWorkflow reads
    it; its overlaps and gaps are reported, not refused."""
    warnings: list[str] = []
    gap, overlap = load("broken_gap_number"), load("broken_overlap_boundary")
    assert not gap.clinical and not overlap.clinical
    validate_for_deploy([gap, overlap], warnings=warnings)
    assert any(w.startswith("broken_gap_number:") and "gap" in w for w in warnings)
    assert any(w.startswith("broken_overlap_boundary:") and "overlap" in w for w in warnings)


def test_deploy_validation_accepts_a_correct_graph():
    validate_for_deploy([load("bp_grade"), load("rf_count"), load("htn_risk"), load("spiff_style")])


def test_deploy_validation_may_resolve_references_against_already_deployed_decisions():
    validate_for_deploy([load("htn_risk")], known=[load("bp_grade"), load("rf_count")])
    with pytest.raises(DmnDefinitionError):
        validate_for_deploy([load("htn_risk")])

"""DMN files parse into Decisions; anything we could not evaluate exactly is refused with file, element, reason."""
import pytest
from dmn_fixtures import DMN13, load, table, table_xml

from app.engine.dmn import MISSING, DecisionRegistry, DmnDefinitionError, parse_decision


def test_a_dmn_13_file_parses_with_provenance_inputs_outputs_and_rules():
    d = load("bp_grade")
    assert (d.id, d.name, d.kind, d.hit_policy, d.table_id) == ("bp_grade", "血压水平分类", "table", "FIRST",
                                                                "bp_grade_table")
    assert d.provenance == {"table": "T01", "source": "中国高血压防治指南(2018年修订版)", "edition": "2018",
                            "section": "表2", "confidence": "V"}
    assert d.description.startswith("Test fixture")
    sbp = d.inputs[0]
    assert (sbp.id, sbp.expression, sbp.type_ref, sbp.allowed) == ("in_sbp", "sbp", "number", "[40..300]")
    assert d.outputs[0].allowed_values == ["NORMAL", "NORMAL_HIGH", "G1", "G2", "G3"]
    assert [r.index for r in d.rules] == list(range(1, 10))
    assert d.rules[0].annotation == "G3: SBP≥180"
    assert len(d.content_hash) == 64


def test_input_defaults_come_from_the_ygt_extension():
    d = load("rf_count")
    assert [i.default for i in d.inputs] == [False, False]
    assert load("bp_grade").inputs[0].default is MISSING


def test_a_spiffarena_dmn_12_file_with_python_entries_parses_and_evaluates():
    d = load("spiff_style")
    registry = DecisionRegistry([d], helpers={})
    assert d.rules[0].annotation == "high + severe BP"
    assert registry.evaluate("spiff_triage", {"level": "high", "sbp": 170, "score": 7}).outputs == {
        "action": "refer"}
    assert registry.evaluate("spiff_triage", {"level": "high", "sbp": 170, "score": 5}).outputs == {
        "action": "recheck"}
    assert registry.evaluate("spiff_triage", {"level": "high", "sbp": 150, "score": 5}).outputs == {
        "action": "watch"}
    assert registry.evaluate("spiff_triage", {"level": "low", "sbp": 150, "score": 5}).outputs == {
        "action": "routine"}


def test_a_dmn_11_namespace_is_accepted():
    xml = table_xml("t", inputs=[("x", "number")], outputs=[("y", "number")], rules=[(["-"], ["1"])])
    xml = xml.replace(DMN13, "http://www.omg.org/spec/DMN/20151101/dmn.xsd")
    assert parse_decision(xml, filename="t.dmn").id == "t"


def test_a_missing_hit_policy_means_unique():
    xml = table_xml("t", inputs=[("x", "number")], outputs=[("y", "number")], rules=[(["-"], ["1"])])
    assert parse_decision(xml.replace(' hitPolicy="UNIQUE"', ""), filename="t.dmn").hit_policy == "UNIQUE"


def test_an_unparseable_cell_is_refused_naming_the_cell_rule_and_column():
    with pytest.raises(DmnDefinitionError) as err:
        table(inputs=[("sbp", "number")], outputs=[("y", "number")],
              rules=[(["-"], ["1"]), (["[140..", ], ["2"])])
    assert err.value.code == "invalid_definition"
    assert err.value.element_id == "r2_i1"
    assert "rule 2" in err.value.reason and "sbp" in err.value.reason
    assert err.value.file == "t.dmn"


def test_a_cell_that_tries_to_escape_the_sandbox_is_refused():
    with pytest.raises(DmnDefinitionError) as err:
        table(inputs=[("x", "number")], outputs=[("y", "number")], rules=[(["-"], ["().__class__"])])
    assert err.value.element_id == "r1_o1"


def test_an_input_expression_that_does_not_parse_is_refused():
    with pytest.raises(DmnDefinitionError) as err:
        table(inputs=[("import os", "number")], outputs=[("y", "number")], rules=[(["-"], ["1"])])
    assert err.value.element_id == "in1"


def test_an_output_literal_outside_output_values_is_refused():
    with pytest.raises(DmnDefinitionError) as err:
        table(inputs=[("x", "number")], outputs=[("grade", "string", '"G1","G2"')], rules=[(["-"], ['"G4"'])])
    assert err.value.element_id == "r1_o1" and "G4" in err.value.reason


def test_a_rule_with_the_wrong_number_of_cells_is_refused():
    with pytest.raises(DmnDefinitionError) as err:
        table(inputs=[("x", "number"), ("z", "number")], outputs=[("y", "number")], rules=[(["-"], ["1"])])
    assert err.value.element_id == "r1"


def test_malformed_xml_is_refused():
    with pytest.raises(DmnDefinitionError) as err:
        parse_decision(b"<definitions", filename="bad.dmn")
    assert err.value.file == "bad.dmn"


def test_a_non_dmn_document_is_refused():
    with pytest.raises(DmnDefinitionError):
        parse_decision(b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>', filename="x.dmn")


def test_two_decisions_in_one_file_are_refused():
    xml = (f'<definitions xmlns="{DMN13}"><decision id="a"><literalExpression><text>1</text></literalExpression>'
           '</decision><decision id="b"><literalExpression><text>2</text></literalExpression></decision>'
           "</definitions>")
    with pytest.raises(DmnDefinitionError) as err:
        parse_decision(xml, filename="two.dmn")
    assert "one <decision>" in err.value.reason


def test_external_entities_are_not_resolved():
    xml = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           f'<definitions xmlns="{DMN13}"><decision id="a"><literalExpression><text>&x;</text>'
           "</literalExpression></decision></definitions>")
    with pytest.raises(DmnDefinitionError):
        parse_decision(xml, filename="xxe.dmn")
